package flow

import (
	"math"
	"net/netip"
	"unsafe"

	"github.com/flowmeter/flowmeter/internal/hugepage"
	"github.com/flowmeter/flowmeter/packet"
)

// EndReason says why a flow record was emitted.
type EndReason uint8

// End reasons.
const (
	Open        EndReason = iota // not ended (the zero value)
	EndIdle                      // no packet for the idle timeout
	EndActive                    // the flow lasted the active timeout; it goes on in a new record
	EndFIN                       // both sides sent FIN and the last FIN was acknowledged
	EndRST                       // a TCP reset
	EndEOF                       // the input ended with the flow still open
	EndShutdown                  // the meter was stopped (live capture)
	Early                        // not an end: an early report after the first packets (live --early-verdict)
	EndEvicted                   // the table was full (Config.MaxFlows) and the flow made room for a new one
)

// NumEndReasons bounds the EndReason values.
const NumEndReasons = int(EndEvicted) + 1

var endNames = [...]string{"open", "idle", "active", "fin", "rst", "eof", "shutdown", "early", "evicted"}

func (r EndReason) String() string {
	if int(r) < len(endNames) {
		return endNames[r]
	}
	return "unknown"
}

// Config sets a Table's timeouts, in nanoseconds of packet time.
type Config struct {
	IdleTimeout   int64 // a flow with no packet for this long ends (EndIdle)
	ActiveTimeout int64 // a flow is cut after this long (EndActive) and goes on in a new record
	Linger        int64 // a closed TCP flow (FIN or RST) waits this long for trailing packets
	// MaxFlows, when > 0, bounds the flows held at once. A new flow in a
	// full table first ends another: a closed flow lingering for trailing
	// packets (with its close reason), else the least recently seen of the
	// first evictScan open flows that was never answered (a probe, a
	// flood's packet), else the least recently seen open flow (EndEvicted
	// for both).
	MaxFlows int
}

// evictScan is how many of the least recently seen open flows a full table
// looks through for one that was never answered.
const evictScan = 64

// DefaultConfig has NFStream's timeouts (idle 120 s, active 1800 s) and a
// 10 s linger after a TCP close.
var DefaultConfig = Config{IdleTimeout: 120e9, ActiveTimeout: 1800e9, Linger: 10e9}

// Entry is a flow in a Table: its key, times, orientation and the caller's
// per-flow state S.
type Entry[S any] struct {
	Key      Key
	closed   EndReason
	list     uint8
	First    int64     // time of the first packet of this record, ns
	Last     int64     // time of the latest packet (never decreasing), ns
	seen     int64     // the table's clock at the latest packet: Last, unless time went backwards
	finSeq   [2]uint32 // sequence number that acknowledges each side's FIN
	prev     int32
	next     int32
	fwdLo    bool // the forward (initiator) side is the key's low endpoint
	answered bool // a packet came from the responder
	finSeen  [2]bool
	finAcked [2]bool
	State    S
}

// Seen is the table's clock when the flow's latest packet came (the flow's
// idle time counts from it): Last, unless the capture's time went backwards.
func (e *Entry[S]) Seen() int64 { return e.seen }

// Src returns the initiator's endpoint.
func (e *Entry[S]) Src() netip.AddrPort {
	if e.fwdLo {
		return e.Key.Lo()
	}
	return e.Key.Hi()
}

// Dst returns the responder's endpoint.
func (e *Entry[S]) Dst() netip.AddrPort {
	if e.fwdLo {
		return e.Key.Hi()
	}
	return e.Key.Lo()
}

// Closed reports how a TCP flow was closed (EndFIN, EndRST), or Open. A
// closed flow waits in the closed list (for trailing packets), an open one
// in the open list; each list is in the order of the flows' latest packets,
// and Expire walks the open list, then the closed one.
func (e *Entry[S]) Closed() EndReason { return e.closed }

// EmitFunc receives an ended flow. The entry and its state are reused after
// the call returns, so copy what must be kept.
type EmitFunc[S any] func(e *Entry[S], reason EndReason)

