package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/flowmeter/flowmeter/label"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/model/train"
)

// dataFlags: where labelled flows come from (train, evaluate, report).
type dataFlags struct {
	flow   flowFlags
	run    runFlags
	labels labelFlags
	cap    int
	seed   uint64
	group  string
}

func (f *dataFlags) register(fs *flag.FlagSet, cap int) {
	f.flow.register(fs)
	f.run.register(fs)
	f.labels.register(fs)
	fs.IntVar(&f.cap, "cap", cap, "take at most `N` flows from any one capture (a uniform sample); 0: all")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for sampling, folds and validation splits")
	fs.StringVar(&f.group, "group", "capture", "cross-validation groups: capture (each file) or source (each directory of captures; the threshold is then chosen on flows of sources the model never saw)")
}

// load reads labelled flows: CSV files written by `extract --labels`, or
// captures (files, directories) metered here with --labels, in the schema
// of early-flow window early (< 0: the CSV's, else earlyFlag's).
func (f *dataFlags) load(ctx context.Context, fs *flag.FlagSet, early, earlyFlag int, stderr io.Writer) (*train.Dataset, error) {
	csvs, captures := splitInputs(fs.Args())
	switch {
	case fs.NArg() == 0:
		return nil, usagef("%s: no input (labelled CSV files, or captures with --labels)", fs.Name())
	case len(captures) > 0 && f.labels.files == "":
		return nil, usagef("%s: captures need --labels RULES (or give CSV files from `flowmeter extract --labels`)", fs.Name())
	case f.group != "capture" && f.group != "source":
		return nil, usagef("--group must be capture or source, not %q", f.group)
	}
	if early < 0 {
		early = earlyFlag
		if len(csvs) > 0 {
			n, err := train.EarlyOfCSV(csvs[0])
			if err != nil {
				return nil, err
			}
			early = n
		}
	}
	s, err := schemaOf(early)
	if err != nil {
		return nil, err
	}
	b := train.NewBuilder(s, f.cap, f.seed)
	b.BySource = f.group == "source"
	for _, c := range csvs {
		if err := b.ReadCSV(c); err != nil {
			return nil, err
		}
	}
	if err := f.meterInto(ctx, b, captures, stderr); err != nil {
		return nil, err
	}
	return b.Dataset(), nil
}

// splitInputs tells labelled CSV files from captures.
func splitInputs(args []string) (csvs, captures []string) {
	for _, a := range args {
		if train.IsCSV(a) {
			csvs = append(csvs, a)
		} else {
			captures = append(captures, a)
		}
	}
	return csvs, captures
}

// meterInto meters the captures, labelled, into the dataset builder b.
func (f *dataFlags) meterInto(ctx context.Context, b *train.Builder, captures []string, stderr io.Writer) error {
	if len(captures) == 0 {
		return nil
	}
	r, err := newMetering(b.Dataset().Schema, &f.flow, &f.run, &f.labels, stderr)
	if err != nil {
		return err
	}
	if err := r.inputs("metering", captures); err != nil {
		return err
	}
	m := meter.New(r.cfg, b)
	if err := m.RunFiles(ctx, r.paths); err != nil {
		return err
	}
	if !f.run.quiet {
		st := m.Stats()
		fmt.Fprintf(stderr, "flowmeter: metered %d files, %d packets, %d flows\n", st.Files, st.Packets, st.Flows)
	}
	return nil
}

// scored is a model and the labelled flows it scored.
type scored struct {
	model  *model.Model
	data   *train.Dataset
	scores []float64
}

// scoreFlags are the flags of the commands that score labelled flows
// with a model (evaluate, report).
type scoreFlags struct {
	data  dataFlags
	model modelFlags
}

func (f *scoreFlags) register(fs *flag.FlagSet, cap int) {
	f.data.register(fs, cap)
	f.model.register(fs)
}

// score loads the model, the labelled flows in its schema, and scores
// every flow.
func (f *scoreFlags) score(ctx context.Context, fs *flag.FlagSet, stderr io.Writer) (*scored, error) {
	m, err := f.model.load()
	if err != nil {
		return nil, err
	}
	d, err := f.data.load(ctx, fs, m.Early, m.Early, stderr)
	if err != nil {
		return nil, err
	}
	b, err := m.Bind(d.Schema)
	if err != nil {
		return nil, err
	}
	return &scored{m, d, train.Score(b, d)}, nil
}

func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("evaluate [flags] LABELLED.csv... | --labels RULES CAPTURES...", "Measures a model on labelled flows: confusion matrix, precision, recall, F1, FPR, AUCs, per category.", stderr)
	var f scoreFlags
	f.register(fs, 0)
	byGroup := fs.Bool("by-group", false, "also print each group's (capture, or source with --group source) false-positive rate and recall")
	scores := fs.String("scores", "", "also write every flow's capture, label, category, score, verdict and the model's inputs to `FILE` (CSV): to see which flows are missed and why")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, err := f.score(ctx, fs, stderr)
	if err != nil {
		return err
	}
	t := sc.model.Threshold
	if f.model.threshold >= 0 {
		t = f.model.threshold
	}
	benign, mal := sc.data.Counts()
	fmt.Fprintf(stdout, "%d labelled flows (%d benign, %d malicious) from %d captures; model %s\n", sc.data.Len(), benign, mal, sc.data.Groups(), sc.model.Algorithm)
	mm := model.Evaluate(sc.scores, sc.data.Y, sc.data.Cat, t)
	mm.Write(stdout)
	if *byGroup {
		fmt.Fprintln(stdout)
		train.WriteByGroup(stdout, train.ByGroup(sc.data, sc.scores, t, nil))
	}
	if *scores != "" {
		return writeScores(*scores, sc, t)
	}
	return nil
}

// writeScores writes each flow of sc with its score and verdict at
// threshold t, and the values of the model's inputs, as CSV to path.
func writeScores(path string, sc *scored, t float64) error {
	cols, err := sc.data.Schema.Indices(sc.model.Inputs)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f) // buffered
	w.Write(append([]string{"capture", "label", "category", "score", "verdict"}, sc.model.Inputs...))
	rec := make([]string, 5+len(cols))
	for i, s := range sc.scores {
		rec[0], rec[1], rec[2] = sc.data.Group[i], label.Benign, sc.data.Cat[i]
		if sc.data.Y[i] {
			rec[1] = label.Malicious
		}
		rec[3], rec[4] = strconv.FormatFloat(s, 'g', 6, 64), model.Verdict(s, t)
		for k, j := range cols {
			rec[5+k] = strconv.FormatFloat(sc.data.X[j][i], 'g', -1, 64)
		}
		w.Write(rec)
	}
	if w.Flush(); w.Error() != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, w.Error())
	}
	return f.Close()
}
