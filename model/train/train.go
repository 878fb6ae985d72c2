package train

import (
	"fmt"
	"math/rand/v2"
	"path"
	"sort"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

// Approaches that can be trained and compared.
const (
	ApproachGBDT   = "gbdt"   // boosted trees on every behavioural feature
	ApproachLogReg = "logreg" // logistic regression on the same inputs
	ApproachSeed   = "seed"   // the original FlowMeter: its 33 numeric features, logistic regression
	ApproachBlend  = "blend"  // the mean of gbdt's and logreg's probabilities
)

// LinkFeatures are left out of the model inputs by default: they measure
// the link and the site more than what the endpoints did. Absolute times
// and rates (seconds, per-second rates, RTTs, inter-arrival gaps, early
// packet gaps) are set by the path: the same page fetch takes a millisecond
// on loopback and hundreds across a continent, so a model that reads them
// learns where a capture was made ("fast = the attack lab"). Initial TCP
// windows identify operating systems. The model reads times in round trips
// instead (the *_rtts features), counts and ratios. Idle periods (gaps over
// 5 s) and subflows stay: applications set them (beacons, slow attacks),
// not links. Identifiers, addresses, ports and timestamps are not features
// at all, and the meter has no TTL feature.
var LinkFeatures = []string{"duration_s", "*iat*_s", "active_*_s", "*_per_s", "*bulk_rate_avg", "tcp_synack_s", "tcp_ack_s",
	"rtt_s", "early_*_gap_s", "fwd_init_win", "bwd_init_win"}

// Config configures training.
type Config struct {
	Approach  string
	GBDT      GBDTParams
	LogReg    LogRegParams
	Folds     int     // grouped cross-validation folds (0: none)
	Seed      uint64  // for the fold and validation split
	TargetFPR float64 // the threshold flags at most this share of benign flows (out of fold)
	// FPRByGroup: TargetFPR bounds the mean of each held-out group's
	// benign FPR (every source weighs the same), not the pooled share.
	FPRByGroup bool
	ValidFrac  float64 // share of captures held out for early stopping
	Exclude    []string
	// CaptureWeights gives every capture the same total weight within its
	// class (otherwise every flow weighs the same within its class).
	CaptureWeights bool
}

// DefaultConfig is `flowmeter train`'s.
var DefaultConfig = Config{Approach: ApproachBlend, GBDT: DefaultGBDT, LogReg: DefaultLogReg, Folds: 5, Seed: 1,
	TargetFPR: 0.005, ValidFrac: 0.2, Exclude: LinkFeatures}

// Inputs returns the model inputs of an approach over schema s.
func Inputs(s *feature.Schema, approach string, exclude []string) []string {
	if approach == ApproachSeed {
		var in []string
		for _, f := range feature.SeedFeatures {
			in = append(in, f.Native)
		}
		return in
	}
	var in []string
	for _, n := range s.Names() {
		if !excluded(n, exclude) {
			in = append(in, n)
		}
	}
	return in
}

// CheckPatterns reports the first malformed glob among patterns (those
// of Dataset.LeaveOut and Config.Exclude).
func CheckPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return nil
}

