package feature

import "slices"

// aggFrom is the ring length from which a ring keeps running aggregates of
// its entries (ringAgg): below it, summing the entries is as cheap.
const aggFrom = 16

// maxAggs bounds the rings that keep aggregates (about 19 KiB each for an
// initiator, 6 KiB for a responder or service): 4 096 busy hosts and
// services at once, 77 MiB at most. Beyond that, the busiest rings that
// came later are summed entry by entry, with the same results.
const maxAggs = 4096

// ringAgg holds what the context features need of a ring's entries, kept
// as entries come and go, so that a flow whose host or service has a full
// ring costs the same as one whose ring is empty. It is used when every
// entry of the ring is in the flow's window (a busy host's usual case);
// otherwise the entries are summed one by one. The results are the same
// either way (TestContextAggregates).
type ringAgg struct {
	firsts  []int64 // the entries' first times, sorted: a window into firstsB
	lasts   []int64 // their last times, sorted (initiator rings only): a window into lastsB
	peers   counts  // entries per peer host
	ports   counts  // per responder port (initiator rings only)
	svcs    counts  // per peer, port and protocol (initiator rings only)
	replies counts  // per peer, port, protocol and reply size (initiator rings only)
	fails   int

	// firsts and lasts slide over buffers twice their size, so that
	// removing the earliest time (a full ring's usual case) moves nothing.
	firstsB, lastsB []int64
}

func newRingAgg(r *ring, max int, initiator bool) *ringAgg {
	a := &ringAgg{firstsB: make([]int64, 2*max), peers: newCounts(max)}
	a.firsts = a.firstsB[:0]
	if initiator {
		a.lastsB = make([]int64, 2*max)
		a.lasts = a.lastsB[:0]
		a.ports, a.svcs, a.replies = newCounts(max), newCounts(max), newCounts(max)
	}
	for i := range r.e {
		a.add(&r.e[i])
	}
	return a
}

func (a *ringAgg) initiator() bool { return a.lasts != nil }

func svcKey(e *ctxEntry) uint64 {
	return mix64(e.peer ^ (uint64(e.port)<<8|uint64(e.proto))*0x9E3779B97F4A7C15)
}

// replyKey keys e's service (svc, its svcKey) and reply size.
func replyKey(svc uint64, e *ctxEntry) uint64 {
	return mix64(svc ^ (uint64(e.reply)+1)*0xD6E8FEB86659FD93)
}

// mix64 is splitmix64's finaliser: a bijection that spreads every input
// bit over the output.
func mix64(x uint64) uint64 {
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// insertSorted inserts v into s, a window into buf; when s reaches buf's
// end, it moves to buf's start first.
func insertSorted(s, buf []int64, v int64) []int64 {
	if len(s) == cap(s) {
		s = buf[:copy(buf, s)]
	}
	if len(s) == 0 || v >= s[len(s)-1] { // the usual case: the latest
		return append(s, v)
	}
	i, _ := slices.BinarySearch(s, v)
	return slices.Insert(s, i, v)
}

// removeSorted removes one v from s, moving the shorter side.
func removeSorted(s []int64, v int64) []int64 {
	if s[0] == v { // the usual case: the earliest
		return s[1:]
	}
	i, _ := slices.BinarySearch(s, v) // v is there
	if i < len(s)/2 {
		copy(s[1:i+1], s[:i])
		return s[1:]
	}
	return slices.Delete(s, i, i+1)
}

func (a *ringAgg) add(e *ctxEntry) {
	a.firsts = insertSorted(a.firsts, a.firstsB, e.first)
	a.peers.inc(e.peer)
	if e.failed {
		a.fails++
	}
	if a.initiator() {
		a.lasts = insertSorted(a.lasts, a.lastsB, e.last)
		a.ports.inc(uint64(e.port))
		svc := svcKey(e)
		a.svcs.inc(svc)
		a.replies.inc(replyKey(svc, e))
	}
}

func (a *ringAgg) remove(e *ctxEntry) {
	a.firsts = removeSorted(a.firsts, e.first)
	a.peers.dec(e.peer)
	if e.failed {
		a.fails--
	}
	if a.initiator() {
		a.lasts = removeSorted(a.lasts, e.last)
		a.ports.dec(uint64(e.port))
		svc := svcKey(e)
		a.svcs.dec(svc)
		a.replies.dec(replyKey(svc, e))
	}
}

// atLeast is how many of the sorted s are ≥ v.
func atLeast(s []int64, v int64) int {
	i, _ := slices.BinarySearch(s, v)
	return len(s) - i
}

// counts is a multiset of uint64 keys: an open-addressing table with
// linear probing and backward-shift deletion, sized for at most max keys.
type counts struct {
	slots []countSlot
	n     int // distinct keys
}

type countSlot struct {
	key   uint64
	count uint32 // 0: empty
}

func newCounts(max int) counts {
	size := 16
	for size < 2*max {
		size *= 2
	}
	return counts{slots: make([]countSlot, size)}
}

func (c *counts) home(k uint64) int {
	return int((k * 0x9E3779B97F4A7C15) >> 32 & uint64(len(c.slots)-1))
}

// get returns how many times k is in the set.
func (c *counts) get(k uint64) int {
	mask := len(c.slots) - 1
	for i := c.home(k); ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.count == 0 {
			return 0
		}
		if s.key == k {
			return int(s.count)
		}
	}
}

func (c *counts) inc(k uint64) {
	mask := len(c.slots) - 1
	for i := c.home(k); ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.count == 0 {
			s.key, s.count = k, 1
			c.n++
			return
		}
		if s.key == k {
			s.count++
			return
		}
	}
}

// dec removes one k, which must be in the set.
func (c *counts) dec(k uint64) {
	mask := len(c.slots) - 1
	i := c.home(k)
	for c.slots[i].key != k || c.slots[i].count == 0 {
		i = (i + 1) & mask
	}
	if c.slots[i].count--; c.slots[i].count > 0 {
		return
	}
	c.n--
	// Backward shift: move later keys of the run into the hole when their
	// home is not between the hole and where they are.
	for j := (i + 1) & mask; c.slots[j].count != 0; j = (j + 1) & mask {
		h := c.home(c.slots[j].key)
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			c.slots[i] = c.slots[j]
			c.slots[j] = countSlot{}
			i = j
		}
	}
}
