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
	f32   bool
	nodes []node  // every tree's nodes, packed: a node is one cache access
	roots []int32 // each tree's root in nodes
}

// node is a tree node as Score walks it: a split on input feat (value <
// thr goes to nodes[left], otherwise to nodes[left+1]), or, with feat < 0,
// a leaf whose value is thr. Children side by side let the walk choose
// without a branch, which the processor mispredicted half the time.
type node struct {
	feat int32
	left int32 // in ensemble.nodes; the right child follows it
	thr  float64
}

// right is 1 for the right child: the compiler makes it a SETcc, no branch.
func right(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// pack lays out every tree's nodes, breadth first, each split's children
// next to each other (checked trees only: every child index is valid).
func (e *ensemble) pack() {
	for _, t := range e.Trees {
		e.roots = append(e.roots, int32(len(e.nodes)))
		e.nodes = append(e.nodes, node{})
		queue := []struct{ src, dst int32 }{{0, int32(len(e.nodes) - 1)}}
		for len(queue) > 0 {
			q := queue[0]
			queue = queue[1:]
			if t.Feature[q.src] < 0 {
				e.nodes[q.dst] = node{feat: -1, thr: t.Value[q.src]}
				continue
			}
			left := int32(len(e.nodes))
			e.nodes = append(e.nodes, node{}, node{})
			e.nodes[q.dst] = node{feat: t.Feature[q.src], left: left, thr: t.Threshold[q.src]}
			queue = append(queue, struct{ src, dst int32 }{t.Left[q.src], left}, struct{ src, dst int32 }{t.Right[q.src], left + 1})
		}
	}
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
	en := ensemble{Ensemble: e, f32: f32}
	en.pack()
	return en, nil
}

func (e ensemble) Describe() string {
	kind := "boosted trees"
	if e.f32 {
		kind = "boosted trees imported from XGBoost"
	}
	return fmt.Sprintf("%d %s", len(e.Trees), kind)
}

func (e ensemble) Score(values []float64, idx []int) float64 {
	nodes := e.nodes
	if e.f32 {
		z := float32(e.Base)
		for _, i := range e.roots {
			n := &nodes[i]
			for n.feat >= 0 {
				n = &nodes[n.left+right(!(float32(values[idx[n.feat]]) < float32(n.thr)))]
			}
			z += float32(n.thr)
		}
		return sigmoid(float64(z))
	}
	z := e.Base
	for _, i := range e.roots {
		n := &nodes[i]
		for n.feat >= 0 {
			n = &nodes[n.left+right(!(values[idx[n.feat]] < n.thr))]
		}
		z += n.thr
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
