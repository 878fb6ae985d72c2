package packettest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/flowmeter/flowmeter/packet"
)

// Fixture is a small capture the project generates for its own tests.
type Fixture struct {
	Name string // file name under meter/testdata
	How  string // one line on how it was made
	Data []byte
}

var fixtureT0 = time.Date(2024, 3, 14, 15, 9, 26, 535897000, time.UTC)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// Fixtures returns the test captures, built deterministically by this file.
// `go test ./meter -update` writes them to meter/testdata with their golden
// outputs, and a test checks that the checked-in files are what this code
// makes.
func Fixtures() []Fixture {
	return []Fixture{
		{"tcp_sessions.pcap", "pcap, µs, little-endian, Ethernet: an HTTP-like exchange closed by FINs, a connection reset, port reuse after close, a retransmission, a bulk download and a trailing ACK",
			Pcap(PcapOptions{Link: packet.LinkEthernet}, tcpSessions())},
		{"mixed.pcapng", "pcapng, ns, two interfaces (Ethernet, raw IP): DNS over UDP, ICMP echo, TCP over IPv6 with extension headers, QinQ-tagged UDP, an ARP frame and a GRE packet",
			Pcapng([]packet.Link{packet.LinkEthernet, packet.LinkRaw}, mixed())},
		{"sll2_fragments.pcap", "pcap, ns, Linux cooked v2: fragmented IPv4 and IPv6 UDP datagrams, an orphan fragment and out-of-order timestamps",
			Pcap(PcapOptions{Link: packet.LinkSLL2, Nanos: true}, fragments())},
		{"loopback_timeouts.pcap.gz", "gzip of a big-endian pcap, BSD loopback: one UDP conversation cut by the idle timeout and one by the active timeout",
			Gzip(Pcap(PcapOptions{Link: packet.LinkNull, BigEndian: true}, timeouts()))},
		{"sample.pcap", "pcap, µs, Ethernet: the README's sample: web sessions and DNS lookups of three clients, then a host that SYN-scans 300 ports of a server and tries 40 SSH logins in a row",
			Pcap(PcapOptions{Link: packet.LinkEthernet}, sample())},
		{"scan.pcap", "pcap, µs, Linux cooked v1: a SYN scan of 20 ports (RST or SYN-ACK answers), a UDP probe answered by ICMP port unreachable, and 1-packet flows",
			Pcap(PcapOptions{Link: packet.LinkLinuxSLL}, scan())},
	}
}

func tcpSessions() []Packet {
	clk := &Clock{T: fixtureT0, Step: 1500 * time.Microsecond}
	var out []Packet
	// 1. request/response, closed by the client's FIN.
	c := NewTCP(ap("10.1.0.5:51000"), ap("10.1.0.80:80"), clk)
	out = append(out, c.Handshake()...)
	out = append(out, c.Data(true, 320), c.Ack(false), c.Data(false, 1448), c.Data(false, 1448), c.Data(false, 1448), c.Data(false, 1448), c.Data(false, 612), c.Ack(true))
	out = append(out, c.Close(true)...)
	out = append(out, c.Ack(false)) // trailing duplicate ACK within the linger
	// 2. the same 5-tuple reused after the close, with a retransmission, ended by RST.
	clk.Skip(2 * time.Second)
	c2 := NewTCP(ap("10.1.0.5:51000"), ap("10.1.0.80:80"), clk)
	out = append(out, c2.Handshake()...)
	d := c2.Data(true, 200)
	out = append(out, d, c2.Retransmit(d), c2.Ack(false), c2.Reset(true))
	// 3. a server that closes first, with a 6 s pause (an idle period).
	c3 := NewTCP(ap("10.1.0.6:42424"), ap("10.1.0.80:22"), clk)
	out = append(out, c3.Handshake()...)
	out = append(out, c3.Data(false, 40), c3.Data(true, 40))
	clk.Skip(6 * time.Second)
	out = append(out, c3.Data(true, 100), c3.Data(false, 60))
	out = append(out, c3.Close(false)...)
	return out
}