// pageSize is the number of entries allocated at once.
const pageSize = 1024

const (
	listOpen   = 0
	listClosed = 1
	none       = -1
)

// Table holds the open flows. It is generic over the per-flow state, like
// tailscale's flowtrack.Cache. Lookups, expiry and the TCP close rules are
// driven by packet time. Not safe for concurrent use.
type Table[S any] struct {
	cfg     Config
	reset   func(*S)
	index   index
	pages   []*[pageSize]Entry[S] // entries live in fixed pages: growing never copies them
	nslots  int32
	free    []int32
	head    [2]int32 // oldest (least recently seen) flow of each list
	tail    [2]int32
	now     int64
	due     int64 // no flow expires while now ≤ due (Expire's shortcut; a lower bound)
	active  int
	evicted int64
}

// NewTable returns an empty table. reset clears a state for reuse; it must
// keep any buffers the state owns, so that a steady state allocates nothing.
func NewTable[S any](cfg Config, reset func(*S)) *Table[S] {
	return &Table[S]{
		cfg:   cfg,
		reset: reset,
		index: newIndex(),
		head:  [2]int32{none, none},
		tail:  [2]int32{none, none},
		due:   math.MinInt64,
	}
}

// Len is the number of flows in the table.
func (t *Table[S]) Len() int { return t.active }

// Lookup finds or creates the flow of m, updates its times and TCP state, and
// returns it with m's direction. Records that end because of this packet (a
// new SYN after a close, the active timeout) are passed to emit first. The
// returned entry is valid until the next call on the table. Call Expire
// before Lookup so that idle flows end before a packet could join them.
func (t *Table[S]) Lookup(m *packet.Meta, emit EmitFunc[S]) (*Entry[S], Dir) {
	k, srcLo := KeyOf(m)
	return t.LookupKey(m, k, srcLo, emit)
}

// LookupKey is Lookup for a packet whose key the caller has made already:
// k, srcLo = KeyOf(m).
func (t *Table[S]) LookupKey(m *packet.Meta, k Key, srcLo bool, emit EmitFunc[S]) (*Entry[S], Dir) {
	if m.Time > t.now {
		t.now = m.Time
	}
	i := t.find(&k)
	var e *Entry[S]
	if i >= 0 {
		e = t.at(i)
		syn := m.Proto == packet.ProtoTCP && m.TCPFlags&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN
		switch {
		case syn && (e.closed != Open || (e.finSeen[0] && e.finSeen[1])):
			// A new connection on a closed 5-tuple: the old flow ends.
			reason := e.closed
			if reason == Open {
				reason = EndFIN
			}
			emit(e, reason)
			t.restart(i, m, srcLo)
			if e.list == listClosed {
				t.unlink(i)
				t.push(i, listOpen)
			}
		case m.Time-e.First >= t.cfg.ActiveTimeout && t.cfg.ActiveTimeout > 0:
			emit(e, EndActive)
			t.reset(&e.State)
			e.First, e.Last = m.Time, m.Time
		}
	} else {
		if t.cfg.MaxFlows > 0 && t.active >= t.cfg.MaxFlows {
			t.evict(emit)
		}
		i = t.alloc()
		t.index.insert(&k, i)
		e = t.at(i)
		e.Key = k
		e.prev, e.next = none, none
		t.restart(i, m, srcLo)
		t.push(i, listOpen)
		t.active++
	}
	if m.Time > e.Last {
		e.Last = m.Time
	}
	e.seen = t.now
	dir := Backward
	if srcLo == e.fwdLo {
		dir = Forward
	} else {
		e.answered = true
	}
	if m.Proto == packet.ProtoTCP {
		t.trackTCP(i, e, m, dir)
	}
	t.touch(i)
	return e, dir
}

// Evicted is the number of flows ended to make room (Config.MaxFlows).
func (t *Table[S]) Evicted() int64 { return t.evicted }

