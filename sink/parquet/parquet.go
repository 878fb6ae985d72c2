// Package parquet writes flow records to an Apache Parquet file (zstd at
// its fastest level) with parquet-go. The Parquet schema is built from the same
// column set as the CSV header, in the same order: text columns are UTF-8
// strings (bytes that are not UTF-8, in a capture's file name say, are
// written as \xNN), first_seen and last_seen are TIMESTAMP(MICROS, UTC),
// ports, protocol, IP version, VLAN and every count (feature.IsCount) are
// INT64, the other features and the score DOUBLE. Integer columns are
// DELTA_BINARY_PACKED (small counts take a few bits before compression
// rather than eight bytes), the others PLAIN; page minimums and maximums
// are in the column index. Rows are flushed as a row
// group every RowGroupSize records, and Close writes the footer; errors are
// sticky. It is the only package that imports parquet-go.
package parquet

import (
	"fmt"
	"io"
	"math"
	"reflect"
	"unicode/utf8"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/internal/closing"
)

// RowGroupSize is the number of records per row group.
const RowGroupSize = 64 * 1024

type kind uint8

const (
	kText kind = iota
	kInt
	kTime
	kDouble
)

func kindOf(c feature.Column) kind {
	switch {
	case c.Field == feature.FieldFirst || c.Field == feature.FieldLast:
		return kTime
	case c.IsString():
		return kText
	case c.Field == feature.FieldSrcPort, c.Field == feature.FieldDstPort, c.Field == feature.FieldProto,
		c.Field == feature.FieldVersion, c.Field == feature.FieldVLAN,
		c.Field == feature.FieldFirstMs, c.Field == feature.FieldLastMs, c.Field == feature.FieldNFExpiration:
		return kInt
	case c.Field == feature.FieldFeature && c.Count:
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
	index []int      // leaf column index of each column
	runs  []run      // how Write fills a row's words (cols compiled)
	words []uint64   // the rows not yet written, row after row: each column's int64 or float64 bits, or where its text is in text (start<<32 | end)
	col   []pq.Value // one column's values as flushRows hands them over
	rows  int        // rows in words
	text  []byte     // the bytes of the text values of the rows not yet written
	buf   []byte
	n     int
	err   error
}

// A run is how Write fills words[at:at+n] of a row: n consecutive features
// from Values[index] as they are (doubles, their bits copied) or as whole
// numbers (counts), or one column by its kind (other).
type run struct {
	op           uint8
	at, index, n int
}

const (
	runDoubles = iota
	runCounts
	runOther
)

// compile makes the runs of cols.
func compile(cols []feature.Column, kinds []kind) []run {
	var runs []run
	for i, c := range cols {
		r := run{op: runOther, at: i, index: c.Index, n: 1}
		switch {
		case c.Field != feature.FieldFeature:
		case kinds[i] == kDouble && (c.Scale == 0 || c.Scale == 1): // x·1 is x
			r.op = runDoubles
		case kinds[i] == kInt:
			r.op = runCounts
		}
		if k := len(runs) - 1; k >= 0 && r.op != runOther && runs[k].op == r.op && runs[k].index+runs[k].n == r.index {
			runs[k].n++ // the run goes on
			continue
		}
		runs = append(runs, r)
	}
	return runs
}

// batchRows is how many rows Write gathers before it hands each column's
// values to parquet-go's column writer (which copies them): building a
// parquet.Row per record and letting the writer split it into columns cost
// three times as much. Write stores a record's numbers next to each other
// (words), and flushRows makes one column's values at a time from them:
// gathering 1 024 rows column by column, a record's 200 stores went to 200
// places 24 KB apart, and those stores were a fifth of a Parquet run's time.
// 64 rows of words (about 110 KB) stay in the processor's second-level cache.
// A text value's word is where its bytes are in text, whose 64 rows of text
// stay far below 4 GiB.
const batchRows = 64

// NewWriter returns a Writer of cols to w; Close closes w if it is an
// io.Closer. Duplicate column names (CIC-IDS2017's second "Fwd
// Header Length") get a ".1" suffix, as pandas gives them.
func NewWriter(w io.Writer, cols []feature.Column) *Writer {
	pw := &Writer{cols: cols}
	var fields []reflect.StructField
	seen := map[string]bool{}
	for i, c := range cols {
		name := c.Name
		for k := 1; seen[name]; k++ {
			name = fmt.Sprintf("%s.%d", c.Name, k)
		}
		seen[name] = true
		k := kindOf(c)
		pw.kinds = append(pw.kinds, k)
		f := reflect.StructField{Name: fmt.Sprintf("F%d", i), Tag: reflect.StructTag(`parquet:"` + name + `"`)}
		switch k {
		case kText:
			f.Type = reflect.TypeOf("")
		case kInt:
			f.Type, f.Tag = reflect.TypeOf(int64(0)), reflect.StructTag(`parquet:"`+name+`,delta"`)
		case kTime:
			f.Type, f.Tag = reflect.TypeOf(int64(0)), reflect.StructTag(`parquet:"`+name+`,timestamp(microsecond),delta"`)
		default:
			f.Type = reflect.TypeOf(float64(0))
		}
		fields = append(fields, f)
	}
	pw.runs = compile(cols, pw.kinds)
	pw.words = make([]uint64, 0, batchRows*len(cols))
	pw.col = make([]pq.Value, batchRows)
	schema := pq.SchemaOf(reflect.New(reflect.StructOf(fields)).Elem().Interface())
	schema = pq.NewSchema("flow", schema)
	for i := range cols {
		leaf, _ := schema.Lookup(tagName(fields[i].Tag))
		pw.index = append(pw.index, leaf.ColumnIndex)
	}
	// Page minimums and maximums go in the column index only, not again in
	// each data page's header (which computed them a second time).
	opts := []pq.WriterOption{schema, pq.Compression(&zstd.Codec{Level: zstd.SpeedFastest}), pq.DataPageStatistics(false)}
	for i, c := range cols {
		if opaque(c) {
			name := tagName(fields[i].Tag)
			opts = append(opts, pq.SkipPageBounds(name), pq.SkipPageStatistics(name))
		}
	}
	pw.w = pq.NewGenericWriter[any](w, opts...)
	if c, ok := w.(io.Closer); ok {
		pw.c = c
	}
	return pw
}

// opaque reports whether c is text whose order means nothing (hashes,
// identifiers, free text): no minimum and maximum are kept for its pages,
// which cost a comparison of every value (a twentieth of a Parquet run).
func opaque(c feature.Column) bool {
	switch c.Field {
	case feature.FieldFlowID, feature.FieldCommunityID, feature.FieldCICFlowID, feature.FieldSeedTuple:
		return true
	case feature.FieldApp:
		switch app.Field(c.Index) {
		case app.TLSJA3, app.TLSJA3S, app.TLSJA4, app.TLSCertSubject, app.TLSCertIssuer,
			app.DNSAnswers, app.HTTPTarget, app.HTTPUserAgent, app.SSHHassh, app.SSHHasshServer:
			return true
		}
	}
	return false
}

// tagName is the column name in a parquet struct tag.
func tagName(t reflect.StructTag) string {
	v := t.Get("parquet")
	for i := 0; i < len(v); i++ {
		if v[i] == ',' {
			return v[:i]
		}
	}
	return v
}

// appendUTF8 appends b with every byte that is not part of valid UTF-8
// written as \xNN, so that the string column stays readable.
func appendUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, fmt.Sprintf("\\x%02x", b[0])...)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// Write adds a record.
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil {
		return w.err
	}
	start := len(w.words)
	row := w.words[start : start+len(w.cols)] // words holds batchRows rows: no growth
	w.words = w.words[:start+len(w.cols)]
	for _, rn := range w.runs {
		switch rn.op {
		case runDoubles:
			copy(row[rn.at:rn.at+rn.n], unsafe.Slice((*uint64)(unsafe.Pointer(&r.Values[rn.index])), rn.n))
		case runCounts:
			for k, v := range r.Values[rn.index : rn.index+rn.n] {
				row[rn.at+k] = uint64(int64(v))
			}
		default:
			row[rn.at] = w.word(r, rn.at)
		}
	}
	w.rows++
	if w.rows >= batchRows {
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

// word is column i's word of r.
func (w *Writer) word(r *feature.Record, i int) uint64 {
	c := &w.cols[i]
	switch w.kinds[i] {
	case kText:
		start := len(w.text)
		w.text = feature.AppendValue(w.text, r, *c)
		if !utf8.Valid(w.text[start:]) {
			w.buf = append(w.buf[:0], w.text[start:]...)
			w.text = appendUTF8(w.text[:start], w.buf)
		}
		return uint64(start)<<32 | uint64(len(w.text))
	case kTime:
		t := r.First
		if c.Field == feature.FieldLast {
			t = r.Last
		}
		return uint64(t / 1000)
	case kInt:
		var n int64
		switch c.Field {
		case feature.FieldSrcPort:
			n = int64(r.Src.Port())
		case feature.FieldDstPort:
			n = int64(r.Dst.Port())
		case feature.FieldProto:
			n = int64(r.Proto)
		case feature.FieldVersion:
			n = int64(r.Version)
		case feature.FieldVLAN:
			n = int64(r.VLAN)
		case feature.FieldFirstMs:
			n = r.First / 1e6
		case feature.FieldLastMs:
			n = r.Last / 1e6
		case feature.FieldNFExpiration:
			n = int64(feature.NFExpiration(r.End))
		default:
			n = int64(r.Values[c.Index])
		}
		return uint64(n)
	}
	x := r.Score
	if c.Field == feature.FieldFeature {
		x = r.Values[c.Index]
		if c.Scale != 0 {
			x *= c.Scale
		}
	}
	return math.Float64bits(x)
}

// flushRows hands each column's gathered values to its column writer,
// which copies them: a number column's values are made from the words of
// each row in turn.
func (w *Writer) flushRows() error {
	cws := w.w.ColumnWriters()
	n := len(w.cols)
	for i, k := range w.kinds {
		vals := w.col[:w.rows] // required columns: levels 0
		switch k {
		case kText:
			for r := range vals {
				word := w.words[r*n+i]
				start, end := word>>32, word&(1<<32-1)
				vals[r] = pq.ByteArrayValue(w.text[start:end:end])
			}
		case kDouble:
			for r := range vals {
				vals[r] = pq.DoubleValue(math.Float64frombits(w.words[r*n+i]))
			}
		default:
			for r := range vals {
				vals[r] = pq.Int64Value(int64(w.words[r*n+i]))
			}
		}
		if _, err := cws[w.index[i]].WriteRowValues(vals); err != nil {
			return err
		}
	}
	w.rows, w.text, w.words = 0, w.text[:0], w.words[:0]
	return nil
}

// Close writes the remaining rows and the footer, closes the underlying
// writer if it is a Closer, and returns the first error.
func (w *Writer) Close() error {
	if w.err == nil && w.rows > 0 {
		w.err = w.flushRows()
	}
	return closing.Close(w.w.Close, &w.c, &w.err)
}