func mixed() []Packet {
	clk := &Clock{T: fixtureT0, Step: 250 * time.Microsecond}
	var out []Packet
	dns := ap("10.2.0.53:53")
	for i := 0; i < 3; i++ {
		cl := ap("10.2.0.7:" + []string{"33001", "33002", "33003"}[i])
		out = append(out, UDP(clk.Next(), Frame{}, cl, dns, 30+i), UDP(clk.Next(), Frame{}, dns, cl, 90+10*i))
	}
	a, b := netip.MustParseAddr("10.2.0.7"), netip.MustParseAddr("10.2.0.1")
	for i := 0; i < 2; i++ {
		req := ICMPEcho(clk.Next(), Frame{Link: packet.LinkRaw}, a, b, false, 56)
		req.Iface = 1
		rep := ICMPEcho(clk.Next(), Frame{Link: packet.LinkRaw}, b, a, true, 56)
		rep.Iface = 1
		out = append(out, req, rep)
	}
	c := NewTCP(ap("[2001:db8:2::7]:50500"), ap("[2001:db8:2::1]:443"), clk)
	c.Template.IPv6Ext = []uint8{0, 60}
	out = append(out, c.Handshake()...)
	out = append(out, c.Data(true, 517), c.Data(false, 1200), c.Ack(true))
	out = append(out, c.Close(true)...)
	q := Frame{VLANs: []uint16{100, 200}}
	out = append(out, UDP(clk.Next(), q, ap("172.16.5.5:5000"), ap("172.16.5.6:6000"), 200), UDP(clk.Next(), q, ap("172.16.5.6:6000"), ap("172.16.5.5:5000"), 20))
	arp := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 2, 0, 7, 0, 0, 0, 0, 0, 0, 10, 2, 0, 1}
	out = append(out, Packet{Time: clk.Next(), Data: arp})
	gre := Frame{Src: netip.MustParseAddr("10.2.0.7"), Dst: netip.MustParseAddr("10.2.0.9"), Proto: 47, Payload: 24}
	out = append(out, Packet{Time: clk.Next(), Data: gre.Bytes()})
	return out
}

func fragments() []Packet {
	clk := &Clock{T: fixtureT0, Step: 100 * time.Microsecond}
	sll := Frame{Link: packet.LinkSLL2}
	mk := func(f Frame) Packet {
		f.Link = packet.LinkSLL2
		return Packet{Time: clk.Next(), Data: f.Bytes()}
	}
	src, dst := netip.MustParseAddr("10.3.0.1"), netip.MustParseAddr("10.3.0.2")
	s6, d6 := netip.MustParseAddr("2001:db8:3::1"), netip.MustParseAddr("2001:db8:3::2")
	out := []Packet{
		mk(Frame{Src: src, Dst: dst, Proto: packet.ProtoUDP, SrcPort: 4000, DstPort: 4001, Payload: 1472, MoreFrags: true, FragID: 0x1234}),
		mk(Frame{Src: src, Dst: dst, Proto: packet.ProtoUDP, Payload: 1480, FragOffset: 1480, MoreFrags: true, FragID: 0x1234}),
		mk(Frame{Src: src, Dst: dst, Proto: packet.ProtoUDP, Payload: 300, FragOffset: 2960, FragID: 0x1234}),
		mk(Frame{Src: s6, Dst: d6, Proto: packet.ProtoUDP, SrcPort: 4000, DstPort: 4001, Payload: 1224, MoreFrags: true, FragID: 77}),
		mk(Frame{Src: s6, Dst: d6, Proto: packet.ProtoUDP, Payload: 100, FragOffset: 1232, FragID: 77}),
		mk(Frame{Src: src, Dst: dst, Proto: packet.ProtoUDP, Payload: 64, FragOffset: 8000, FragID: 0x9999}), // orphan
	}
	// A reply whose timestamp is older than the packet before it.
	reply := UDP(clk.T.Add(-250*time.Microsecond), sll, ap("10.3.0.2:4001"), ap("10.3.0.1:4000"), 12)
	later := UDP(clk.Next(), sll, ap("10.3.0.1:4000"), ap("10.3.0.2:4001"), 12)
	return append(out, reply, later)
}

func timeouts() []Packet {
	null := Frame{Null: true}
	var out []Packet
	a, b := ap("127.0.0.1:7000"), ap("127.0.0.1:7001")
	// idle: two bursts 150 s apart (idle timeout 120 s)
	for i := 0; i < 3; i++ {
		out = append(out, UDP(fixtureT0.Add(time.Duration(i)*time.Second), null, a, b, 10))
	}
	out = append(out, UDP(fixtureT0.Add(153*time.Second), null, b, a, 10))
	// active: a packet every 60 s for 40 minutes (active timeout 30 min)
	c, d := ap("127.0.0.1:8000"), ap("127.0.0.1:8001")
	for i := 0; i < 40; i++ {
		src, dst := c, d
		if i%3 == 2 {
			src, dst = d, c
		}
		out = append(out, UDP(fixtureT0.Add(time.Duration(i)*time.Minute+time.Millisecond), null, src, dst, 100+i))
	}
	sortByTime(out)
	return out
}

