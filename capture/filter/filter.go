// Package filter compiles capture filters in tcpdump syntax into classic BPF
// programs for Ethernet frames, in pure Go.
//
// The subset: `ip`, `ip6`, `arp`, `tcp`, `udp`, `icmp`, `vlan [ID]`; `[src|dst] host
// ADDR` (IPv4, which as in libpcap also matches ARP/RARP sender and target,
// or IPv6); `[src|dst] net ADDR/LEN`; `[tcp|udp] [src|dst] port N` and
// `portrange N-M`; combined with `and`/`&&`, `or`/`||`, `not`/`!` and
// parentheses. Programs accept and reject exactly the frames libpcap's do;
// a test compares both on many frames.
//
// `vlan` is compiled for Linux packet sockets, where the kernel has moved
// the outer 802.1Q/802.1ad tag out of the frame into the packet's metadata
// before any filter runs: the first `vlan` tests that tag through the
// kernel's ancillary loads (as libpcap does on a live Linux socket), and
// the offsets after it do not shift. A second `vlan` (QinQ) tests the tag
// that is still in the frame (TPID 0x8100, 0x88a8 or 0x9100) and moves the
// offsets of everything after it by 4 bytes, as libpcap's do. Both are
// tested against the kernel (the live capture test sends tagged frames
// through a veth pair), since the BPF VM used for the libpcap comparison has
// no ancillary data.
package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// Compile returns the BPF program for expr.
func Compile(expr string) ([]bpf.RawInstruction, error) {
	p := &parser{toks: tokenize(expr)}
	if len(p.toks) == 0 {
		return nil, fmt.Errorf("filter: empty expression")
	}
	n, err := p.expr()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("filter %q: unexpected %q", expr, p.toks[p.i])
	}
	var g gen
	g.node(n, labelTrue, labelFalse)
	return g.assemble()
}

func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ", "&&", " and ", "||", " or ", "!", " not ").Replace(s)
	// white space is libpcap's: space, tab, CR, LF (anything else, a form
	// feed say, stays in its token and makes it unknown)
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
}

// node is the expression tree.
type node struct {
	op   string // "and", "or", "not", "prim"
	a, b *node
	prim prim
}

type prim struct {
	kind  string // ip ip6 arp tcp udp icmp host net port portrange
	dir   string // "", src, dst
	proto uint8  // for port/portrange: 0 (tcp, udp, sctp), 6 or 17
	pfx   netip.Prefix
	lo    uint16
	hi    uint16
}

type parser struct {
	toks []string
	i    int
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.i++; return t }

// expr parses factors joined by and/or. As in libpcap, "and" and "or" have
// the same precedence and associate left to right: "a or b and c" is
// "(a or b) and c".
func (p *parser) expr() (*node, error) {
	a, err := p.factor()
	if err != nil {
		return nil, err
	}
	for op := p.peek(); op == "and" || op == "or"; op = p.peek() {
		p.next()
		b, err := p.factor()
		if err != nil {
			return nil, err
		}
		a = &node{op: op, a: a, b: b}
	}
	return a, nil
}

func (p *parser) factor() (*node, error) {
	switch t := p.peek(); t {
	case "not":
		p.next()
		a, err := p.factor()
		if err != nil {
			return nil, err
		}
		return &node{op: "not", a: a}, nil
	case "(":
		p.next()
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return a, nil
	case "":
		return nil, fmt.Errorf("expression ends too early")
	}
	return p.primitive()
}

