package report

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/model/train"
)

// profiles are always plotted (the original FlowMeter's profiles), with
// the model's most important features.
var profiles = []string{"fwd_ip_len_max", "fwd_iat_mean_s", "duration_s", "packets"}

// Build makes the report of model m on the labelled flows d, which m scored
// as scores; data names where the flows came from.
func Build(m *model.Model, d *train.Dataset, scores []float64, data []string) *Input {
	in := &Input{
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
	in.Data = fmt.Sprintf("Data: %d labelled flows (%d benign, %d malicious) from %v.", d.Len(), benign, mal, data)
	in.Warning = trainingOverlap(m, data)
	order := append([]string{}, profiles...)
	top := train.SortImportance(in.Importance)
	for _, e := range top[:min(8, len(top))] {
		order = append(order, e.Name)
	}
	for _, name := range order {
		in.addFeature(d, name)
	}
	return in
}

// addFeature adds the benign and malicious values of one feature to plot.
func (in *Input) addFeature(d *train.Dataset, name string) {
	if _, done := in.Features[name]; done {
		return
	}
	j := d.Schema.Index(name)
	if j < 0 {
		return
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

// trainingOverlap warns when the data is, or holds, or is part of, the
// model's own training data: scores on it flatter the model. It then quotes
// what the model measured on captures it was not trained on.
func trainingOverlap(m *model.Model, data []string) string {
	if m.Training == nil {
		return ""
	}
	under := func(a, b string) bool {
		rel, err := filepath.Rel(b, a)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	for _, d := range data {
		for _, t := range m.Training.Data {
			d, t := filepath.Clean(d), filepath.Clean(t)
			if !under(d, t) && !under(t, d) {
				continue
			}
			w := fmt.Sprintf("%s is (part of) the model's training data (%s): the curves and the tables above flatter it.", d, t)
			if mm := m.Training.Metrics; mm != nil {
				w += fmt.Sprintf(" On captures it was not trained on (grouped cross-validation) it caught %.1f %% of malicious flows and flagged %.2f %% of benign ones at threshold %.4g.",
					100*mm.Recall, 100*mm.FPR, mm.Threshold)
			}
			return w
		}
	}
	return ""
}
