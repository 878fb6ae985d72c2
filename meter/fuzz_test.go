package meter_test

import (
	"context"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
)

// framesOf splits fuzz bytes into timed frames: each is a length byte, a
// time step byte (signed, in ms: time may go backwards) and that many
// bytes of frame.
func framesOf(b []byte) []packettest.Packet {
	var ps []packettest.Packet
	at := t0
	for len(b) >= 2 {
		n, dt := int(b[0]), int8(b[1])
		b = b[2:]
		n = min(n, len(b))
		at = at.Add(time.Duration(dt) * time.Millisecond)
		ps = append(ps, packettest.Packet{Time: at, Data: b[:n]})
		b = b[n:]
	}
	return ps
}

// seedBytes encodes frames the way framesOf reads them.
func seedBytes(frames ...[]byte) []byte {
	var b []byte
	for i, f := range frames {
		b = append(append(b, byte(len(f)), byte(i%3)), f...)
	}
	return b
}

// FuzzPipeline sends any frames through decode → flow table → features →
// records, with a small table and short timeouts so that every path runs
// (eviction, idle, active, linger, early records), and checks what must
// hold: no NaN or infinity, no negative duration or gap, every decoded
// frame in exactly one record, and one record per flow ended.
func FuzzPipeline(f *testing.F) {
	tc := packettest.NewTCP(client, server, clock())
	hs := tc.Handshake()
	data := tc.Data(true, 40)
	fin := tc.Close(true)
	udp := packettest.Frame{Src: c6.Addr(), Dst: s6.Addr(), Proto: packet.ProtoUDP, SrcPort: 5353, DstPort: 53, Payload: 30}
	icmp := packettest.Frame{Src: server.Addr(), Dst: client.Addr(), Proto: packet.ProtoICMP, ICMPType: 3, ICMPCode: 1, Payload: 28}
	frag := packettest.Frame{Src: client.Addr(), Dst: server.Addr(), Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2, Payload: 100, MoreFrags: true, FragID: 5}
	f.Add(seedBytes(hs[0].Data, hs[1].Data, hs[2].Data, data.Data, fin[0].Data, fin[1].Data))
	f.Add(seedBytes(udp.Bytes(), icmp.Bytes(), frag.Bytes(), hs[0].Data, udp.Bytes()))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts := framesOf(b)
		for _, workers := range []int{1, 2} {
			var c collector
			cfg := flow.Config{IdleTimeout: int64(50 * time.Millisecond), ActiveTimeout: int64(200 * time.Millisecond), Linger: int64(20 * time.Millisecond), MaxFlows: 3}
			m := meter.New(meter.Config{Flow: cfg, Schema: schema, EarlyAfter: 2, Workers: workers, App: true}, &c)
			if err := m.Run(context.Background(), &source{pkts: pkts, link: packet.LinkEthernet}, "fuzz"); err != nil {
				t.Fatal(err)
			}
			st := m.Stats()
			var packets, records int64
			for i := range c.recs {
				r := &c.recs[i]
				checkRecord(t, r)
				if r.End == flow.Early {
					continue
				}
				records++
				packets += int64(get(r, "packets"))
			}
			if packets != st.Decoded || records != st.Flows || st.Packets != int64(len(pkts)) {
				t.Fatalf("workers %d: %d frames, %d decoded, %d in %d records (%d counted)", workers, len(pkts), st.Decoded, packets, records, st.Flows)
			}
		}
	})
}
