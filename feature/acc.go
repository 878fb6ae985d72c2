package feature

import (
	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// Thresholds of CICFlowMeter's derived features, kept for comparability.
const (
	ActivityTimeout = 5e9 // ns: a gap longer than this ends an active period (Active*/Idle*)
	SubflowGap      = 1e9 // ns: a gap longer than this starts a new subflow
	BulkGap         = 1e9 // ns: a gap longer than this breaks a bulk
	BulkMinPackets  = 4   // packets with payload in a row that make a bulk
)

const (
	fwd = 0
	bwd = 1
	all = 2
)

// earlyPkt is one of the first packets of a flow, packed in 64 bits: the gap
// since the previous packet of the flow in ns (47 bits, up to 39 hours; 0
// for the first packet), the IP length (16 bits) and the direction (1 bit).
type earlyPkt uint64

const maxEarlyGap = 1<<47 - 1

func packEarly(gap int64, size int, d flow.Dir) earlyPkt {
	gap = min(gap, maxEarlyGap)
	return earlyPkt(uint64(gap)<<17 | uint64(size&0xFFFF)<<1 | uint64(d&1))
}

func (e earlyPkt) gap() int64 { return int64(e >> 17) }
func (e earlyPkt) size() int  { return int(e>>1) & 0xFFFF }
func (e earlyPkt) dir() uint8 { return uint8(e & 1) }

// sizeStat is a Stat for packet sizes of one direction (which fit in 16
// bits); its count is the direction's packet count.
type sizeStat struct {
	mean, m2 float64
	min, max uint16
}

func (s *sizeStat) add(x int, n int64) {
	v := float64(x)
	if n == 1 {
		s.mean, s.m2, s.min, s.max = v, 0, uint16(x), uint16(x)
		return
	}
	d := v - s.mean
	s.mean += d / float64(n)
	s.m2 += d * (v - s.mean)
	s.min = min(s.min, uint16(x))
	s.max = max(s.max, uint16(x))
}

func (s *sizeStat) stat(n int64) Stat {
	if n == 0 {
		return Stat{}
	}
	return Stat{N: n, Mean: s.mean, M2: s.m2, Min: float64(s.min), Max: float64(s.max)}
}

type bulk struct {
	start, last int64 // current candidate bulk: start and latest payload packet time
	pkts, size  int64 // current candidate's packets (0: none) and payload bytes
	count       int64 // bulks completed (≥ BulkMinPackets packets)
	totPkts     int64 // packets in bulks
	totBytes    int64 // payload bytes in bulks
	dur         int64 // ns spent in bulks
}

// Acc accumulates one flow's statistics, packet by packet, in O(1) space
// (plus the first N packets for the early-flow features). Times are packet
// timestamps; a packet older than the flow's latest is clamped to it and
// counted in OutOfOrder, so no duration or gap is ever negative.
//
// The zero value is ready to use; Reset makes an Acc reusable without
// freeing its buffer.
type Acc struct {
	EarlyN int // how many first packets to keep (set before the first Add)

	// Fields are grouped by size, largest first, so that no padding is
	// wasted: a table holds one Acc per open flow.
	first, last int64
	lastDir     [2]int64
	n           [2]int64
	ipBytes     [2]int64
	payload     [2]int64
	hdrBytes    [2]int64
	payLen      [2]sizeStat
	ipLen       [2]sizeStat
	iat         [3]Stat // seconds

	activeStart, activeEnd int64
	active, idle           Stat // seconds
	subflows               int64
	bulk                   [2]bulk
	ooo                    int64
	synT, synAckT, ackT    int64 // handshake times, 0 when not seen

	early early
	app   *app.State // the payload's inspection; nil until a payload packet is inspected

	hdrMin  [2]int32
	actData [2]uint32
	flags   [2][8]uint32
	initWin [2]int32
	seqNext [2]uint32
	retrans [2]uint32
	frags   [2]uint32

	icmpType    int16
	icmpCode    int16
	vlan        uint16
	winSeen     [2]bool
	seqSeen     [2]bool
	unreachable bool // an ICMP error quoted one of the flow's packets
	earlyLen    uint8
}

// earlyInline is how many early packets an Acc holds without a separate
// allocation (the default window, 8, fits).
const earlyInline = 8

// early holds a flow's first packets: earlyInline in place, the rest of a
// wider window in a buffer allocated once and kept by Reset.
type early struct {
	fix  [earlyInline]earlyPkt
	more *[MaxEarly - earlyInline]earlyPkt
}

func (a *Acc) earlyCount() int { return int(a.earlyLen) }

func (a *Acc) earlyAt(i int) earlyPkt {
	if i < earlyInline {
		return a.early.fix[i]
	}
	return a.early.more[i-earlyInline]
}

func (a *Acc) addEarly(p earlyPkt) {
	i := int(a.earlyLen)
	if i < earlyInline {
		a.early.fix[i] = p
	} else {
		if a.early.more == nil {
			a.early.more = new([MaxEarly - earlyInline]earlyPkt)
		}
		a.early.more[i-earlyInline] = p
	}
	a.earlyLen++
}

// rtt is the flow's round-trip time in nanoseconds (the rtt_s feature): the
// TCP handshake's when it was seen, else the time from the first packet to
// the responder's first; 0 when the responder sent nothing.
func (a *Acc) rtt() int64 {
	if a.ackT != 0 {
		return a.ackT - a.synT
	}
	if a.n[bwd] == 0 {
		return 0
	}
	firstBwd := a.lastDir[bwd] - int64(a.iat[bwd].Sum()*1e9+0.5)
	return max(firstBwd-a.first, 0)
}

// CopyTo makes d a copy of a, reusing d's early-packet buffer; d gets a
// copy of what a's inspection read (for a record written while the flow
// goes on).
func (a *Acc) CopyTo(d *Acc) {
	a.copyTo(d)
	if a.app != nil {
		d.app = a.app.Clone()
	}
}

// MoveTo makes d a copy of a, like CopyTo, and hands a's inspection to d:
// a must be Reset before it is used again.
func (a *Acc) MoveTo(d *Acc) {
	a.copyTo(d)
	a.app = nil
}

func (a *Acc) copyTo(d *Acc) {
	more := d.early.more
	d.app.Release()
	*d = *a
	d.early.more = more
	if a.early.more != nil {
		if d.early.more == nil {
			d.early.more = new([MaxEarly - earlyInline]earlyPkt)
		}
		*d.early.more = *a.early.more
	}
}

// Reset clears a for a new flow, keeping its early-packet buffer.
func (a *Acc) Reset() {
	a.app.Release()
	n, more := a.EarlyN, a.early.more
	*a = Acc{EarlyN: n}
	a.early.more = more
}

// Add adds packet m, going in direction d, to the flow.
func (a *Acc) Add(m *packet.Meta, d flow.Dir) {
	t := m.Time
	total := a.n[fwd] + a.n[bwd]
	if total == 0 {
		a.first, a.last = t, t
		a.activeStart, a.activeEnd = t, t
		a.subflows = 1
		a.icmpType, a.icmpCode = -1, -1
		a.hdrMin = [2]int32{-1, -1}
		a.initWin = [2]int32{-1, -1}
		a.vlan = m.VLAN
	} else if t < a.last {
		t = a.last
		a.ooo++
	}
	gap := t - a.last
	a.n[d]++
	hdr := m.L4HdrLen
	a.ipBytes[d] += int64(m.IPLen)
	a.payload[d] += int64(m.PayloadLen)
	a.hdrBytes[d] += int64(hdr)
	if !m.Frag || m.FragFirst {
		if a.hdrMin[d] < 0 || int32(hdr) < a.hdrMin[d] {
			a.hdrMin[d] = int32(hdr)
		}
	}
	if m.Frag {
		a.frags[d]++
	}
	if m.PayloadLen > 0 {
		a.actData[d]++
	}
	a.payLen[d].add(m.PayloadLen, a.n[d])
	a.ipLen[d].add(m.IPLen, a.n[d])
	if total > 0 {
		a.iat[all].Add(float64(gap) / 1e9)
		a.activity(t, gap)
	}
	if a.n[d] > 1 {
		dg := t - a.lastDir[d]
		if dg < 0 {
			dg = 0
		}
		a.iat[d].Add(float64(dg) / 1e9)
	}
	a.lastDir[d] = t
	a.last = t

	if a.icmpType < 0 && (m.Proto == packet.ProtoICMP || m.Proto == packet.ProtoICMPv6) && !(m.Frag && !m.FragFirst) {
		a.icmpType, a.icmpCode = int16(m.ICMPType), int16(m.ICMPCode)
	}
	if m.Proto == packet.ProtoTCP && m.L4HdrLen > 0 {
		a.addTCP(m, d, t)
	}
	a.addBulk(m, d, t)
	if int(a.earlyLen) < a.EarlyN {
		if total == 0 {
			gap = 0
		}
		a.addEarly(packEarly(gap, m.IPLen, d))
	}
}

// activity updates active/idle periods and subflows for a packet at time t
// that came gap ns after the previous one.
func (a *Acc) activity(t, gap int64) {
	if gap > SubflowGap {
		a.subflows++
	}
	if t-a.activeEnd > ActivityTimeout {
		if a.activeEnd > a.activeStart {
			a.active.Add(float64(a.activeEnd-a.activeStart) / 1e9)
		}
		a.idle.Add(float64(t-a.activeEnd) / 1e9)
		a.activeStart = t
	}
	a.activeEnd = t
}

func (a *Acc) addTCP(m *packet.Meta, d flow.Dir, t int64) {
	f := uint32(m.TCPFlags)
	c := &a.flags[d&1] // each flag's bit added: no branch per flag
	c[0] += f & 1
	c[1] += f >> 1 & 1
	c[2] += f >> 2 & 1
	c[3] += f >> 3 & 1
	c[4] += f >> 4 & 1
	c[5] += f >> 5 & 1
	c[6] += f >> 6 & 1
	c[7] += f >> 7 & 1
	if !a.winSeen[d] {
		a.winSeen[d] = true
		a.initWin[d] = int32(m.Window)
	}
	// Retransmission: a segment that carries sequence space (payload, SYN
	// or FIN) entirely at or below what this side already sent.
	span := uint32(m.PayloadLen)
	if f&packet.FlagSYN != 0 {
		span++
	}
	if f&packet.FlagFIN != 0 {
		span++
	}
	if span > 0 {
		end := m.Seq + span
		if a.seqSeen[d] && int32(end-a.seqNext[d]) <= 0 {
			a.retrans[d]++
		} else {
			a.seqNext[d] = end
			a.seqSeen[d] = true
		}
	}
	switch {
	case f&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN && a.synT == 0:
		a.synT = t
	case f&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN|packet.FlagACK && a.synAckT == 0 && a.synT != 0:
		a.synAckT = t
	case f&(packet.FlagSYN|packet.FlagACK|packet.FlagRST) == packet.FlagACK && a.ackT == 0 && a.synAckT != 0 && d == fwd:
		a.ackT = t
	}
}

// addBulk follows CICFlowMeter's bulk rules, with its direction bug fixed:
// a bulk is BulkMinPackets or more payload-carrying packets in one direction,
// each within BulkGap of the previous, with no payload packet of the other
// direction in between.
func (a *Acc) addBulk(m *packet.Meta, d flow.Dir, t int64) {
	b, o := &a.bulk[d], &a.bulk[1-d]
	if o.last > b.start {
		b.pkts = 0 // the other side sent data since this candidate began
	}
	size := int64(m.PayloadLen)
	if size <= 0 {
		return
	}
	if b.pkts == 0 || t-b.last > BulkGap {
		b.start, b.last, b.pkts, b.size = t, t, 1, size
		return
	}
	b.pkts++
	b.size += size
	if b.pkts == BulkMinPackets {
		b.count++
		b.totPkts += b.pkts
		b.totBytes += b.size
		b.dur += t - b.start
	} else if b.pkts > BulkMinPackets {
		b.totPkts++
		b.totBytes += size
		b.dur += t - b.last
	}
	b.last = t
}

// Inspect gives a payload packet of the flow (m, going in direction d,
// payload its captured transport payload) to the application protocol
// inspection, which starts at the flow's first TCP or UDP payload.
func (a *Acc) Inspect(m *packet.Meta, d flow.Dir, payload []byte) {
	if len(payload) == 0 {
		return
	}
	if a.app == nil {
		if m.Proto != packet.ProtoTCP && m.Proto != packet.ProtoUDP {
			return
		}
		sport, dport := m.SrcPort, m.DstPort
		if d != fwd {
			sport, dport = dport, sport
		}
		a.app = app.New(m.Proto, sport, dport)
	} else if a.app.Done() {
		return
	}
	a.app.Feed(payload, int(d), m.Seq, m.PayloadCap < m.PayloadLen || m.Frag)
}

// App returns what the inspection of the flow's payload read; nil when the
// flow had no TCP or UDP payload or was not inspected.
func (a *Acc) App() *app.State { return a.app }

// First and Last are the times of the flow's first and latest packets, ns.
func (a *Acc) First() int64 { return a.first }

// Last is the time of the latest packet (after clamping), ns.
func (a *Acc) Last() int64 { return a.last }

// MarkUnreachable records that an ICMP error (unreachable, time exceeded…)
// answered one of the flow's packets.
func (a *Acc) MarkUnreachable() { a.unreachable = true }

// Failed reports whether the flow failed: a TCP flow whose handshake did not
// complete or that was reset before the responder sent any payload, any flow
// answered by an ICMP error, and any other flow the responder never answered.
func (a *Acc) Failed(proto uint8, end flow.EndReason) bool {
	switch {
	case a.unreachable:
		return true
	case proto == packet.ProtoTCP:
		return a.ackT == 0 && a.payload[bwd] == 0 || end == flow.EndRST && a.payload[bwd] == 0
	}
	return a.n[bwd] == 0
}

// Reply is the number of payload bytes the responder sent.
func (a *Acc) Reply() int64 { return a.payload[bwd] }

// VLAN is the outermost VLAN ID of the flow's first packet (0: untagged).
func (a *Acc) VLAN() uint16 { return a.vlan }

// Packets is the number of packets in the flow.
func (a *Acc) Packets() int64 { return a.n[fwd] + a.n[bwd] }