// evict ends one flow to make room for a new one (Config.MaxFlows).
func (t *Table[S]) evict(emit EmitFunc[S]) {
	t.evicted++
	if h := t.head[listClosed]; h != none {
		t.remove(h, t.at(h).closed, emit)
		return
	}
	victim := t.head[listOpen]
	for i, n := victim, 0; i != none && n < evictScan; i, n = t.at(i).next, n+1 {
		if !t.at(i).answered {
			victim = i
			break
		}
	}
	t.remove(victim, EndEvicted, emit)
}

// Find returns the open flow with key k, or nil. It does not touch the
// flow's times.
func (t *Table[S]) Find(k Key) *Entry[S] {
	if i := t.find(&k); i >= 0 {
		return t.at(i)
	}
	return nil
}

// restart makes slot i a fresh flow whose first packet is m.
func (t *Table[S]) restart(i int32, m *packet.Meta, srcLo bool) {
	e := t.at(i)
	t.reset(&e.State)
	e.First, e.Last = m.Time, m.Time
	e.closed = Open
	e.answered = false
	e.finSeen, e.finAcked = [2]bool{}, [2]bool{}
	e.finSeq = [2]uint32{}
	// The initiator sent the first packet, unless that packet is a SYN-ACK:
	// then the capture missed the SYN and the initiator is the other side.
	synAck := m.Proto == packet.ProtoTCP && m.TCPFlags&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN|packet.FlagACK
	e.fwdLo = srcLo != synAck
}

// trackTCP applies the close rules: a RST, or both FINs acknowledged. A
// closed flow moves to the closed list, where it lingers for trailing packets.
func (t *Table[S]) trackTCP(i int32, e *Entry[S], m *packet.Meta, dir Dir) {
	if e.closed != Open {
		return
	}
	f := m.TCPFlags
	if f&packet.FlagRST != 0 {
		t.close(i, EndRST)
		return
	}
	if f&packet.FlagFIN != 0 && !e.finSeen[dir] {
		e.finSeen[dir] = true
		e.finSeq[dir] = m.Seq + uint32(m.PayloadLen) + 1
	}
	other := 1 - dir
	if f&packet.FlagACK != 0 && e.finSeen[other] && int32(m.Ack-e.finSeq[other]) >= 0 {
		e.finAcked[other] = true
	}
	if e.finAcked[0] && e.finAcked[1] {
		t.close(i, EndFIN)
	}
}

func (t *Table[S]) close(i int32, r EndReason) {
	t.at(i).closed = r
	t.unlink(i)
	t.push(i, listClosed)
}

// Expire ends the flows that have been idle for the idle timeout, and the
// closed flows that have lingered long enough, as of packet time now. Idle
// time is counted from the table's clock (the latest packet time seen) when
// the flow's latest packet came: its Last, unless the capture's time went
// backwards. So each list is in the order of that time, and whether a flow
// has expired does not depend on the other flows in the table.
func (t *Table[S]) Expire(now int64, emit EmitFunc[S]) {
	if now > t.now {
		t.now = now
	}
	now = t.now
	if now <= t.due {
		return
	}
	for h := t.head[listOpen]; h != none; h = t.head[listOpen] {
		e := t.at(h)
		if now-e.seen <= t.cfg.IdleTimeout {
			break
		}
		reason := EndIdle
		if e.finSeen[0] && e.finSeen[1] {
			reason = EndFIN // both closed; only the last ACK was not seen
		}
		t.remove(h, reason, emit)
	}
	for h := t.head[listClosed]; h != none; h = t.head[listClosed] {
		e := t.at(h)
		if now-e.seen <= t.cfg.Linger {
			break
		}
		t.remove(h, e.closed, emit)
	}
	t.due = min(t.deadline(listOpen), t.deadline(listClosed))
}

// deadline is the latest clock at which no flow of list l has expired: its
// oldest flow's Seen plus the list's timeout. A list is ordered by Seen
// (every touch sets Seen to the clock, which never goes back, and moves the
// flow to the tail), so this holds for the whole list until its head
// changes, and a new head is never older, except the first flow pushed on
// an empty list (push lowers due for it).
func (t *Table[S]) deadline(l uint8) int64 {
	h := t.head[l]
	if h == none {
		return math.MaxInt64
	}
	return addSat(t.at(h).seen, t.timeout(l))
}

