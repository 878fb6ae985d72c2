package flow

import "github.com/flowmeter/flowmeter/packet"

// fragTTL is how long a first fragment's ports are remembered, in ns (the
// usual IP reassembly timeout).
const fragTTL = 60e9

const fragSlots = 4096

type fragSlot struct {
	src, dst         [16]byte
	id               uint32
	proto, version   uint8
	srcPort, dstPort uint16
	time             int64
	used             bool
}

// Fragments remembers the transport ports of recent first fragments so that
// later fragments of the same datagram, which carry no transport header, can
// be attributed to their flow. It is a fixed-size cache (a newer datagram may
// evict an older one), so memory is bounded and nothing is allocated. The zero
// value is ready to use.
type Fragments struct {
	slots [fragSlots]fragSlot
}

func fragIndex(m *packet.Meta) int {
	h := m.FragID*2654435761 ^ uint32(m.Src[0])<<8 ^ uint32(m.Src[3]) ^ uint32(m.Dst[3])<<16 ^ uint32(m.Src[15])<<24
	return int(h % fragSlots)
}

// Note records the ports of a first fragment.
func (f *Fragments) Note(m *packet.Meta) {
	s := &f.slots[fragIndex(m)]
	*s = fragSlot{src: m.Src, dst: m.Dst, id: m.FragID, proto: m.Proto, version: m.Version,
		srcPort: m.SrcPort, dstPort: m.DstPort, time: m.Time, used: true}
}

// Attribute fills the ports of a non-first fragment from its first fragment
// and reports whether that fragment was seen. A fragment that cannot be
// attributed keeps ports 0 and forms a flow of its own address pair.
func (f *Fragments) Attribute(m *packet.Meta) bool {
	s := &f.slots[fragIndex(m)]
	if !s.used || s.id != m.FragID || s.src != m.Src || s.dst != m.Dst || s.proto != m.Proto ||
		s.version != m.Version || m.Time-s.time > fragTTL {
		return false
	}
	m.SrcPort, m.DstPort = s.srcPort, s.dstPort
	return true
}
