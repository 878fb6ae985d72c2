package train

import (
	"math"

	"gonum.org/v1/gonum/optimize"

	"github.com/flowmeter/flowmeter/model"
)

// LogRegParams are the logistic regression parameters.
type LogRegParams struct {
	L2         float64 // penalty on the squared weights (per unit of total sample weight)
	Iterations int
	Log        bool    // inputs as sign(x)·ln(1+|x|) before standardising (model.Linear.Log)
	Clip       float64 // standardised inputs clipped to ±Clip
}

// DefaultLogReg are the defaults of `flowmeter train --algorithm logreg`.
var DefaultLogReg = LogRegParams{L2: 1e-4, Iterations: 500, Log: true, Clip: 5}

// FitLogReg fits a weighted, L2-regularised logistic regression on
// standardised inputs by L-BFGS (gonum). Inputs with no spread get std 1.
func FitLogReg(x [][]float64, y []bool, w []float64, p LogRegParams) *model.Linear {
	nf, n := len(x), len(y)
	clip := p.Clip
	if clip <= 0 {
		clip = 50
	}
	lin := &model.Linear{Mean: make([]float64, nf), Std: make([]float64, nf), Weights: make([]float64, nf), Clip: clip, Log: p.Log}
	var sw float64
	for _, wi := range w {
		sw += wi
	}
	z := make([][]float64, nf)
	for j := range x {
		zj := make([]float64, n) // the inputs as the model reads them, then standardised
		for i, xi := range x[j] {
			if p.Log {
				xi = model.SignedLog(xi)
			}
			zj[i] = xi
		}
		var mean, v float64
		for i, xi := range zj {
			mean += w[i] * xi
		}
		mean /= sw
		for i, xi := range zj {
			v += w[i] * (xi - mean) * (xi - mean)
		}
		std := math.Sqrt(v / sw)
		if std == 0 || math.IsNaN(std) {
			std = 1
		}
		lin.Mean[j], lin.Std[j] = mean, std
		for i, xi := range zj {
			// Clip extreme standardised values so one outlier capture
			// cannot dominate the fit; the model applies the same clip.
			zj[i] = math.Max(-clip, math.Min(clip, (xi-mean)/std))
		}
		z[j] = zj
	}
	margin := make([]float64, n)
	f := func(theta []float64) float64 {
		computeMargin(theta, z, margin)
		var loss float64
		for i, m := range margin {
			// log(1+e^m) − y·m, stably
			l := math.Max(m, 0) + math.Log1p(math.Exp(-math.Abs(m)))
			if y[i] {
				l -= m
			}
			loss += w[i] * l
		}
		var reg float64
		for _, t := range theta[1:] {
			reg += t * t
		}
		return loss/sw + p.L2*reg/2
	}
	g := func(grad, theta []float64) {
		computeMargin(theta, z, margin)
		for k := range grad {
			grad[k] = 0
		}
		for i, m := range margin {
			pr := 1 / (1 + math.Exp(-m))
			if y[i] {
				pr -= 1
			}
			d := w[i] * pr / sw
			grad[0] += d
			for j := range z {
				grad[j+1] += d * z[j][i]
			}
		}
		for j := 1; j < len(theta); j++ {
			grad[j] += p.L2 * theta[j]
		}
	}
	theta := make([]float64, nf+1)
	res, err := optimize.Minimize(optimize.Problem{Func: f, Grad: g}, theta,
		&optimize.Settings{MajorIterations: p.Iterations, GradientThreshold: 1e-7}, &optimize.LBFGS{})
	if err == nil || res != nil {
		theta = res.X
	}
	lin.Intercept = theta[0]
	copy(lin.Weights, theta[1:])
	return lin
}

func computeMargin(theta []float64, z [][]float64, margin []float64) {
	for i := range margin {
		margin[i] = theta[0]
	}
	for j := range z {
		t := theta[j+1]
		if t == 0 {
			continue
		}
		for i, v := range z[j] {
			margin[i] += t * v
		}
	}
}
