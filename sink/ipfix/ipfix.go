// Package ipfix exports flow records as IPFIX (RFC 7011) over UDP, to any
// collector (nfdump's nfcapd, goflow2, a SIEM's): one data record per flow,
// with IANA's standard information elements (RFC 7012): the endpoints, the
// protocol, the initiator's packets and bytes (packetDeltaCount,
// octetDeltaCount), the responder's (postPacketDeltaCount,
// postOctetDeltaCount), the first and last packet times in milliseconds, the
// end reason and the TCP flags seen. Every message carries its templates (one
// for IPv4 flows, one for IPv6), as UDP export must resend them, so a
// collector that starts late still decodes every flow. Messages stay under
// 1 400 bytes. Errors are sticky.
package ipfix

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"net/url"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
)

// IANA information elements.
const (
	ieOctetDeltaCount      = 1
	iePacketDeltaCount     = 2
	ieProtocolIdentifier   = 4
	ieTCPControlBits       = 6
	ieSourcePort           = 7
	ieSourceIPv4           = 8
	ieDestinationPort      = 11
	ieDestinationIPv4      = 12
	iePostOctetDeltaCount  = 23
	iePostPacketDeltaCount = 24
	ieSourceIPv6           = 27
	ieDestinationIPv6      = 28
	ieFlowEndReason        = 136
	ieFlowStartMillis      = 152
	ieFlowEndMillis        = 153
)

const (
	templateV4 = 256
	templateV6 = 257
	maxMessage = 1400
	headerLen  = 16
)

type field struct{ id, size uint16 }

func template(v6 bool) []field {
	addr := []field{{ieSourceIPv4, 4}, {ieDestinationIPv4, 4}}
	if v6 {
		addr = []field{{ieSourceIPv6, 16}, {ieDestinationIPv6, 16}}
	}
	return append(addr, field{ieSourcePort, 2}, field{ieDestinationPort, 2}, field{ieProtocolIdentifier, 1},
		field{iePacketDeltaCount, 8}, field{ieOctetDeltaCount, 8}, field{iePostPacketDeltaCount, 8}, field{iePostOctetDeltaCount, 8},
		field{ieFlowStartMillis, 8}, field{ieFlowEndMillis, 8}, field{ieFlowEndReason, 1}, field{ieTCPControlBits, 2})
}

// templateSet is the set (ID 2) holding both templates.
func templateSet() []byte {
	b := []byte{0, 2, 0, 0}
	for _, t := range []struct {
		id uint16
		v6 bool
	}{{templateV4, false}, {templateV6, true}} {
		fs := template(t.v6)
		b = binary.BigEndian.AppendUint16(b, t.id)
		b = binary.BigEndian.AppendUint16(b, uint16(len(fs)))
		for _, f := range fs {
			b = binary.BigEndian.AppendUint16(b, f.id)
			b = binary.BigEndian.AppendUint16(b, f.size)
		}
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// the features a record reads
var needed = []string{"fwd_packets", "fwd_bytes", "bwd_packets", "bwd_bytes",
	"fin_count", "syn_count", "rst_count", "psh_count", "ack_count", "urg_count", "ece_count", "cwr_count"}

// Writer exports records to one collector. Not safe for concurrent use.
type Writer struct {
	conn      net.Conn
	idx       []int
	domain    uint32
	seq       uint32 // data records sent before the current message
	msg       []byte // the message being filled
	set       int    // offset of the open data set's header, or -1
	setID     uint16
	records   uint32 // data records in the current message
	exportSec uint32
	err       error
}

// ParseURL reads ipfix://HOST:PORT[?domain=N] (the observation domain).
func ParseURL(s string) (addr string, domain uint32, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "ipfix" || u.Port() == "" || u.Path != "" && u.Path != "/" {
		return "", 0, fmt.Errorf("%q: want ipfix://HOST:PORT", s)
	}
	if d := u.Query().Get("domain"); d != "" {
		if _, err := fmt.Sscan(d, &domain); err != nil {
			return "", 0, fmt.Errorf("%q: domain=%s is not a number", s, d)
		}
	}
	return u.Host, domain, nil
}

// NewWriter exports records of schema s to the collector at addr (UDP).
func NewWriter(addr string, domain uint32, s *feature.Schema) (*Writer, error) {
	w := &Writer{domain: domain, set: -1}
	idx, err := s.Indices(needed)
	if err != nil {
		return nil, fmt.Errorf("ipfix: %w", err)
	}
	w.idx = idx
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("ipfix: %w", err)
	}
	w.conn = c
	return w, nil
}

// Write adds one flow (early records are not flows: skipped).
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil || r.End == flow.Early {
		return w.err
	}
	v6 := r.Version == 6
	id := uint16(templateV4)
	size := 64 // bytes of a data record (template)
	if v6 {
		id, size = templateV6, 88
	}
	if len(w.msg) > 0 && len(w.msg)+size+4 > maxMessage {
		w.err = w.send()
		if w.err != nil {
			return w.err
		}
	}
	if len(w.msg) == 0 {
		w.start(r)
	}
	if w.set < 0 || w.setID != id {
		w.closeSet()
		w.set, w.setID = len(w.msg), id
		w.msg = binary.BigEndian.AppendUint16(w.msg, id)
		w.msg = append(w.msg, 0, 0)
	}
	w.msg = w.appendRecord(w.msg, r, v6)
	w.records++
	return nil
}

