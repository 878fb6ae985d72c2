package feature

import (
	"encoding/binary"
	"math"
	"net/netip"
)

// Context features describe the company a flow keeps: what its initiator,
// its responder and its service did around the same time. A scan probe, a
// flood packet or one brute-force attempt looks like an ordinary failed
// connection on its own; its context gives it away (in the spirit of
// UNSW-NB15's ct_* columns and Zeek's scan detection). They are counts and
// shares only: no address is ever a value.
//
// The window is the last ContextConfig.Flows flows of the host (or service)
// whose first packet came at most ContextConfig.Window before this flow's
// first packet, in packet time, counting this flow. Flows enter the context
// when they end, so the values depend only on the input.
type ContextConfig struct {
	Window   int64 // ns
	Flows    int   // flows remembered per host and per service
	MaxHosts int   // hosts and services remembered; the stalest are dropped beyond this
}

// DefaultContext is a 60 s window of at most 100 flows, for up to 200 000
// hosts and services.
var DefaultContext = ContextConfig{Window: 60e9, Flows: 100, MaxHosts: 200000}

// Context feature indices in ContextValues.
const (
	CtxSrcFlows = iota
	CtxSrcDstHosts
	CtxSrcDstPorts
	CtxSrcFailed
	CtxSrcRate
	CtxDstFlows
	CtxDstSrcHosts
	CtxDstFailed
	CtxSvcFlows
	CtxSvcSrcHosts
	CtxSvcFailed
	CtxPairFlows
	CtxPairSvcFlows
	CtxSrcBurst
	CtxSvcBurst
	CtxSrcConcurrent
	CtxPairSvcSameReply
	NumContext
)

// ContextValues are one flow's context features.
type ContextValues [NumContext]float64

var contextFeatures = [NumContext]struct{ name, unit, formula string }{
	CtxSrcFlows:         {"ctx_src_flows", "flows", "flows started by this flow's initiator host in the context window (this one included)"},
	CtxSrcDstHosts:      {"ctx_src_dst_hosts", "hosts", "distinct responder hosts among those flows"},
	CtxSrcDstPorts:      {"ctx_src_dst_ports", "ports", "distinct responder ports among those flows"},
	CtxSrcFailed:        {"ctx_src_failed_ratio", "1", "share of those flows that failed (see below)"},
	CtxSrcRate:          {"ctx_src_flows_per_s", "flows/s", "ctx_src_flows / window length (s)"},
	CtxDstFlows:         {"ctx_dst_flows", "flows", "flows answered (or not) by this flow's responder host in the window: its fan-in"},
	CtxDstSrcHosts:      {"ctx_dst_src_hosts", "hosts", "distinct initiator hosts among those flows"},
	CtxDstFailed:        {"ctx_dst_failed_ratio", "1", "share of those flows that failed"},
	CtxSvcFlows:         {"ctx_svc_flows", "flows", "flows to the same responder host, port and protocol in the window"},
	CtxSvcSrcHosts:      {"ctx_svc_src_hosts", "hosts", "distinct initiator hosts among those flows"},
	CtxSvcFailed:        {"ctx_svc_failed_ratio", "1", "share of those flows that failed"},
	CtxPairFlows:        {"ctx_pair_flows", "flows", "among the initiator's flows above, those to the same responder host (any port)"},
	CtxPairSvcFlows:     {"ctx_pair_svc_flows", "flows", "among the initiator's flows above, those to the same responder host, port and protocol: repeated logins look like this"},
	CtxSrcBurst:         {"ctx_src_flows_1s", "flows", "among the initiator's flows above, those that started at most 1 s before this one (this one included): how fast the host opens flows now"},
	CtxSvcBurst:         {"ctx_svc_flows_1s", "flows", "among the service's flows above, those that started at most 1 s before this one (this one included)"},
	CtxSrcConcurrent:    {"ctx_src_concurrent", "flows", "among the initiator's flows above, those whose first-to-last packet span overlaps this flow's: how many it ran at once (a client one request after another: 0)"},
	CtxPairSvcSameReply: {"ctx_pair_svc_same_reply_ratio", "1", "share of the ctx_pair_svc_flows flows (this one included) in which the responder sent exactly as many payload bytes as in this one: a flood's or a brute force's identical answers (1 for a lone flow)"},
}

