package feature_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
)

// AppendFloat writes what strconv's shortest 'f' form writes (0 for -0,
// NaN and infinities), also through its fast path for whole numbers.
func TestAppendFloat(t *testing.T) {
	vals := []float64{1, -1, 3, 100, 65535, 1e14, 999999999999999, 1e15, -1e15, 1e16, 2.5, -0.25, 1e-9, 123456.789, math.MaxInt32, math.Nextafter(1e15, 0), 4503599627370497}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		vals = append(vals, math.Round(r.NormFloat64()*1e6), r.NormFloat64()*1e3, float64(r.Int64N(1<<53))*float64(1-2*r.IntN(2)))
	}
	for _, v := range vals {
		got := string(feature.AppendFloat(nil, v))
		if want := strconv.FormatFloat(v, 'f', -1, 64); got != want {
			t.Fatalf("%v: %q, want %q", v, got, want)
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(feature.AppendFloat(nil, v)); got != "0" {
			t.Errorf("%v: %q", v, got)
		}
	}
}
