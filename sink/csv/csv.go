// Package csv writes flow records as CSV: a header row from the column set,
// then one row per flow. Numbers are written in their shortest exact decimal
// form; text is quoted only when it holds a comma, quote or line break
// (RFC 4180). Errors are sticky: the first one is returned by every later
// call and by Close.
package csv

import (
	"bufio"
	"bytes"
	"io"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/internal/closing"
)

// Writer writes records as CSV rows. Not safe for concurrent use.
type Writer struct {
	w      *bufio.Writer
	c      io.Closer
	cols   []feature.Column
	buf    []byte
	header bool
	err    error
}

// NewWriter returns a Writer of the given columns to w. If w is an
// io.Closer, Close closes it.
func NewWriter(w io.Writer, cols []feature.Column) *Writer {
	cw := &Writer{w: bufio.NewWriterSize(w, 1<<16), cols: cols}
	if c, ok := w.(io.Closer); ok {
		cw.c = c
	}
	return cw
}

func (w *Writer) writeHeader() {
	w.header = true
	b := w.buf[:0]
	for i, c := range w.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendText(b, []byte(c.Name))
	}
	b = append(b, '\n')
	_, w.err = w.w.Write(b)
	w.buf = b
}

// Write writes one record.
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil {
		return w.err
	}
	if !w.header {
		w.writeHeader()
	}
	b := w.buf[:0]
	for i, c := range w.cols {
		if i > 0 {
			b = append(b, ',')
		}
		if c.IsString() {
			start := len(b)
			b = feature.AppendValue(b, r, c)
			if needsQuote(b[start:]) {
				v := append([]byte(nil), b[start:]...)
				b = appendText(b[:start], v)
			}
		} else {
			b = feature.AppendValue(b, r, c)
		}
	}
	b = append(b, '\n')
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

func needsQuote(v []byte) bool { return bytes.ContainsAny(v, ",\"\r\n") }

func appendText(b, v []byte) []byte {
	if !needsQuote(v) {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// Close writes the header if no row was written, flushes, closes the
// underlying writer if it is a Closer, and returns the first error.
func (w *Writer) Close() error {
	if w.err == nil && !w.header {
		w.writeHeader()
	}
	return closing.Close(w.w.Flush, &w.c, &w.err)
}
