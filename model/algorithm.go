package model

import (
	"errors"
	"fmt"
	"math"
)

// An Algorithm is how a model turns a flow's inputs into a score. Each
// algorithm a model file may name has one entry in the algorithms table,
// which checks the file's parameters and builds it; nothing else in
// flowmeter compares algorithm names.
type Algorithm interface {
	// Score returns the probability that a flow is malicious. values are
	// a record's Values (in its schema's order) and idx the position there
	// of each of the model's inputs.
	Score(values []float64, idx []int) float64
	// Describe says what the algorithm is, in a few words.
	Describe() string
}

// algorithms builds each algorithm from a model's parameters for n inputs,
// after checking them: a model that loads can always score.
var algorithms = map[string]func(m *Model, n int) (Algorithm, error){
	GBDT:    func(m *Model, n int) (Algorithm, error) { return newEnsemble(m.Trees, n, false) },
	XGBoost: func(m *Model, n int) (Algorithm, error) { return newEnsemble(m.Trees, n, true) },
	LogReg:  func(m *Model, n int) (Algorithm, error) { return newLinear(m.LogReg, n) },
	Blend:   newBlend,
}

// algorithm checks m's parameters and returns its Algorithm.
func (m *Model) algorithm() (Algorithm, error) {
	build, ok := algorithms[m.Algorithm]
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q", m.Algorithm)
	}
	return build(m, len(m.Inputs))
}

// Describe says what the model's algorithm is ("" when it does not check).
func (m *Model) Describe() string {
	a, err := m.algorithm()
	if err != nil {
		return ""
	}
	return a.Describe()
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// linear is a checked logistic regression.
type linear struct{ *Linear }

func newLinear(l *Linear, n int) (Algorithm, error) {
	if l == nil || len(l.Mean) != n || len(l.Std) != n || len(l.Weights) != n {
		return nil, fmt.Errorf("logreg: want %d means, stds and weights", n)
	}
	if !finite(l.Intercept, l.Clip) || l.Clip < 0 || !finite(l.Mean...) || !finite(l.Std...) || !finite(l.Weights...) {
		return nil, errors.New("logreg: non-finite parameter")
	}
	for _, s := range l.Std {
		if s <= 0 {
			return nil, errors.New("logreg: standard deviation ≤ 0")
		}
	}
	return linear{l}, nil
}

func (l linear) Describe() string {
	return fmt.Sprintf("logistic regression on %d standardised inputs", len(l.Weights))
}

func (l linear) Score(values []float64, idx []int) float64 {
	z := l.Intercept
	for i, j := range idx {
		v := (values[j] - l.Mean[i]) / l.Std[i]
		if l.Clip > 0 {
			v = math.Max(-l.Clip, math.Min(l.Clip, v))
		}
		z += l.Weights[i] * v
	}
	return sigmoid(z)
}

// ensemble is a checked sum of trees; f32 compares and sums in float32,
// as XGBoost does, to give its scores.
type ensemble struct {
	*Ensemble
	f32 bool
}

func newEnsemble(e *Ensemble, n int, f32 bool) (Algorithm, error) {
	if e == nil || len(e.Trees) == 0 || !finite(e.Base) {
		return nil, errors.New("trees: none, or a non-finite base")
	}
	for i := range e.Trees {
		if err := e.Trees[i].check(n); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
	}
	return ensemble{e, f32}, nil
}

func (e ensemble) Describe() string {
	kind := "boosted trees"
	if e.f32 {
		kind = "boosted trees imported from XGBoost"
	}
	return fmt.Sprintf("%d %s", len(e.Trees), kind)
}

func (e ensemble) Score(values []float64, idx []int) float64 {
	if e.f32 {
		z := float32(e.Base)
		for i := range e.Trees {
			z += e.Trees[i].eval32(values, idx)
		}
		return sigmoid(float64(z))
	}
	z := e.Base
	for i := range e.Trees {
		z += e.Trees[i].eval(values, idx)
	}
	return sigmoid(z)
}

// blend is the mean of a tree ensemble's and a logistic regression's
// probabilities.
type blend struct{ trees, lin Algorithm }

func newBlend(m *Model, n int) (Algorithm, error) {
	if m.LogReg == nil || m.Trees == nil {
		return nil, errors.New("blend: needs both trees and a logistic regression")
	}
	lin, err := newLinear(m.LogReg, n)
	if err != nil {
		return nil, err
	}
	trees, err := newEnsemble(m.Trees, n, false)
	if err != nil {
		return nil, err
	}
	return blend{trees, lin}, nil
}

func (b blend) Describe() string {
	return "the mean of " + b.trees.Describe() + " and a " + b.lin.Describe()
}

func (b blend) Score(values []float64, idx []int) float64 {
	return (b.lin.Score(values, idx) + b.trees.Score(values, idx)) / 2
}

func (t *Tree) eval32(values []float64, idx []int) float32 {
	i := int32(0)
	for t.Feature[i] >= 0 {
		if float32(values[idx[t.Feature[i]]]) < float32(t.Threshold[i]) {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return float32(t.Value[i])
}

func (t *Tree) eval(values []float64, idx []int) float64 {
	i := int32(0)
	for t.Feature[i] >= 0 {
		if values[idx[t.Feature[i]]] < t.Threshold[i] {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return t.Value[i]
}
