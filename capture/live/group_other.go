//go:build !linux

package live

import (
	"errors"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture"
)

// ErrTimeout is returned by ReadPacket when no packet came within the poll
// interval.
var ErrTimeout = errors.New("no packet within the poll interval")

// Stats are the kernel's counters of a capture.
type Stats struct{ Packets, Drops, Freezes uint64 }

// Group is the sockets of one live capture; live capture needs Linux.
type Group struct{}

// OpenGroup fails: live capture needs Linux (AF_PACKET).
func OpenGroup(iface string, filter []bpf.RawInstruction, promisc bool, workers int) (*Group, error) {
	return nil, errors.New("live capture needs Linux (AF_PACKET)")
}

// Sources are none.
func (g *Group) Sources() []capture.Source { return nil }

// Stats are zero.
func (g *Group) Stats() Stats { return Stats{} }

// Close does nothing.
func (g *Group) Close() {}
