package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/model/train"
)

// trainFlags are the flags of train.
type trainFlags struct {
	data      dataFlags
	early     int
	cfg       train.Config
	out       string
	site      bool
	exclude   string
	leaveOut  string
	trainOnly string
	compare   bool
	loso      bool
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	f.data.register(fs, 2000)
	registerEarly(fs, &f.early)
	f.cfg = train.DefaultConfig
	c := &f.cfg
	fs.StringVar(&f.out, "o", "", "write the model to `FILE` (required)")
	fs.StringVar(&c.Approach, "algorithm", c.Approach, "gbdt (boosted trees), logreg (logistic regression), blend (the mean of both), or seed (the original FlowMeter's 33 features with logistic regression)")
	fs.IntVar(&c.Folds, "folds", c.Folds, "grouped cross-validation folds (by capture); 0: none")
	fs.Float64Var(&c.TargetFPR, "target-fpr", c.TargetFPR, "choose the threshold that flags at most this share of benign flows out of fold")
	fs.BoolVar(&c.FPRByGroup, "fpr-by-group", c.FPRByGroup, "--target-fpr bounds the mean of each held-out group's benign FPR (every capture, or source with --group source, weighs the same however many flows it has), not the share of all benign flows")
	fs.IntVar(&c.GBDT.Rounds, "rounds", c.GBDT.Rounds, "gbdt: most trees")
	fs.IntVar(&c.GBDT.Depth, "depth", c.GBDT.Depth, "gbdt: tree depth")
	fs.Float64Var(&c.GBDT.LearningRate, "learning-rate", c.GBDT.LearningRate, "gbdt: shrinkage")
	fs.Float64Var(&c.GBDT.Lambda, "lambda", c.GBDT.Lambda, "gbdt: L2 penalty on leaf values")
	fs.Float64Var(&c.GBDT.MinChildWeight, "min-child-weight", c.GBDT.MinChildWeight, "gbdt: least sample weight (hessian) in a leaf")
	fs.BoolVar(&c.CaptureWeights, "capture-weights", c.CaptureWeights, "weight flows so that every capture counts the same within its class")
	fs.IntVar(&c.GBDT.EarlyStop, "early-stop", c.GBDT.EarlyStop, "gbdt: stop after N rounds without a better validation loss on held-out captures (0: off)")
	fs.Float64Var(&c.LogReg.L2, "l2", c.LogReg.L2, "logreg: L2 penalty")
	fs.BoolVar(&f.site, "link-features", false, "also use the features that measure the link rather than the endpoints: "+strings.Join(train.LinkFeatures, ", "))
	fs.StringVar(&f.exclude, "exclude", "", "comma-separated features to leave out of the model inputs (globs: *_per_s, early_*)")
	fs.StringVar(&f.leaveOut, "leave-out", "", "comma-separated attack `CATEGORIES` (globs, ? for a space: 'c2:*,*path?traversal*') whose flows are left out of training and cross-validation: attacks the inputs cannot tell from ordinary traffic")
	fs.StringVar(&f.trainOnly, "train-only", "", "comma-separated `PATHS`: captures at or under them are always in the training folds and never scored in cross-validation (does adding them help on the others?)")
	fs.BoolVar(&f.compare, "compare", false, "cross-validate gbdt, logreg and seed on the same folds and print a table")
	fs.BoolVar(&f.loso, "loso", false, "leave one group out (each capture, or each source with --group source) instead of --folds, and print each group's false-positive rate and recall")
}

// config completes the training configuration from the flags.
func (f *trainFlags) config() train.Config {
	c := f.cfg
	if f.site {
		c.Exclude = nil
	}
	if f.exclude != "" {
		c.Exclude = append(append([]string{}, c.Exclude...), strings.Split(f.exclude, ",")...)
	}
	c.Seed = f.data.seed
	return c
}

func (f *trainFlags) trainOnlyFunc() func(string) bool {
	if f.trainOnly == "" {
		return nil
	}
	return train.Under(strings.Split(f.trainOnly, ","))
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train -o MODEL [flags] LABELLED.csv... | --labels RULES CAPTURES...", "Trains a model on labelled flows, with cross-validation grouped by capture.", stderr)
	var f trainFlags
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.out == "" {
		return usagef("train: give the model file to write with -o FILE")
	}
	if err := f.checkLeaveOut(); err != nil {
		return err
	}
	if err := refuseInputs([]string{f.out}, fs.Args()); err != nil {
		return err
	}
	cfg := f.config()
	d, err := f.data.load(ctx, fs, -1, f.early, stderr)
	if err != nil {
		return err
	}
	if d, cfg, err = f.prepare(d, cfg, stdout); err != nil {
		return err
	}
	if f.compare {
		if err := train.Compare(d, cfg, f.data.group, f.trainOnlyFunc(), stdout); err != nil {
			return err
		}
	}
	metrics, err := f.crossValidate(d, cfg, stdout)
	if err != nil {
		return err
	}
	return f.fit(d, cfg, metrics, args, fs.Args(), stdout)
}

