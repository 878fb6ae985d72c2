package feature

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// FillRecord gives Fill's values, bit for bit, for a stream of flows where
// single packets repeat each other at other times (a flood's), interleaved
// with multi-packet flows, two schemas and varied contexts, and it does
// take the remembered values for most repeated single packets.
func TestFillRecordMemo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	s8, _ := NewSchema(8)
	s2, _ := NewSchema(2)
	rec := &Record{Values: make([]float64, len(s8.Features))}
	rec2 := &Record{Values: make([]float64, len(s2.Features))}
	hits := 0
	type shape struct {
		n, ipLen, window int
		proto, flags     uint8
		seed             uint64
	}
	var sh shape
	left := 0 // flows of the current shape still to come: a flood repeats one
	for i := range 20000 {
		if left == 0 {
			left = 1 + r.IntN(20)
			sh = shape{n: 1, ipLen: 40 + r.IntN(2), window: r.IntN(2), seed: r.Uint64(),
				proto: []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP}[r.IntN(3)],
				flags: []uint8{packet.FlagSYN, packet.FlagRST, packet.FlagACK}[r.IntN(3)]}
			if r.IntN(4) == 0 {
				sh.n = 2 + r.IntN(5)
			}
		}
		left--
		var a Acc
		a.EarlyN = 8
		n := sh.n
		t0 := int64(1e9 + r.IntN(1e6)*1000)
		if i%1000 == 0 {
			t0 = 0 // a capture at the epoch: never remembered
		}
		pr := rand.New(rand.NewPCG(sh.seed, 1)) // the shape's own gaps and directions
		for p := range n {
			m := packet.Meta{Time: t0 + int64(p)*int64(pr.IntN(3e6)), Proto: sh.proto, Version: 4, IPLen: sh.ipLen,
				L4HdrLen: 20, TCPFlags: sh.flags, Window: uint16(sh.window)}
			m.PayloadLen = m.IPLen - 40
			a.Add(&m, flow.Dir(pr.IntN(2)*min(p, 1)))
		}
		var ctx ContextValues
		for j := range ctx {
			ctx[j] = float64(r.IntN(3))
		}
		s, rc := s8, rec
		if i%7 == 0 {
			s, rc = s2, rec2
		}
		want := make([]float64, len(s.Features))
		s.Fill(&a, &ctx, want)
		mm := rc.memo
		before := mm != nil && mm.ok && mm.s == s && mm.keyOf(&a) && mm.next == mm.key
		s.FillRecord(&a, &ctx, rc)
		if before {
			hits++
		}
		for j := range want {
			if math.Float64bits(rc.Values[j]) != math.Float64bits(want[j]) {
				t.Fatalf("flow %d (%d packets at %d): %s = %v, Fill gives %v", i, n, t0, s.Features[j].Name, rc.Values[j], want[j])
			}
		}
	}
	if hits < 5000 { // about half the flows are single packets that repeat the one before
		t.Errorf("%d of 20 000 flows filled from memory, want at least 5 000", hits)
	}
}
