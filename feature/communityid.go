package feature

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
)

// ICMP and ICMPv6 message types that come in request/response pairs: the
// Community ID of such a flow uses the type and its counterpart as ports,
// so both directions get the same ID (Community ID spec, v1).
var (
	icmpPairs  = map[int]int{8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
	icmp6Pairs = map[int]int{128: 129, 129: 128, 130: 131, 131: 130, 133: 134, 134: 133, 135: 136, 136: 135,
		139: 140, 140: 139, 144: 145, 145: 144}
)

// AppendCommunityID appends the flow's Community ID (version 1, seed 0:
// https://github.com/corelight/community-id-spec), the identifier Zeek and
// Suricata write, so that flowmeter's records join their logs. icmpType
// and icmpCode are the flow's first ICMP message's (ignored for other
// protocols).
func AppendCommunityID(dst []byte, r *Record, icmpType, icmpCode int) []byte {
	sa, da := r.Src.Addr().Unmap(), r.Dst.Addr().Unmap()
	sp, dp := int(r.Src.Port()), int(r.Dst.Port())
	ports, oneWay := true, false
	switch r.Proto {
	case 6, 17, 132: // TCP, UDP, SCTP
	case 1, 58: // ICMP, ICMPv6 (without an ICMP header, like other protocols)
		if icmpType < 0 {
			ports = false
			break
		}
		pairs := icmpPairs
		if r.Proto == 58 {
			pairs = icmp6Pairs
		}
		sp = icmpType
		if other, ok := pairs[icmpType]; ok {
			dp = other
		} else {
			dp, oneWay = icmpCode, true
		}
	default:
		ports = false
	}
	if c := sa.Compare(da); !oneWay && (c > 0 || c == 0 && sp > dp) {
		sa, da, sp, dp = da, sa, dp, sp
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := append(buf[:0], 0, 0) // seed 0
	b = append(b, sa.AsSlice()...)
	b = append(b, da.AsSlice()...)
	b = append(b, r.Proto, 0)
	if ports {
		b = binary.BigEndian.AppendUint16(b, uint16(sp))
		b = binary.BigEndian.AppendUint16(b, uint16(dp))
	}
	sum := sha1.Sum(b)
	dst = append(dst, "1:"...)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}
