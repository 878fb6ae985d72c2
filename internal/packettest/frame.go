// Package packettest builds frames and capture files for tests and for the
// project's own fixtures and benchmark captures. Nothing here is used on the
// packet path of the meter.
package packettest

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowmeter/flowmeter/packet"
)

// Frame describes one packet to build. The zero value of a field means its
// usual default (TTL 64, window 65535, no options).
type Frame struct {
	Link  packet.Link // how to wrap the IP packet; 0 means Ethernet (use LinkNull via Null)
	Null  bool        // wrap in BSD loopback (LinkNull) instead of Ethernet
	VLANs []uint16    // 802.1Q tags, outermost first (two or more: QinQ, outer 0x88A8)

	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
	Flags            uint8
	Seq, Ack         uint32
	Window           uint16
	TTL              uint8
	Payload          int    // payload bytes (a repeating pattern)
	Body             []byte // the payload itself, when set (Payload is then ignored)
	TCPOptions       int    // bytes of TCP options (NOPs), rounded up to 4
	IPOptions        int    // bytes of IPv4 options (NOPs), rounded up to 4
	IPv6Ext          []uint8
	ICMPType         uint8
	ICMPCode         uint8

	// Fragmentation: FragOffset in bytes (multiple of 8), MoreFrags set on
	// all but the last fragment. A non-first fragment carries Payload bytes
	// and no transport header.
	FragOffset int
	MoreFrags  bool
	FragID     uint32
}

// Bytes returns the frame as captured on f's link type.
func (f Frame) Bytes() []byte {
	ip := f.ipPacket()
	link := f.link()
	switch link {
	case packet.LinkNull:
		af := uint32(2)
		if f.Src.Is6() {
			af = 30
		}
		b := binary.LittleEndian.AppendUint32(nil, af)
		return append(b, ip...)
	case packet.LinkRaw, packet.LinkIPv4, packet.LinkIPv6:
		return ip
	case packet.LinkLinuxSLL:
		b := make([]byte, 16)
		binary.BigEndian.PutUint16(b[0:2], 0)   // to us
		binary.BigEndian.PutUint16(b[2:4], 1)   // ARPHRD_ETHER
		binary.BigEndian.PutUint16(b[4:6], 6)   // address length
		copy(b[6:12], []byte{2, 0, 0, 0, 0, 1}) // source MAC
		binary.BigEndian.PutUint16(b[14:16], f.etherType())
		return append(b, ip...)
	case packet.LinkSLL2:
		b := make([]byte, 20)
		binary.BigEndian.PutUint16(b[0:2], f.etherType())
		binary.BigEndian.PutUint32(b[4:8], 2) // interface index
		binary.BigEndian.PutUint16(b[8:10], 1)
		b[11] = 6
		copy(b[12:18], []byte{2, 0, 0, 0, 0, 1})
		return append(b, ip...)
	}
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for i, v := range f.VLANs {
		tpid := uint16(0x8100)
		if i == 0 && len(f.VLANs) > 1 {
			tpid = 0x88A8
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v&0x0FFF)
	}
	b = binary.BigEndian.AppendUint16(b, f.etherType())
	b = append(b, ip...)
	for len(b) < 60 { // Ethernet minimum frame, padding after the IP packet
		b = append(b, 0)
	}
	return b
}

// link returns the link type Bytes produces.
func (f Frame) link() packet.Link {
	if f.Null {
		return packet.LinkNull
	}
	if f.Link == 0 {
		return packet.LinkEthernet
	}
	return f.Link
}

func (f Frame) etherType() uint16 {
	if f.Src.Is6() {
		return 0x86DD
	}
	return 0x0800
}

func (f Frame) ipPacket() []byte {
	l4 := f.transport()
	if f.Src.Is6() {
		return f.ipv6(l4)
	}
	return f.ipv4(l4)
}

func pad4(n int) int { return (n + 3) &^ 3 }

