package flow_test

import (
	"testing"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// When a capture's time goes backwards, a flow seen after the jump counts
// its idle time from the table's clock, not from its own older packet time:
// it is as recent as the flow seen just before it, and whether it expires
// does not depend on which flows are ahead of it in the table.
func TestExpireTimeBackwards(t *testing.T) {
	const s = int64(1e9)
	cfg := flow.DefaultConfig
	tab := flow.NewTable(cfg, func(*int) {})
	var ended []string
	emit := func(e *flow.Entry[int], r flow.EndReason) { ended = append(ended, e.Src().String()) }
	a := meta(100*s, "10.0.0.1:1000", "10.0.0.9:80", packet.FlagSYN)
	b := meta(50*s, "10.0.0.2:1000", "10.0.0.9:80", packet.FlagSYN) // 50 s back
	for _, m := range []*packet.Meta{a, b} {
		tab.Expire(m.Time, emit)
		e, _ := tab.Lookup(m, emit)
		if e.Seen() != 100*s {
			t.Fatalf("Seen = %d, want the clock %d", e.Seen(), 100*s)
		}
		if e.Last != m.Time {
			t.Fatalf("Last = %d, want the packet's time %d", e.Last, m.Time)
		}
	}
	tab.Expire(100*s+cfg.IdleTimeout, emit)
	if len(ended) != 0 {
		t.Fatalf("ended %v at exactly the idle timeout", ended)
	}
	tab.Expire(100*s+cfg.IdleTimeout+1, emit)
	if len(ended) != 2 || ended[0] != "10.0.0.1:1000" || ended[1] != "10.0.0.2:1000" {
		t.Fatalf("ended %v, want both, in the order last seen", ended)
	}
}
