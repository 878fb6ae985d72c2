package model_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/model"
)

// bindDefault returns the embedded default model bound to the schema of
// its early-flow window.
func bindDefault(b *testing.B) (*model.Bound, *feature.Schema) {
	m, err := model.Default()
	if err != nil {
		b.Fatal(err)
	}
	s, _ := feature.NewSchema(m.Early)
	bd, err := m.Bind(s)
	if err != nil {
		b.Fatal(err)
	}
	return bd, s
}

// madeUpRecords returns n records of width values, each 0 with chance 1/3,
// else exponentially distributed with mean 100 or 200.
func madeUpRecords(r *rand.Rand, n, width int) [][]float64 {
	recs := make([][]float64, n)
	for i := range recs {
		recs[i] = make([]float64, width)
		for j := range recs[i] {
			recs[i][j] = float64(r.IntN(3)) * r.ExpFloat64() * 100
		}
	}
	return recs
}

// BenchmarkScore scores records with the embedded default model: the cost
// of one verdict.
func BenchmarkScore(b *testing.B) {
	bd, s := bindDefault(b)
	recs := madeUpRecords(rand.New(rand.NewPCG(1, 1)), 64, len(s.Features))
	var z float64
	for i := 0; b.Loop(); i++ {
		z += bd.Score(recs[i%len(recs)])
	}
	_ = z
}

// values keeps each record's feature values.
type values [][]float64

func (v *values) Write(r *feature.Record) error {
	*v = append(*v, append([]float64(nil), r.Values...))
	return nil
}
func (v *values) Close() error { return nil }

// BenchmarkScoreFlows scores the flows of the sample capture (real
// traffic's value distributions, where BenchmarkScore's are made up), one
// after another as classify does.
func BenchmarkScoreFlows(b *testing.B) {
	bd, s := bindDefault(b)
	var recs values
	mt := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: s}, &recs)
	if err := mt.RunFiles(context.Background(), []string{"../meter/testdata/sample.pcap"}); err != nil {
		b.Fatal(err)
	}
	var z float64
	for i := 0; b.Loop(); i++ {
		z += bd.Score(recs[i%len(recs)])
	}
	_ = z
}
