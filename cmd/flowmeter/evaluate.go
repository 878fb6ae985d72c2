package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/model/train"
)

func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f datasetFlags
	f.register(fs)
	modelPath := fs.String("model", "", "model `FILE` (default: the embedded model)")
	threshold := fs.Float64("threshold", -1, "threshold (default: the model's)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter evaluate [flags] LABELLED.csv... | --labels RULES CAPTURES...\n\nflags:\n")
		fs.PrintDefaults()
	}
	f.cap = 0
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	m, d, _, scores, err := f.scoreDataset(ctx, fs, *modelPath, stderr)
	if err != nil {
		return err
	}
	t := m.Threshold
	if *threshold >= 0 {
		t = *threshold
	}
	benign, mal := d.Counts()
	fmt.Fprintf(stdout, "%d labelled flows (%d benign, %d malicious) from %d captures; model %s\n", d.Len(), benign, mal, countGroups(d), m.Algorithm)
	mm := model.Evaluate(scores, d.Y, d.Cat, t)
	mm.Write(stdout)
	return nil
}

// scoreDataset loads the model (or the embedded one), the labelled flows in
// its schema, and scores every flow.
func (f *datasetFlags) scoreDataset(ctx context.Context, fs *flag.FlagSet, modelPath string, stderr io.Writer) (*model.Model, *train.Dataset, []string, []float64, error) {
	m, err := loadModel(modelPath)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	d, inputs, err := f.loadDataset(ctx, fs, m.Early, stderr)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := m.Bind(d.Schema); err != nil {
		return nil, nil, nil, nil, err
	}
	scores := make([]float64, d.Len())
	row := make([]float64, 0, d.Schema.Len())
	for i := range scores {
		row = d.Row(i, row)
		scores[i] = m.Score(row)
	}
	return m, d, inputs, scores, nil
}
