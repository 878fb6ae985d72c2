// Package flow groups packets into bidirectional flows.
//
// A Key is canonical: both directions of a conversation map to the same Key,
// and Dir tells which way a packet went relative to the flow's initiator. A
// Table is driven by packet timestamps, never the wall clock, so replaying a
// capture yields identical flows. A Table is not safe for concurrent use;
// shard by Key.ShardHash (symmetric) and give each goroutine its own Table.
package flow

import (
	"bytes"
	"net/netip"

	"github.com/flowmeter/flowmeter/packet"
)

// Key identifies a bidirectional flow: the two endpoints in canonical order
// (lower address and port first), the IP protocol and the IP version. It is
// comparable and pointer-free, so it is a fast map key (tailscale's
// flowtrack.Tuple measured such a key about twice as fast as netip.AddrPort
// pairs). Use Lo and Hi for netip views.
type Key struct {
	lo, hi         [16]byte
	loPort, hiPort uint16
	proto          uint8
	version        uint8
}

// Dir is a packet's direction within its flow.
type Dir uint8

// Directions. Forward is the initiator's direction.
const (
	Forward Dir = iota
	Backward
)

func (d Dir) String() string {
	if d == Forward {
		return "fwd"
	}
	return "bwd"
}

// KeyOf returns the canonical key of m and whether m's source is the key's
// low endpoint.
func KeyOf(m *packet.Meta) (k Key, srcIsLo bool) {
	return makeKey(&m.Src, &m.Dst, m.SrcPort, m.DstPort, m.Proto, m.Version)
}

// TupleKey returns the canonical key of a 5-tuple quoted in an ICMP error.
func TupleKey(t *packet.Tuple) Key {
	k, _ := makeKey(&t.Src, &t.Dst, t.SrcPort, t.DstPort, t.Proto, t.Version)
	return k
}

func makeKey(src, dst *[16]byte, sp, dp uint16, proto, version uint8) (k Key, srcIsLo bool) {
	c := bytes.Compare(src[:], dst[:])
	srcIsLo = c < 0 || (c == 0 && sp <= dp)
	k.proto, k.version = proto, version
	if srcIsLo {
		k.lo, k.hi, k.loPort, k.hiPort = *src, *dst, sp, dp
	} else {
		k.lo, k.hi, k.loPort, k.hiPort = *dst, *src, dp, sp
	}
	return k, srcIsLo
}

func (k Key) addr(b [16]byte) netip.Addr {
	if k.version == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// Lo returns the low endpoint.
func (k Key) Lo() netip.AddrPort { return netip.AddrPortFrom(k.addr(k.lo), k.loPort) }

// Hi returns the high endpoint.
func (k Key) Hi() netip.AddrPort { return netip.AddrPortFrom(k.addr(k.hi), k.hiPort) }

// Proto is the IP protocol number.
func (k Key) Proto() uint8 { return k.proto }

// Version is the IP version, 4 or 6.
func (k Key) Version() uint8 { return k.version }

// Hash returns a hash of the key, stable across runs and versions (record
// IDs are made of it). Both directions of a flow have the same key and so
// the same hash. ShardHash is faster, for dealing packets among workers.
func (k Key) Hash() uint64 {
	// FNV-1a over the fields; cheap and stable across runs.
	h := uint64(14695981039346656037)
	const prime = 1099511628211
	for _, b := range k.lo {
		h = (h ^ uint64(b)) * prime
	}
	for _, b := range k.hi {
		h = (h ^ uint64(b)) * prime
	}
	for _, v := range [...]uint64{uint64(k.loPort), uint64(k.hiPort), uint64(k.proto), uint64(k.version)} {
		h = (h ^ v) * prime
	}
	return h
}
