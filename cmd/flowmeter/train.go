package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/model/train"
)

// datasetFlags are shared by train and evaluate: where labelled flows come
// from.
type datasetFlags struct {
	meterFlags
	cap   int
	seed  uint64
	group string
}

func (f *datasetFlags) register(fs *flag.FlagSet) {
	f.meterFlags.register(fs)
	fs.IntVar(&f.cap, "cap", 2000, "take at most `N` flows from any one capture (a uniform sample); 0: all")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for sampling, folds and validation splits")
	fs.StringVar(&f.group, "group", "capture", "cross-validation groups and the cap: capture (each file) or source (each directory of captures)")
}

// loadDataset reads labelled flows: CSV files written by `extract --labels`,
// or captures (files, directories) metered here with --labels.
func (f *datasetFlags) loadDataset(ctx context.Context, fs *flag.FlagSet, early int, stderr io.Writer) (*train.Dataset, []string, error) {
	args := fs.Args()
	if len(args) == 0 {
		fmt.Fprintf(stderr, "flowmeter %s: no input (labelled CSV files, or captures with --labels)\n", fs.Name())
		return nil, nil, errUsage
	}
	var csvs, captures []string
	for _, a := range args {
		if strings.HasSuffix(strings.ToLower(a), ".csv") {
			csvs = append(csvs, a)
		} else {
			captures = append(captures, a)
		}
	}
	if len(captures) > 0 && f.labels == "" {
		return nil, nil, fmt.Errorf("%w: captures need --labels RULES (or give CSV files from `flowmeter extract --labels`)", errUsage)
	}
	if early < 0 {
		early = f.early
		if len(csvs) > 0 {
			n, err := train.EarlyOfCSV(csvs[0])
			if err != nil {
				return nil, nil, err
			}
			early = n
		}
	}
	schema, err := feature.NewSchema(early)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if f.group != "capture" && f.group != "source" {
		return nil, nil, fmt.Errorf("%w: -group must be capture or source", errUsage)
	}
	b := train.NewBuilder(schema, f.cap, f.seed)
	b.BySource = f.group == "source"
	for _, c := range csvs {
		if err := b.ReadCSV(c); err != nil {
			return nil, nil, err
		}
	}
	if len(captures) > 0 {
		f.early = early
		sub := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		sub.Parse(captures)
		r, err := f.prepare(sub, stderr)
		if err != nil {
			return nil, nil, err
		}
		m := meter.New(r.cfg, b)
		if err := m.RunFiles(ctx, r.paths); err != nil {
			return nil, nil, err
		}
		if !f.quiet {
			st := m.Stats()
			fmt.Fprintf(stderr, "flowmeter: metered %d files, %d packets, %d flows\n", st.Files, st.Packets, st.Flows)
		}
	}
	return b.Dataset(), args, nil
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f datasetFlags
	f.register(fs)
	cfg := train.DefaultConfig
	out := fs.String("model", "", "write the model to `FILE` (the same as -o FILE)")
	fs.StringVar(&cfg.Approach, "algorithm", cfg.Approach, "gbdt (boosted trees), logreg (logistic regression), blend (the mean of both), or seed (the original FlowMeter's 33 features with logistic regression)")
	fs.IntVar(&cfg.Folds, "folds", cfg.Folds, "grouped cross-validation folds (by capture); 0: none")
	fs.Float64Var(&cfg.TargetFPR, "target-fpr", cfg.TargetFPR, "choose the threshold that flags at most this share of benign flows out of fold")
	fs.IntVar(&cfg.GBDT.Rounds, "rounds", cfg.GBDT.Rounds, "gbdt: most trees")
	fs.IntVar(&cfg.GBDT.Depth, "depth", cfg.GBDT.Depth, "gbdt: tree depth")
	fs.Float64Var(&cfg.GBDT.LearningRate, "learning-rate", cfg.GBDT.LearningRate, "gbdt: shrinkage")
	fs.Float64Var(&cfg.GBDT.Lambda, "lambda", cfg.GBDT.Lambda, "gbdt: L2 penalty on leaf values")
	fs.Float64Var(&cfg.GBDT.MinChildWeight, "min-child-weight", cfg.GBDT.MinChildWeight, "gbdt: least sample weight (hessian) in a leaf")
	fs.BoolVar(&cfg.CaptureWeights, "capture-weights", cfg.CaptureWeights, "weight flows so that every capture counts the same within its class")
	fs.IntVar(&cfg.GBDT.EarlyStop, "early-stop", cfg.GBDT.EarlyStop, "gbdt: stop after N rounds without a better validation loss on held-out captures (0: off)")
	fs.Float64Var(&cfg.LogReg.L2, "l2", cfg.LogReg.L2, "logreg: L2 penalty")
	site := fs.Bool("site-features", false, "also use "+strings.Join(train.SiteFeatures, ", ")+" (they identify the capture site)")
	exclude := fs.String("exclude", "", "comma-separated features to leave out of the model inputs (globs: *_per_s, early_*)")
	trainOnlyPaths := fs.String("train-only", "", "comma-separated `PATHS`: captures at or under them are always in the training folds and never scored in cross-validation (does adding them help on the others?)")
	compare := fs.Bool("compare", false, "cross-validate gbdt, logreg and seed on the same folds and print a table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter train -o MODEL [flags] LABELLED.csv... | --labels RULES CAPTURES...\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *out == "" && len(f.outputs) == 1 {
		*out, f.outputs = f.outputs[0], nil // train -o MODEL
	}
	if *out == "" || len(f.outputs) > 0 {
		fmt.Fprintln(stderr, "flowmeter train: give the model file once, as -o FILE or -model FILE")
		return errUsage
	}
	if *site {
		cfg.Exclude = nil
	}
	trainOnly := trainOnlyFunc(*trainOnlyPaths)
	if *exclude != "" {
		cfg.Exclude = append(append([]string{}, cfg.Exclude...), strings.Split(*exclude, ",")...)
	}
	cfg.Seed = f.seed
	d, inputs, err := f.loadDataset(ctx, fs, -1, stderr)
	if err != nil {
		return err
	}
	benign, mal := d.Counts()
	fmt.Fprintf(stdout, "training data: %d flows (%d benign, %d malicious) from %d groups (%s), at most %d per group\n",
		d.Len(), benign, mal, countGroups(d), f.group, f.cap)
	if *compare {
		if err := compareApproaches(d, cfg, f.group, trainOnly, stdout); err != nil {
			return err
		}
	}
	var metrics *model.Metrics
	threshold := 0.5
	if cfg.Folds > 1 {
		fold := train.GroupFolds(d, cfg.Folds, cfg.Seed, trainOnly)
		oof, err := train.CrossValidate(d, cfg, fold)
		if err != nil {
			return err
		}
		scores, y, cat := heldOut(d, fold, oof)
		threshold = model.ThresholdAtFPR(scores, y, cfg.TargetFPR)
		mm := model.Evaluate(scores, y, cat, threshold)
		metrics = &mm
		fmt.Fprintf(stdout, "\n%d-fold cross-validation grouped by %s (out-of-fold scores of %d flows), %s:\n", cfg.Folds, f.group, len(y), cfg.Approach)
		mm.Write(stdout)
	}
	m, importance, err := train.Fit(d, cfg)
	if err != nil {
		return err
	}
	m.Threshold = threshold
	m.Training = &model.Training{
		Command: "flowmeter train " + strings.Join(args, " "),
		Data:    inputs,
		Flows:   map[string]int{"benign": benign, "malicious": mal},
		Metrics: metrics,
	}
	m.Training.Importance = topImportance(m.Inputs, importance, 25)
	fmt.Fprintf(stdout, "\nthe model leans most on:\n")
	for _, kv := range sortedImportance(m.Training.Importance) {
		fmt.Fprintf(stdout, "  %-28s %.4f\n", kv.name, kv.v)
	}
	if err := saveModel(*out, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s: %s, %d inputs, threshold %.6g\n", *out, m.Algorithm, len(m.Inputs), m.Threshold)
	return nil
}

// trainOnlyFunc reports the groups (captures or directories) at or under
// one of the comma-separated paths; nil when there are none.
func trainOnlyFunc(paths string) func(string) bool {
	if paths == "" {
		return nil
	}
	var ps []string
	for _, p := range strings.Split(paths, ",") {
		ps = append(ps, filepath.Clean(p))
	}
	return func(g string) bool {
		g = filepath.Clean(g)
		for _, p := range ps {
			if g == p || strings.HasPrefix(g, p+string(filepath.Separator)) {
				return true
			}
		}
		return false
	}
}

// heldOut returns the out-of-fold scores, truths and categories of the
// flows some fold held out (not those of train-only groups).
func heldOut(d *train.Dataset, fold map[string]int, oof []float64) (scores []float64, y []bool, cat []string) {
	for _, i := range train.HeldOut(d, fold) {
		scores, y, cat = append(scores, oof[i]), append(y, d.Y[i]), append(cat, d.Cat[i])
	}
	return
}

func countGroups(d *train.Dataset) int {
	seen := map[string]bool{}
	for _, g := range d.Group {
		seen[g] = true
	}
	return len(seen)
}

type kv struct {
	name string
	v    float64
}

func sortedImportance(m map[string]float64) []kv {
	var out []kv
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].v != out[j].v {
			return out[i].v > out[j].v
		}
		return out[i].name < out[j].name
	})
	return out
}

