package feature

import (
	"net/netip"

	"github.com/flowmeter/flowmeter/app"

	"github.com/flowmeter/flowmeter/flow"
)

// Record is one flow as written out: its identity, times, how it ended, its
// features (in Schema order) and, when known, its label and verdict. Values
// is owned by whoever built the Record; a sink must not keep it after Write
// returns.
type Record struct {
	ID       uint64
	Src, Dst netip.AddrPort // initiator and responder
	Proto    uint8
	Version  uint8
	VLAN     uint16
	First    int64 // ns since the Unix epoch
	Last     int64
	End      flow.EndReason
	Capture  string // the capture file the flow came from

	Values []float64
	App    *app.State // the payload's application metadata; nil when none

	Label, Category string // empty when unlabelled
	Score           float64
	Verdict         string // empty when not classified

	memo *fillMemo // FillRecord's memory of the last single-packet flow
}

// FlowID returns a flow record's identifier: a 64-bit FNV-1a hash of the
// canonical key and the first packet's time. It is the same for both
// directions and for every run over the same input, and differs between
// two flows that reuse one 5-tuple.
func FlowID(k flow.Key, first int64) uint64 {
	h := k.Hash()
	const prime = 1099511628211
	for i := 0; i < 8; i++ {
		h = (h ^ uint64(byte(first>>(8*i)))) * prime
	}
	return h
}
