package model_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

// tinyModels are small valid model files of each algorithm, as seeds.
func tinyModels() [][]byte {
	s, _ := feature.NewSchema(0)
	names := s.Names()
	in := []string{names[0], names[3]}
	tree := model.Tree{Feature: []int32{0, -1, -1}, Threshold: []float64{1.5, 0, 0}, Left: []int32{1, 0, 0}, Right: []int32{2, 0, 0}, Value: []float64{0, -1, 1}}
	lin := &model.Linear{Mean: []float64{1, 2}, Std: []float64{1, 3}, Weights: []float64{0.5, -2}, Intercept: 0.1, Clip: 5}
	logged := *lin
	logged.Log = true
	var out [][]byte
	for _, m := range []*model.Model{
		{Algorithm: model.GBDT, Trees: &model.Ensemble{Base: 0.2, Trees: []model.Tree{tree}}},
		{Algorithm: model.XGBoost, Trees: &model.Ensemble{Base: 0.2, Trees: []model.Tree{tree}}},
		{Algorithm: model.LogReg, LogReg: lin},
		{Algorithm: model.LogReg, LogReg: &logged},
		{Algorithm: model.Blend, LogReg: lin, Trees: &model.Ensemble{Trees: []model.Tree{tree}}},
	} {
		m.Early, m.SchemaHash, m.Schema, m.Inputs, m.InputMeanings, m.Threshold = 0, s.Hash(), names, in, s.Meanings(in), 0.5
		var b bytes.Buffer
		if err := m.Save(&b); err != nil {
			panic(err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// FuzzLoad: no model file makes Load panic or loop, and a model that loads
// and binds scores every input to a probability.
func FuzzLoad(f *testing.F) {
	for _, b := range tinyModels() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := model.LoadEdited(bytes.NewReader(b))
		if err != nil {
			return
		}
		s, err := feature.NewSchema(m.Early)
		if err != nil {
			return
		}
		bound, err := m.Bind(s)
		if err != nil {
			return
		}
		v := make([]float64, s.Len())
		for _, x := range []float64{0, -1, 1e300, math.Inf(1), math.NaN()} {
			for i := range v {
				v[i] = x
			}
			if p := bound.Score(v); !(p >= 0 && p <= 1) && !math.IsNaN(x) {
				t.Fatalf("score %v for inputs %v", p, x)
			}
		}
	})
}
