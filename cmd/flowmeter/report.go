package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/flowmeter/flowmeter/report"
)

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report -o DIR [flags] LABELLED.csv... | --labels RULES CAPTURES...", "Writes DIR/index.html: a model's curves, confusion matrix, importances and feature distributions on labelled flows.", stderr)
	var f scoreFlags
	f.register(fs, 2000)
	out := fs.String("o", "", "write the report to `DIR`/index.html (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("report: give the folder to write with -o DIR")
	}
	sc, err := f.score(ctx, fs, stderr)
	if err != nil {
		return err
	}
	if err := report.Write(*out, report.Build(sc.model, sc.data, sc.scores, fs.Args())); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "index.html"))
	return nil
}
