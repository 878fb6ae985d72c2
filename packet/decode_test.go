package packet_test

import (
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

var (
	c4 = netip.MustParseAddr("10.0.0.1")
	s4 = netip.MustParseAddr("192.0.2.80")
	c6 = netip.MustParseAddr("2001:db8::1")
	s6 = netip.MustParseAddr("2001:db8::80")
)

func addr16(a netip.Addr) [16]byte {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b
	}
	return a.As16()
}

func TestDecode(t *testing.T) {
	tcp4 := packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 40000, DstPort: 80,
		Flags: packet.FlagSYN, Seq: 7, Window: 1024, Payload: 0, TCPOptions: 12}
	udp6 := packettest.Frame{Src: c6, Dst: s6, Proto: packet.ProtoUDP, SrcPort: 5353, DstPort: 53, Payload: 30}
	withLink := func(f packettest.Frame, l packet.Link) packettest.Frame { f.Link = l; return f }
	withVLAN := func(f packettest.Frame, v ...uint16) packettest.Frame { f.VLANs = v; return f }
	tests := []struct {
		name  string
		frame packettest.Frame
		link  packet.Link
		want  packet.Meta // fields checked: see below
	}{
		{"ethernet tcp4 syn", tcp4, packet.LinkEthernet, packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 40000, DstPort: 80,
			Proto: 6, Version: 4, IPLen: 20 + 32, L4HdrLen: 32, PayloadLen: 0, TCPFlags: packet.FlagSYN, Window: 1024, Seq: 7, TTL: 64}},
		{"vlan tcp4", withVLAN(tcp4, 42), packet.LinkEthernet, packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 40000, DstPort: 80,
			Proto: 6, Version: 4, IPLen: 52, L4HdrLen: 32, TCPFlags: packet.FlagSYN, Window: 1024, Seq: 7, TTL: 64, VLAN: 42}},
		{"qinq tcp4", withVLAN(tcp4, 100, 42), packet.LinkEthernet, packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 40000, DstPort: 80,
			Proto: 6, Version: 4, IPLen: 52, L4HdrLen: 32, TCPFlags: packet.FlagSYN, Window: 1024, Seq: 7, TTL: 64, VLAN: 100}},
		{"ipv4 options", packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2, Payload: 10, IPOptions: 8}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 1, DstPort: 2, Proto: 17, Version: 4, IPLen: 28 + 8 + 10, L4HdrLen: 8, PayloadLen: 10, TTL: 64}},
		{"ethernet udp6", udp6, packet.LinkEthernet, packet.Meta{Src: addr16(c6), Dst: addr16(s6), SrcPort: 5353, DstPort: 53,
			Proto: 17, Version: 6, IPLen: 40 + 38, L4HdrLen: 8, PayloadLen: 30, TTL: 64}},
		{"ipv6 ext headers", func() packettest.Frame { f := udp6; f.IPv6Ext = []uint8{0, 60, 43}; return f }(), packet.LinkEthernet,
			packet.Meta{Src: addr16(c6), Dst: addr16(s6), SrcPort: 5353, DstPort: 53, Proto: 17, Version: 6, IPLen: 40 + 24 + 38, L4HdrLen: 8, PayloadLen: 30, TTL: 64}},
		{"sll udp6", withLink(udp6, packet.LinkLinuxSLL), packet.LinkLinuxSLL, packet.Meta{Src: addr16(c6), Dst: addr16(s6), SrcPort: 5353, DstPort: 53,
			Proto: 17, Version: 6, IPLen: 78, L4HdrLen: 8, PayloadLen: 30, TTL: 64}},
		{"sll2 tcp4", withLink(tcp4, packet.LinkSLL2), packet.LinkSLL2, packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 40000, DstPort: 80,
			Proto: 6, Version: 4, IPLen: 52, L4HdrLen: 32, TCPFlags: packet.FlagSYN, Window: 1024, Seq: 7, TTL: 64}},
		{"raw tcp4", withLink(tcp4, packet.LinkRaw), packet.LinkRaw, packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 40000, DstPort: 80,
			Proto: 6, Version: 4, IPLen: 52, L4HdrLen: 32, TCPFlags: packet.FlagSYN, Window: 1024, Seq: 7, TTL: 64}},
		{"raw ipv6 linktype", withLink(udp6, packet.LinkIPv6), packet.LinkIPv6, packet.Meta{Src: addr16(c6), Dst: addr16(s6), SrcPort: 5353, DstPort: 53,
			Proto: 17, Version: 6, IPLen: 78, L4HdrLen: 8, PayloadLen: 30, TTL: 64}},
		{"null tcp4", func() packettest.Frame { f := tcp4; f.Null = true; return f }(), packet.LinkNull, packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 40000, DstPort: 80,
			Proto: 6, Version: 4, IPLen: 52, L4HdrLen: 32, TCPFlags: packet.FlagSYN, Window: 1024, Seq: 7, TTL: 64}},
		{"icmp echo", packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoICMP, ICMPType: 8, Payload: 56}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c4), Dst: addr16(s4), Proto: 1, Version: 4, IPLen: 84, L4HdrLen: 8, PayloadLen: 56, ICMPType: 8, TTL: 64}},
		{"icmpv6 echo", packettest.Frame{Src: c6, Dst: s6, Proto: packet.ProtoICMPv6, ICMPType: 128, Payload: 8}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c6), Dst: addr16(s6), Proto: 58, Version: 6, IPLen: 56, L4HdrLen: 8, PayloadLen: 8, ICMPType: 128, TTL: 64}},
		{"gre (other protocol)", packettest.Frame{Src: c4, Dst: s4, Proto: 47, Payload: 24}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c4), Dst: addr16(s4), Proto: 47, Version: 4, IPLen: 44, PayloadLen: 24, TTL: 64}},
		{"first fragment", packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoUDP, SrcPort: 9, DstPort: 10, Payload: 1472, MoreFrags: true, FragID: 77}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c4), Dst: addr16(s4), SrcPort: 9, DstPort: 10, Proto: 17, Version: 4, IPLen: 1500, L4HdrLen: 8, PayloadLen: 1472, TTL: 64,
				Frag: true, FragFirst: true, FragID: 77}},
		{"later fragment", packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoUDP, Payload: 100, FragOffset: 1480, FragID: 77}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c4), Dst: addr16(s4), Proto: 17, Version: 4, IPLen: 120, PayloadLen: 100, TTL: 64, Frag: true, FragID: 77, FragOffset: 1480}},
		{"ipv6 later fragment", packettest.Frame{Src: c6, Dst: s6, Proto: packet.ProtoUDP, Payload: 64, FragOffset: 1232, FragID: 99}, packet.LinkEthernet,
			packet.Meta{Src: addr16(c6), Dst: addr16(s6), Proto: 17, Version: 6, IPLen: 40 + 8 + 64, PayloadLen: 64, TTL: 64, Frag: true, FragID: 99, FragOffset: 1232}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.frame.Bytes()
			var m packet.Meta
			if r := m.Decode(data, tt.link, len(data)); r != packet.OK {
				t.Fatalf("Decode = %v, want ok", r)
			}
			tt.want.WireLen = len(data)
			// the payload: the builder's byte pattern, where it is captured
			if p := m.Payload(data); (tt.want.Proto == 6 || tt.want.Proto == 17) && tt.want.FragOffset == 0 {
				if len(p) != tt.want.PayloadLen {
					t.Errorf("Payload: %d bytes, want %d", len(p), tt.want.PayloadLen)
				}
				for i, c := range p {
					if c != byte('a'+i%26) {
						t.Fatalf("Payload byte %d = %q, want %q", i, c, byte('a'+i%26))
					}
				}
				m.PayloadOff, m.PayloadCap = 0, 0
			} else if len(p) != 0 {
				t.Errorf("Payload: %d bytes, want none", len(p))
			}
			if m != tt.want {
				t.Errorf("Decode:\n got %+v\nwant %+v", m, tt.want)
			}
		})
	}
}

