//go:build linux

package main

import (
	"os"
	"time"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/capture/live"
)

// openLive opens workers sockets on iface (a fanout group when more than
// one) with an optional BPF program.
func openLive(iface string, prog []bpf.RawInstruction, promisc bool, workers int) (srcs []capture.Source, stats func() liveStats, idle error, closer func(), err error) {
	var opened []*live.Source
	closeAll := func() {
		for _, s := range opened {
			s.Close()
		}
	}
	group := -1
	if workers > 1 {
		group = os.Getpid() & 0xffff
	}
	for i := 0; i < workers; i++ {
		s, err := live.OpenFanout(iface, 100*time.Millisecond, prog, promisc, group)
		if err != nil {
			closeAll()
			return nil, nil, nil, nil, err
		}
		opened = append(opened, s)
		srcs = append(srcs, s)
	}
	return srcs, func() liveStats {
		var t liveStats
		for _, s := range opened {
			st := s.Stats()
			t.Packets += st.Packets
			t.Drops += st.Drops
			t.Freezes += st.Freezes
		}
		return t
	}, live.ErrTimeout, closeAll, nil
}
