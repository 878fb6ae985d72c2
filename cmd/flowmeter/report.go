package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/report"
)

// reportFeatures are always plotted (the original FlowMeter's profiles),
// with the model's most important features.
var reportFeatures = []string{"fwd_ip_len_max", "fwd_iat_mean_s", "duration_s", "packets"}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f datasetFlags
	f.register(fs)
	out := fs.String("dir", "", "write the report to `DIR`/index.html (the same as -o DIR)")
	modelPath := fs.String("model", "", "model `FILE` (default: the embedded model)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter report -o DIR [flags] LABELLED.csv... | --labels RULES CAPTURES...\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *out == "" && len(f.outputs) == 1 {
		*out, f.outputs = f.outputs[0], nil // report -o DIR
	}
	if *out == "" || len(f.outputs) > 0 {
		fs.Usage()
		return errUsage
	}
	m, d, inputs, scores, err := f.scoreDataset(ctx, fs, *modelPath, stderr)
	if err != nil {
		return err
	}
	in := &report.Input{
		Title:    "flowmeter model report",
		Model:    fmt.Sprintf("Model: %s, %d inputs, threshold %.4g.", m.Algorithm, len(m.Inputs), m.Threshold),
		Scores:   scores,
		Labels:   d.Y,
		Metrics:  model.Evaluate(scores, d.Y, d.Cat, m.Threshold),
		Features: map[string][2][]float64{},
	}
	if m.Training != nil {
		in.Importance = m.Training.Importance
	}
	benign, mal := d.Counts()
	in.Data = fmt.Sprintf("Data: %d labelled flows (%d benign, %d malicious) from %v.", d.Len(), benign, mal, inputs)
	// plot the fixed profiles and the 8 most important features
	order := append([]string{}, reportFeatures...)
	var top []kv
	for k, v := range in.Importance {
		top = append(top, kv{k, v})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].v > top[j].v || top[i].v == top[j].v && top[i].name < top[j].name })
	for _, e := range top[:min(8, len(top))] {
		order = append(order, e.name)
	}
	for _, name := range order {
		if _, done := in.Features[name]; done {
			continue
		}
		j := d.Schema.Index(name)
		if j < 0 {
			continue
		}
		var v [2][]float64
		for i, y := range d.Y {
			k := 0
			if y {
				k = 1
			}
			v[k] = append(v[k], d.X[j][i])
		}
		in.Features[name] = v
		in.Order = append(in.Order, name)
	}
	if err := report.Write(*out, in); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "index.html"))
	return nil
}
