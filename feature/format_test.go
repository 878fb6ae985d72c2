package feature_test

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/feature"
)

// AppendFloat writes what strconv's shortest 'f' form writes (0 for -0,
// NaN and infinities), also through its fast path for whole numbers.
func TestAppendFloat(t *testing.T) {
	vals := []float64{1, -1, 3, 100, 65535, 1e14, 999999999999999, 1e15, -1e15, 1e16, 2.5, -0.25, 1e-9, 123456.789, math.MaxInt32, math.Nextafter(1e15, 0), 4503599627370497, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1e300, 1e-300, 1.5e-310, 123456789012345678e3}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		vals = append(vals, math.Round(r.NormFloat64()*1e6), r.NormFloat64()*1e3, float64(r.Int64N(1<<53))*float64(1-2*r.IntN(2)))
	}
	// the decimal fast path: times in ns and µs as seconds, ratios, means,
	// values next to the 1e6 limit and the rounding boundaries
	for i := 0; i < 200000; i++ {
		ns := r.Int64N(1 << uint(1+r.IntN(52)))
		k := float64(1 + r.Int64N(1000))
		vals = append(vals, float64(ns)/1e9, -float64(ns)/1e9, float64(ns/1000)/1e6, float64(ns)/k, k/float64(ns+1),
			float64(ns%1e15)/1e9*k, math.Nextafter(float64(ns)/1e9, 0), math.Nextafter(float64(ns)/1e6, math.Inf(1)),
			1e6-float64(ns%1e9)/1e9, math.Nextafter(1e6, 0)-float64(ns%1000)/1e6, float64(ns%1e6)+0.5, r.Float64()*math.Pow(10, float64(r.IntN(30)-15)))
	}
	for range 100000 { // any bits: the path through strconv's 'e' form
		if v := math.Float64frombits(r.Uint64()); !math.IsNaN(v) && !math.IsInf(v, 0) {
			vals = append(vals, v)
		}
	}
	for _, v := range vals {
		if v == 0 {
			continue // below
		}
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

// Community ID v1 (seed 0) equals the specification's published values,
// the same for both directions of every protocol it covers.
func TestCommunityID(t *testing.T) {
	for _, c := range []struct {
		proto      uint8
		src, dst   string
		typ, code  int
		want       string
		reverseTyp int // the answer's ICMP type (request/response pairs)
	}{
		{6, "128.232.110.120:34855", "66.35.250.204:80", -1, -1, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", -1},
		{6, "1.2.3.4:1122", "5.6.7.8:3344", -1, -1, "1:wCb3OG7yAFWelaUydu0D+125CLM=", -1},
		{17, "1.2.3.4:1122", "5.6.7.8:3344", -1, -1, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", -1},
		{1, "1.2.3.4:0", "5.6.7.8:0", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", 0},
		{58, "[fe80:1:203:405:607:809:a0b:c0d]:0", "[fe80:1011:1213:1415:1617:1819:1a1b:1c1d]:0", 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", 129},
		{46, "1.2.3.4:0", "5.6.7.8:0", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768=", -1},
	} {
		r := &feature.Record{Proto: c.proto, Src: netip.MustParseAddrPort(c.src), Dst: netip.MustParseAddrPort(c.dst)}
		if got := string(feature.AppendCommunityID(nil, r, c.typ, c.code)); got != c.want {
			t.Errorf("%d %s → %s: %s, want %s", c.proto, c.src, c.dst, got, c.want)
		}
		back := &feature.Record{Proto: c.proto, Src: r.Dst, Dst: r.Src}
		typ := c.typ
		if c.reverseTyp >= 0 {
			typ = c.reverseTyp
		}
		if got := string(feature.AppendCommunityID(nil, back, typ, c.code)); got != c.want {
			t.Errorf("%d %s → %s, the other way: %s, want %s", c.proto, c.dst, c.src, got, c.want)
		}
	}
}

// AppendTime is time.Format with TimeLayout, faster: the same text for
// times across four centuries, leap days and the ends of the range.
func TestAppendTime(t *testing.T) {
	check := func(ns int64) {
		got := string(feature.AppendTime(nil, ns))
		if want := time.Unix(0, ns).UTC().Format(feature.TimeLayout); got != want {
			t.Fatalf("AppendTime(%d) = %s, want %s", ns, got, want)
		}
	}
	for _, ns := range []int64{0, 1, 999999999, 951782400e9, 951868799999999999, 4107542400e9, 1700000000123456789, -1, math.MaxInt64, math.MinInt64} {
		check(ns)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(r.Int64())
	}
}

// A FloatCache writes what AppendFloat writes, through repeats, slot
// collisions, texts too long to keep, whole numbers, short decimals,
// negatives and the values outside ±1e15.
func TestFloatCache(t *testing.T) {
	var c feature.FloatCache
	r := rand.New(rand.NewPCG(3, 4))
	pool := make([]float64, 20000)
	for i := range pool {
		switch i % 6 {
		case 0:
			pool[i] = r.NormFloat64() * 1e3
		case 1:
			pool[i] = float64(r.IntN(1e6)) / float64(1+r.IntN(999))
		case 2:
			pool[i] = r.Float64() * 1e-12 // long: not kept
		case 3:
			pool[i] = float64(r.IntN(100))
		case 4:
			pool[i] = float64(r.IntN(1e6)) / 1e6
		default:
			pool[i] = -r.ExpFloat64() * 1e16
		}
	}
	var a, b []byte
	for i := 0; i < 500000; i++ {
		v := pool[r.IntN(1+i%len(pool))]
		a, b = feature.AppendFloat(a[:0], v), c.AppendFloat(b[:0], v)
		if string(a) != string(b) {
			t.Fatalf("%v: cached %q, want %q", v, b, a)
		}
	}
}
