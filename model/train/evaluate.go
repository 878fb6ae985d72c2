package train

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowmeter/flowmeter/model"
)

// Groups is the number of capture groups (captures or sources) in d.
func (d *Dataset) Groups() int {
	seen := map[string]bool{}
	for _, g := range d.Group {
		seen[g] = true
	}
	return len(seen)
}

// Score scores every flow of d with b.
func Score(b *model.Bound, d *Dataset) []float64 {
	scores := make([]float64, d.Len())
	row := make([]float64, 0, d.Schema.Len())
	for i := range scores {
		row = d.Row(i, row)
		scores[i] = b.Score(row)
	}
	return scores
}

// Under reports the groups (captures or directories) at or under one of
// paths; nil when there are none.
func Under(paths []string) func(group string) bool {
	if len(paths) == 0 {
		return nil
	}
	var ps []string
	for _, p := range paths {
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
func heldOut(d *Dataset, fold map[string]int, oof []float64) (scores []float64, y []bool, cat, group []string) {
	for _, i := range HeldOut(d, fold) {
		scores, y, cat, group = append(scores, oof[i]), append(y, d.Y[i]), append(cat, d.Cat[i]), append(group, d.Group[i])
	}
	return
}

// threshold chooses the threshold of cfg on held-out scores: cfg.TargetFPR
// of the benign flows, or with cfg.FPRByGroup the mean of the groups' FPRs.
func threshold(cfg Config, scores []float64, y []bool, group []string) float64 {
	if cfg.FPRByGroup {
		return model.ThresholdAtGroupFPR(scores, y, group, cfg.TargetFPR)
	}
	return model.ThresholdAtFPR(scores, y, cfg.TargetFPR)
}

// OutOfFold cross-validates cfg on d's groups (cfg.Folds folds; the groups
// trainOnly reports are in every training fold and never scored), chooses
// the threshold that flags cfg.TargetFPR of the held-out benign flows, and
// returns the held-out metrics at that threshold.
func OutOfFold(d *Dataset, cfg Config, trainOnly func(string) bool) (*model.Metrics, error) {
	m, _, err := crossValidated(d, cfg, GroupFolds(d, cfg.Folds, cfg.Seed, trainOnly))
	return m, err
}

// crossValidated cross-validates cfg over fold and returns the held-out
// metrics at the threshold that flags cfg.TargetFPR of the held-out benign
// flows, and every flow's out-of-fold score.
func crossValidated(d *Dataset, cfg Config, fold map[string]int) (*model.Metrics, []float64, error) {
	oof, err := CrossValidate(d, cfg, fold)
	if err != nil {
		return nil, nil, err
	}
	scores, y, cat, group := heldOut(d, fold, oof)
	m := model.Evaluate(scores, y, cat, threshold(cfg, scores, y, group))
	return &m, oof, nil
}

// Compare cross-validates every approach on the same folds (5 unless
// cfg.Folds says more) and writes a Markdown table to w; group names the
// grouping for the title.
func Compare(d *Dataset, cfg Config, group string, trainOnly func(string) bool, w io.Writer) error {
	folds := cfg.Folds
	if folds < 2 {
		folds = 5
	}
	fold := GroupFolds(d, folds, cfg.Seed, trainOnly)
	fmt.Fprintf(w, "\n%d-fold cross-validation grouped by %s, same folds for every approach; threshold chosen out of fold at %.1f %% FPR\n\n", folds, group, 100*cfg.TargetFPR)
	fmt.Fprintf(w, "| approach | inputs | precision | recall | F1 | FPR | ROC AUC | PR AUC | recall at 1 %% FPR |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range []string{ApproachSeed, ApproachLogReg, ApproachGBDT, ApproachBlend} {
		c := cfg
		c.Approach, c.Folds = a, folds
		m, _, err := crossValidated(d, c, fold)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| %s | %d | %.3f | %.3f | %.3f | %.4f | %.3f | %.3f | %.3f |\n", a, len(c.inputs(d)),
			m.Precision, m.Recall, m.F1, m.FPR, m.ROCAUC, m.PRAUC, m.RecallAt1FPR)
	}
	return nil
}

// Importance is one input's share of a model's importance.
type Importance struct {
	Name  string
	Share float64
}

// SortImportance lists importances, largest first (then by name).
func SortImportance(m map[string]float64) []Importance {
	var out []Importance
	for k, v := range m {
		out = append(out, Importance{k, v})
	}
	sortImportance(out)
	return out
}

func sortImportance(s []Importance) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Share != s[j].Share {
			return s[i].Share > s[j].Share
		}
		return s[i].Name < s[j].Name
	})
}

