// Package zeek writes flow records as Zeek's conn.log (the TSV form of
// Zeek's ASCII writer): its header lines, field names and types, one line
// per flow with the connection's endpoints, duration, bytes, packets and
// conn_state, and the Community ID (Zeek's community-id policy adds it the
// same way), so that tools that read conn.log read flowmeter's flows.
//
// service is the application protocol flowmeter named from the payload
// (app_proto; "ssl" for TLS, as Zeek names it), "-" when none was named
// or the inspection was off. What Zeek derives from sequence numbers
// flowmeter does not have: history is unset, missed_bytes is 0, and
// orig_bytes/resp_bytes are the transport payload bytes seen (Zeek counts
// them from TCP sequence numbers, so the two differ when packets were
// lost). The #open and #close times are the first and last flow's, not the
// wall clock, so the same input gives the same file. Errors are sticky.
package zeek

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/sink/internal/closing"
)

// Fields and Types are conn.log's #fields and #types lines.
const (
	Fields = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tcommunity_id"
	Types  = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tstring"
)

// the features a conn.log line reads
var needed = []string{"duration_s", "fwd_payload_bytes", "bwd_payload_bytes", "fwd_packets", "bwd_packets", "fwd_bytes", "bwd_bytes",
	"fwd_syn_count", "bwd_syn_count", "fwd_fin_count", "bwd_fin_count", "fwd_rst_count", "bwd_rst_count", "tcp_handshake", "icmp_type", "icmp_code"}

const (
	iDur = iota
	iOrigBytes
	iRespBytes
	iOrigPkts
	iRespPkts
	iOrigIP
	iRespIP
	iFwdSyn
	iBwdSyn
	iFwdFin
	iBwdFin
	iFwdRst
	iBwdRst
	iHandshake
	iICMPType
	iICMPCode
)

// Writer writes conn.log. Not safe for concurrent use.
type Writer struct {
	w      *bufio.Writer
	c      io.Closer
	idx    []int
	buf    []byte
	header bool
	last   int64
	err    error
}

// NewWriter returns a Writer to w of records of schema s; Close closes w
// if it is an io.Closer.
func NewWriter(w io.Writer, s *feature.Schema) (*Writer, error) {
	zw := &Writer{w: bufio.NewWriterSize(w, 1<<16)}
	idx, err := s.Indices(needed)
	if err != nil {
		return nil, fmt.Errorf("zeek: %w", err)
	}
	zw.idx = idx
	if c, ok := w.(io.Closer); ok {
		zw.c = c
	}
	return zw, nil
}

func zeekTime(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02-15-04-05") }

func (w *Writer) writeHeader(open int64) {
	w.header = true
	_, w.err = fmt.Fprintf(w.w, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t%s\n#fields\t%s\n#types\t%s\n",
		zeekTime(open), Fields, Types)
}

// Write writes one flow (early records are not connections: skipped).
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil || r.End == flow.Early {
		return w.err
	}
	if !w.header {
		w.writeHeader(r.First)
	}
	w.last = max(w.last, r.Last)
	v := func(i int) float64 { return r.Values[w.idx[i]] }
	count := func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(v(i)), 10) }
	b := w.buf[:0]
	b = strconv.AppendFloat(b, float64(r.First)/1e9, 'f', 6, 64)
	b = append(b, "\tC"...)
	b = appendBase62(b, r.ID)
	b = append(b, '\t')
	b = r.Src.Addr().AppendTo(b)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(r.Src.Port()), 10)
	b = append(b, '\t')
	b = r.Dst.Addr().AppendTo(b)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(r.Dst.Port()), 10)
	b = append(b, '\t')
	b = append(b, protoName(r.Proto)...)
	b = append(b, '\t')
	switch p := r.App.Proto(); p {
	case app.Unknown:
		b = append(b, '-')
	case app.TLS:
		b = append(b, "ssl"...)
	default:
		b = append(b, p.String()...)
	}
	b = append(b, '\t')
	b = strconv.AppendFloat(b, v(iDur), 'f', 6, 64)
	b = append(b, '\t')
	b = count(b, iOrigBytes)
	b = append(b, '\t')
	b = count(b, iRespBytes)
	b = append(b, '\t')
	b = append(b, connState(r.Proto, v)...)
	b = append(b, "\t-\t-\t0\t-\t"...) // local_orig, local_resp, missed_bytes, history
	for k, i := range []int{iOrigPkts, iOrigIP, iRespPkts, iRespIP} {
		if k > 0 {
			b = append(b, '\t')
		}
		b = count(b, i)
	}
	b = append(b, "\t(empty)\t"...)
	b = feature.AppendCommunityID(b, r, int(v(iICMPType)), int(v(iICMPCode)))
	b = append(b, '\n')
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1, 58:
		return "icmp"
	}
	return "unknown_transport"
}

// connState is Zeek's conn_state from the flow's flags and packets.
func connState(proto uint8, v func(int) float64) string {
	orig, resp := v(iOrigPkts) > 0, v(iRespPkts) > 0
	if proto != 6 {
		switch {
		case orig && resp:
			return "SF"
		case orig:
			return "S0"
		}
		return "SHR"
	}
	syn, synack := v(iFwdSyn) > 0, v(iBwdSyn) > 0
	finO, finR, rstO, rstR := v(iFwdFin) > 0, v(iBwdFin) > 0, v(iFwdRst) > 0, v(iBwdRst) > 0
	established := v(iHandshake) > 0 || syn && synack && orig && resp
	switch {
	case !syn && !synack:
		return "OTH" // midstream: no handshake seen
	case syn && !synack && rstR && !finO:
		return "REJ"
	case syn && !synack && rstO:
		return "RSTOS0"
	case syn && !synack && finO:
		return "SH"
	case syn && !synack:
		return "S0"
	case !syn && synack && rstR:
		return "RSTRH"
	case !syn && synack && finR:
		return "SHR"
	case !syn:
		return "OTH"
	case !established:
		return "S0"
	case rstO:
		return "RSTO"
	case rstR:
		return "RSTR"
	case finO && finR:
		return "SF"
	case finO:
		return "S2"
	case finR:
		return "S3"
	}
	return "S1"
}

// appendBase62 appends x in base 62 (Zeek's uids are C and base 62).
func appendBase62(b []byte, x uint64) []byte {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var tmp [11]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = digits[x%62]
		x /= 62
		if x == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// Close writes the header if no line was written and the #close line,
// flushes, closes the underlying writer if it is a Closer, and returns the
// first error.
func (w *Writer) Close() error {
	if w.err == nil && !w.header {
		w.writeHeader(0)
	}
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, "#close\t%s\n", zeekTime(w.last))
	}
	return closing.Close(w.w.Flush, &w.c, &w.err)
}