// checkLeaveOut refuses a malformed --leave-out pattern before anything
// is read.
func (f *trainFlags) checkLeaveOut() error {
	if f.leaveOut == "" {
		return nil
	}
	if err := train.CheckPatterns(strings.Split(f.leaveOut, ",")); err != nil {
		return usagef("train: --leave-out: category %v", err)
	}
	return nil
}

// prepare drops the malicious flows of the --leave-out categories, says
// what is left, and chooses the number of trees once for the folds and the
// final model (train.FixRounds).
func (f *trainFlags) prepare(d *train.Dataset, cfg train.Config, stdout io.Writer) (*train.Dataset, train.Config, error) {
	if f.leaveOut != "" {
		var n int
		var err error
		if d, n, err = d.LeaveOut(strings.Split(f.leaveOut, ",")); err != nil {
			return nil, cfg, err
		}
		fmt.Fprintf(stdout, "left out: %d malicious flows of the categories %s\n", n, f.leaveOut)
	}
	benign, mal := d.Counts()
	fmt.Fprintf(stdout, "training data: %d flows (%d benign, %d malicious) from %d groups (%s), at most %d per capture\n",
		d.Len(), benign, mal, d.Groups(), f.data.group, f.data.cap)
	if c := train.FixRounds(d, cfg); c.GBDT.Rounds != cfg.GBDT.Rounds || c.GBDT.EarlyStop != cfg.GBDT.EarlyStop {
		cfg = c
		fmt.Fprintf(stdout, "boosting rounds: %d (early stopping on a held-out share of the groups; the same for every fold and the final model)\n", cfg.GBDT.Rounds)
	}
	return d, cfg, nil
}

// crossValidate prints the out-of-fold metrics (nil without folds).
func (f *trainFlags) crossValidate(d *train.Dataset, cfg train.Config, stdout io.Writer) (*model.Metrics, error) {
	if f.loso {
		mm, gm, err := train.LeaveOneOutByGroup(d, cfg, f.trainOnlyFunc())
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "\nleave one %s out (%d held out in turn), %s:\n", f.data.group, len(gm), cfg.Approach)
		mm.Write(stdout)
		fmt.Fprintf(stdout, "\neach held-out %s at threshold %.4g:\n\n", f.data.group, mm.Threshold)
		train.WriteByGroup(stdout, gm)
		return mm, nil
	}
	if cfg.Folds <= 1 {
		return nil, nil
	}
	mm, err := train.OutOfFold(d, cfg, f.trainOnlyFunc())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "\n%d-fold cross-validation grouped by %s (out-of-fold scores of %d flows), %s:\n", cfg.Folds, f.data.group, mm.TP+mm.FP+mm.TN+mm.FN, cfg.Approach)
	mm.Write(stdout)
	return mm, nil
}

// fit trains the model on all of d, records how, and saves it.
func (f *trainFlags) fit(d *train.Dataset, cfg train.Config, metrics *model.Metrics, args, data []string, stdout io.Writer) error {
	m, importance, err := train.Fit(d, cfg)
	if err != nil {
		return err
	}
	m.Threshold = 0.5
	if metrics != nil {
		m.Threshold = metrics.Threshold
	}
	benign, mal := d.Counts()
	m.Training = &model.Training{
		Command:    "flowmeter train " + strings.Join(withoutOutput(args), " "),
		Data:       data,
		Flows:      map[string]int{"benign": benign, "malicious": mal},
		Metrics:    metrics,
		Importance: train.TopImportance(m.Inputs, importance, 25),
	}
	fmt.Fprintf(stdout, "\nthe model leans most on:\n")
	for _, e := range train.SortImportance(m.Training.Importance) {
		fmt.Fprintf(stdout, "  %-28s %.4f\n", e.Name, e.Share)
	}
	if err := saveModel(f.out, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s: %s, %d inputs, threshold %.6g\n", f.out, m.Algorithm, len(m.Inputs), m.Threshold)
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

// withoutOutput drops -o FILE from the recorded command: where the model
// was written is not how it was made, and without it a rebuild to another
// path gives the same bytes.
func withoutOutput(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o" || a == "--o":
			i++
		case strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="):
		default:
			out = append(out, a)
		}
	}
	return out
}
