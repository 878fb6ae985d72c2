package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
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
	if l.Log {
		return fmt.Sprintf("logistic regression on %d log-scaled, standardised inputs", len(l.Weights))
	}
	return fmt.Sprintf("logistic regression on %d standardised inputs", len(l.Weights))
}

func (l linear) Score(values []float64, idx []int) float64 {
	z := l.Intercept
	for i, j := range idx {
		x := values[j]
		if l.Log {
			x = SignedLog(x)
		}
		v := (x - l.Mean[i]) / l.Std[i]
		if l.Clip > 0 {
			v = max(-l.Clip, min(l.Clip, v)) // math.Max/Min's NaN and ±0 rules, inlined
		}
		z += l.Weights[i] * v
	}
	return sigmoid(z)
}

// ensemble is a checked sum of trees; f32 compares and sums in float32,
// as XGBoost does, to give its scores.
type ensemble struct {
	*Ensemble
	f32    bool
	nodes  []node    // every tree's nodes, packed (pack)
	leaf   []float64 // the value of each leaf node, by node index
	roots  []int32   // each tree's root in nodes
	depth  []int     // each tree's depth
	levels []int     // per group of eight trees, the depth of the deepest
	direct bool      // feat is a position in values (bindTo), not in idx
	fixed  *shallow  // when bound and no tree is deeper than four levels
}

// bindTo returns the ensemble with each split's input replaced by its
// position in a record (idx[feat]), which saves Score a dependent load per
// step.
func (e ensemble) bindTo(idx []int) Algorithm {
	if e.direct {
		return e
	}
	nodes := slices.Clone(e.nodes)
	for i := range nodes {
		nodes[i].feat = int32(idx[nodes[i].feat])
	}
	e.nodes, e.direct = nodes, true
	e.fixed = newShallow(e.Ensemble, idx, e.f32)
	return e
}

// node is a tree node as Score walks it: a split on input feat (value <
// thr goes to nodes[left], otherwise to nodes[left+1]). A leaf has thr NaN
// (no value is below it) and left one before itself, so a step from a leaf
// stays on it: trees are walked eight at a time, as many steps as the
// deepest of the eight, without a branch (the processor mispredicted half of
// them), their memory accesses overlapping.
type node struct {
	feat int32
	left int32 // in ensemble.nodes; the right child follows it
	thr  float64
}

// right is 1 for the right child: the compiler makes it a SETcc, no branch.
func right[T int32 | uint](b bool) T {
	if b {
		return 1
	}
	return 0
}

// pack lays out every tree's nodes, breadth first, each split's children
// next to each other (checked trees only: every child index is valid).
func (e *ensemble) pack() {
	type item struct{ src, dst, depth int32 }
	for _, t := range e.Trees {
		e.roots = append(e.roots, int32(len(e.nodes)))
		e.nodes = append(e.nodes, node{})
		e.leaf = append(e.leaf, 0)
		queue := []item{{0, int32(len(e.nodes) - 1), 0}}
		e.depth = append(e.depth, 0)
		for len(queue) > 0 {
			q := queue[0]
			queue = queue[1:]
			e.depth[len(e.depth)-1] = max(e.depth[len(e.depth)-1], int(q.depth))
			if t.Feature[q.src] < 0 {
				e.nodes[q.dst] = node{feat: 0, left: q.dst - 1, thr: math.NaN()}
				e.leaf[q.dst] = t.Value[q.src]
				continue
			}
			left := int32(len(e.nodes))
			e.nodes = append(e.nodes, node{}, node{})
			e.leaf = append(e.leaf, 0, 0)
			e.nodes[q.dst] = node{feat: t.Feature[q.src], left: left, thr: t.Threshold[q.src]}
			queue = append(queue, item{t.Left[q.src], left, q.depth + 1}, item{t.Right[q.src], left + 1, q.depth + 1})
		}
	}
	for t := 0; t < len(e.depth); t += 8 {
		e.levels = append(e.levels, slices.Max(e.depth[t:min(t+8, len(e.depth))]))
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
	if !e.direct { // not bound (Bind binds): only tests call this
		return e.bindTo(idx).Score(values, idx)
	}
	if e.fixed != nil {
		return e.fixed.score(values)
	}
	if e.f32 {
		return e.score32(values)
	}
	nodes, roots := e.nodes, e.roots
	step := func(i int32) int32 {
		n := &nodes[i]
		return n.left + right[int32](!(values[n.feat] < n.thr))
	}
	z := e.Base
	t := 0
	for ; t+8 <= len(roots); t += 8 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		a2, b2, c2, d2 := roots[t+4], roots[t+5], roots[t+6], roots[t+7]
		for range e.levels[t/8] {
			a, b, c, d = step(a), step(b), step(c), step(d)
			a2, b2, c2, d2 = step(a2), step(b2), step(c2), step(d2)
		}
		z += e.leaf[a] // in tree order: the same sum, bit for bit
		z += e.leaf[b]
		z += e.leaf[c]
		z += e.leaf[d]
		z += e.leaf[a2]
		z += e.leaf[b2]
		z += e.leaf[c2]
		z += e.leaf[d2]
	}
	for ; t < len(roots); t++ {
		a := roots[t]
		for range e.depth[t] {
			a = step(a)
		}
		z += e.leaf[a]
	}
	return sigmoid(z)
}

// score32 is Score, bound, with XGBoost's float32 arithmetic.
func (e ensemble) score32(values []float64) float64 {
	nodes := e.nodes
	z := float32(e.Base)
	for t, a := range e.roots {
		for range e.depth[t] {
			n := &nodes[a]
			a = n.left + right[int32](!(float32(values[n.feat]) < float32(n.thr)))
		}
		z += float32(e.leaf[a])
	}
	return sigmoid(float64(z))
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

func (b blend) bindTo(idx []int) Algorithm {
	if t, ok := b.trees.(binder); ok {
		b.trees = t.bindTo(idx)
	}
	return b
}

// binder is an Algorithm that can fix its inputs' positions once (Bind).
type binder interface{ bindTo(idx []int) Algorithm }

func (b blend) Score(values []float64, idx []int) float64 {
	return (b.lin.Score(values, idx) + b.trees.Score(values, idx)) / 2
}