func (t *Table[S]) timeout(l uint8) int64 {
	if l == listOpen {
		return t.cfg.IdleTimeout
	}
	return t.cfg.Linger
}

// addSat is a + b, held within int64.
func addSat(a, b int64) int64 {
	c := a + b
	if b > 0 && c < a {
		return math.MaxInt64
	}
	if b < 0 && c > a {
		return math.MinInt64
	}
	return c
}

// Flush ends every flow with reason r (or the TCP close reason of a closed
// flow), and forgets the clock: the next packet, however old, starts a new
// timeline (the next input file). Flows end in the order of (Seen, open
// before closed, order last seen), so several tables can be flushed as one
// by merging on that.
func (t *Table[S]) Flush(r EndReason, emit EmitFunc[S]) {
	// The least recently seen flow of either list (the open one on a tie)
	// first, each as remove would end it, but the index is emptied once at
	// the end rather than key by key (a cache miss each: 5 % of a flood
	// that ends with a million flows open). emit never looks the table up.
	for h := t.oldest(); h != none; h = t.oldest() {
		e, rh := t.at(h), r
		if e.closed != Open {
			rh = e.closed
		}
		emit(e, rh)
		t.unlink(h)
		t.free = append(t.free, h)
		t.active--
	}
	t.index.Clear()
	t.now = 0 // an empty table has no timeline: the next input starts its own
	t.due = math.MinInt64
}

func (t *Table[S]) oldest() int32 {
	h0, h1 := t.head[listOpen], t.head[listClosed]
	switch {
	case h0 == none:
		return h1
	case h1 == none:
		return h0
	case t.at(h1).seen < t.at(h0).seen:
		return h1
	}
	return h0
}

func (t *Table[S]) remove(i int32, r EndReason, emit EmitFunc[S]) {
	e := t.at(i)
	emit(e, r)
	t.unlink(i)
	t.index.remove(&e.Key, i)
	t.free = append(t.free, i)
	t.active--
}

func (t *Table[S]) alloc() int32 {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		return i
	}
	if int(t.nslots) == len(t.pages)*pageSize {
		pg := new([pageSize]Entry[S])
		hugepage.Advise(unsafe.Pointer(pg), unsafe.Sizeof(*pg))
		t.pages = append(t.pages, pg)
	}
	t.nslots++
	return t.nslots - 1
}

// find returns the slot of the flow with key k, or -1.
func (t *Table[S]) find(k *Key) int32 {
	return t.index.find(k, func(i int32) bool { return t.at(i).Key == *k })
}

// at returns the entry in slot i.
func (t *Table[S]) at(i int32) *Entry[S] { return &t.pages[i/pageSize][i%pageSize] }

// touch moves slot i to the tail (most recently seen) of its list.
func (t *Table[S]) touch(i int32) {
	l := t.at(i).list
	if t.tail[l] == i {
		return
	}
	t.unlink(i)
	t.push(i, l)
}

func (t *Table[S]) push(i int32, l uint8) {
	e := t.at(i)
	e.list, e.prev, e.next = l, t.tail[l], none
	if t.tail[l] != none {
		t.at(t.tail[l]).next = i
	} else { // a new head, whose Seen is (or is about to be) the clock
		t.head[l] = i
		t.due = min(t.due, addSat(t.now, t.timeout(l)))
	}
	t.tail[l] = i
}

func (t *Table[S]) unlink(i int32) {
	e := t.at(i)
	l := e.list
	if e.prev != none {
		t.at(e.prev).next = e.next
	} else if t.head[l] == i {
		t.head[l] = e.next
	}
	if e.next != none {
		t.at(e.next).prev = e.prev
	} else if t.tail[l] == i {
		t.tail[l] = e.prev
	}
	e.prev, e.next = none, none
}