func (f Frame) payload() []byte {
	if f.Body != nil {
		return f.Body
	}
	p := make([]byte, f.Payload)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

// transport returns the transport header plus payload, or only the payload
// for a non-first fragment.
func (f Frame) transport() []byte {
	if f.FragOffset > 0 {
		return f.payload()
	}
	var h []byte
	body := f.payload()
	switch f.Proto {
	case packet.ProtoTCP:
		opt := pad4(f.TCPOptions)
		h = make([]byte, 20+opt)
		binary.BigEndian.PutUint16(h[0:2], f.SrcPort)
		binary.BigEndian.PutUint16(h[2:4], f.DstPort)
		binary.BigEndian.PutUint32(h[4:8], f.Seq)
		binary.BigEndian.PutUint32(h[8:12], f.Ack)
		h[12] = byte((20+opt)/4) << 4
		h[13] = f.Flags
		w := f.Window
		if w == 0 {
			w = 65535
		}
		binary.BigEndian.PutUint16(h[14:16], w)
		for i := 20; i < len(h); i++ {
			h[i] = 1 // NOP
		}
	case packet.ProtoUDP:
		h = make([]byte, 8)
		binary.BigEndian.PutUint16(h[0:2], f.SrcPort)
		binary.BigEndian.PutUint16(h[2:4], f.DstPort)
		binary.BigEndian.PutUint16(h[4:6], uint16(8+len(body)))
	case packet.ProtoICMP, packet.ProtoICMPv6:
		h = make([]byte, 8)
		h[0], h[1] = f.ICMPType, f.ICMPCode
		binary.BigEndian.PutUint16(h[4:6], uint16(f.SrcPort)) // echo identifier
	}
	return append(h, body...)
}

func (f Frame) ttl() uint8 {
	if f.TTL == 0 {
		return 64
	}
	return f.TTL
}

func (f Frame) ipv4(l4 []byte) []byte {
	opt := pad4(f.IPOptions)
	h := make([]byte, 20+opt)
	h[0] = 0x40 | byte((20+opt)/4)
	binary.BigEndian.PutUint16(h[2:4], uint16(len(h)+len(l4)))
	binary.BigEndian.PutUint16(h[4:6], uint16(f.FragID))
	fl := uint16(f.FragOffset / 8)
	if f.MoreFrags {
		fl |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:8], fl)
	h[8] = f.ttl()
	h[9] = f.Proto
	s, d := f.Src.As4(), f.Dst.As4()
	copy(h[12:16], s[:])
	copy(h[16:20], d[:])
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP option
	}
	binary.BigEndian.PutUint16(h[10:12], checksum(h))
	return append(h, l4...)
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xFFFF + s>>16
	}
	return ^uint16(s)
}

func (f Frame) ipv6(l4 []byte) []byte {
	// Extension headers, each 8 bytes, then a fragment header if asked.
	types := append([]uint8(nil), f.IPv6Ext...)
	frag := f.FragOffset > 0 || f.MoreFrags
	if frag {
		types = append(types, 44)
	}
	var ext []byte
	for i, t := range types {
		next := f.Proto
		if i+1 < len(types) {
			next = types[i+1]
		}
		e := make([]byte, 8)
		e[0] = next
		if t == 44 {
			binary.BigEndian.PutUint16(e[2:4], uint16(f.FragOffset)&^7)
			if f.MoreFrags {
				e[3] |= 1
			}
			binary.BigEndian.PutUint32(e[4:8], f.FragID)
		} else if t == 51 {
			e[1] = 0 // AH length in 4-byte units minus 2: 8 bytes
		}
		ext = append(ext, e...)
	}
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:6], uint16(len(ext)+len(l4)))
	h[6] = f.Proto
	if len(types) > 0 {
		h[6] = types[0]
	}
	h[7] = f.ttl()
	s, d := f.Src.As16(), f.Dst.As16()
	copy(h[8:24], s[:])
	copy(h[24:40], d[:])
	h = append(h, ext...)
	return append(h, l4...)
}
