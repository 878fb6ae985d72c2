package report

import (
	"fmt"

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