func (w *Writer) start(r *feature.Record) {
	w.exportSec = uint32(r.Last / 1e9) // packet time: the same input gives the same messages
	w.msg = append(w.msg[:0], make([]byte, headerLen)...)
	w.msg = append(w.msg, templateSet()...)
	w.set = -1
}

func (w *Writer) closeSet() {
	if w.set >= 0 {
		binary.BigEndian.PutUint16(w.msg[w.set+2:], uint16(len(w.msg)-w.set))
		w.set = -1
	}
}

func addr(b []byte, a netip.Addr, v6 bool) []byte {
	if v6 {
		x := a.As16()
		return append(b, x[:]...)
	}
	x := a.Unmap().As4()
	return append(b, x[:]...)
}

func (w *Writer) appendRecord(b []byte, r *feature.Record, v6 bool) []byte {
	val := func(i int) uint64 { return uint64(r.Values[w.idx[i]]) }
	b = addr(b, r.Src.Addr(), v6)
	b = addr(b, r.Dst.Addr(), v6)
	b = binary.BigEndian.AppendUint16(b, r.Src.Port())
	b = binary.BigEndian.AppendUint16(b, r.Dst.Port())
	b = append(b, r.Proto)
	for i := 0; i < 4; i++ { // fwd packets, fwd bytes, bwd packets, bwd bytes
		b = binary.BigEndian.AppendUint64(b, val(i))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.First/1e6))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Last/1e6))
	b = append(b, endReason(r.End))
	var bits uint16
	for k := 0; k < 8; k++ { // FIN, SYN, RST, PSH, ACK, URG, ECE, CWR
		if val(4+k) > 0 {
			bits |= 1 << k
		}
	}
	return binary.BigEndian.AppendUint16(b, bits)
}

// endReason is IANA's flowEndReason.
func endReason(r flow.EndReason) byte {
	switch r {
	case flow.EndIdle:
		return 1 // idle timeout
	case flow.EndActive:
		return 2 // active timeout
	case flow.EndFIN, flow.EndRST:
		return 3 // end of flow detected
	case flow.EndEvicted:
		return 5 // lack of resources
	}
	return 4 // forced end (the input ended, the sensor stopped)
}

// send sends the current message.
func (w *Writer) send() error {
	if len(w.msg) == 0 {
		return nil
	}
	w.closeSet()
	h := w.msg[:headerLen]
	binary.BigEndian.PutUint16(h[0:], 10)
	binary.BigEndian.PutUint16(h[2:], uint16(len(w.msg)))
	binary.BigEndian.PutUint32(h[4:], w.exportSec)
	binary.BigEndian.PutUint32(h[8:], w.seq)
	binary.BigEndian.PutUint32(h[12:], w.domain)
	_, err := w.conn.Write(w.msg)
	w.seq += w.records
	w.records = 0
	w.msg = w.msg[:0]
	if err != nil {
		return fmt.Errorf("ipfix: %w", err)
	}
	return nil
}

// Close sends what is left and closes the socket.
func (w *Writer) Close() error {
	if w.err == nil {
		w.err = w.send()
	}
	if w.conn != nil {
		if err := w.conn.Close(); err != nil && w.err == nil {
			w.err = err
		}
		w.conn = nil
	}
	return w.err
}
