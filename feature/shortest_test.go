package feature

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// shortestDigits gives strconv's digits: appendShortest writes what
// strconv.AppendFloat(v, 'f', -1, 64) writes for random bit patterns of
// every exponent, ratios of small integers (a record's means and rates),
// powers of two (Dragonbox's other path) and their neighbours, and
// denormals; and most of them take the table's path.
func TestShortestDigits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var vals []float64
	for i := 0; i < 1000000; i++ {
		vals = append(vals, math.Float64frombits(r.Uint64()&^(1<<63)))
		vals = append(vals, float64(1+r.IntN(100000))/float64(1+r.IntN(1000)))
		vals = append(vals, math.Sqrt(float64(r.IntN(1e9))))
		vals = append(vals, math.Float64frombits(uint64(900+r.IntN(350))<<52|r.Uint64()>>12)) // 1e-37..1e68, every mantissa
	}
	for e := -1074; e <= 1023; e++ {
		p := math.Ldexp(1, e)
		vals = append(vals, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)))
	}
	vals = append(vals, math.SmallestNonzeroFloat64, math.MaxFloat64, 5e-324, 1e-300, 1e300, 0.1, 0.3, 2.5, 1e15, 1e16, 123456789012345680)
	fast := 0
	var got, want []byte
	for _, v := range vals {
		if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		if _, _, ok := shortestDigits(v); ok {
			fast++
		}
		for _, x := range []float64{v, -v} {
			got = appendShortest(got[:0], x)
			want = strconv.AppendFloat(want[:0], x, 'f', -1, 64)
			if string(got) != string(want) {
				t.Fatalf("%v (%#x): %s, strconv %s", x, math.Float64bits(x), got, want)
			}
		}
	}
	if fast < len(vals)*2/3 {
		t.Errorf("only %d of %d values took the table's path", fast, len(vals))
	}
}

// The table holds strconv's values: three entries as strconv's pow10Tab
// has them, and every entry of it when Go's source is at hand.
func TestPow10Mant(t *testing.T) {
	want := map[int]u128{
		-64: {0xa87fea27a539e9a5, 0x3f2398d747b36224},
		-1:  {0xcccccccccccccccc, 0xcccccccccccccccc},
		0:   {0x8000000000000000, 0},
		64:  {0xc2781f49ffcfa6d5, 0x3cbf6b71c76b25fb},
	}
	root, err := exec.Command("go", "env", "GOROOT").Output()
	var src []byte
	if err == nil {
		src, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "src", "internal", "strconv", "pow10tab.go"))
	}
	if err == nil {
		re := regexp.MustCompile(`\{(0x[0-9a-f]+), (0x[0-9a-f]+)\}, // 1e(-?[0-9]+) `)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			k, _ := strconv.Atoi(m[3])
			hi, _ := strconv.ParseUint(m[1], 0, 64)
			lo, _ := strconv.ParseUint(m[2], 0, 64)
			if k >= pow10Lo && k <= pow10Hi {
				want[k] = u128{hi, lo}
			}
		}
		if len(want) != pow10Hi-pow10Lo+1 {
			t.Errorf("%d of strconv's entries read", len(want))
		}
	} else {
		t.Logf("Go's source not found (%v): three entries checked", err)
	}
	for k, w := range want {
		if got := pow10Mant[k-pow10Lo]; got != w {
			t.Errorf("10^%d: %#x, want %#x", k, got, w)
		}
	}
}

// FuzzAppendFloat: any finite, non-zero float64 is written as strconv's
// shortest 'f' form.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0.1, 1.0 / 3, 1e15, 5e-324, 123.456, math.MaxFloat64, 1e-40, 1e60, 0x1p-77} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, b uint64) {
		v := math.Float64frombits(b)
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return // a record never holds NaN or ±Inf (written 0, docs/features.md); -0 is written 0
		}
		got, want := AppendFloat(nil, v), strconv.AppendFloat(nil, v, 'f', -1, 64)
		if string(got) != string(want) {
			t.Fatalf("%v (%#x): %s, strconv %s", v, b, got, want)
		}
	})
}
