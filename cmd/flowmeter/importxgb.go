package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/flowmeter/flowmeter/model"
)

func runImportXGBoost(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import-xgboost -o MODEL [flags] XGBOOST.json", "Converts an XGBoost binary:logistic model trained on flowmeter's CSV columns.", stderr)
	out := fs.String("o", "", "write the flowmeter model to `FILE` (required)")
	var early int
	registerEarly(fs, &early)
	threshold := fs.Float64("threshold", 0.5, "flag flows with score ≥ `T`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		return usagef("import-xgboost: give -o MODEL and one XGBoost JSON file")
	}
	s, err := schemaOf(early)
	if err != nil {
		return err
	}
	in, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	m, err := model.ImportXGBoost(in, s, *threshold)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if err := saveModel(*out, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s over %d inputs\n", *out, m.Describe(), len(m.Inputs))
	return nil
}
