package filter

import (
	"encoding/binary"
	"errors"

	"golang.org/x/net/bpf"
)

// Labels of the final accept and reject instructions; others are positive.
const (
	labelTrue  = -1
	labelFalse = -2
)

// ins is an instruction whose jump targets are labels until assembly.
type ins struct {
	raw    bpf.RawInstruction
	jt, jf int
	cond   bool
}

// gen lays out code top to bottom. Classic BPF jumps only forward, and
// every label is placed after the code that jumps to it.
type gen struct {
	code   []ins
	labels int
	at     map[int]int // label → instruction index
	pend   []int
	vlans  int    // vlan primitives generated so far
	shift  uint32 // bytes of in-band VLAN tags before the network header
}

func (g *gen) newLabel() int { g.labels++; return g.labels }

func (g *gen) place(l int) { g.pend = append(g.pend, l) }

func (g *gen) emit(i ins) {
	if g.at == nil {
		g.at = map[int]int{}
	}
	for _, l := range g.pend {
		g.at[l] = len(g.code)
	}
	g.pend = g.pend[:0]
	g.code = append(g.code, i)
}

// Opcodes (classic BPF).
const (
	opLdH  = 0x28 // ldh [k]
	opLdW  = 0x20 // ld [k]
	opLdB  = 0x30 // ldb [k]
	opLdXB = 0xb1 // ldxb 4*([k]&0xf)
	opLdHX = 0x48 // ldh [x + k]
	opAnd  = 0x54 // and #k
	opJeq  = 0x15
	opJgt  = 0x25
	opJge  = 0x35
	opJset = 0x45
	opRet  = 0x06
	accept = 262144

	skfAdOff            = 0xfffff000 // SKF_AD_OFF (−4096)
	skfAdVLANTag        = 44         // SKF_AD_VLAN_TAG
	skfAdVLANTagPresent = 48         // SKF_AD_VLAN_TAG_PRESENT
)

// load emits a load; packet offsets move past the in-band VLAN tags that
// the vlan primitives generated before it test for.
func (g *gen) load(op uint16, k uint32) {
	if k < skfAdOff {
		k += g.shift
	}
	g.emit(ins{raw: bpf.RawInstruction{Op: op, K: k}})
}

func (g *gen) jump(op uint16, k uint32, t, f int) {
	g.emit(ins{raw: bpf.RawInstruction{Op: op, K: k}, jt: t, jf: f, cond: true})
}

// test emits "load [off]; jeq #k" with targets t and f.
func (g *gen) test(op uint16, off, k uint32, t, f int) {
	g.load(op, off)
	g.jump(opJeq, k, t, f)
}

func (g *gen) node(n *node, t, f int) {
	switch n.op {
	case "and":
		l := g.newLabel()
		g.node(n.a, l, f)
		g.place(l)
		g.node(n.b, t, f)
	case "or":
		l := g.newLabel()
		g.node(n.a, t, l)
		g.place(l)
		g.node(n.b, t, f)
	case "not":
		g.node(n.a, f, t)
	default:
		g.prim(&n.prim, t, f)
	}
}

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherARP  = 0x0806
	etherRARP = 0x8035
)

func (g *gen) prim(p *prim, t, f int) {
	switch p.kind {
	case "ip":
		g.test(opLdH, 12, etherIPv4, t, f)
	case "ip6":
		g.test(opLdH, 12, etherIPv6, t, f)
	case "arp":
		g.test(opLdH, 12, etherARP, t, f)
	case "icmp":
		l := g.newLabel()
		g.test(opLdH, 12, etherIPv4, l, f)
		g.place(l)
		g.test(opLdB, 23, 1, t, f)
	case "tcp", "udp":
		g.transport(uint32(p.proto0()), t, f)
	case "vlan":
		g.vlans++
		if g.vlans > 1 {
			g.vlanInBand(p, t, f)
			return
		}
		// The outer tag: the kernel has moved it to the packet's metadata.
		// Linux ancillary data: SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TAG.
		if p.lo == 0xffff {
			g.test(opLdW, skfAdOff+skfAdVLANTagPresent, 1, t, f)
			return
		}
		l := g.newLabel()
		g.test(opLdW, skfAdOff+skfAdVLANTagPresent, 1, l, f)
		g.place(l)
		g.load(opLdW, skfAdOff+skfAdVLANTag)
		g.emit(ins{raw: bpf.RawInstruction{Op: opAnd, K: 0x0fff}})
		g.jump(opJeq, uint32(p.lo), t, f)
	case "host", "net":
		g.address(p, t, f)
	case "port", "portrange":
		g.port(p, t, f)
	}
}

