package app

import "encoding/binary"

// dnsHeaderOK reports whether b starts like a DNS message: a 12-byte
// header with a standard opcode, a sane number of questions and records.
func dnsHeaderOK(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	flags := binary.BigEndian.Uint16(b[2:4])
	opcode := flags >> 11 & 15
	qd := binary.BigEndian.Uint16(b[4:6])
	an := binary.BigEndian.Uint16(b[6:8])
	ns := binary.BigEndian.Uint16(b[8:10])
	ar := binary.BigEndian.Uint16(b[10:12])
	if opcode > 6 || qd > 8 || an > 512 || ns > 512 || ar > 512 {
		return false
	}
	if qd == 0 && flags&0x8000 == 0 {
		return false // a query asks something
	}
	if qd > 0 {
		_, _, ok := skipName(b, 12)
		return ok
	}
	return true
}

// skipName returns the offset after the (possibly compressed) name at off
// in msg, and whether it was well formed.
func skipName(msg []byte, off int) (next int, labels int, ok bool) {
	for off < len(msg) {
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, labels, true
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return 0, 0, false
			}
			return off + 2, labels, true
		case l&0xc0 != 0:
			return 0, 0, false
		}
		off += 1 + l
		labels++
	}
	return 0, 0, false
}

// appendName appends the name at off in msg, dotted, following
// compression pointers (at most 16 hops, so a loop ends).
func appendName(dst, msg []byte, off int) ([]byte, bool) {
	start := len(dst)
	for hops := 0; off < len(msg); {
		l := int(msg[off])
		switch {
		case l == 0:
			if len(dst) == start {
				dst = append(dst, '.') // the root
			}
			return dst, true
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) || hops >= 16 {
				return dst, false
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			hops++
			continue
		case l&0xc0 != 0:
			return dst, false
		}
		if off+1+l > len(msg) || len(dst)-start > 255 {
			return dst, false
		}
		if len(dst) > start {
			dst = append(dst, '.')
		}
		dst = append(dst, msg[off+1:off+1+l]...)
		off += 1 + l
	}
	return dst, false
}

// dns reads one DNS message (UDP, or the first message of a TCP stream):
// the first question of a query or response, and the response code,
// answer count and smallest answer TTL of the first response. The
// inspection ends with the first response.
func (s *State) dns(b []byte, dir int) {
	if !dnsHeaderOK(b) {
		return
	}
	flags := binary.BigEndian.Uint16(b[2:4])
	qd := int(binary.BigEndian.Uint16(b[4:6]))
	an := int(binary.BigEndian.Uint16(b[6:8]))
	off := 12
	for i := 0; i < qd; i++ {
		next, _, ok := skipName(b, off)
		if !ok || next+4 > len(b) {
			return
		}
		if i == 0 && !s.Has(DNSQName) {
			var name []byte
			name, ok = appendName(s.w.scr[:0], b, off)
			s.w.scr = name
			if ok {
				s.set(DNSQName, name)
				s.setUint(DNSQType, uint64(binary.BigEndian.Uint16(b[next:])))
			}
		}
		off = next + 4
	}
	if flags&0x8000 == 0 {
		return
	}
	s.setUint(DNSRcode, uint64(flags&15))
	s.setUint(DNSAnswers, uint64(an))
	minTTL, any := uint32(0), false
	for i := 0; i < an; i++ {
		next, _, ok := skipName(b, off)
		if !ok || next+10 > len(b) {
			break
		}
		ttl := binary.BigEndian.Uint32(b[next+4:])
		if !any || ttl < minTTL {
			minTTL, any = ttl, true
		}
		off = next + 10 + int(binary.BigEndian.Uint16(b[next+8:]))
	}
	if any {
		s.setUint(DNSTTLMin, uint64(minTTL))
	}
	s.finish()
}

// dnsTCP reads the first DNS message of one direction of a TCP stream
// (two bytes of length before it). It returns true while it is incomplete.
func (s *State) dnsTCP(b []byte, dir int) bool {
	if len(b) < 2 {
		return true
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return true
	}
	s.dns(b[2:2+n], dir)
	return false
}
