package packet_test

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

func seedFrames() []packettest.Frame {
	return []packettest.Frame{
		{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1234, DstPort: 80, Flags: packet.FlagSYN | packet.FlagACK, Payload: 20},
		{Src: c4, Dst: s4, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 5353, Payload: 40, VLANs: []uint16{7, 8}},
		{Src: c6, Dst: s6, Proto: packet.ProtoTCP, SrcPort: 1234, DstPort: 443, Payload: 3, IPv6Ext: []uint8{0, 60}},
		{Src: c6, Dst: s6, Proto: packet.ProtoICMPv6, ICMPType: 128},
		{Src: c4, Dst: s4, Proto: packet.ProtoICMP, ICMPType: 3, ICMPCode: 3, Payload: 28},
		{Src: c4, Dst: s4, Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2, Payload: 100, MoreFrags: true, FragID: 5},
		{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 2, IPOptions: 4, TCPOptions: 20},
		{Src: c4, Dst: s4, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 2, Link: packet.LinkLinuxSLL},
		{Src: c6, Dst: s6, Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2, Link: packet.LinkSLL2},
		{Src: c4, Dst: s4, Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2, Null: true},
	}
}

// FuzzDecode checks that Decode never panics and agrees with gopacket on
// addresses, ports, protocol and lengths wherever gopacket decodes the
// packet cleanly.
func FuzzDecode(f *testing.F) {
	for _, fr := range seedFrames() {
		l := fr.Link
		if fr.Null {
			l = packet.LinkNull
		} else if l == 0 {
			l = packet.LinkEthernet
		}
		f.Add(fr.Bytes(), uint16(l))
	}
	f.Fuzz(func(t *testing.T, data []byte, link uint16) {
		var m packet.Meta
		r := m.Decode(data, packet.Link(link), len(data))
		if r != packet.OK {
			return
		}
		if m.IPLen < 0 || m.PayloadLen < 0 || m.L4HdrLen < 0 {
			t.Fatalf("negative length: %+v", m)
		}
		compareGopacket(t, data, packet.Link(link), &m)
	})
}

func gopacketLayer(l packet.Link) (gopacket.Decoder, bool) {
	switch l {
	case packet.LinkEthernet:
		return layers.LayerTypeEthernet, true
	case packet.LinkLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case packet.LinkSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case packet.LinkRaw, packet.LinkIPv4, packet.LinkIPv6:
		return layers.LinkTypeRaw, true
	}
	return nil, false
}

func compareGopacket(t *testing.T, data []byte, link packet.Link, m *packet.Meta) {
	dec, ok := gopacketLayer(link)
	if !ok || m.Frag {
		return
	}
	p := gopacket.NewPacket(data, dec, gopacket.DecodeOptions{NoCopy: true})
	if p.ErrorLayer() != nil {
		return // gopacket rejects something we accept leniently (e.g. a length we clamp)
	}
	ips := 0
	for _, l := range p.Layers() {
		switch l.LayerType() {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			ips++
		case layers.LayerTypeGRE:
			ips += 2
		}
	}
	if ips > 1 {
		return // a tunnel (6in4, GRE…): gopacket decodes the inner packet, we meter the outer one
	}
	var src, dst netip.Addr
	var proto uint8
	var iplen int
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 || ip.Length == 0 || int(ip.IHL)*4 > int(ip.Length) {
			return
		}
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
		proto, iplen = uint8(ip.Protocol), int(ip.Length)
	case *layers.IPv6:
		if ip.Length == 0 {
			return
		}
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
		iplen = 40 + int(ip.Length)
		proto = 255 // the transport layer below decides
	default:
		return
	}
	if got := addrOf(m.Src, m.Version); got != src.Unmap() && got != src {
		t.Fatalf("src %v, gopacket %v", got, src)
	}
	if got := addrOf(m.Dst, m.Version); got != dst.Unmap() && got != dst {
		t.Fatalf("dst %v, gopacket %v", got, dst)
	}
	if m.IPLen != iplen {
		t.Fatalf("IP length %d, gopacket %d", m.IPLen, iplen)
	}
	switch l4 := p.TransportLayer().(type) {
	case *layers.TCP:
		if m.Proto != packet.ProtoTCP || m.SrcPort != uint16(l4.SrcPort) || m.DstPort != uint16(l4.DstPort) || m.L4HdrLen != int(l4.DataOffset)*4 {
			t.Fatalf("tcp: ours proto %d %d→%d hdr %d, gopacket %d→%d hdr %d", m.Proto, m.SrcPort, m.DstPort, m.L4HdrLen, l4.SrcPort, l4.DstPort, l4.DataOffset*4)
		}
	case *layers.UDP:
		if m.Proto != packet.ProtoUDP || m.SrcPort != uint16(l4.SrcPort) || m.DstPort != uint16(l4.DstPort) {
			t.Fatalf("udp: ours proto %d %d→%d, gopacket %d→%d", m.Proto, m.SrcPort, m.DstPort, l4.SrcPort, l4.DstPort)
		}
	default:
		if proto != 255 && m.Proto != proto {
			t.Fatalf("proto %d, gopacket %d", m.Proto, proto)
		}
	}
}

func addrOf(b [16]byte, v uint8) netip.Addr {
	if v == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}
