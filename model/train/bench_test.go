package train_test

import (
	"math/rand/v2"
	"testing"

	"github.com/flowmeter/flowmeter/model/train"
)

// BenchmarkFitGBDT trains 100 trees of depth 4 (the defaults) on 100 000
// flows × 100 features.
func BenchmarkFitGBDT(b *testing.B) {
	const n, f = 100000, 100
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([][]float64, f)
	for j := range x {
		x[j] = make([]float64, n)
		for i := range x[j] {
			x[j][i] = rng.NormFloat64()
		}
	}
	y := make([]bool, n)
	w := make([]float64, n)
	for i := range y {
		y[i] = x[0][i]+0.5*x[1][i]*x[2][i]+0.3*rng.NormFloat64() > 0.5
		w[i] = 1
	}
	p := train.DefaultGBDT
	p.Rounds, p.EarlyStop = 100, 0
	for b.Loop() {
		train.FitGBDT(x, y, w, nil, nil, nil, p)
	}
}
