package train

import (
	"math"
	"sort"

	"github.com/flowmeter/flowmeter/model"
)

// GBDTParams are the boosting parameters.
type GBDTParams struct {
	Rounds         int     // most trees
	Depth          int     // deepest split level
	LearningRate   float64 // shrinkage of each tree
	Lambda         float64 // L2 regularisation of leaf values
	MinChildWeight float64 // least hessian in a child
	Bins           int     // histogram bins per feature (≤ 256)
	EarlyStop      int     // stop after this many rounds without a better validation loss (0: never)
}

// DefaultGBDT are the defaults of `flowmeter train`.
var DefaultGBDT = GBDTParams{Rounds: 300, Depth: 4, LearningRate: 0.1, Lambda: 20, MinChildWeight: 20, Bins: 64, EarlyStop: 30}

// matrix is the training data binned for histogram building.
type matrix struct {
	bins [][]uint8   // bins[j][i]: bin of input j for row i
	cuts [][]float64 // cuts[j][b]: x < cuts[j][b] ⇔ bin(x) ≤ b
	n    int
}

// makeCuts chooses up to nbins−1 cut points for a column: midpoints between
// consecutive distinct values at (weighted-free) quantiles.
func makeCuts(col []float64, nbins int) []float64 {
	v := append([]float64(nil), col...)
	sort.Float64s(v)
	var distinct []float64
	for i, x := range v {
		if i == 0 || x != v[i-1] {
			distinct = append(distinct, x)
		}
	}
	var cuts []float64
	if len(distinct) <= nbins {
		for i := 1; i < len(distinct); i++ {
			cuts = append(cuts, distinct[i-1]+(distinct[i]-distinct[i-1])/2)
		}
		return cuts
	}
	for b := 1; b < nbins; b++ {
		x := v[b*len(v)/nbins]
		// cut just above the largest distinct value ≤ x
		k := sort.SearchFloat64s(distinct, x)
		if k+1 >= len(distinct) {
			break
		}
		c := distinct[k] + (distinct[k+1]-distinct[k])/2
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	return cuts
}

func binOf(cuts []float64, x float64) uint8 {
	// first cut > x
	return uint8(sort.Search(len(cuts), func(i int) bool { return x < cuts[i] }))
}

func newMatrix(cols [][]float64, nbins int) *matrix {
	m := &matrix{n: len(cols[0])}
	for _, col := range cols {
		cuts := makeCuts(col, nbins)
		b := make([]uint8, len(col))
		for i, x := range col {
			b[i] = binOf(cuts, x)
		}
		m.bins = append(m.bins, b)
		m.cuts = append(m.cuts, cuts)
	}
	return m
}

type gh struct{ g, h float64 }

type builder struct {
	p      GBDTParams
	m      *matrix
	grad   []float64
	hess   []float64
	gain   []float64 // total split gain per input
	tree   *model.Tree
	nInput int
}

func (b *builder) histogram(rows []int32) [][]gh {
	h := make([][]gh, b.nInput)
	for j := range h {
		h[j] = make([]gh, len(b.m.cuts[j])+1)
		col := b.m.bins[j]
		hj := h[j]
		for _, r := range rows {
			e := &hj[col[r]]
			e.g += b.grad[r]
			e.h += b.hess[r]
		}
	}
	return h
}

func subtract(parent, child [][]gh) [][]gh {
	out := make([][]gh, len(parent))
	for j := range parent {
		out[j] = make([]gh, len(parent[j]))
		for k := range parent[j] {
			out[j][k] = gh{parent[j][k].g - child[j][k].g, parent[j][k].h - child[j][k].h}
		}
	}
	return out
}

func (b *builder) leaf(G, H float64) int32 {
	t := b.tree
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Value = append(t.Value, -G/(H+b.p.Lambda)*b.p.LearningRate)
	return int32(len(t.Feature) - 1)
}

// grow builds the subtree of rows (whose histogram is hist) and returns its
// node index.
func (b *builder) grow(rows []int32, hist [][]gh, depth int) int32 {
	var G, H float64
	for _, e := range hist[0] {
		G += e.g
		H += e.h
	}
	if depth >= b.p.Depth || len(rows) < 2 {
		return b.leaf(G, H)
	}
	lam := b.p.Lambda
	parentScore := G * G / (H + lam)
	bestGain, bestJ, bestBin := 1e-12, -1, 0
	for j := range hist {
		var gl, hl float64
		for k := 0; k < len(hist[j])-1; k++ {
			gl += hist[j][k].g
			hl += hist[j][k].h
			gr, hr := G-gl, H-hl
			if hl < b.p.MinChildWeight || hr < b.p.MinChildWeight {
				continue
			}
			gain := gl*gl/(hl+lam) + gr*gr/(hr+lam) - parentScore
			if gain > bestGain {
				bestGain, bestJ, bestBin = gain, j, k
			}
		}
	}
	if bestJ < 0 {
		return b.leaf(G, H)
	}
	b.gain[bestJ] += bestGain / 2
	// Partition rows in place: bin ≤ bestBin goes left.
	col := b.m.bins[bestJ]
	i, k := 0, len(rows)
	for i < k {
		if int(col[rows[i]]) <= bestBin {
			i++
		} else {
			k--
			rows[i], rows[k] = rows[k], rows[i]
		}
	}
	left, right := rows[:i], rows[i:]
	var hl, hr [][]gh
	if len(left) <= len(right) {
		hl = b.histogram(left)
		hr = subtract(hist, hl)
	} else {
		hr = b.histogram(right)
		hl = subtract(hist, hr)
	}
	t := b.tree
	node := int32(len(t.Feature))
	t.Feature = append(t.Feature, int32(bestJ))
	t.Threshold = append(t.Threshold, b.m.cuts[bestJ][bestBin])
	t.Left = append(t.Left, 0)
	t.Right = append(t.Right, 0)
	t.Value = append(t.Value, 0)
	l := b.grow(left, hl, depth+1)
	r := b.grow(right, hr, depth+1)
	t.Left[node], t.Right[node] = l, r
	return node
}

func evalTree(t *model.Tree, cols [][]float64, i int) float64 {
	n := int32(0)
	for t.Feature[n] >= 0 {
		if cols[t.Feature[n]][i] < t.Threshold[n] {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return t.Value[n]
}

func logloss(margin []float64, y []bool, w []float64) float64 {
	var s, ws float64
	for i, z := range margin {
		p := 1 / (1 + math.Exp(-z))
		p = math.Min(math.Max(p, 1e-15), 1-1e-15)
		if y[i] {
			s -= w[i] * math.Log(p)
		} else {
			s -= w[i] * math.Log(1-p)
		}
		ws += w[i]
	}
	return s / ws
}

// FitGBDT boosts trees on the input columns x (column-major) with labels y
// and weights w. With a validation set (vx, vy, vw not nil) it stops when the
// validation log-loss has not improved for EarlyStop rounds and keeps the
// best number of trees. It returns the ensemble and the gain of each input.
func FitGBDT(x [][]float64, y []bool, w []float64, vx [][]float64, vy []bool, vw []float64, p GBDTParams) (*model.Ensemble, []float64) {
	n := len(y)
	m := newMatrix(x, min(p.Bins, 256))
	var sw, sp float64
	for i := range y {
		sw += w[i]
		if y[i] {
			sp += w[i]
		}
	}
	base := 0.0
	if sp > 0 && sp < sw {
		base = math.Log(sp / (sw - sp))
	}
	ens := &model.Ensemble{Base: base}
	margin := make([]float64, n)
	for i := range margin {
		margin[i] = base
	}
	var vmargin []float64
	if vx != nil {
		vmargin = make([]float64, len(vy))
		for i := range vmargin {
			vmargin[i] = base
		}
	}
	b := &builder{p: p, m: m, grad: make([]float64, n), hess: make([]float64, n), gain: make([]float64, len(x)), nInput: len(x)}
	rows := make([]int32, n)
	best, bestRound, bestGain := math.Inf(1), 0, []float64(nil)
	for round := 0; round < p.Rounds; round++ {
		for i := range margin {
			pr := 1 / (1 + math.Exp(-margin[i]))
			yi := 0.0
			if y[i] {
				yi = 1
			}
			b.grad[i] = w[i] * (pr - yi)
			b.hess[i] = w[i] * math.Max(pr*(1-pr), 1e-16)
		}
		for i := range rows {
			rows[i] = int32(i)
		}
		b.tree = &model.Tree{}
		b.grow(rows, b.histogram(rows), 0)
		t := b.tree
		ens.Trees = append(ens.Trees, *t)
		for i := range margin {
			margin[i] += evalTree(t, x, i)
		}
		if vx == nil {
			continue
		}
		for i := range vmargin {
			vmargin[i] += evalTree(t, vx, i)
		}
		loss := logloss(vmargin, vy, vw)
		if loss < best-1e-9 {
			best, bestRound = loss, round+1
			bestGain = append(bestGain[:0], b.gain...)
		} else if p.EarlyStop > 0 && round+1-bestRound >= p.EarlyStop {
			break
		}
	}
	if vx != nil && bestRound > 0 {
		ens.Trees = ens.Trees[:bestRound]
		return ens, bestGain
	}
	return ens, b.gain
}
