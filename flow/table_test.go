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

// A full table (MaxFlows) makes room by ending, in turn, a closed flow
// lingering for trailing packets (with its close reason), a flow never
// answered (a flood's packet), and only then the least recently seen
// answered flow; it holds MaxFlows flows at most.
func TestMaxFlowsEviction(t *testing.T) {
	const s = int64(1e9)
	cfg := flow.DefaultConfig
	cfg.MaxFlows = 3
	tab := flow.NewTable(cfg, func(*int) {})
	var ended []string
	emit := func(e *flow.Entry[int], r flow.EndReason) { ended = append(ended, e.Src().String()+" "+r.String()) }
	step := func(m *packet.Meta) {
		tab.Expire(m.Time, emit)
		tab.Lookup(m, emit)
		if tab.Len() > cfg.MaxFlows {
			t.Fatalf("%d flows held, at most %d", tab.Len(), cfg.MaxFlows)
		}
	}
	// an established connection, then a closed one, then a flood
	step(meta(1*s, "10.0.0.1:1000", "10.0.0.9:80", packet.FlagSYN))
	step(meta(1*s, "10.0.0.9:80", "10.0.0.1:1000", packet.FlagSYN|packet.FlagACK))
	step(meta(2*s, "10.0.0.2:1000", "10.0.0.9:80", packet.FlagSYN))
	step(meta(2*s, "10.0.0.9:80", "10.0.0.2:1000", packet.FlagRST|packet.FlagACK))
	for i := 0; i < 4; i++ {
		step(meta(3*s+int64(i), "203.0.113.7:"+string(rune('1'+i))+"000", "10.0.0.9:80", packet.FlagSYN))
	}
	want := []string{"10.0.0.2:1000 rst", "203.0.113.7:1000 evicted", "203.0.113.7:2000 evicted"}
	if len(ended) != len(want) {
		t.Fatalf("ended %v, want %v", ended, want)
	}
	for i := range want {
		if ended[i] != want[i] {
			t.Fatalf("ended %v, want %v", ended, want)
		}
	}
	if tab.Evicted() != 3 {
		t.Errorf("Evicted() = %d", tab.Evicted())
	}
	// the closed flow goes first, then the flood's last probe, then, with
	// only answered flows, the least recently seen one
	ended = nil
	step(meta(4*s, "10.0.0.9:80", "203.0.113.7:4000", packet.FlagRST|packet.FlagACK)) // answers the last probe
	step(meta(5*s, "10.0.0.3:1000", "10.0.0.9:80", packet.FlagSYN))
	step(meta(5*s, "10.0.0.9:80", "10.0.0.3:1000", packet.FlagSYN|packet.FlagACK))
	step(meta(6*s, "10.0.0.4:1000", "10.0.0.9:80", packet.FlagSYN))
	step(meta(6*s, "10.0.0.9:80", "10.0.0.4:1000", packet.FlagSYN|packet.FlagACK))
	step(meta(7*s, "10.0.0.5:1000", "10.0.0.9:80", packet.FlagSYN))
	if len(ended) != 3 || ended[0] != "203.0.113.7:4000 rst" || ended[1] != "203.0.113.7:3000 evicted" || ended[2] != "10.0.0.1:1000 evicted" {
		t.Errorf("ended %v", ended)
	}
}
