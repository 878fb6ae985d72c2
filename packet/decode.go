package packet

import "encoding/binary"

// EtherTypes the decoder follows.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86DD
	etherVLAN  = 0x8100
	etherQinQ  = 0x88A8
	etherQinQ2 = 0x9100
	etherPPPoE = 0x8864 // PPPoE session stage
	etherMPLS  = 0x8847
	etherMPLSm = 0x8848 // multicast MPLS
)

// Decode fills m from frame, whose link-layer header is of type link.
// wireLen is the frame's original length (the capture record's).
// m.Time is left as it was. Decode returns OK or the reason the frame has no
// flow packet. It never panics on any input and never allocates.
func (m *Meta) Decode(frame []byte, link Link, wireLen int) Reason {
	r := m.decode(frame, link, wireLen)
	if m.PayloadCap > 0 {
		// decodeL4 left the capacity from the payload on; the payload's
		// offset in the frame follows from the frame's own.
		m.PayloadOff = cap(frame) - m.PayloadOff
	}
	return r
}

func (m *Meta) decode(frame []byte, link Link, wireLen int) Reason {
	t := m.Time
	*m = Meta{Time: t, WireLen: wireLen}
	var ip []byte
	switch link {
	case LinkEthernet:
		return m.decodeEthernet(frame)
	case LinkRaw, LinkRaw12, LinkRaw14, LinkIPv4, LinkIPv6:
		ip = frame
	case LinkNull, LinkLoop:
		if len(frame) < 4 {
			return TruncatedLink
		}
		var af uint32
		if link == LinkLoop {
			af = binary.BigEndian.Uint32(frame)
		} else {
			// host byte order of the capturing machine: accept either.
			af = binary.LittleEndian.Uint32(frame)
			if af > 0xFFFF {
				af = binary.BigEndian.Uint32(frame)
			}
		}
		switch af {
		case 2, 24, 28, 30: // AF_INET; AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
		case 10: // AF_INET6 on Linux
		default:
			return NotIP
		}
		ip = frame[4:]
	case LinkLinuxSLL:
		if len(frame) < 16 {
			return TruncatedLink
		}
		return m.decodeEtherType(binary.BigEndian.Uint16(frame[14:16]), frame[16:])
	case LinkSLL2:
		if len(frame) < 20 {
			return TruncatedLink
		}
		return m.decodeEtherType(binary.BigEndian.Uint16(frame[0:2]), frame[20:])
	default:
		return UnsupportedLink
	}
	if len(ip) < 1 {
		return TruncatedIP
	}
	switch ip[0] >> 4 {
	case 4:
		return m.decodeIPv4(ip)
	case 6:
		return m.decodeIPv6(ip)
	}
	return NotIP
}

func (m *Meta) decodeEthernet(frame []byte) Reason {
	if len(frame) < 14 {
		return TruncatedLink
	}
	return m.decodeEtherType(binary.BigEndian.Uint16(frame[12:14]), frame[14:])
}

