package feature

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The running aggregates give exactly what summing the entries gives: the
// same stream of flows (a busy server, scanners, a flood, hosts coming and
// going, times out of order, windows that hold all or part of a ring) into
// a Context that keeps aggregates and into one that never does, also when
// only a few rings may keep them.
func TestContextAggregates(t *testing.T) {
	for k, cfg := range []ContextConfig{DefaultContext, {Window: 2e9, Flows: 40, MaxHosts: 50}, {Window: 60e9, Flows: 17, MaxHosts: 1000}, DefaultContext} {
		fast, slow := NewContext(cfg), NewContext(cfg)
		slow.aggFrom = 1 << 30
		if k == 3 {
			fast.maxAggs = 3 // most busy rings summed, a few aggregated
		}
		r := rand.New(rand.NewPCG(7, uint64(cfg.Flows)))
		addr := func(n int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)}) }
		now := int64(1e18)
		aggregated := 0
		for i := 0; i < 200000; i++ {
			now += r.Int64N(1 + cfg.Window/[]int64{100000, 5000, 200}[r.IntN(3)])
			var src, dst int
			switch r.IntN(4) {
			case 0: // many clients, one server
				src, dst = 100+r.IntN(300), 1
			case 1: // one scanner, many targets
				src, dst = 2, 500+r.IntN(2000)
			case 2: // a few busy pairs
				src, dst = 3+r.IntN(3), 6+r.IntN(3)
			default:
				src, dst = r.IntN(5000), r.IntN(5000)
			}
			first := now - r.Int64N(cfg.Window/[]int64{1000, 4}[r.IntN(2)]+1)
			last := first + r.Int64N(cfg.Window/8+1)
			s := netip.AddrPortFrom(addr(src), uint16(1024+r.IntN(50000)))
			d := netip.AddrPortFrom(addr(dst), uint16([]int{22, 80, 443, 53}[r.IntN(4)]))
			proto := uint8([]int{6, 17}[r.IntN(2)])
			failed := r.IntN(3) == 0
			peek := r.IntN(5) == 0
			f := Flow{Src: s, Dst: d, Proto: proto, First: first, Last: last, Reply: int64([]int{0, 0, 120, 4000}[r.IntN(4)]), Failed: failed}
			var a, b ContextValues
			if peek {
				a, b = fast.Peek(&f), slow.Peek(&f)
			} else {
				a, b = fast.Observe(&f), slow.Observe(&f)
			}
			if a != b {
				t.Fatalf("%+v flow %d: with aggregates %v, summed %v", cfg, i, a, b)
			}
			if rg, _ := fast.rings.find(&ctxKey{addr: d.Addr().As16(), role: 1}); rg != nil && rg.whole(first-cfg.Window) != nil {
				aggregated++
			}
		}
		t.Logf("%+v: %d of 200 000 flows' responders had every entry in the window", cfg, aggregated)
		if aggregated < 1000 {
			t.Errorf("%+v: only %d flows used aggregates", cfg, aggregated)
		}
	}
}

// counts keeps exact multiplicities through any order of adds and removes.
func TestCounts(t *testing.T) {
	c := newCounts(100)
	want := map[uint64]int{}
	var keys []uint64
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 100000; i++ {
		if len(keys) < 100 && (len(keys) == 0 || r.IntN(2) == 0) {
			k := uint64(r.IntN(150)) << uint(r.IntN(3)*20) // clustered homes
			keys = append(keys, k)
			c.inc(k)
			want[k]++
		} else {
			j := r.IntN(len(keys))
			k := keys[j]
			keys = append(keys[:j], keys[j+1:]...)
			c.dec(k)
			if want[k]--; want[k] == 0 {
				delete(want, k)
			}
		}
		if c.n != len(want) {
			t.Fatalf("step %d: %d distinct, want %d", i, c.n, len(want))
		}
		for k, n := range want {
			if c.get(k) != n {
				t.Fatalf("step %d: key %d ×%d, want %d", i, k, c.get(k), n)
			}
		}
	}
}