type ctxEntry struct {
	first  int64
	last   int64
	peer   uint64 // hash of the other host
	reply  uint32 // payload bytes the responder sent (saturating)
	port   uint16
	proto  uint8
	failed bool
}

type ring struct {
	e    []ctxEntry
	next int         // where the next entry goes once e is full
	agg  *ringAgg    // from aggFrom entries on
	one  [1]ctxEntry // e's first buffer: most hosts have one flow
}

func (r *ring) add(e ctxEntry, max int) {
	if len(r.e) < max {
		r.e = append(r.e, e)
		if r.agg != nil {
			r.agg.add(&r.e[len(r.e)-1])
		}
	} else {
		if r.agg != nil {
			r.agg.remove(&r.e[r.next])
		}
		r.e[r.next] = e
		if r.agg != nil {
			r.agg.add(&r.e[r.next])
		}
		r.next = (r.next + 1) % max
	}
}

// whole returns r's aggregates when every entry of r started at or after
// from, else nil.
func (r *ring) whole(from int64) *ringAgg {
	if r == nil || r.agg == nil || r.agg.firsts[0] < from {
		return nil
	}
	return r.agg
}

// ctxKey is pointer-free (addresses as 16-byte arrays) so that it hashes fast.
type ctxKey struct {
	addr  [16]byte
	port  uint16
	proto uint8
	role  uint8 // 0 initiator host, 1 responder host, 2 service
}

// Context tracks recent flows per host and service. Not safe for concurrent
// use.
type Context struct {
	cfg     ContextConfig
	rings   ctxIndex
	drops   int // rings dropped so far
	aggFrom int // ring length from which aggregates are kept
	aggs    int // rings with aggregates
	maxAggs int // at most this many (maxAggs)
	peers   set // scratch for distinct counts
	ports   set
}

// NewContext returns an empty tracker; the zero ContextConfig is
// DefaultContext.
func NewContext(cfg ContextConfig) *Context {
	if cfg.Window == 0 {
		cfg = DefaultContext // the zero config
	}
	if cfg.Flows <= 0 {
		cfg.Flows = 1
	}
	return &Context{cfg: cfg, rings: newCtxIndex(), aggFrom: aggFrom, maxAggs: maxAggs,
		peers: newSet(cfg.Flows + 1), ports: newSet(cfg.Flows + 1)}
}

// hash identifies an address among a ring's peers: two rounds of
// splitmix64's mixer over its 16 bytes, stable across runs (only equality
// matters: the distinct counts).
func (c *Context) hash(a netip.Addr) uint64 {
	b := a.As16()
	return mix64(binary.LittleEndian.Uint64(b[:8]) ^ mix64(binary.LittleEndian.Uint64(b[8:])^0x9E3779B97F4A7C15))
}

// Flow is what the context needs of one flow.
type Flow struct {
	Src, Dst    netip.AddrPort // initiator and responder
	Proto       uint8
	First, Last int64 // first and last packet times (ns)
	Reply       int64 // payload bytes the responder sent
	Failed      bool  // Acc.Failed
}

// Observe returns the context of f, then adds f to the context.
func (c *Context) Observe(f *Flow) ContextValues {
	return c.observe(f, true)
}

// Peek returns the context of a flow that has not ended (an early verdict)
// without adding it.
func (c *Context) Peek(f *Flow) ContextValues {
	return c.observe(f, false)
}

