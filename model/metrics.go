package model

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Metrics are a classifier's results on labelled flows at one threshold.
// Positive means malicious.
type Metrics struct {
	Threshold    float64          `json:"threshold"`
	TP           int              `json:"tp"`
	FP           int              `json:"fp"`
	TN           int              `json:"tn"`
	FN           int              `json:"fn"`
	Precision    float64          `json:"precision"`
	Recall       float64          `json:"recall"`
	F1           float64          `json:"f1"`
	FPR          float64          `json:"fpr"`
	ROCAUC       float64          `json:"roc_auc"`
	PRAUC        float64          `json:"pr_auc"`         // average precision
	RecallAt1FPR float64          `json:"recall_at_1fpr"` // recall at the threshold that flags 1 % of benign flows
	Points       []OperatingPoint `json:"operating_points,omitempty"`
	Categories   []CategoryRecall `json:"categories,omitempty"`
}

// OperatingPoint is the threshold that flags at most the share FPR of the
// benign flows, and the recall there.
type OperatingPoint struct {
	FPR       float64 `json:"fpr"`
	Threshold float64 `json:"threshold"`
	Recall    float64 `json:"recall"`
}

// PointFPRs are the benign false-positive rates of Metrics.Points.
var PointFPRs = []float64{0.0005, 0.001, 0.002, 0.005, 0.01}

// CategoryRecall is the share of a category's flows flagged (for benign
// categories, that share is their false-positive rate).
type CategoryRecall struct {
	Category string  `json:"category"`
	Label    string  `json:"label"`
	Flows    int     `json:"flows"`
	Flagged  int     `json:"flagged"`
	Rate     float64 `json:"rate"`
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Evaluate computes the metrics of scores against labels (true: malicious)
// at threshold t. cats, when not nil, gives each flow's category.
func Evaluate(scores []float64, labels []bool, cats []string, t float64) Metrics {
	m := Metrics{Threshold: t}
	type catKey struct{ cat, label string }
	per := map[catKey]*CategoryRecall{}
	for i, s := range scores {
		flagged := s >= t
		switch {
		case labels[i] && flagged:
			m.TP++
		case labels[i]:
			m.FN++
		case flagged:
			m.FP++
		default:
			m.TN++
		}
		if cats != nil {
			lab := VerdictBenign
			if labels[i] {
				lab = VerdictMalicious
			}
			k := catKey{cats[i], lab}
			c := per[k]
			if c == nil {
				c = &CategoryRecall{Category: cats[i], Label: lab}
				per[k] = c
			}
			c.Flows++
			if flagged {
				c.Flagged++
			}
		}
	}
	m.Precision = div(float64(m.TP), float64(m.TP+m.FP))
	m.Recall = div(float64(m.TP), float64(m.TP+m.FN))
	m.F1 = div(2*m.Precision*m.Recall, m.Precision+m.Recall)
	m.FPR = div(float64(m.FP), float64(m.FP+m.TN))
	m.ROCAUC, m.PRAUC = aucs(scores, labels)
	m.RecallAt1FPR = RecallAtFPR(scores, labels, 0.01)
	if m.FP+m.TN > 0 && m.TP+m.FN > 0 {
		for _, f := range PointFPRs {
			t := ThresholdAtFPR(scores, labels, f)
			m.Points = append(m.Points, OperatingPoint{FPR: f, Threshold: t, Recall: recallAt(scores, labels, t)})
		}
	}
	for _, c := range per {
		c.Rate = div(float64(c.Flagged), float64(c.Flows))
		m.Categories = append(m.Categories, *c)
	}
	sort.Slice(m.Categories, func(i, j int) bool {
		a, b := m.Categories[i], m.Categories[j]
		if a.Label != b.Label {
			return a.Label > b.Label // malicious first
		}
		return a.Category < b.Category
	})
	return m
}

// Point is an operating point: the true and false positives when every flow
// scoring at least Threshold is flagged.
type Point struct {
	Threshold float64
	TP, FP    float64
}

// Curve returns the operating points at each distinct score, highest first,
// and the numbers of positive and negative flows.
func Curve(scores []float64, labels []bool) (pts []Point, pos, neg float64) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	for _, l := range labels {
		if l {
			pos++
		} else {
			neg++
		}
	}
	var tp, fp float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if labels[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		pts = append(pts, Point{scores[idx[i]], tp, fp})
		i = j
	}
	return pts, pos, neg
}

