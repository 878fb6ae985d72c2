package app_test

import (
	"testing"

	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

// BenchmarkFlows feeds the payloads of each application fixture flow
// (packettest.AppTraffic) to a new State, per flow: the inspection's cost
// by protocol (TLS 1.2 includes parsing the server's certificate).
func BenchmarkFlows(b *testing.B) {
	type pkt struct {
		payload []byte
		dir     int
		seq     uint32
	}
	flows := map[string][]pkt{}
	var order []string
	first := map[string][2]uint16{}
	l4 := map[string]uint8{}
	for _, p := range packettest.AppTraffic() {
		var m packet.Meta
		if m.Decode(p.Data, packettest.AppLink, len(p.Data)) != packet.OK || m.PayloadCap == 0 {
			continue
		}
		k := [2]uint16{m.SrcPort, m.DstPort}
		if k[0] > k[1] {
			k[0], k[1] = k[1], k[0]
		}
		key := string(rune(k[0])) + string(rune(k[1]))
		dir := 0
		if f, ok := first[key]; !ok {
			first[key] = [2]uint16{m.SrcPort, m.DstPort}
			order = append(order, key)
			l4[key] = m.Proto
		} else if f[0] != m.SrcPort {
			dir = 1
		}
		flows[key] = append(flows[key], pkt{append([]byte(nil), m.Payload(p.Data)...), dir, m.Seq})
	}
	for _, key := range order {
		s := app.New(l4[key], first[key][0], first[key][1])
		for _, p := range flows[key] {
			s.Feed(p.payload, p.dir, p.seq, false)
		}
		name := s.Proto().String()
		if v := s.Field(app.TLSVersion); v != "" {
			name += "-" + v
		}
		s.Release()
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s := app.New(l4[key], first[key][0], first[key][1])
				for _, p := range flows[key] {
					s.Feed(p.payload, p.dir, p.seq, false)
				}
				s.Release()
			}
		})
	}
}
