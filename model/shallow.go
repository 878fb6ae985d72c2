package model

import "math"

// shallow scores a bound ensemble whose trees are at most four levels deep
// (the depth flowmeter train grows by default) with a fixed layout: each
// tree made complete (a leaf above the fourth level stands for the whole
// subtree below it, its value in each of that subtree's leaves), its 15
// splits breadth first, so that the children of split j are 2j+1 and 2j+2
// and the walk is four steps of index arithmetic on arrays of constant
// size, without a bounds check or a branch. The inputs are first copied
// into a small array, a NaN as +Inf: the walk goes right when !(x < thr),
// which for NaN and for +Inf is true at every threshold, so the step can be
// x >= thr. The exit leaves are the plain walk's and are summed in tree
// order: the score is the same bit for bit.
type shallow struct {
	base  float64
	f32   bool    // float32 compares and sum (XGBoost)
	pos   []int   // the position in a record of each input the trees read
	trees []tree4 // in the ensemble's order
}

// shallowInputs is the most distinct inputs the trees may read.
const shallowInputs = 256

type tree4 struct {
	thr  [16]float64 // splits 0..14; float64(float32(thr)) for f32
	in   [16]uint8   // each split's input, in shallow.pos
	leaf [16]float64
}

// newShallow lays out e's trees, their inputs at positions idx, or returns
// nil when a tree is deeper than four levels or they read more than
// shallowInputs inputs.
func newShallow(e *Ensemble, idx []int, f32 bool) *shallow {
	s := &shallow{base: e.Base, f32: f32, trees: make([]tree4, len(e.Trees))}
	local := map[int32]uint8{}
	for ti := range e.Trees {
		t, c := &e.Trees[ti], &s.trees[ti]
		// lay puts the subtree at node i in slot j (0..14 splits, 15..30
		// leaves); a leaf above the last level fills its slots below.
		var lay func(i int32, j int) bool
		lay = func(i int32, j int) bool {
			if j >= 15 {
				if t.Feature[i] >= 0 {
					return false // deeper than four levels
				}
				c.leaf[j-15] = t.Value[i]
				return true
			}
			if t.Feature[i] < 0 {
				c.thr[j] = 0
				return lay(i, 2*j+1) && lay(i, 2*j+2)
			}
			k, ok := local[t.Feature[i]]
			if !ok {
				if len(s.pos) == shallowInputs {
					return false
				}
				k = uint8(len(s.pos))
				local[t.Feature[i]] = k
				s.pos = append(s.pos, idx[t.Feature[i]])
			}
			c.in[j], c.thr[j] = k, t.Threshold[i]
			if f32 {
				c.thr[j] = float64(float32(c.thr[j]))
			}
			return lay(t.Left[i], 2*j+1) && lay(t.Right[i], 2*j+2)
		}
		if !lay(0, 0) {
			return nil
		}
	}
	return s
}

// score is Score: the probability for a record's values.
func (s *shallow) score(values []float64) float64 {
	var xs [256]float64 // indexed by a uint8: no bounds check
	for k, p := range s.pos {
		x := values[p]
		if s.f32 {
			x = float64(float32(x))
		}
		if x != x {
			x = math.Inf(1)
		}
		xs[uint8(k)] = x
	}
	trees := s.trees
	if s.f32 {
		z := float32(s.base)
		for ; len(trees) >= 8; trees = trees[8:] {
			a, b, c, d, e, f, g, h := exits8(&xs, (*[8]tree4)(trees))
			z += float32(trees[0].leaf[a])
			z += float32(trees[1].leaf[b])
			z += float32(trees[2].leaf[c])
			z += float32(trees[3].leaf[d])
			z += float32(trees[4].leaf[e])
			z += float32(trees[5].leaf[f])
			z += float32(trees[6].leaf[g])
			z += float32(trees[7].leaf[h])
		}
		for i := range trees {
			z += float32(trees[i].leaf[trees[i].exit(&xs)])
		}
		return sigmoid(float64(z))
	}
	z := s.base
	for ; len(trees) >= 8; trees = trees[8:] {
		a, b, c, d, e, f, g, h := exits8(&xs, (*[8]tree4)(trees))
		z += trees[0].leaf[a] // in tree order: the walk's sum, bit for bit
		z += trees[1].leaf[b]
		z += trees[2].leaf[c]
		z += trees[3].leaf[d]
		z += trees[4].leaf[e]
		z += trees[5].leaf[f]
		z += trees[6].leaf[g]
		z += trees[7].leaf[h]
	}
	for i := range trees {
		z += trees[i].leaf[trees[i].exit(&xs)]
	}
	return sigmoid(z)
}

// exit walks the tree and returns its exit leaf.
func (c *tree4) exit(xs *[256]float64) uint {
	j := uint(0)
	for range 4 {
		j = c.step(xs, j)
	}
	return (j - 15) % 16
}

// step goes from split j to its child: right when x >= thr.
func (c *tree4) step(xs *[256]float64, j uint) uint {
	return 2*j + 1 + right[uint](xs[c.in[j%16]] >= c.thr[j%16])
}

// exits8 walks eight trees side by side (the rest of an ensemble, under
// eight, one by one with exit): eight independent chains of
// loads keep the processor busier than four did (BenchmarkScore and
// classify about a tenth faster), while the eight indexes still fit in
// registers.
func exits8(xs *[256]float64, t *[8]tree4) (a, b, c, d, e, f, g, h uint) {
	for range 4 {
		a = t[0].step(xs, a)
		b = t[1].step(xs, b)
		c = t[2].step(xs, c)
		d = t[3].step(xs, d)
		e = t[4].step(xs, e)
		f = t[5].step(xs, f)
		g = t[6].step(xs, g)
		h = t[7].step(xs, h)
	}
	return (a - 15) % 16, (b - 15) % 16, (c - 15) % 16, (d - 15) % 16, (e - 15) % 16, (f - 15) % 16, (g - 15) % 16, (h - 15) % 16
}
