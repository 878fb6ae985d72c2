// Package jsonl writes flow records as JSON lines: one object per flow, keys
// in column order. Numbers are JSON numbers (never NaN or Infinity); text is
// a JSON string. Errors are sticky, as in package csv.
package jsonl

import (
	"bufio"
	"io"
	"unicode/utf8"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/internal/closing"
)

// Encoder turns records into JSON objects. Not safe for concurrent use.
type Encoder struct {
	cols []feature.Column
	keys [][]byte // pre-quoted keys with their colon
	tmp  []byte
}

// NewEncoder returns an Encoder of the given columns.
func NewEncoder(cols []feature.Column) *Encoder {
	e := &Encoder{cols: cols}
	for _, c := range cols {
		k := appendString(nil, c.Name)
		e.keys = append(e.keys, append(k, ':'))
	}
	return e
}

// Append appends r as one JSON object (no newline) to b.
func (e *Encoder) Append(b []byte, r *feature.Record) []byte {
	b = append(b, '{')
	for i, c := range e.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.keys[i]...)
		if c.IsString() {
			e.tmp = feature.AppendValue(e.tmp[:0], r, c)
			b = appendString(b, string(e.tmp))
		} else {
			b = feature.AppendValue(b, r, c)
		}
	}
	return append(b, '}')
}

// Writer writes records as JSON lines. Not safe for concurrent use.
type Writer struct {
	w   *bufio.Writer
	c   io.Closer
	enc *Encoder
	buf []byte
	err error
}

// NewWriter returns a Writer of the given columns to w; Close closes w if it
// is an io.Closer.
func NewWriter(w io.Writer, cols []feature.Column) *Writer {
	jw := &Writer{w: bufio.NewWriterSize(w, 1<<16), enc: NewEncoder(cols)}
	if c, ok := w.(io.Closer); ok {
		jw.c = c
	}
	return jw
}

// Write writes one record as a line.
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.enc.Append(w.buf[:0], r), '\n')
	_, w.err = w.w.Write(w.buf)
	return w.err
}

// RowFunc returns a function that appends r's line (with its newline) to
// dst, as Write would write it; each function has its own Encoder, so
// several may run at once (see csv.Writer.RowFunc).
func (w *Writer) RowFunc() func(dst []byte, r *feature.Record) []byte {
	e := NewEncoder(w.enc.cols)
	return func(dst []byte, r *feature.Record) []byte { return append(e.Append(dst, r), '\n') }
}

// WriteRows writes lines made by RowFunc's functions.
func (w *Writer) WriteRows(b []byte) error {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
	return w.err
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Close flushes, closes the underlying writer if it is a Closer, and returns
// the first error.
func (w *Writer) Close() error {
	return closing.Close(w.w.Flush, &w.c, &w.err)
}
