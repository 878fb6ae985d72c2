package model_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

// Classify's remembered scores are Score's: records repeated (as in a
// flood), records that differ in one input by one bit, -0 and +0, NaNs,
// from several goroutines at once (go test -race).
func TestClassifyCache(t *testing.T) {
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	cl, s, err := model.NewClassifier(m, -1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	base := madeUpRecords(r, 40, len(s.Features))
	var recs [][]float64
	for i := 0; i < 4000; i++ {
		v := append([]float64(nil), base[r.IntN(len(base))]...)
		switch r.IntN(5) {
		case 0: // one bit off in one value
			j := r.IntN(len(v))
			v[j] = math.Float64frombits(math.Float64bits(v[j]) ^ 1)
		case 1:
			v[r.IntN(len(v))] = math.Copysign(0, -1)
		case 2:
			v[r.IntN(len(v))] = math.NaN()
		}
		recs = append(recs, v)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(recs); i += 4 {
				rec := feature.Record{Values: recs[i]}
				cl.Classify(&rec)
				if want := cl.Model.Score(recs[i]); rec.Score != want && !(math.IsNaN(want) && math.IsNaN(rec.Score)) {
					t.Errorf("record %d: Classify scored %v, Score %v", i, rec.Score, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
