// Package parquet writes flow records to an Apache Parquet file (zstd
// compressed) with parquet-go. The Parquet schema is built from the same
// column set as the CSV header: text columns are UTF-8 strings, ports,
// protocol, IP version and VLAN are int32, every feature and the score are
// doubles. (Parquet groups order columns by name; read them by name.)
// Rows are flushed as a row group every RowGroupSize records, and Close
// writes the footer; errors are sticky. It is the only package that imports
// parquet-go.
package parquet

import (
	"fmt"
	"io"

	pq "github.com/parquet-go/parquet-go"

	"github.com/flowmeter/flowmeter/feature"
)

// RowGroupSize is the number of records per row group.
const RowGroupSize = 64 * 1024

type kind uint8

const (
	kText kind = iota
	kInt
	kDouble
)

func kindOf(c feature.Column) kind {
	switch {
	case c.IsString():
		return kText
	case c.Field == feature.FieldSrcPort, c.Field == feature.FieldDstPort, c.Field == feature.FieldProto,
		c.Field == feature.FieldVersion, c.Field == feature.FieldVLAN:
		return kInt
	}
	return kDouble
}

// Writer writes records as Parquet rows. Not safe for concurrent use.
type Writer struct {
	w     *pq.GenericWriter[any]
	c     io.Closer
	cols  []feature.Column
	kinds []kind
	index []int // leaf column index of each column
	rows  []pq.Row
	buf   []byte
	n     int
	err   error
}

// NewWriter returns a Writer of cols to w; Close closes w if it is an
// io.Closer. Duplicate column names (CIC-IDS2017's second "Fwd Header
// Length") get a ".1" suffix, as pandas gives them.
func NewWriter(w io.Writer, cols []feature.Column) *Writer {
	g := pq.Group{}
	names := make([]string, len(cols))
	pw := &Writer{cols: cols}
	for i, c := range cols {
		name := c.Name
		for k := 1; g[name] != nil; k++ {
			name = fmt.Sprintf("%s.%d", c.Name, k)
		}
		names[i] = name
		k := kindOf(c)
		pw.kinds = append(pw.kinds, k)
		switch k {
		case kText:
			g[name] = pq.String()
		case kInt:
			g[name] = pq.Int(32)
		default:
			g[name] = pq.Leaf(pq.DoubleType)
		}
	}
	schema := pq.NewSchema("flow", g)
	for _, n := range names {
		leaf, _ := schema.Lookup(n)
		pw.index = append(pw.index, leaf.ColumnIndex)
	}
	pw.w = pq.NewGenericWriter[any](w, schema, pq.Compression(&pq.Zstd))
	if c, ok := w.(io.Closer); ok {
		pw.c = c
	}
	return pw
}

// Write adds a record.
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil {
		return w.err
	}
	row := make(pq.Row, len(w.cols))
	for i, c := range w.cols {
		var v pq.Value
		switch w.kinds[i] {
		case kText:
			w.buf = feature.AppendValue(w.buf[:0], r, c)
			v = pq.ByteArrayValue(append([]byte(nil), w.buf...))
		case kInt:
			var n int32
			switch c.Field {
			case feature.FieldSrcPort:
				n = int32(r.Src.Port())
			case feature.FieldDstPort:
				n = int32(r.Dst.Port())
			case feature.FieldProto:
				n = int32(r.Proto)
			case feature.FieldVersion:
				n = int32(r.Version)
			case feature.FieldVLAN:
				n = int32(r.VLAN)
			}
			v = pq.Int32Value(n)
		default:
			x := r.Score
			if c.Field == feature.FieldFeature {
				x = r.Values[c.Index]
				if c.Scale != 0 {
					x *= c.Scale
				}
			}
			v = pq.DoubleValue(x)
		}
		row[w.index[i]] = v.Level(0, 0, w.index[i])
	}
	w.rows = append(w.rows, row)
	if len(w.rows) >= 1024 {
		w.err = w.flushRows()
	}
	if w.err == nil {
		w.n++
		if w.n%RowGroupSize == 0 {
			w.err = w.w.Flush()
		}
	}
	return w.err
}

func (w *Writer) flushRows() error {
	_, err := w.w.WriteRows(w.rows)
	w.rows = w.rows[:0]
	return err
}

// Close writes the remaining rows and the footer, closes the underlying
// writer if it is a Closer, and returns the first error.
func (w *Writer) Close() error {
	if w.err == nil && len(w.rows) > 0 {
		w.err = w.flushRows()
	}
	if w.err == nil {
		w.err = w.w.Close()
	}
	if w.c != nil {
		if err := w.c.Close(); err != nil && w.err == nil {
			w.err = err
		}
		w.c = nil
	}
	return w.err
}