// TopImportance normalises importances (one per input name) to sum 1 and
// keeps the n largest.
func TopImportance(names []string, imp []float64, n int) map[string]float64 {
	var total float64
	for _, v := range imp {
		total += v
	}
	all := make([]Importance, len(names))
	for i, name := range names {
		v := 0.0
		if total > 0 {
			v = imp[i] / total
		}
		all[i] = Importance{name, v}
	}
	sortImportance(all)
	out := map[string]float64{}
	for _, e := range all[:min(n, len(all))] {
		out[e.Name] = e.Share
	}
	return out
}

// LeaveOneOut gives every group its own fold (in name order): each group is
// scored by a model trained on all the others. Groups for which trainOnly
// is true get fold -1 (always trained on, never scored).
func LeaveOneOut(d *Dataset, trainOnly func(string) bool) (map[string]int, int) {
	names, _ := groupsOf(d)
	fold := map[string]int{}
	k := 0
	for _, g := range names {
		if trainOnly != nil && trainOnly(g) {
			fold[g] = -1
			continue
		}
		fold[g] = k
		k++
	}
	return fold, k
}

// GroupMetrics is how a model did on one group's flows.
type GroupMetrics struct {
	Group             string
	Benign, Malicious int
	FalsePositives    int // benign flows flagged
	Caught            int // malicious flows flagged
}

// ByGroup counts, per group of d, the flows flagged at threshold t (scores
// by row; rows with fold -1 in fold, when fold is not nil, are left out).
func ByGroup(d *Dataset, scores []float64, t float64, fold map[string]int) []GroupMetrics {
	at := map[string]int{}
	var out []GroupMetrics
	for i, g := range d.Group {
		if fold != nil && fold[g] < 0 {
			continue
		}
		k, ok := at[g]
		if !ok {
			k = len(out)
			at[g] = k
			out = append(out, GroupMetrics{Group: g})
		}
		m := &out[k]
		flagged := scores[i] >= t
		switch {
		case d.Y[i]:
			m.Malicious++
			if flagged {
				m.Caught++
			}
		default:
			m.Benign++
			if flagged {
				m.FalsePositives++
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// WriteByGroup writes the per-group table in Markdown: the benign
// false-positive rate and the recall of each group.
func WriteByGroup(w io.Writer, gm []GroupMetrics) {
	fmt.Fprintf(w, "| group | benign flows | flagged (FPR) | malicious flows | caught (recall) |\n|---|---|---|---|---|\n")
	pct := func(a, b int) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f %%", 100*float64(a)/float64(b))
	}
	for _, m := range gm {
		fmt.Fprintf(w, "| %s | %d | %d (%s) | %d | %d (%s) |\n", m.Group, m.Benign, m.FalsePositives, pct(m.FalsePositives, m.Benign),
			m.Malicious, m.Caught, pct(m.Caught, m.Malicious))
	}
}

// LeaveOneOutByGroup cross-validates cfg with every group held out in turn,
// chooses the threshold at cfg.TargetFPR over all the held-out scores, and
// returns the held-out metrics and the per-group table.
func LeaveOneOutByGroup(d *Dataset, cfg Config, trainOnly func(string) bool) (*model.Metrics, []GroupMetrics, error) {
	fold, k := LeaveOneOut(d, trainOnly)
	cfg.Folds = k
	m, oof, err := crossValidated(d, cfg, fold)
	if err != nil {
		return nil, nil, err
	}
	return m, ByGroup(d, oof, m.Threshold, fold), nil
}