func (p *prim) proto0() uint8 {
	if p.kind == "udp" {
		return 17
	}
	return 6
}

// transport: IPv4 protocol, or IPv6 next header (also behind a fragment
// header), as libpcap's "tcp" and "udp".
func (g *gen) transport(proto uint32, t, f int) {
	l4, l6, l6b, lfrag, lfh := g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel()
	g.test(opLdH, 12, etherIPv4, l4, l6)
	g.place(l4)
	g.test(opLdB, 23, proto, t, f)
	g.place(l6)
	g.test(opLdH, 12, etherIPv6, l6b, f)
	g.place(l6b)
	g.test(opLdB, 20, proto, t, lfrag)
	g.place(lfrag)
	g.test(opLdB, 20, 44, lfh, f)
	g.place(lfh)
	g.test(opLdB, 54, proto, t, f)
}

// words compares the 32-bit words of an address at off with pfx (masked).
func (g *gen) words(off uint32, pfx [16]byte, bits int, n int, t, f int) {
	for w := 0; w < n; w++ {
		keep := bits - 32*w
		if keep <= 0 {
			break
		}
		mask := uint32(0xffffffff)
		if keep < 32 {
			mask = ^uint32(0) << (32 - keep)
		}
		g.load(opLdW, off+uint32(4*w))
		if mask != 0xffffffff {
			g.emit(ins{raw: bpf.RawInstruction{Op: opAnd, K: mask}})
		}
		next := t
		if keep > 32 && w+1 < n {
			next = g.newLabel()
		}
		g.jump(opJeq, binary.BigEndian.Uint32(pfx[4*w:])&mask, next, f)
		if next != t {
			g.place(next)
		}
	}
	if bits == 0 {
		g.emit(ins{raw: bpf.RawInstruction{Op: 0x05}, jt: t, cond: false}) // ja t (any address)
	}
}

// address: host or net, on IPv4 (with ARP and RARP sender and target, as
// libpcap) or IPv6.
func (g *gen) address(p *prim, t, f int) {
	a := p.pfx.Addr()
	if a.Is6() {
		b := a.As16()
		l6 := g.newLabel()
		g.test(opLdH, 12, etherIPv6, l6, f)
		g.place(l6)
		g.either(p.dir, t, f, func(t, f int) { g.words(22, b, p.pfx.Bits(), 4, t, f) }, func(t, f int) { g.words(38, b, p.pfx.Bits(), 4, t, f) })
		return
	}
	var b [16]byte
	v4 := a.As4()
	copy(b[:], v4[:])
	lip, larp, lrarp, larpAddr := g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel()
	g.test(opLdH, 12, etherIPv4, lip, larp)
	g.place(lip)
	g.either(p.dir, t, f, func(t, f int) { g.words(26, b, p.pfx.Bits(), 1, t, f) }, func(t, f int) { g.words(30, b, p.pfx.Bits(), 1, t, f) })
	g.place(larp)
	g.test(opLdH, 12, etherARP, larpAddr, lrarp)
	g.place(lrarp)
	g.test(opLdH, 12, etherRARP, larpAddr, f)
	g.place(larpAddr)
	g.either(p.dir, t, f, func(t, f int) { g.words(28, b, p.pfx.Bits(), 1, t, f) }, func(t, f int) { g.words(38, b, p.pfx.Bits(), 1, t, f) })
}

// either emits src, dst, or "src or dst" by direction.
func (g *gen) either(dir string, t, f int, src, dst func(t, f int)) {
	switch dir {
	case "src":
		src(t, f)
	case "dst":
		dst(t, f)
	default:
		l := g.newLabel()
		src(t, l)
		g.place(l)
		dst(t, f)
	}
}