func TestDecodeReasons(t *testing.T) {
	tcp := packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 2, Flags: packet.FlagACK}.Bytes()
	arp, _ := hex.DecodeString("ffffffffffff0200000000010806000108000604000102000000000a0000010000000000000a000002")
	badVersion := append([]byte(nil), tcp...)
	badVersion[14] = 0x55
	badTCPOff := append([]byte(nil), tcp...)
	badTCPOff[14+20+12] = 0x20 // data offset 2 words
	tests := []struct {
		name string
		data []byte
		link packet.Link
		want packet.Reason
	}{
		{"arp", arp, packet.LinkEthernet, packet.NotIP},
		{"short ethernet", tcp[:10], packet.LinkEthernet, packet.TruncatedLink},
		{"short ip", tcp[:14+12], packet.LinkEthernet, packet.TruncatedIP},
		{"short tcp", tcp[:14+20+10], packet.LinkEthernet, packet.TruncatedL4},
		{"bad ip version", badVersion, packet.LinkEthernet, packet.BadIPHeader},
		{"bad tcp data offset", badTCPOff, packet.LinkEthernet, packet.BadL4Header},
		{"unknown link", tcp, packet.Link(147), packet.UnsupportedLink},
		{"empty", nil, packet.LinkRaw, packet.TruncatedIP},
		{"null loopback unknown family", []byte{99, 0, 0, 0, 0x45}, packet.LinkNull, packet.NotIP},
	}
	for _, tt := range tests {
		var m packet.Meta
		if got := m.Decode(tt.data, tt.link, len(tt.data)); got != tt.want {
			t.Errorf("%s: Decode = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A frame cut by the snap length still reports the lengths of the packet on
// the wire, taken from the IP header.
func TestDecodeSnaplenTruncated(t *testing.T) {
	data := packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 2, Flags: packet.FlagACK, Payload: 1000}.Bytes()
	var m packet.Meta
	if r := m.Decode(data[:96], packet.LinkEthernet, len(data)); r != packet.OK {
		t.Fatalf("Decode = %v", r)
	}
	if m.IPLen != 1040 || m.PayloadLen != 1000 || m.WireLen != len(data) {
		t.Errorf("IPLen %d PayloadLen %d WireLen %d, want 1040 1000 %d", m.IPLen, m.PayloadLen, m.WireLen, len(data))
	}
}

func TestDecodeNoAllocs(t *testing.T) {
	frames := [][]byte{
		packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 2, VLANs: []uint16{3}}.Bytes(),
		packettest.Frame{Src: c6, Dst: s6, Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2, IPv6Ext: []uint8{0}}.Bytes(),
	}
	var m packet.Meta
	allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range frames {
			m.Decode(f, packet.LinkEthernet, len(f))
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkDecode(b *testing.B) {
	f := packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 2, Payload: 100}.Bytes()
	var m packet.Meta
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		m.Decode(f, packet.LinkEthernet, len(f))
	}
}

func TestDecodePPPoEAndMPLS(t *testing.T) {
	ip := packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 2920, DstPort: 80, Flags: packet.FlagACK, Link: packet.LinkRaw, Payload: 5}.Bytes()
	eth := []byte{0, 0x30, 0x88, 3, 0x84, 0xb0, 0, 0x14, 0x85, 0x2f, 0xac, 0xcd}
	pppoe := append(append(append([]byte{}, eth...), 0x88, 0x64, 0x11, 0, 0x09, 0x76, 0x02, 0x21, 0x00, 0x21), ip...)
	mpls := append(append(append([]byte{}, eth...), 0x88, 0x47, 0, 0x01, 0x00, 0x40, 0, 0x02, 0x01, 0x40), ip...)
	for name, f := range map[string][]byte{"pppoe": pppoe, "mpls": mpls} {
		var m packet.Meta
		if r := m.Decode(f, packet.LinkEthernet, len(f)); r != packet.OK || m.SrcPort != 2920 || m.DstPort != 80 || m.PayloadLen != 5 || m.Src != addr16(c4) {
			t.Errorf("%s: reason %v, meta %+v", name, r, m)
		}
	}
}

// nmap's IP protocol scan sends ICMP packets with no ICMP header at all;
// they still belong to a flow.
func TestDecodeEmptyICMP(t *testing.T) {
	f := packettest.Frame{Src: c4, Dst: s4, Proto: packet.ProtoICMPv6}.Bytes()[:14+20]
	f[14+3] = 20 // IP total length: header only
	var m packet.Meta
	if r := m.Decode(f, packet.LinkEthernet, len(f)); r != packet.OK || m.Proto != 58 || m.L4HdrLen != 0 || m.PayloadLen != 0 {
		t.Errorf("reason %v, meta %+v", r, m)
	}
}