func (c *Context) observe(f *Flow, add bool) ContextValues {
	var v ContextValues
	src, dst, proto, first, last := f.Src, f.Dst, f.Proto, f.First, f.Last
	from := first - c.cfg.Window
	dstHash, srcHash := c.hash(dst.Addr()), c.hash(src.Addr())
	reply := uint32(min(max(f.Reply, 0), math.MaxUint32))
	out := ctxEntry{first: first, last: last, peer: dstHash, reply: reply, port: dst.Port(), proto: proto, failed: f.Failed} // as the initiator sees it
	in := out                                                                                                                // as the responder sees it
	in.peer = srcHash

	kSrc := ctxKey{addr: src.Addr().As16(), role: 0}
	rSrc, iSrc := c.rings.find(&kSrc)
	n, hosts, ports, fails, burst := c.summarize(rSrc, from, &out, true)
	v[CtxSrcFlows], v[CtxSrcDstHosts], v[CtxSrcDstPorts], v[CtxSrcBurst] = n, hosts, ports, burst
	v[CtxSrcFailed] = fails / n
	v[CtxSrcRate] = n / (float64(c.cfg.Window) / 1e9)
	// Pairs are counted among the initiator's own recent flows.
	v[CtxPairFlows], v[CtxPairSvcFlows] = 1, 1
	same := 1.0
	if a := rSrc.whole(from); a != nil {
		v[CtxPairFlows] += float64(a.peers.get(dstHash))
		svc := svcKey(&out)
		v[CtxPairSvcFlows] += float64(a.svcs.get(svc))
		same += float64(a.replies.get(replyKey(svc, &out)))
		if k := atLeast(a.lasts, first); k > 0 && a.firsts[len(a.firsts)-1] <= last {
			v[CtxSrcConcurrent] = float64(k) // every entry started by this flow's last packet
		} else if k > 0 {
			for i := range rSrc.e {
				if e := &rSrc.e[i]; e.first <= last && e.last >= first {
					v[CtxSrcConcurrent]++
				}
			}
		}
	} else if rSrc != nil {
		for _, e := range rSrc.e {
			if e.first < from {
				continue
			}
			if e.peer == dstHash {
				v[CtxPairFlows]++
				if e.port == out.port && e.proto == proto {
					v[CtxPairSvcFlows]++
					if e.reply == reply {
						same++
					}
				}
			}
			if e.first <= last && e.last >= first {
				v[CtxSrcConcurrent]++
			}
		}
	}

	v[CtxPairSvcSameReply] = same / v[CtxPairSvcFlows]

	kDst := ctxKey{addr: dst.Addr().As16(), role: 1}
	rDst, iDst := c.rings.find(&kDst)
	n, hosts, _, fails, _ = c.summarize(rDst, from, &in, false)
	v[CtxDstFlows], v[CtxDstSrcHosts], v[CtxDstFailed] = n, hosts, fails/n

	kSvc := ctxKey{addr: dst.Addr().As16(), port: dst.Port(), proto: proto, role: 2}
	rSvc, iSvc := c.rings.find(&kSvc)
	n, hosts, _, fails, burst = c.summarize(rSvc, from, &in, false)
	v[CtxSvcFlows], v[CtxSvcSrcHosts], v[CtxSvcFailed], v[CtxSvcBurst] = n, hosts, fails/n, burst

	if add {
		drops := c.drops
		c.add(rSrc, iSrc, &kSrc, out)
		if c.drops != drops { // making room for a ring may have dropped these
			rDst, iDst = c.rings.find(&kDst)
			rSvc, iSvc = c.rings.find(&kSvc)
		}
		c.add(rDst, iDst, &kDst, in)
		if c.drops != drops {
			rSvc, iSvc = c.rings.find(&kSvc)
		}
		c.add(rSvc, iSvc, &kSvc, in)
	}
	return v
}

// set counts distinct values with an open-addressing table whose slots
// are invalidated by bumping a generation number, so starting a new count
// costs nothing (clearing a map for every flow does).
type set struct {
	slots []slot
	gen   uint32
	n     int
}

type slot struct {
	key uint64
	gen uint32
}

func newSet(capacity int) set {
	size := 16
	for size < 2*capacity {
		size *= 2
	}
	return set{slots: make([]slot, size)}
}

func (s *set) reset() {
	s.gen++
	s.n = 0
	if s.gen == 0 { // wrapped: old generations could look current again
		clear(s.slots)
		s.gen = 1
	}
}