// aucs returns the area under the ROC curve (ties count half) and the
// average precision.
func aucs(scores []float64, labels []bool) (roc, ap float64) {
	pts, pos, neg := Curve(scores, labels)
	if pos == 0 || neg == 0 {
		return 0, 0
	}
	var prevTP, prevFP float64
	for _, p := range pts {
		roc += (p.FP - prevFP) / neg * (p.TP + prevTP) / 2 / pos
		ap += (p.TP - prevTP) / pos * p.TP / (p.TP + p.FP)
		prevTP, prevFP = p.TP, p.FP
	}
	return roc, ap
}

// ThresholdAtFPR returns the lowest threshold that flags at most the share
// fpr of the benign flows.
func ThresholdAtFPR(scores []float64, labels []bool, fpr float64) float64 {
	var neg []float64
	for i, s := range scores {
		if !labels[i] {
			neg = append(neg, s)
		}
	}
	if len(neg) == 0 {
		return 0.5
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(neg)))
	k := int(math.Floor(fpr * float64(len(neg)))) // benign flows we may flag
	if k >= len(neg) {
		return 0
	}
	// Flag strictly above the (k+1)-th highest benign score.
	return math.Nextafter(neg[k], math.Inf(1))
}

// ThresholdAtGroupFPR returns the lowest threshold at which the mean, over
// the groups that hold benign flows, of each group's share of benign flows
// flagged (scores ≥ the threshold) is at most fpr: every group (a source,
// a network) weighs the same, however many flows it has, so a large easy
// group cannot buy a small hard one's false alarms. groups[i] names flow
// i's group.
func ThresholdAtGroupFPR(scores []float64, labels []bool, groups []string, fpr float64) float64 {
	n := map[string]int{}
	for i, g := range groups {
		if !labels[i] {
			n[g]++
		}
	}
	if len(n) == 0 {
		return 0.5
	}
	type neg struct {
		s float64
		w float64
	}
	var negs []neg
	for i, s := range scores {
		if !labels[i] {
			negs = append(negs, neg{s, 1 / (float64(n[groups[i]]) * float64(len(n)))})
		}
	}
	sort.SliceStable(negs, func(a, b int) bool { return negs[a].s > negs[b].s })
	// Flag strictly above the first score at which the flagged weight
	// would pass fpr (ties included: a threshold flags all or none of them).
	sum := 0.0
	for k := 0; k < len(negs); {
		j, w := k, 0.0
		for ; j < len(negs) && negs[j].s == negs[k].s; j++ {
			w += negs[j].w
		}
		if sum+w > fpr*(1+1e-12) {
			return math.Nextafter(negs[k].s, math.Inf(1))
		}
		sum += w
		k = j
	}
	return 0
}

// RecallAtFPR is the recall at ThresholdAtFPR.
func RecallAtFPR(scores []float64, labels []bool, fpr float64) float64 {
	return recallAt(scores, labels, ThresholdAtFPR(scores, labels, fpr))
}

// recallAt is the share of malicious flows scoring at least t.
func recallAt(scores []float64, labels []bool, t float64) float64 {
	var tp, pos float64
	for i, s := range scores {
		if labels[i] {
			pos++
			if s >= t {
				tp++
			}
		}
	}
	return div(tp, pos)
}

// Write prints the metrics as a plain-text report.
func (m *Metrics) Write(w io.Writer) {
	fmt.Fprintf(w, "threshold %.6g\n", m.Threshold)
	fmt.Fprintf(w, "confusion matrix (rows: truth, columns: verdict)\n")
	fmt.Fprintf(w, "                 benign  malicious\n")
	fmt.Fprintf(w, "  benign    %10d %10d\n", m.TN, m.FP)
	fmt.Fprintf(w, "  malicious %10d %10d\n", m.FN, m.TP)
	fmt.Fprintf(w, "precision %.4f  recall %.4f  F1 %.4f  FPR %.4f\n", m.Precision, m.Recall, m.F1, m.FPR)
	fmt.Fprintf(w, "ROC AUC %.4f  PR AUC %.4f  recall at 1%% FPR %.4f\n", m.ROCAUC, m.PRAUC, m.RecallAt1FPR)
	if len(m.Points) > 0 {
		fmt.Fprintf(w, "other thresholds:")
		for _, p := range m.Points {
			fmt.Fprintf(w, "  %.6g (FPR %g%%: recall %.4f)", p.Threshold, 100*p.FPR, p.Recall)
		}
		fmt.Fprintln(w)
	}
	if len(m.Categories) > 0 {
		fmt.Fprintf(w, "flagged per category:\n")
		for _, c := range m.Categories {
			fmt.Fprintf(w, "  %-9s %6.1f%% of %6d  %s\n", c.Label, 100*c.Rate, c.Flows, strings.ReplaceAll(c.Category, "\n", " "))
		}
	}
}
