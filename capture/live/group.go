//go:build linux

package live

import (
	"os"
	"time"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture"
)

// Group is the sockets of one live capture: one socket, or several in a
// PACKET_FANOUT group (a symmetric flow hash keeps both directions of a
// flow on one socket), each to be read by its own goroutine.
type Group struct {
	sources []*Source
}

// OpenGroup opens workers sockets on iface with an optional BPF program.
func OpenGroup(iface string, filter []bpf.RawInstruction, promisc bool, workers int) (*Group, error) {
	g := &Group{}
	fanout := -1
	if workers > 1 {
		fanout = os.Getpid() & 0xffff
	}
	for i := 0; i < workers; i++ {
		s, err := OpenFanout(iface, 100*time.Millisecond, filter, promisc, fanout)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.sources = append(g.sources, s)
	}
	return g, nil
}

// Sources are the group's sockets as capture sources.
func (g *Group) Sources() []capture.Source {
	out := make([]capture.Source, len(g.sources))
	for i, s := range g.sources {
		out[i] = s
	}
	return out
}

// Stats sums the kernel's counters of the group's sockets.
func (g *Group) Stats() Stats {
	var t Stats
	for _, s := range g.sources {
		st := s.Stats()
		t.Packets += st.Packets
		t.Drops += st.Drops
		t.Freezes += st.Freezes
	}
	return t
}

// Close closes every socket.
func (g *Group) Close() {
	for _, s := range g.sources {
		s.Close()
	}
}