func (p *parser) primitive() (*node, error) {
	var pr prim
	t := p.next()
	switch t {
	case "tcp", "udp":
		pr.proto = 6
		if t == "udp" {
			pr.proto = 17
		}
		if s := p.peek(); s == "port" || s == "portrange" || s == "src" || s == "dst" {
			break // "tcp port 80": a port of that protocol
		}
		return &node{op: "prim", prim: prim{kind: t}}, nil
	case "ip", "ip6", "arp", "icmp":
		return &node{op: "prim", prim: prim{kind: t}}, nil
	case "vlan":
		pr := prim{kind: "vlan", lo: 0xffff}
		if v, err := number(p.peek()); err == nil {
			if v > 4095 {
				return nil, fmt.Errorf("vlan %d: IDs go up to 4095", v)
			}
			p.next()
			pr.lo = uint16(v)
		}
		return &node{op: "prim", prim: pr}, nil
	case "src", "dst":
		pr.dir = t
	default:
		p.i--
	}
	if pr.dir == "" {
		if s := p.peek(); s == "src" || s == "dst" {
			pr.dir = p.next()
		}
	}
	kind := p.next()
	arg := p.next()
	if arg == "" {
		return nil, fmt.Errorf("%q needs a value", kind)
	}
	pr.kind = kind
	var err error
	switch kind {
	case "host":
		var a netip.Addr
		if a, err = netip.ParseAddr(arg); err == nil && a.Zone() != "" {
			err = errors.New("an address with a zone is not a host")
		} else if err == nil {
			pr.pfx = netip.PrefixFrom(a, a.BitLen())
		}
	case "net":
		pr.pfx, err = netip.ParsePrefix(arg)
		if err == nil && pr.pfx.Masked() != pr.pfx {
			err = fmt.Errorf("%s has host bits set", arg)
		}
	case "port":
		var n uint64
		n, err = number(arg)
		pr.lo, pr.hi = uint16(n), uint16(n)
	case "portrange":
		a, b, ok := strings.Cut(arg, "-")
		var x, y uint64
		if x, err = decimal(a); err == nil && ok {
			y, err = decimal(b)
		} else if !ok {
			err = fmt.Errorf("portrange wants N-M")
		}
		pr.lo, pr.hi = uint16(min(x, y)), uint16(max(x, y))
	default:
		return nil, fmt.Errorf("unsupported primitive %q (this compiler knows ip, ip6, arp, tcp, udp, icmp, host, net, port, portrange)", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", kind, arg, err)
	}
	if (pr.kind == "host" || pr.kind == "net") && pr.proto != 0 {
		return nil, fmt.Errorf("%s after tcp/udp is not supported", pr.kind)
	}
	return &node{op: "prim", prim: pr}, nil
}

// number reads a 16-bit number as libpcap does: 0x… hexadecimal, 0…
// octal, otherwise decimal. Twelve hexadecimal digits are not a number to
// libpcap but an Ethernet address (its scanner's MAC form xxxxxxxxxxxx),
// refused where a number is wanted: "port 000000000000" is an error there,
// so it is one here.
func number(s string) (uint64, error) {
	if len(s) == 12 && strings.Trim(s, "0123456789abcdefABCDEF") == "" {
		return 0, fmt.Errorf("%q is an Ethernet address to libpcap (twelve hexadecimal digits), not a number", s)
	}
	base, digits := 10, s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if strings.ContainsAny(digits, "+-_") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(digits, base, 16)
	if err != nil {
		return 0, fmt.Errorf("%q is not a 16-bit number (0x… hexadecimal, 0… octal, or decimal)", s)
	}
	return n, nil
}

// decimal reads a 16-bit decimal number: libpcap reads the ends of a
// portrange in decimal only (010 is 10; it reads 0x10 as 0, which is
// refused here).
func decimal(s string) (uint64, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return strconv.ParseUint(s, 10, 16)
}

// ParseRaw reads a classic BPF program in the format of `tcpdump -dd`: one
// "{ code, jt, jf, k }," per line.
func ParseRaw(text string) ([]bpf.RawInstruction, error) {
	var prog []bpf.RawInstruction
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var ins bpf.RawInstruction
		var jt, jf uint32
		if _, err := fmt.Sscanf(strings.TrimSuffix(line, ","), "{ %v, %v, %v, %v }", &ins.Op, &jt, &jf, &ins.K); err != nil || jt > 255 || jf > 255 {
			return nil, fmt.Errorf("BPF line %d: %q is not { code, jt, jf, k }", i+1, line)
		}
		ins.Jt, ins.Jf = uint8(jt), uint8(jf)
		prog = append(prog, ins)
	}
	if len(prog) == 0 {
		return nil, errors.New("empty BPF program")
	}
	return prog, nil
}
