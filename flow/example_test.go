package flow_test

import (
	"fmt"
	"net/netip"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

func meta(t int64, src, dst string, flags uint8) *packet.Meta {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	m := &packet.Meta{Time: t, Proto: packet.ProtoTCP, Version: 4, SrcPort: s.Port(), DstPort: d.Port(), TCPFlags: flags}
	a, b := s.Addr().As4(), d.Addr().As4()
	copy(m.Src[:], a[:])
	copy(m.Dst[:], b[:])
	return m
}

// Both directions of a connection map to one flow; the SYN's sender is the
// forward side, and a RST closes the flow.
func Example() {
	type count struct{ n int }
	tab := flow.NewTable(flow.DefaultConfig, func(c *count) { *c = count{} })
	emit := func(e *flow.Entry[count], r flow.EndReason) {
		fmt.Printf("%v → %v: %d packets, %v\n", e.Src(), e.Dst(), e.State.n, r)
	}
	pkts := []*packet.Meta{
		meta(1e9, "10.0.0.1:5000", "10.0.0.2:80", packet.FlagSYN),
		meta(2e9, "10.0.0.2:80", "10.0.0.1:5000", packet.FlagSYN|packet.FlagACK),
		meta(3e9, "10.0.0.1:5000", "10.0.0.2:80", packet.FlagRST),
	}
	for _, m := range pkts {
		tab.Expire(m.Time, emit)
		e, dir := tab.Lookup(m, emit)
		e.State.n++
		fmt.Println(dir)
	}
	tab.Expire(20e9, emit) // past the 10 s linger of a closed flow
	// Output:
	// fwd
	// bwd
	// fwd
	// 10.0.0.1:5000 → 10.0.0.2:80: 3 packets, rst
}
