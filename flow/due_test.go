package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowmeter/flowmeter/packet"
)

// Expire's shortcut (due) never changes what ends, or when: random TCP and
// UDP traffic, with time that stalls, jumps ahead and goes back, across
// file ends (Flush) and a full table, gives the same records in the same
// order, packet by packet, as a table that looks at its lists every time.
func TestExpireShortcut(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		cfg := Config{IdleTimeout: 40, ActiveTimeout: 300, Linger: 5, MaxFlows: int(seed%3) * 20}
		fast := NewTable(cfg, func(*int) {})
		slow := NewTable(cfg, func(*int) {})
		var got, want []string
		emitTo := func(out *[]string) EmitFunc[int] {
			return func(e *Entry[int], r EndReason) { *out = append(*out, fmt.Sprint(e.Key, r)) }
		}
		r := rand.New(rand.NewPCG(seed, 7))
		now := int64(1000)
		for i := 0; i < 20000; i++ {
			switch x := r.IntN(100); {
			case x < 50: // same time
			case x < 95:
				now += int64(r.IntN(10))
			case x < 98:
				now += int64(r.IntN(200))
			default:
				now -= int64(r.IntN(100))
			}
			if r.IntN(5000) == 0 {
				fast.Flush(EndEOF, emitTo(&got))
				slow.Flush(EndEOF, emitTo(&want))
			}
			m := &packet.Meta{Time: now, Version: 4, Proto: packet.ProtoTCP, SrcPort: uint16(1000 + r.IntN(40)), DstPort: 80}
			if r.IntN(4) == 0 {
				m.Proto = packet.ProtoUDP
			}
			m.Src[3], m.Dst[3] = byte(1+r.IntN(3)), 9
			if r.IntN(2) == 0 {
				m.Src, m.Dst, m.SrcPort, m.DstPort = m.Dst, m.Src, m.DstPort, m.SrcPort
			}
			m.TCPFlags = []uint8{packet.FlagSYN, packet.FlagACK, packet.FlagFIN | packet.FlagACK, packet.FlagRST, packet.FlagSYN | packet.FlagACK}[r.IntN(5)]
			m.Seq, m.Ack = uint32(r.IntN(4)), uint32(r.IntN(4))
			fast.Expire(now, emitTo(&got))
			slow.due = math.MinInt64 // no shortcut
			slow.Expire(now, emitTo(&want))
			fast.Lookup(m, emitTo(&got))
			slow.Lookup(m, emitTo(&want))
			if len(got) != len(want) {
				t.Fatalf("seed %d, packet %d: %d records, want %d", seed, i, len(got), len(want))
			}
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("seed %d: record %d is %s, want %s", seed, i, got[i], want[i])
			}
		}
		if len(want) < 1000 {
			t.Fatalf("seed %d: only %d records; the test ends too few flows", seed, len(want))
		}
	}
}