// portTest compares the 16-bit value just loaded with the port or range.
func (g *gen) portTest(p *prim, t, f int) {
	if p.lo == p.hi {
		g.jump(opJeq, uint32(p.lo), t, f)
		return
	}
	l := g.newLabel()
	g.jump(opJge, uint32(p.lo), l, f)
	g.place(l)
	g.jump(opJgt, uint32(p.hi), f, t)
}

// port: TCP, UDP or SCTP port (only p.proto when set) on IPv6 (fixed
// header) or IPv4 (not a later fragment; header length from IHL).
func (g *gen) port(p *prim, t, f int) {
	protos := []uint32{132, 6, 17}
	if p.proto != 0 {
		protos = []uint32{uint32(p.proto)}
	}
	matchProto := func(off uint32, t, f int) {
		g.load(opLdB, off)
		for i, pr := range protos {
			next := f
			if i+1 < len(protos) {
				next = g.newLabel()
			}
			g.jump(opJeq, pr, t, next)
			if next != f {
				g.place(next)
			}
		}
	}
	l6, l6p, l4, l4p, l4nf := g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel()
	g.test(opLdH, 12, etherIPv6, l6, l4)
	g.place(l6)
	matchProto(20, l6p, f)
	g.place(l6p)
	g.either(p.dir, t, f,
		func(t, f int) { g.load(opLdH, 54); g.portTest(p, t, f) },
		func(t, f int) { g.load(opLdH, 56); g.portTest(p, t, f) })
	g.place(l4)
	g.test(opLdH, 12, etherIPv4, l4p, f)
	g.place(l4p)
	matchProto(23, l4nf, f)
	g.place(l4nf)
	lx := g.newLabel()
	g.load(opLdH, 20)
	g.jump(opJset, 0x1fff, f, lx)
	g.place(lx)
	g.load(opLdXB, 14)
	g.either(p.dir, t, f,
		func(t, f int) { g.load(opLdHX, 14); g.portTest(p, t, f) },
		func(t, f int) { g.load(opLdHX, 16); g.portTest(p, t, f) })
}

// assemble appends the accept and reject returns and turns labels into
// relative jumps.
func (g *gen) assemble() ([]bpf.RawInstruction, error) {
	g.place(labelTrue)
	g.emit(ins{raw: bpf.RawInstruction{Op: opRet, K: accept}})
	g.place(labelFalse)
	g.emit(ins{raw: bpf.RawInstruction{Op: opRet, K: 0}})
	out := make([]bpf.RawInstruction, len(g.code))
	for i, c := range g.code {
		out[i] = c.raw
		if c.raw.Op == 0x05 { // ja
			out[i].K = uint32(g.at[c.jt] - (i + 1))
			continue
		}
		if !c.cond {
			continue
		}
		jt, jf := g.at[c.jt]-(i+1), g.at[c.jf]-(i+1)
		if jt < 0 || jf < 0 || jt > 255 || jf > 255 {
			return nil, errors.New("filter: expression too large for classic BPF jumps")
		}
		out[i].Jt, out[i].Jf = uint8(jt), uint8(jf)
	}
	return out, nil
}

// vlanInBand tests for a tag still in the frame (the inner tag of QinQ: the
// kernel moves only the outer one out), TPID 0x8100, 0x88a8 or 0x9100 as
// libpcap, and its VLAN ID; everything generated after it looks 4 bytes
// further on.
func (g *gen) vlanInBand(p *prim, t, f int) {
	yes := t
	if p.lo != 0xffff {
		yes = g.newLabel()
	}
	l1, l2 := g.newLabel(), g.newLabel()
	g.test(opLdH, 12, 0x8100, yes, l1)
	g.place(l1)
	g.jump(opJeq, 0x88a8, yes, l2)
	g.place(l2)
	g.jump(opJeq, 0x9100, yes, f)
	if p.lo != 0xffff {
		g.place(yes)
		g.load(opLdH, 14)
		g.emit(ins{raw: bpf.RawInstruction{Op: opAnd, K: 0x0fff}})
		g.jump(opJeq, uint32(p.lo), t, f)
	}
	g.shift += 4
}
