package meter

import (
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// flowState is what a flow table keeps per flow: the feature accumulator,
// and the input index of the flow's latest frame, by which the sharded
// path puts the flows of several tables in one table's order.
type flowState struct {
	feature.Acc
	touch int64
}

// What a table is doing when it ends a flow, in the order of one frame's
// step: the sharded path's merge order (shard.go) within a frame.
const (
	stepExpire = iota // Expire before the lookup (idle, linger)
	stepLookup        // Lookup: a new SYN on a closed flow, the active timeout
	stepEarly         // the early record after the packet was added
)

// stage is one flow table and the per-packet step on it. The one-table path
// has one stage; the sharded path one per worker. Every flow record a stage
// ends goes to out, with the step that ended it; a flow that never got a
// packet (an active-timeout continuation) is not a record.
type stage struct {
	table  *flow.Table[flowState]
	early  int64 // Config.EarlyAfter
	out    func(e *flow.Entry[flowState], reason flow.EndReason, step uint8)
	step   uint8
	max    int // most flows open at once
	emitFn flow.EmitFunc[flowState]
	app    bool // Config.App
}

func newStage(cfg Config, out func(*flow.Entry[flowState], flow.EndReason, uint8)) *stage {
	earlyN := cfg.Schema.EarlyN
	s := &stage{early: cfg.EarlyAfter, out: out, app: cfg.App}
	s.table = flow.NewTable(cfg.Flow, func(st *flowState) {
		st.Reset()
		st.EarlyN = earlyN
	})
	s.emitFn = s.emit
	return s
}

// packet is the per-packet step: it ends the flows that are idle as of the
// frame's time, finds or starts the frame's flow (which may first end that
// flow's record: a new SYN after a close, the active timeout), adds the
// frame to it, and writes the flow's early record when it reaches
// Config.EarlyAfter packets. index is the frame's index in its input;
// payload is its captured transport payload (see inspected). The returned
// entry is valid until the next call.
func (s *stage) packet(meta *packet.Meta, index int64, payload []byte) *flow.Entry[flowState] {
	k, srcLo := flow.KeyOf(meta)
	return s.packetKey(meta, k, srcLo, index, payload)
}

// packetKey is packet for a frame whose key the caller has made already (the
// sharded path's reader, to choose the frame's worker).
func (s *stage) packetKey(meta *packet.Meta, k flow.Key, srcLo bool, index int64, payload []byte) *flow.Entry[flowState] {
	s.expire(meta.Time)
	s.step = stepLookup
	e, dir := s.table.LookupKey(meta, k, srcLo, s.emitFn)
	e.State.touch = index
	e.State.Add(meta, dir)
	if s.app && len(payload) > 0 {
		e.State.Inspect(meta, dir, payload)
	}
	if s.early > 0 && e.State.Packets() == s.early {
		s.out(e, flow.Early, stepEarly)
	}
	if n := s.table.Len(); n > s.max {
		s.max = n
	}
	return e
}

// maxInspected is how much of one packet's payload the inspection of
// application protocols is given: the sharded path copies that much of
// every payload for its workers, and the one-table path gives no more, so
// that both read the same.
const maxInspected = 4096

// inspected returns the part of meta's frame that the application
// protocol inspection reads (nil when it is off or there is no payload).
func inspected(on bool, meta *packet.Meta, frame []byte) []byte {
	if !on {
		return nil
	}
	p := meta.Payload(frame)
	return p[:min(len(p), maxInspected)]
}

// expire ends the flows idle (or lingering) as of time t.
func (s *stage) expire(t int64) {
	s.step = stepExpire
	s.table.Expire(t, s.emitFn)
}

// markUnreachable notes on the open flow with key k that an ICMP error
// answered it.
func (s *stage) markUnreachable(k flow.Key) {
	if e := s.table.Find(k); e != nil {
		e.State.MarkUnreachable()
	}
}

// flush ends every open flow with reason r.
func (s *stage) flush(r flow.EndReason) {
	s.step = stepExpire
	s.table.Flush(r, s.emitFn)
}

func (s *stage) emit(e *flow.Entry[flowState], reason flow.EndReason) {
	if e.State.Packets() == 0 {
		return // an active-timeout continuation that never got a packet
	}
	s.out(e, reason, s.step)
}
