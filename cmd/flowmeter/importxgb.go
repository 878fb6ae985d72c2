package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

func runImportXGBoost(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-xgboost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("model", "", "write the flowmeter model to `FILE` (required)")
	early := fs.Int("early", 8, "early-flow window of the CSV the XGBoost model was trained on")
	threshold := fs.Float64("threshold", 0.5, "decision threshold")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter import-xgboost -model FILE [flags] XGBOOST.json\n\nConverts an XGBoost binary:logistic model trained on flowmeter's CSV columns.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	s, err := feature.NewSchema(*early)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
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
	fmt.Fprintf(stdout, "wrote %s: %d trees over %d inputs\n", *out, len(m.Trees.Trees), len(m.Inputs))
	return nil
}
