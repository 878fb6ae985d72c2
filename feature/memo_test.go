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
	for i := range 20000 {
		var a Acc
		a.EarlyN = 8
		n := 1
		if r.IntN(4) == 0 {
			n = 2 + r.IntN(5)
		}
		t0 := int64(1e9 + r.IntN(1e6)*1000)
		if i%1000 == 0 {
			t0 = 0 // a capture at the epoch: never remembered
		}
		proto := []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP}[r.IntN(3)]
		for p := range n {
			m := packet.Meta{Time: t0 + int64(p)*int64(r.IntN(3e6)), Proto: proto, Version: 4, IPLen: 40 + r.IntN(2),
				L4HdrLen: 20, TCPFlags: []uint8{packet.FlagSYN, packet.FlagRST, packet.FlagACK}[r.IntN(3)], Window: uint16(r.IntN(2))}
			m.PayloadLen = m.IPLen - 40
			a.Add(&m, flow.Dir(r.IntN(2)*min(p, 1)))
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
		before := rc.memo != nil && rc.memo.ok && n == 1 && rc.memo.keyOf(&a) && rc.memo.next == rc.memo.key
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
	if hits < 1000 { // about one flow in 11 repeats the single packet before it
		t.Errorf("%d of 20 000 flows filled from memory, want at least 1 000", hits)
	}
}