// topImportance normalises importances to sum 1 and keeps the n largest.
func topImportance(names []string, imp []float64, n int) map[string]float64 {
	var total float64
	for _, v := range imp {
		total += v
	}
	all := make([]kv, len(names))
	for i, name := range names {
		v := 0.0
		if total > 0 {
			v = imp[i] / total
		}
		all[i] = kv{name, v}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].name < all[j].name })
	out := map[string]float64{}
	for _, e := range all[:min(n, len(all))] {
		out[e.name] = e.v
	}
	return out
}

// compareApproaches cross-validates every approach on the same folds.
func compareApproaches(d *train.Dataset, cfg train.Config, group string, trainOnly func(string) bool, w io.Writer) error {
	folds := cfg.Folds
	if folds < 2 {
		folds = 5
	}
	fold := train.GroupFolds(d, folds, cfg.Seed, trainOnly)
	fmt.Fprintf(w, "\n%d-fold cross-validation grouped by %s, same folds for every approach; threshold chosen out of fold at %.1f %% FPR\n\n", folds, group, 100*cfg.TargetFPR)
	fmt.Fprintf(w, "| approach | inputs | precision | recall | F1 | FPR | ROC AUC | PR AUC | recall at 1 %% FPR |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range []string{train.ApproachSeed, train.ApproachLogReg, train.ApproachGBDT, train.ApproachBlend} {
		c := cfg
		c.Approach, c.Folds = a, folds
		oof, err := train.CrossValidate(d, c, fold)
		if err != nil {
			return err
		}
		scores, y, _ := heldOut(d, fold, oof)
		t := model.ThresholdAtFPR(scores, y, cfg.TargetFPR)
		m := model.Evaluate(scores, y, nil, t)
		fmt.Fprintf(w, "| %s | %d | %.3f | %.3f | %.3f | %.4f | %.3f | %.3f | %.3f |\n", a, len(train.Inputs(d.Schema, a, c.Exclude)),
			m.Precision, m.Recall, m.F1, m.FPR, m.ROCAUC, m.PRAUC, m.RecallAt1FPR)
	}
	return nil
}

// saveModel writes m to path.
func saveModel(path string, m *model.Model) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := m.Save(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