func scan() []Packet {
	clk := &Clock{T: fixtureT0, Step: 300 * time.Microsecond}
	tmpl := Frame{Link: packet.LinkLinuxSLL}
	attacker, victim := netip.MustParseAddr("10.4.0.66"), netip.MustParseAddr("10.4.0.10")
	var out []Packet
	for i := 0; i < 20; i++ {
		port := uint16(20 + i*7)
		syn := tmpl
		syn.Src, syn.Dst, syn.Proto, syn.SrcPort, syn.DstPort, syn.Flags, syn.Seq, syn.Window = attacker, victim, packet.ProtoTCP, 61000, port, packet.FlagSYN, 0xABCD0000, 1024
		syn.TCPOptions = 4
		out = append(out, Packet{Time: clk.Next(), Data: syn.Bytes()})
		ans := tmpl
		ans.Src, ans.Dst, ans.Proto, ans.SrcPort, ans.DstPort, ans.Ack = victim, attacker, packet.ProtoTCP, port, 61000, 0xABCD0001
		if port == 22 || port == 160-7*3 {
			ans.Flags, ans.Seq = packet.FlagSYN|packet.FlagACK, 77
			out = append(out, Packet{Time: clk.Next(), Data: ans.Bytes()})
			rst := syn
			rst.Flags, rst.Seq = packet.FlagRST, 0xABCD0001
			out = append(out, Packet{Time: clk.Next(), Data: rst.Bytes()})
		} else if i%4 != 3 { // some probes go unanswered
			ans.Flags = packet.FlagRST | packet.FlagACK
			out = append(out, Packet{Time: clk.Next(), Data: ans.Bytes()})
		}
	}
	probe := UDP(clk.Next(), tmpl, netip.AddrPortFrom(attacker, 61001), netip.AddrPortFrom(victim, 161), 0)
	unreach := tmpl
	unreach.Src, unreach.Dst, unreach.Proto, unreach.ICMPType, unreach.ICMPCode, unreach.Payload = victim, attacker, packet.ProtoICMP, 3, 3, 28
	out = append(out, probe, Packet{Time: clk.Next(), Data: unreach.Bytes()})
	return out
}

func sample() []Packet {
	clk := &Clock{T: fixtureT0, Step: 2 * time.Millisecond}
	var out []Packet
	srv := []string{"198.51.100.10", "198.51.100.20", "198.51.100.30"}
	for i := 0; i < 12; i++ {
		cl := ap("192.168.1." + []string{"21", "22", "23"}[i%3] + ":" + fmt.Sprint(50000+i))
		out = append(out, UDP(clk.Next(), Frame{}, cl, ap("192.168.1.1:53"), 33+i), UDP(clk.Next(), Frame{}, ap("192.168.1.1:53"), cl, 120+i))
		c := NewTCP(netip.AddrPortFrom(cl.Addr(), uint16(40000+i)), ap(srv[i%3]+":443"), clk)
		out = append(out, c.Handshake()...)
		out = append(out, c.Data(true, 517))
		for k := 0; k < 3+i%5; k++ {
			out = append(out, c.Data(false, 1448), c.Data(false, 1448), c.Ack(true))
		}
		out = append(out, c.Data(true, 64), c.Data(false, 300))
		out = append(out, c.Close(true)...)
		clk.Skip(500 * time.Millisecond)
	}
	scanner, victim := netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("198.51.100.10")
	for i := 0; i < 300; i++ {
		syn := Frame{Src: scanner, Dst: victim, Proto: packet.ProtoTCP, SrcPort: 52111, DstPort: uint16(1 + i*3), Flags: packet.FlagSYN, Seq: 0x10000, Window: 1024, TCPOptions: 4}
		out = append(out, Packet{Time: clk.Next(), Data: syn.Bytes()})
		if i%5 != 4 {
			rst := Frame{Src: victim, Dst: scanner, Proto: packet.ProtoTCP, SrcPort: syn.DstPort, DstPort: 52111, Flags: packet.FlagRST | packet.FlagACK, Ack: 0x10001}
			out = append(out, Packet{Time: clk.Next(), Data: rst.Bytes()})
		}
	}
	clk.Step = 20 * time.Millisecond
	for i := 0; i < 40; i++ {
		c := NewTCP(netip.AddrPortFrom(scanner, uint16(33000+i)), ap("198.51.100.20:22"), clk)
		out = append(out, c.Handshake()...)
		out = append(out, c.Data(false, 41), c.Data(true, 41), c.Data(true, 1392), c.Data(false, 1080), c.Data(true, 48), c.Data(false, 500), c.Data(true, 96), c.Data(false, 52))
		out = append(out, c.Close(false)...)
	}
	return out
}

func sortByTime(ps []Packet) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Time.Before(ps[j-1].Time); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
