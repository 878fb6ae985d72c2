package filter

import (
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

var exprs = []string{
	"ip", "ip6", "arp", "tcp", "udp", "icmp", "not tcp",
	"host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.1", "host 192.0.2.80",
	"host 2001:db8::1", "src host 2001:db8::80", "dst host 2001:db8::1",
	"net 10.0.0.0/8", "src net 192.0.2.0/24", "dst net 10.0.0.0/24", "net 2001:db8::/32", "net 2001:db8::/64", "net 0.0.0.0/0",
	"port 53", "port 80", "src port 53", "dst port 80", "tcp port 80", "udp port 53", "tcp dst port 443",
	"portrange 50-90", "tcp portrange 1000-2000", "src portrange 40000-50000",
	"tcp and port 80", "udp or icmp", "not (tcp or udp)", "host 10.0.0.1 and not port 53",
	"(ip6 or arp) and not host 10.0.0.1", "icmp or (tcp and dst port 80) or net 2001:db8::/48",
	"!tcp && !udp", "src host 10.0.0.1 || dst port 53",
}

// frames exercises the cases the filters distinguish: each protocol over
// IPv4 and IPv6, both directions, IP options, later fragments, IPv6
// fragment headers, ARP, and ports inside and outside the ranges.
func frames() [][]byte {
	a4 := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.0.2.80"), netip.MustParseAddr("10.1.2.3")}
	a6 := []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::80"), netip.MustParseAddr("2001:db9::5")}
	ports := []uint16{53, 80, 443, 1500, 45000, 9}
	var out [][]byte
	for _, addrs := range [][]netip.Addr{a4, a6} {
		for i, s := range addrs {
			for j, d := range addrs {
				if i == j {
					continue
				}
				for _, proto := range []uint8{packet.ProtoTCP, packet.ProtoUDP, 132} {
					for k, sp := range ports {
						dp := ports[(k+i+j)%len(ports)]
						f := packettest.Frame{Src: s, Dst: d, Proto: proto, SrcPort: sp, DstPort: dp, Payload: 10}
						if proto == 132 {
							f.Proto = packet.ProtoUDP // an SCTP-like header: same port layout
							b := f.Bytes()
							if s.Is4() {
								b[14+9] = 132
							} else {
								b[14+6] = 132
							}
							out = append(out, b)
							continue
						}
						out = append(out, f.Bytes())
						g := f
						g.IPOptions = 8
						if s.Is4() {
							out = append(out, g.Bytes())
						}
						g = f
						g.MoreFrags, g.FragID = true, 9 // first fragment: ports present
						out = append(out, g.Bytes())
						g.FragOffset, g.MoreFrags = 1480, false // later fragment: no ports
						out = append(out, g.Bytes())
					}
				}
				icmpProto := uint8(packet.ProtoICMP)
				if s.Is6() {
					icmpProto = packet.ProtoICMPv6
				}
				out = append(out, packettest.Frame{Src: s, Dst: d, Proto: icmpProto, ICMPType: 8, Payload: 8}.Bytes())
			}
		}
	}
	arp := func(op byte, spa, tpa [4]byte, etype uint16) []byte {
		b := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, byte(etype >> 8), byte(etype), 0, 1, 8, 0, 6, 4, 0, op, 2, 0, 0, 0, 0, 1}
		b = append(b, spa[:]...)
		b = append(b, 0, 0, 0, 0, 0, 0)
		b = append(b, tpa[:]...)
		return append(b, make([]byte, 18)...)
	}
	out = append(out, arp(1, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 0x0806), arp(2, [4]byte{192, 0, 2, 80}, [4]byte{10, 1, 2, 3}, 0x0806),
		arp(3, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 9}, 0x8035), make([]byte, 60))
	return out
}

func run(t *testing.T, prog []bpf.RawInstruction, frame []byte) bool {
	t.Helper()
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("cannot disassemble %v", prog)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return n > 0
}

// libpcap compiles expr with Debian's tcpdump (-dd).
func libpcap(t *testing.T, expr string) []bpf.RawInstruction {
	out, err := exec.Command("tcpdump", "-dd", "-y", "EN10MB", expr).Output()
	if err != nil {
		t.Fatalf("tcpdump -dd %q: %v", expr, err)
	}
	var prog []bpf.RawInstruction
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == '}' || r == ',' || r == ' ' })
		if len(f) != 4 {
			t.Fatalf("line %q", line)
		}
		var v [4]uint64
		for i := range f {
			v[i], _ = strconv.ParseUint(f[i], 0, 32)
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog
}

// TestAgainstLibpcap compiles every expression with this package and with
// libpcap (through tcpdump) and runs both programs on every frame.
func TestAgainstLibpcap(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump (libpcap) not installed: apt-get install tcpdump")
	}
	fs := frames()
	for _, e := range exprs {
		ours, err := Compile(e)
		if err != nil {
			t.Errorf("%q: %v", e, err)
			continue
		}
		theirs := libpcap(t, e)
		bad, accepted := 0, 0
		for i, fr := range fs {
			a, b := run(t, ours, fr), run(t, theirs, fr)
			if a != b {
				if bad++; bad <= 3 {
					t.Errorf("%q: frame %d: ours %v, libpcap %v", e, i, a, b)
				}
			}
			if a {
				accepted++
			}
		}
		if accepted == 0 || accepted == len(fs) {
			t.Errorf("%q accepts %d of %d frames: the frames do not tell programs apart", e, accepted, len(fs))
		}
	}
	t.Logf("%d expressions × %d frames", len(exprs), len(fs))
}

func TestErrors(t *testing.T) {
	for _, e := range []string{"", "host", "host 300.1.1.1", "port 70000", "portrange 5", "vlan 5000", "(tcp", "tcp)", "net 10.0.0.1/8", "tcp host 10.0.0.1",
		"port 000000000000", "tcp port 000000000777", "vlan 000000000000"} { // twelve hex digits: an Ethernet address to libpcap
		if _, err := Compile(e); err == nil {
			t.Errorf("%q compiled", e)
		}
	}
}

// vlan compiles to the kernel's ancillary VLAN loads (the VM cannot run
// them; the live test runs them in a real kernel).
func TestVLANProgram(t *testing.T) {
	prog, err := Compile("vlan 10 and udp")
	if err != nil {
		t.Fatal(err)
	}
	if prog[0] != (bpf.RawInstruction{Op: 0x20, Jt: 0, Jf: 0, K: 0xfffff030}) || prog[2].K != 0xfffff02c || prog[3] != (bpf.RawInstruction{Op: 0x54, K: 0xfff}) {
		t.Errorf("program %v", prog[:4])
	}
}
