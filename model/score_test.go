package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomTree grows a tree of at most depth levels over n inputs.
func randomTree(r *rand.Rand, n, depth int) Tree {
	var t Tree
	var grow func(d int) int32
	grow = func(d int) int32 {
		i := int32(len(t.Feature))
		t.Feature = append(t.Feature, -1)
		t.Threshold = append(t.Threshold, 0)
		t.Left = append(t.Left, 0)
		t.Right = append(t.Right, 0)
		t.Value = append(t.Value, r.NormFloat64())
		if d < depth && r.IntN(4) > 0 {
			t.Feature[i] = int32(r.IntN(n))
			t.Threshold[i] = float64(r.IntN(5)) - 2 // ties with the values below
			t.Left[i] = grow(d + 1)
			t.Right[i] = grow(d + 1)
		}
		return i
	}
	grow(0)
	return t
}

// evalTree is the plain walk of a tree, the definition Score must keep.
func evalTree(t *Tree, values []float64, idx []int, f32 bool) float64 {
	i := int32(0)
	for t.Feature[i] >= 0 {
		v, thr := values[idx[t.Feature[i]]], t.Threshold[i]
		left := v < thr
		if f32 {
			left = float32(v) < float32(thr)
		}
		if left {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return t.Value[i]
}

// Score's packed, branch-free walk of eight trees at a time gives exactly
// the plain walk's sum: trees of every depth (single leaves too), values on
// the thresholds, NaN inputs, float32 (XGBoost) arithmetic.
func TestEnsembleScore(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 7
	for round := 0; round < 300; round++ {
		e := &Ensemble{Base: r.NormFloat64()}
		for k := r.IntN(11); k >= 0; k-- {
			e.Trees = append(e.Trees, randomTree(r, n, r.IntN(9)))
		}
		f32 := round%2 == 1
		alg, err := newEnsemble(e, n, f32)
		if err != nil {
			t.Fatal(err)
		}
		idx := r.Perm(n + 3)[:n]
		values := make([]float64, n+3)
		for v := 0; v < 50; v++ {
			for i := range values {
				values[i] = float64(r.IntN(5)) - 2 + []float64{0, 0.5, math.NaN(), 1e-9}[r.IntN(4)]
			}
			want := e.Base
			want32 := float32(e.Base)
			for i := range e.Trees {
				want += evalTree(&e.Trees[i], values, idx, false)
				want32 += float32(evalTree(&e.Trees[i], values, idx, true))
			}
			w := sigmoid(want)
			if f32 {
				w = sigmoid(float64(want32))
			}
			if got := alg.Score(values, idx); got != w {
				t.Fatalf("round %d (f32 %v): Score %v, plain walk %v", round, f32, got, w)
			}
		}
	}
}

// A node reached from two parents is refused: scoring lays out every path,
// so a shared node could make a small file expand without bound.
func TestTreeSharedNodeRefused(t *testing.T) {
	tr := Tree{Feature: []int32{0, 0, -1}, Threshold: []float64{1, 1, 0}, Left: []int32{1, 2, 0}, Right: []int32{2, 2, 0}, Value: []float64{0, 0, 1}}
	if err := tr.check(1); err == nil {
		t.Fatal("a node with two parents was accepted")
	}
}

// A logistic regression with Log scores σ(b + Σ wᵢ·clip((sign(xᵢ)·ln(1+|xᵢ|) −
// meanᵢ)/stdᵢ)); without it (every model saved before Log existed) the raw
// values, as before.
func TestLinearLog(t *testing.T) {
	l := &Linear{Mean: []float64{1, 0}, Std: []float64{2, 0.5}, Weights: []float64{0.7, -1.5}, Intercept: 0.25, Clip: 5}
	values := []float64{math.E*math.E - 1, -(math.E - 1), 99} // ln(1+x) = 2 and −1
	idx := []int{0, 1}
	lin, err := newLinear(l, 2)
	if err != nil {
		t.Fatal(err)
	}
	raw := 0.25 + 0.7*min(5, (values[0]-1)/2) - 1.5*max(-5, values[1]/0.5)
	if got, want := lin.Score(values, idx), sigmoid(raw); got != want {
		t.Errorf("raw: score %v, want %v", got, want)
	}
	l.Log = true
	logged := 0.25 + 0.7*(2-1)/2 - 1.5*(-1/0.5)
	if got, want := lin.Score(values, idx), sigmoid(logged); math.Abs(got-want) > 1e-15 {
		t.Errorf("log: score %v, want %v", got, want)
	}
	if SignedLog(0) != 0 || SignedLog(-3) != -math.Log1p(3) || !math.IsNaN(SignedLog(math.NaN())) {
		t.Error("SignedLog: not sign(x)·ln(1+|x|)")
	}
}

// SignedLog's table gives math.Log1p's results exactly.
func TestSignedLogTable(t *testing.T) {
	for i := -3000; i < 3000; i++ {
		for _, x := range []float64{float64(i), float64(i) + 0.5, float64(i) / 7} {
			want := math.Copysign(math.Log1p(math.Abs(x)), x)
			if got := SignedLog(x); got != want && !(got == 0 && want == 0) {
				t.Fatalf("SignedLog(%v) = %v, want %v", x, got, want)
			}
		}
	}
}

// The default model's trees (depth 4) are scored by the fixed layout, and
// a tree five levels deep falls back to the walk (both checked against the
// plain walk by TestEnsembleScore).
func TestShallowLayout(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(m.Inputs))
	for i := range idx {
		idx[i] = i
	}
	if newShallow(m.Trees, idx, false) == nil {
		t.Error("the default model is not laid out for four levels")
	}
	r := rand.New(rand.NewPCG(7, 8))
	deep := Tree{Feature: []int32{-1}, Threshold: []float64{0}, Left: []int32{0}, Right: []int32{0}, Value: []float64{1}}
	for deep.depth() < 5 {
		deep = randomTree(r, 3, 6)
	}
	if newShallow(&Ensemble{Trees: []Tree{deep}}, []int{0, 1, 2}, false) != nil {
		t.Error("a tree five levels deep was laid out for four")
	}
}

func (t *Tree) depth() int {
	var d func(i int32) int
	d = func(i int32) int {
		if t.Feature[i] < 0 {
			return 0
		}
		return 1 + max(d(t.Left[i]), d(t.Right[i]))
	}
	return d(0)
}
