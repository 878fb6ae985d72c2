package model_test

import (
	"math/rand/v2"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

// BenchmarkScore scores records with the embedded default model: the cost
// of one verdict.
func BenchmarkScore(b *testing.B) {
	m, err := model.Default()
	if err != nil {
		b.Fatal(err)
	}
	s, _ := feature.NewSchema(m.Early)
	bd, err := m.Bind(s)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	recs := make([][]float64, 64)
	for i := range recs {
		recs[i] = make([]float64, len(s.Features))
		for j := range recs[i] {
			recs[i][j] = float64(r.IntN(3)) * r.ExpFloat64() * 100
		}
	}
	var z float64
	for i := 0; b.Loop(); i++ {
		z += bd.Score(recs[i%len(recs)])
	}
	_ = z
}
