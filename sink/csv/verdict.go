package csv

import (
	"bufio"
	"io"
	"strconv"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/internal/closing"
)

// PacketHeader is the header row of a PacketWriter.
const PacketHeader = "capture,packet,flow_id,verdict"

// PacketWriter writes per-packet verdicts as CSV: one row per packet with
// its capture, its number in the capture (from 1), the flow_id of the flow
// record it joined (empty when it joined none) and that flow's verdict
// (none when it joined none). Errors are sticky. Not safe for concurrent use.
type PacketWriter struct {
	w      *bufio.Writer
	c      io.Closer
	buf    []byte
	header bool
	err    error
}

// NewPacketWriter returns a PacketWriter to w. If w is an io.Closer, Close
// closes it.
func NewPacketWriter(w io.Writer) *PacketWriter {
	pw := &PacketWriter{w: bufio.NewWriterSize(w, 1<<16)}
	if c, ok := w.(io.Closer); ok {
		pw.c = c
	}
	return pw
}

// Write writes the row of one packet; flowID 0 means it joined no flow.
func (w *PacketWriter) Write(capture string, packet int, flowID uint64, verdict string) error {
	if w.err != nil {
		return w.err
	}
	b := w.buf[:0]
	if !w.header {
		w.header = true
		b = append(b, PacketHeader+"\n"...)
	}
	b = appendText(b, []byte(capture))
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(packet), 10)
	b = append(b, ',')
	if flowID != 0 {
		b = feature.AppendFlowID(b, flowID)
	} else {
		verdict = "none"
	}
	b = append(b, ',')
	b = append(b, verdict...)
	b = append(b, '\n')
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

// Close writes the header if no row was written, flushes, closes the
// underlying writer if it is a Closer, and returns the first error.
func (w *PacketWriter) Close() error {
	if w.err == nil && !w.header {
		w.header = true
		_, w.err = w.w.WriteString(PacketHeader + "\n")
	}
	return closing.Close(w.w.Flush, &w.c, &w.err)
}