// excluded reports whether name matches one of the patterns (path.Match
// globs: a name, or * for any run of characters).
func excluded(name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// balancedWeights gives each class the same total weight, the mean weight
// being 1.
func balancedWeights(y []bool) []float64 {
	var pos float64
	for _, v := range y {
		if v {
			pos++
		}
	}
	n := float64(len(y))
	neg := n - pos
	w := make([]float64, len(y))
	for i, v := range y {
		switch {
		case v && pos > 0:
			w[i] = n / (2 * pos)
		case !v && neg > 0:
			w[i] = n / (2 * neg)
		default:
			w[i] = 1
		}
	}
	return w
}

// weights returns the sample weights: classes balanced (each class has half
// the total weight, the mean weight is 1) and, with CaptureWeights, captures
// balanced within their class.
func (cfg Config) weights(d *Dataset) []float64 {
	if !cfg.CaptureWeights {
		return balancedWeights(d.Y)
	}
	type gk struct {
		g string
		y bool
	}
	per := map[gk]float64{}
	groups := map[bool]map[string]bool{true: {}, false: {}}
	for i, g := range d.Group {
		per[gk{g, d.Y[i]}]++
		groups[d.Y[i]][g] = true
	}
	n := float64(len(d.Y))
	w := make([]float64, len(d.Y))
	for i, g := range d.Group {
		y := d.Y[i]
		// class total n/2, split evenly over the class's captures
		w[i] = n / 2 / float64(len(groups[y])) / per[gk{g, y}]
	}
	return w
}

func columns(d *Dataset, inputs []string) [][]float64 {
	cols := make([][]float64, len(inputs))
	for k, n := range inputs {
		cols[k] = d.X[d.Schema.Index(n)]
	}
	return cols
}

// groupsOf lists d's groups in name order with whether most of their flows
// are malicious.
func groupsOf(d *Dataset) (names []string, mal map[string]bool) {
	count := map[string][2]int{}
	for i, g := range d.Group {
		c := count[g]
		if d.Y[i] {
			c[1]++
		} else {
			c[0]++
		}
		count[g] = c
	}
	mal = map[string]bool{}
	for g, c := range count {
		names = append(names, g)
		mal[g] = c[1] > c[0]
	}
	sort.Strings(names)
	return names, mal
}

// GroupFolds assigns each group (capture) to one of k folds: malicious and
// benign captures are shuffled with the seed and dealt in turn, so that
// every fold has both. No capture is ever split between folds. Groups for
// which trainOnly (when not nil) is true get fold -1: they are in every
// fold's training data and never held out, and the other groups get the
// folds they would get without them.
func GroupFolds(d *Dataset, k int, seed uint64, trainOnly func(group string) bool) map[string]int {
	names, mal := groupsOf(d)
	rng := rand.New(rand.NewPCG(seed, 0xF01D))
	fold := map[string]int{}
	for _, want := range []bool{true, false} {
		var gs []string
		for _, g := range names {
			if trainOnly != nil && trainOnly(g) {
				fold[g] = -1
				continue
			}
			if mal[g] == want {
				gs = append(gs, g)
			}
		}
		rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
		for i, g := range gs {
			fold[g] = i % k
		}
	}
	return fold
}

// HeldOut returns the rows of d that some fold holds out (fold ≥ 0).
func HeldOut(d *Dataset, fold map[string]int) []int {
	var rows []int
	for i, g := range d.Group {
		if fold[g] >= 0 {
			rows = append(rows, i)
		}
	}
	return rows
}

// splitRows returns the rows of d whose group is (in) or is not (out) in fold f.
func splitRows(d *Dataset, fold map[string]int, f int) (in, out []int) {
	for i, g := range d.Group {
		if fold[g] == f {
			in = append(in, i)
		} else {
			out = append(out, i)
		}
	}
	return
}

// inputs are the features a model of cfg reads from d: cfg.Approach's,
// without cfg.Exclude and the features d lacks.
func (cfg Config) inputs(d *Dataset) []string {
	return Inputs(d.Schema, cfg.Approach, append(cfg.Exclude[:len(cfg.Exclude):len(cfg.Exclude)], d.Absent...))
}

// Fit trains a model on d. For GBDT with early stopping on, a share of the
// captures is held out to choose the number of trees, and the final trees
// are refit on all of d; `flowmeter train` chooses it once (FixRounds)
// instead, for its folds and its final model alike.
func Fit(d *Dataset, cfg Config) (*model.Model, []float64, error) {
	if d.Len() == 0 {
		return nil, nil, fmt.Errorf("no labelled flows to train on")
	}
	benign, mal := d.Counts()
	if benign == 0 || mal == 0 {
		return nil, nil, fmt.Errorf("training needs both classes: %d benign, %d malicious flows", benign, mal)
	}
	inputs := cfg.inputs(d)
	m := &model.Model{Early: d.Schema.EarlyN, SchemaHash: d.Schema.Hash(), Schema: d.Schema.Names(), Inputs: inputs,
		InputMeanings: d.Schema.Meanings(inputs), Threshold: 0.5}
	fit, ok := approaches[cfg.Approach]
	if !ok {
		return nil, nil, fmt.Errorf("unknown approach %q (gbdt, logreg, blend, seed)", cfg.Approach)
	}
	importance, err := fit(m, d, cfg)
	if err != nil {
		return nil, nil, err
	}
	return m, importance, nil
}

// approaches is the one table of training approaches: each fits m (whose
// inputs are set) on d, sets its algorithm and parameters, and returns the
// inputs' importances.
var approaches = map[string]func(m *model.Model, d *Dataset, cfg Config) ([]float64, error){
	ApproachGBDT:   fitGBDT,
	ApproachBlend:  fitBlend,
	ApproachLogReg: fitLogReg,
	ApproachSeed:   fitLogReg,
}

func fitGBDT(m *model.Model, d *Dataset, cfg Config) ([]float64, error) {
	m.Algorithm = model.GBDT
	p := cfg.GBDT
	if cfg.ValidFrac > 0 && p.EarlyStop > 0 {
		rounds := bestRounds(d, m.Inputs, cfg)
		p.Rounds, p.EarlyStop = max(rounds, 1), 0
	}
	var importance []float64
	m.Trees, importance = FitGBDT(columns(d, m.Inputs), d.Y, cfg.weights(d), nil, nil, nil, p)
	m.Params = model.Params{"rounds": len(m.Trees.Trees), "depth": p.Depth, "learning_rate": p.LearningRate,
		"lambda": p.Lambda, "min_child_weight": p.MinChildWeight, "bins": p.Bins, "class_weights": "balanced"}
	return importance, nil
}

func fitBlend(m *model.Model, d *Dataset, cfg Config) ([]float64, error) {
	m.Algorithm = model.Blend
	g, lr := cfg, cfg
	g.Approach, lr.Approach = ApproachGBDT, ApproachLogReg
	gm, lm := *m, *m // the same inputs
	gi, err := fitGBDT(&gm, d, g)
	if err != nil {
		return nil, err
	}
	li, err := fitLogReg(&lm, d, lr)
	if err != nil {
		return nil, err
	}
	m.Trees, m.LogReg = gm.Trees, lm.LogReg
	m.Params = model.Params{"gbdt": gm.Params, "logreg": lm.Params}
	return blendImportance(gi, li), nil
}

func fitLogReg(m *model.Model, d *Dataset, cfg Config) ([]float64, error) {
	m.Algorithm = model.LogReg
	p := cfg.LogReg
	if cfg.Approach == ApproachSeed { // the original FlowMeter's regression: raw inputs
		p.Log, p.Clip = false, 50
	}
	m.LogReg = FitLogReg(columns(d, m.Inputs), d.Y, cfg.weights(d), p)
	importance := make([]float64, len(m.Inputs))
	for j, wt := range m.LogReg.Weights {
		importance[j] = abs(wt)
	}
	m.Params = model.Params{"l2": p.L2, "iterations": p.Iterations, "log": p.Log, "clip": m.LogReg.Clip, "class_weights": "balanced", "approach": cfg.Approach}
	return importance, nil
}

// blendImportance averages the two models' importances, each normalised to
// sum 1.
func blendImportance(a, b []float64) []float64 {
	norm := func(v []float64) []float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		out := make([]float64, len(v))
		for i, x := range v {
			if s > 0 {
				out[i] = x / s
			}
		}
		return out
	}
	na, nb := norm(a), norm(b)
	for i := range na {
		na[i] = (na[i] + nb[i]) / 2
	}
	return na
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// FixRounds chooses the number of boosting rounds once, by early stopping on
// a held-out share (ValidFrac) of d's groups, and returns cfg with that many
// rounds and early stopping off. Cross-validation's fold models and the
// final model then have the same number of trees, so a threshold chosen on
// the folds' scores means the same on the final model's. (Chosen per fit, a
// fold model could keep 280 trees and the final model 60, whose scores are
// less extreme: a threshold from the folds then flagged nothing at all.)
func FixRounds(d *Dataset, cfg Config) Config {
	if cfg.ValidFrac <= 0 || cfg.GBDT.EarlyStop <= 0 || (cfg.Approach != ApproachGBDT && cfg.Approach != ApproachBlend) {
		return cfg
	}
	inputs := cfg.inputs(d)
	cfg.GBDT.Rounds = max(bestRounds(d, inputs, cfg), 1)
	cfg.GBDT.EarlyStop = 0
	return cfg
}

// bestRounds holds out ValidFrac of d's captures and returns the number of
// trees with the lowest validation loss.
func bestRounds(d *Dataset, inputs []string, cfg Config) int {
	k := max(2, int(1/cfg.ValidFrac+0.5))
	fold := GroupFolds(d, k, cfg.Seed+17, nil)
	valid, trainRows := splitRows(d, fold, 0)
	tr, va := d.Subset(trainRows), d.Subset(valid)
	if b, m := tr.Counts(); b == 0 || m == 0 {
		return cfg.GBDT.Rounds
	}
	if b, m := va.Counts(); b == 0 || m == 0 {
		return cfg.GBDT.Rounds
	}
	ens, _ := FitGBDT(columns(tr, inputs), tr.Y, cfg.weights(tr), columns(va, inputs), va.Y, cfg.weights(va), cfg.GBDT)
	return len(ens.Trees)
}

// CrossValidate returns out-of-fold scores for every flow of d (0 for the
// flows of train-only groups, fold -1, which no fold holds out): each fold's
// captures are scored by a model trained on the other folds' captures.
func CrossValidate(d *Dataset, cfg Config, fold map[string]int) ([]float64, error) {
	scores := make([]float64, d.Len())
	buf := make([]float64, 0, d.Schema.Len())
	for f := 0; f < cfg.Folds; f++ {
		test, trainRows := splitRows(d, fold, f)
		if len(test) == 0 {
			continue
		}
		m, _, err := Fit(d.Subset(trainRows), cfg)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f+1, err)
		}
		b, err := m.Bind(d.Schema)
		if err != nil {
			return nil, err
		}
		for _, i := range test {
			buf = d.Row(i, buf)
			scores[i] = b.Score(buf)
		}
	}
	return scores, nil
}
