package feature

import "net/netip"

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
	NumContext
)

// ContextValues are one flow's context features.
type ContextValues [NumContext]float64

var contextFeatures = [NumContext]struct{ name, unit, formula string }{
	CtxSrcFlows:     {"ctx_src_flows", "flows", "flows started by this flow's initiator host in the context window (this one included)"},
	CtxSrcDstHosts:  {"ctx_src_dst_hosts", "hosts", "distinct responder hosts among those flows"},
	CtxSrcDstPorts:  {"ctx_src_dst_ports", "ports", "distinct responder ports among those flows"},
	CtxSrcFailed:    {"ctx_src_failed_ratio", "1", "share of those flows that failed (see below)"},
	CtxSrcRate:      {"ctx_src_flows_per_s", "flows/s", "ctx_src_flows / window length (s)"},
	CtxDstFlows:     {"ctx_dst_flows", "flows", "flows answered (or not) by this flow's responder host in the window: its fan-in"},
	CtxDstSrcHosts:  {"ctx_dst_src_hosts", "hosts", "distinct initiator hosts among those flows"},
	CtxDstFailed:    {"ctx_dst_failed_ratio", "1", "share of those flows that failed"},
	CtxSvcFlows:     {"ctx_svc_flows", "flows", "flows to the same responder host, port and protocol in the window"},
	CtxSvcSrcHosts:  {"ctx_svc_src_hosts", "hosts", "distinct initiator hosts among those flows"},
	CtxSvcFailed:    {"ctx_svc_failed_ratio", "1", "share of those flows that failed"},
	CtxPairFlows:    {"ctx_pair_flows", "flows", "flows between the same initiator and responder hosts (any port) in the window"},
	CtxPairSvcFlows: {"ctx_pair_svc_flows", "flows", "flows from the same initiator host to the same responder host, port and protocol in the window: repeated logins look like this"},
}

type ctxEntry struct {
	first  int64
	peer   uint64 // hash of the other host
	port   uint16
	failed bool
}

type ring struct {
	e    []ctxEntry
	next int // where the next entry goes once e is full
	last int64
}

func (r *ring) add(e ctxEntry, max int) {
	if len(r.e) < max {
		r.e = append(r.e, e)
	} else {
		r.e[r.next] = e
		r.next = (r.next + 1) % max
	}
	r.last = max64(r.last, e.first)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

type ctxKey struct {
	addr  netip.Addr
	peer  netip.Addr // for host pairs
	port  uint16
	proto uint8
	role  uint8 // 0 initiator host, 1 responder host, 2 service, 3 host pair, 4 initiator to service
}

// Context tracks recent flows per host and service. Not safe for concurrent
// use.
type Context struct {
	cfg   ContextConfig
	rings map[ctxKey]*ring
	seen  map[uint64]struct{}
	ports map[uint16]struct{}
}

// NewContext returns an empty tracker.
func NewContext(cfg ContextConfig) *Context {
	if cfg.Flows <= 0 {
		cfg.Flows = 1
	}
	return &Context{cfg: cfg, rings: make(map[ctxKey]*ring),
		seen: make(map[uint64]struct{}), ports: make(map[uint16]struct{})}
}

// hash is FNV-1a over the address: stable across runs, so the output is too.
func (c *Context) hash(a netip.Addr) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range a.As16() {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

// Observe returns the context of a flow from src to dst (initiator and
// responder) that started at first, then adds the flow to the context.
func (c *Context) Observe(src, dst netip.AddrPort, proto uint8, first int64, failed bool) ContextValues {
	var v ContextValues
	from := first - c.cfg.Window
	self := ctxEntry{first: first, port: dst.Port(), failed: failed}

	kSrc := ctxKey{addr: src.Addr(), role: 0}
	n, hosts, ports, fails := c.summarize(c.rings[kSrc], from, ctxEntry{first: first, peer: c.hash(dst.Addr()), port: dst.Port(), failed: failed}, true)
	v[CtxSrcFlows], v[CtxSrcDstHosts], v[CtxSrcDstPorts] = n, hosts, ports
	v[CtxSrcFailed] = fails / n
	v[CtxSrcRate] = n / (float64(c.cfg.Window) / 1e9)

	self.peer = c.hash(src.Addr())
	kDst := ctxKey{addr: dst.Addr(), role: 1}
	n, hosts, _, fails = c.summarize(c.rings[kDst], from, self, false)
	v[CtxDstFlows], v[CtxDstSrcHosts], v[CtxDstFailed] = n, hosts, fails/n

	kSvc := ctxKey{addr: dst.Addr(), port: dst.Port(), proto: proto, role: 2}
	n, hosts, _, fails = c.summarize(c.rings[kSvc], from, self, false)
	v[CtxSvcFlows], v[CtxSvcSrcHosts], v[CtxSvcFailed] = n, hosts, fails/n

	kPair := ctxKey{addr: src.Addr(), peer: dst.Addr(), role: 3}
	n, _, _, _ = c.summarize(c.rings[kPair], from, self, false)
	v[CtxPairFlows] = n
	kPairSvc := ctxKey{addr: src.Addr(), peer: dst.Addr(), port: dst.Port(), proto: proto, role: 4}
	n, _, _, _ = c.summarize(c.rings[kPairSvc], from, self, false)
	v[CtxPairSvcFlows] = n

	c.add(kSrc, ctxEntry{first: first, peer: c.hash(dst.Addr()), port: dst.Port(), failed: failed})
	c.add(kDst, self)
	c.add(kSvc, self)
	c.add(kPair, self)
	c.add(kPairSvc, self)
	return v
}

// summarize counts the entries of r in the window plus self: flows, distinct
// peers, distinct ports (when withPorts) and failures.
func (c *Context) summarize(r *ring, from int64, self ctxEntry, withPorts bool) (n, peers, ports, fails float64) {
	clear(c.seen)
	clear(c.ports)
	count := func(e ctxEntry) {
		n++
		c.seen[e.peer] = struct{}{}
		if withPorts {
			c.ports[e.port] = struct{}{}
		}
		if e.failed {
			fails++
		}
	}
	count(self)
	if r != nil {
		for _, e := range r.e {
			if e.first >= from {
				count(e)
			}
		}
	}
	return n, float64(len(c.seen)), float64(len(c.ports)), fails
}

// Len is the number of hosts and services remembered.
func (c *Context) Len() int { return len(c.rings) }

func (c *Context) add(k ctxKey, e ctxEntry) {
	r := c.rings[k]
	if r == nil {
		if len(c.rings) >= c.cfg.MaxHosts {
			c.evict(e.first)
		}
		r = &ring{}
		c.rings[k] = r
	}
	r.add(e, c.cfg.Flows)
}

// evict drops the hosts and services with no flow in the window before now;
// if that frees too little, it drops everything older than half the window.
func (c *Context) evict(now int64) {
	for _, horizon := range []int64{now - c.cfg.Window, now - c.cfg.Window/2, now} {
		for k, r := range c.rings {
			if r.last < horizon {
				delete(c.rings, k)
			}
		}
		if len(c.rings) < c.cfg.MaxHosts*9/10 {
			return
		}
	}
}
