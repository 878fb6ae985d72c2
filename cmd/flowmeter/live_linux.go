//go:build linux

package main

import (
	"time"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/capture/live"
)

// openLive opens a live capture on iface with an optional BPF program.
func openLive(iface string, prog []bpf.RawInstruction, promisc bool) (src capture.Source, stats func() liveStats, idle error, closer func(), err error) {
	s, err := live.Open(iface, 100*time.Millisecond, prog, promisc)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return s, func() liveStats {
		st := s.Stats()
		return liveStats{Drops: st.Drops, Freezes: st.Freezes, Packets: st.Packets}
	}, live.ErrTimeout, s.Close, nil
}