// decodeEtherType follows VLAN tags (any depth; the outermost VLAN ID is
// kept) to an IP header.
func (m *Meta) decodeEtherType(et uint16, b []byte) Reason {
	for et == etherVLAN || et == etherQinQ || et == etherQinQ2 {
		if len(b) < 4 {
			return TruncatedLink
		}
		if m.VLAN == 0 {
			m.VLAN = binary.BigEndian.Uint16(b[0:2]) & 0x0FFF
		}
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch et {
	case etherIPv4:
		return m.decodeIPv4(b)
	case etherIPv6:
		return m.decodeIPv6(b)
	case etherPPPoE:
		// version/type, code, session ID, length, then the PPP protocol.
		if len(b) < 8 {
			return TruncatedLink
		}
		switch binary.BigEndian.Uint16(b[6:8]) {
		case 0x0021:
			return m.decodeIPv4(b[8:])
		case 0x0057:
			return m.decodeIPv6(b[8:])
		}
		return NotIP
	case etherMPLS, etherMPLSm:
		// Pop the label stack; the payload's first nibble gives the IP version.
		for {
			if len(b) < 4 {
				return TruncatedLink
			}
			bottom := b[2]&1 != 0
			b = b[4:]
			if bottom {
				break
			}
		}
		if len(b) == 0 {
			return TruncatedIP
		}
		switch b[0] >> 4 {
		case 4:
			return m.decodeIPv4(b)
		case 6:
			return m.decodeIPv6(b)
		}
		return NotIP
	}
	return NotIP
}

func (m *Meta) decodeIPv4(b []byte) Reason {
	if len(b) < 20 {
		return TruncatedIP
	}
	if b[0]>>4 != 4 {
		return BadIPHeader
	}
	ihl := int(b[0]&0x0F) * 4
	if ihl < 20 {
		return BadIPHeader
	}
	if len(b) < ihl {
		return TruncatedIP
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total == 0 {
		// TCP segmentation offload captured on the sending host: the
		// length field is left 0; the captured bytes are all we know.
		total = len(b)
	}
	if total < ihl {
		return BadIPHeader
	}
	m.Version = 4
	m.TTL = b[8]
	m.Proto = b[9]
	copy(m.Src[:4], b[12:16])
	copy(m.Dst[:4], b[16:20])
	m.IPLen = total
	flags := binary.BigEndian.Uint16(b[6:8])
	off := flags & 0x1FFF
	more := flags&0x2000 != 0
	if off != 0 || more {
		m.Frag = true
		m.FragFirst = off == 0
		m.FragID = uint32(binary.BigEndian.Uint16(b[4:6]))
		m.FragOffset = off * 8
	}
	payload := total - ihl
	l4 := b[ihl:]
	if len(l4) > payload {
		l4 = l4[:payload] // drop Ethernet padding
	}
	if off != 0 {
		m.PayloadLen = payload
		return OK
	}
	return m.decodeL4(l4, payload)
}

// IPv6 extension headers the decoder walks through.
const (
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6AH       = 51
	ipv6DstOpts  = 60
	ipv6Mobility = 135
	ipv6HIP      = 139
	ipv6Shim6    = 140
)

func (m *Meta) decodeIPv6(b []byte) Reason {
	if len(b) < 40 {
		return TruncatedIP
	}
	if b[0]>>4 != 6 {
		return BadIPHeader
	}
	m.Version = 6
	m.TTL = b[7]
	copy(m.Src[:], b[8:24])
	copy(m.Dst[:], b[24:40])
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	if plen == 0 {
		plen = len(b) - 40 // jumbogram or offload: use what was captured
	}
	m.IPLen = 40 + plen
	next := b[6]
	rest := b[40:]
	if len(rest) > plen {
		rest = rest[:plen]
	}
	payload := plen
	for {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DstOpts, ipv6Mobility, ipv6HIP, ipv6Shim6, ipv6AH:
			if len(rest) < 8 {
				m.Proto = next
				return TruncatedIP
			}
			var n int
			if next == ipv6AH {
				n = (int(rest[1]) + 2) * 4
			} else {
				n = (int(rest[1]) + 1) * 8
			}
			if n > len(rest) || n > payload {
				m.Proto = next
				return TruncatedIP
			}
			next = rest[0]
			rest = rest[n:]
			payload -= n
		case ipv6Fragment:
			if len(rest) < 8 || payload < 8 {
				m.Proto = next
				return TruncatedIP
			}
			off := binary.BigEndian.Uint16(rest[2:4]) &^ 7
			more := rest[3]&1 != 0
			id := binary.BigEndian.Uint32(rest[4:8])
			next = rest[0]
			rest = rest[8:]
			payload -= 8
			if off == 0 && !more {
				continue // atomic fragment: a whole packet
			}
			m.Frag = true
			m.FragFirst = off == 0
			m.FragID = id
			m.FragOffset = off
			if off != 0 {
				m.Proto = next
				m.PayloadLen = payload
				return OK
			}
		default:
			m.Proto = next
			return m.decodeL4(rest, payload)
		}
	}
}

// decodeL4 reads the transport header from b (captured bytes, possibly
// truncated); payload is the transport segment length from the IP header
// (for a first fragment, that of the fragment, not of the datagram).
func (m *Meta) decodeL4(b []byte, payload int) Reason {
	switch m.Proto {
	case ProtoTCP:
		if len(b) < 20 {
			return TruncatedL4
		}
		hl := int(b[12]>>4) * 4
		if hl < 20 || hl > payload {
			return BadL4Header
		}
		m.SrcPort = binary.BigEndian.Uint16(b[0:2])
		m.DstPort = binary.BigEndian.Uint16(b[2:4])
		m.Seq = binary.BigEndian.Uint32(b[4:8])
		m.Ack = binary.BigEndian.Uint32(b[8:12])
		m.TCPFlags = b[13]
		m.Window = binary.BigEndian.Uint16(b[14:16])
		m.L4HdrLen = hl
	case ProtoUDP:
		if len(b) < 8 {
			return TruncatedL4
		}
		if payload < 8 {
			return BadL4Header
		}
		m.SrcPort = binary.BigEndian.Uint16(b[0:2])
		m.DstPort = binary.BigEndian.Uint16(b[2:4])
		m.L4HdrLen = 8
	case ProtoICMP, ProtoICMPv6:
		// ICMP has no ports, so even an empty or cut ICMP packet (nmap's
		// IP protocol scan sends them) still belongs to its flow.
		if len(b) >= 2 {
			m.ICMPType = b[0]
			m.ICMPCode = b[1]
		}
		m.L4HdrLen = min(8, payload)
		if len(b) > 8 && isICMPError(m.Proto, m.ICMPType) {
			m.ICMPError = decodeQuoted(&m.Inner, b[8:])
		}
	default:
		m.L4HdrLen = 0
	}
	m.PayloadLen = payload - m.L4HdrLen
	if (m.Proto == ProtoTCP || m.Proto == ProtoUDP) && m.PayloadLen > 0 {
		if n := min(len(b)-m.L4HdrLen, m.PayloadLen); n > 0 {
			m.PayloadCap = n
			m.PayloadOff = cap(b) - m.L4HdrLen // made an offset by Decode
		}
	}
	return OK
}

func isICMPError(proto, typ uint8) bool {
	if proto == ProtoICMP {
		return typ == 3 || typ == 11 || typ == 12
	}
	return typ >= 1 && typ <= 4 // ICMPv6 errors
}

// decodeQuoted reads the IP header and the first 4 transport bytes (the
// ports) of the packet quoted in an ICMP error.
func decodeQuoted(t *Tuple, b []byte) bool {
	if len(b) < 1 {
		return false
	}
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return false
		}
		ihl := int(b[0]&0x0F) * 4
		if ihl < 20 || len(b) < ihl {
			return false
		}
		t.Version, t.Proto = 4, b[9]
		copy(t.Src[:4], b[12:16])
		copy(t.Dst[:4], b[16:20])
		l4 = b[ihl:]
	case 6:
		if len(b) < 40 {
			return false
		}
		t.Version, t.Proto = 6, b[6]
		copy(t.Src[:], b[8:24])
		copy(t.Dst[:], b[24:40])
		l4 = b[40:]
	default:
		return false
	}
	if t.Proto == ProtoTCP || t.Proto == ProtoUDP {
		if len(l4) < 4 {
			return false
		}
		t.SrcPort = binary.BigEndian.Uint16(l4[0:2])
		t.DstPort = binary.BigEndian.Uint16(l4[2:4])
	}
	return true
}