func (s *set) add(k uint64) {
	mask := uint64(len(s.slots) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> 40 & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.gen != s.gen {
			sl.gen, sl.key = s.gen, k
			s.n++
			return
		}
		if sl.key == k {
			return
		}
	}
}

// burstWindow is the span of the ctx_*_flows_1s features.
const burstWindow = 1e9

// summarize counts the entries of r in the window plus self: flows, distinct
// peers, distinct ports (when withPorts), failures, and the flows that
// started at most burstWindow before self.
func (c *Context) summarize(r *ring, from int64, self *ctxEntry, withPorts bool) (n, peers, ports, fails, burst float64) {
	c.peers.reset()
	c.ports.reset()
	recent := self.first - burstWindow
	if a := r.whole(from); a != nil {
		n, burst = float64(len(a.firsts)+1), float64(atLeast(a.firsts, recent)+1)
		peers = float64(a.peers.n + oneIf(a.peers.get(self.peer) == 0))
		if withPorts {
			ports = float64(a.ports.n + oneIf(a.ports.get(uint64(self.port)) == 0))
		}
		return n, peers, ports, float64(a.fails + oneIf(self.failed)), burst
	}
	c.peers.add(self.peer)
	if withPorts {
		c.ports.add(uint64(self.port))
	}
	var cn, cburst, cfails int
	if self.failed {
		cfails++
	}
	if r != nil {
		for i := range r.e {
			e := &r.e[i]
			if e.first < from {
				continue
			}
			cn++
			if e.first >= recent {
				cburst++
			}
			c.peers.add(e.peer)
			if withPorts {
				c.ports.add(uint64(e.port))
			}
			if e.failed {
				cfails++
			}
		}
	}
	self1 := 1 // self started at self.first ≥ recent
	return float64(cn + 1), float64(c.peers.n), float64(c.ports.n), float64(cfails), float64(cburst + self1)
}

func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Len is the number of hosts and services remembered.
func (c *Context) Len() int { return c.rings.len() }

// add adds e to r, ring number id of k (nil and -1: none yet).
func (c *Context) add(r *ring, id int32, k *ctxKey, e ctxEntry) {
	if r == nil {
		if c.rings.len() >= c.cfg.MaxHosts {
			c.evict(e.first)
		}
		r, id = c.rings.insert(k)
	}
	r.add(e, c.cfg.Flows)
	c.rings.lasts[id] = max(c.rings.lasts[id], e.first)
	if r.agg == nil && len(r.e) >= c.aggFrom && c.aggs < c.maxAggs {
		r.agg = newRingAgg(r, c.cfg.Flows, k.role == 0)
		c.aggs++
	}
}

// drop forgets the rings whose latest flow started before horizon, and
// counts, among those it keeps, the ones whose latest flow started before
// each of later (in the same pass, so that evict reads each ring once more
// at most).
func (c *Context) drop(horizon int64, later []int64, older []int) {
	for id, last := range c.rings.lasts {
		if last < horizon {
			r := c.rings.remove(int32(id))
			if r.agg != nil {
				c.aggs--
			}
			*r = ring{e: r.e[:0], one: r.one}
			if cap(r.e) == 1 {
				r.e = r.one[:0]
			}
			c.drops++
			continue
		}
		for i, h := range later {
			if last < h {
				older[i]++
			}
		}
	}
}

// evict makes room when MaxHosts rings are held: it drops the rings with no
// flow in the window before now, then, if that frees too little, those older
// than half the window, or if that would free too little too, all older than
// now. It goes over the rings at most twice: the first pass counts what the
// later horizons would free.
func (c *Context) evict(now int64) {
	enough := c.cfg.MaxHosts * 9 / 10
	later := [2]int64{now - c.cfg.Window/2, now}
	var older [2]int
	c.drop(now-c.cfg.Window, later[:], older[:])
	if c.rings.len() < enough {
		return
	}
	h := later[1]
	if c.rings.len()-older[0] < enough {
		h = later[0]
	}
	c.drop(h, nil, nil)
}
