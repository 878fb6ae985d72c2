// Package csv writes flow records as CSV: a header row from the column set,
// then one row per flow. Numbers are written in their shortest exact decimal
// form; text is quoted only when it holds a comma, quote or line break
// (RFC 4180). Errors are sticky: the first one is returned by every later
// call and by Close.
package csv

import (
	"io"
	"strings"
	"unsafe"

	"github.com/flowmeter/flowmeter/app"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/internal/closing"
)

// Writer writes records as CSV rows. Not safe for concurrent use.
type Writer struct {
	w      io.Writer
	c      io.Closer
	cols   []feature.Column
	ops    []op // cols compiled
	enc    *encoder
	buf    []byte // rows not yet written to w; Write formats straight into it
	header bool
	err    error
}

// bufSize is how many bytes of rows the Writer holds before it writes them
// to the underlying writer.
const bufSize = 1 << 16

// NewWriter returns a Writer of the given columns to w. If w is an
// io.Closer, Close closes it.
func NewWriter(w io.Writer, cols []feature.Column) *Writer {
	cw := &Writer{w: w, cols: cols, ops: compile(cols), buf: make([]byte, 0, bufSize+bufSize/4)}
	cw.enc = cw.newEncoder()
	if c, ok := w.(io.Closer); ok {
		cw.c = c
	}
	return cw
}

func (w *Writer) writeHeader() {
	w.header = true
	for i, c := range w.cols {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendText(w.buf, []byte(c.Name))
	}
	w.buf = append(w.buf, '\n')
}

// Write writes one record. The row is formatted in place at the end of the
// Writer's buffer (no copy of it is made), which goes to the underlying
// writer once it holds bufSize bytes.
func (w *Writer) Write(r *feature.Record) error {
	if w.err != nil {
		return w.err
	}
	if !w.header {
		w.writeHeader()
	}
	w.buf = w.enc.appendRow(w.buf, r)
	if len(w.buf) >= bufSize {
		w.flush()
	}
	return w.err
}

// flush writes the buffer to the underlying writer and empties it; an
// error, or a short write, is kept.
func (w *Writer) flush() {
	if w.err != nil || len(w.buf) == 0 {
		return
	}
	w.write(w.buf)
	w.buf = w.buf[:0]
}

// write writes b to the underlying writer, keeping an error or a short write.
func (w *Writer) write(b []byte) {
	n, err := w.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	w.err = err
}

// RowFunc returns a function that appends r's row (with its newline) to
// dst, as Write would write it. Each function has its own state, so several
// may run at once, one per goroutine, on other goroutines than the
// Writer's: the sharded meter encodes rows in parallel and writes them in
// order with WriteRows.
func (w *Writer) RowFunc() func(dst []byte, r *feature.Record) []byte {
	return w.newEncoder().appendRow
}

// encoder formats rows. It remembers each short run of features as it last
// wrote it, values and text: where a record repeats the values of the one
// before (most of a flood's records, most of the zeros of any flow), the text
// is copied instead of formatted again. It remembers each block of runs (all
// the features between two other columns) the same way, so that a record
// whose features all repeat the last one's (a flood's, a scan's) copies
// them in one piece. Not safe for concurrent use.
type encoder struct {
	w      *Writer
	memo   []chunk
	blocks []blockMemo // one per opBlock
	texts  []textMemo  // one per opText
	floats feature.FloatCache
}

// plainText returns the text of a field that is a record's string as it
// is (capture, label, category, verdict).
func plainText(r *feature.Record, f feature.Field) (string, bool) {
	switch f {
	case feature.FieldCapture:
		return r.Capture, true
	case feature.FieldLabel:
		return r.Label, true
	case feature.FieldCategory:
		return r.Category, true
	case feature.FieldVerdict:
		return r.Verdict, true
	}
	return "", false
}

// textMemo is the last text of one text column, as given and as written.
type textMemo struct {
	text  string
	field []byte
	ok    bool
}

// quoted appends t as a field, quoted when it needs it, and remembers it in
// m: a capture's name, the same on every row of a file, is not scanned
// again for every row.
func (m *textMemo) quoted(b []byte, t string) []byte {
	if !m.ok || t != m.text {
		m.text, m.field, m.ok = t, appendText(m.field[:0], []byte(t)), true
	}
	return append(b, m.field...)
}

// blockMemo is the last values and text of a block of features.
type blockMemo struct {
	bits []uint64
	remembered
}

// chunk is the last values and text of one run of at most chunkLen features.
type chunk struct {
	bits [chunkLen]uint64
	remembered
}

// remembered is the text a chunk or a block last wrote, and the rule for
// remembering the next: a run that changed twice in a row is formatted
// without being remembered for the next skipRows rows. Remembering costs
// about what formatting does, so only runs that repeat are worth it.
type remembered struct {
	text   []byte
	ok     bool
	misses uint8
	skip   uint8
}

// skipping reports whether this row goes unremembered, and counts it.
func (m *remembered) skipping() bool {
	if m.skip > 0 {
		m.skip--
		return true
	}
	return false
}

// missed notes that the values changed and reports whether the new text is
// to be remembered: not after a second miss in a row, which starts skipRows
// rows unremembered.
func (m *remembered) missed() bool {
	if m.ok {
		if m.misses++; m.misses >= 2 {
			m.ok, m.misses, m.skip = false, 0, skipRows
			return false
		}
	}
	return true
}

// keep remembers text as written for bits, the values' bits.
func (m *remembered) keep(bits []uint64, vals []float64, text []byte) {
	copy(bits, unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals)))
	m.text, m.ok = append(m.text[:0], text...), true
}

// skipRows is how long a run that keeps changing goes unremembered.
const skipRows = 16

// chunkLen is the longest run of features remembered as one: long enough
// to copy more than it compares, short enough that a record's few changing
// values (its times, its context) leave most runs as they were.
const chunkLen = 8

func (w *Writer) newEncoder() *encoder {
	e := &encoder{w: w}
	for _, o := range w.ops {
		switch o.kind {
		case opFeature:
			e.memo = append(e.memo, chunk{})
		case opBlock:
			e.blocks = append(e.blocks, blockMemo{bits: make([]uint64, o.n)})
		case opText:
			e.texts = append(e.texts, textMemo{})
		}
	}
	return e
}

// WriteRows writes rows made by RowFunc's functions, after the header if
// none was written yet.
func (w *Writer) WriteRows(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if !w.header {
		w.writeHeader()
	}
	if len(b) >= bufSize { // a big chunk of rows goes as it is, not copied
		if w.flush(); w.err == nil {
			w.write(b)
		}
		return w.err
	}
	if len(w.buf)+len(b) > cap(w.buf) {
		w.flush()
	}
	w.buf = append(w.buf, b...)
	if len(w.buf) >= bufSize {
		w.flush()
	}
	return w.err
}

// appendRow appends r's row.
func (e *encoder) appendRow(b []byte, r *feature.Record) []byte {
	w := e.w
	start := len(b)
	vals := r.Values
	k, bk, tk := 0, 0, 0 // the next chunk, block, text column
	ops := w.ops
	for i := 0; i < len(ops); i++ {
		o := ops[i]
		switch o.kind {
		case opBlock: // the o.col runs that follow, o.n features from o.index
			m := &e.blocks[bk]
			bk++
			if m.skipping() {
				break // the runs, one by one
			}
			block := vals[o.index : o.index+o.n]
			if m.ok && sameBits(m.bits, block) {
				b = append(b, m.text...)
				i, k = i+o.col, k+o.col
				m.misses = 0
				break
			}
			if !m.missed() {
				break // the runs, one by one
			}
			from := len(b)
			for _, c := range ops[i+1 : i+1+o.col] {
				b = e.appendChunk(b, &e.memo[k], vals[c.index:c.index+c.n])
				k++
			}
			i += o.col
			m.keep(m.bits, block, b[from:])
		case opFeature: // a run of features in schema order
			b = e.appendChunk(b, &e.memo[k], vals[o.index:o.index+o.n])
			k++
		case opApp: // a run of metadata fields
			if r.App == nil { // no payload, no metadata: empty fields
				b = append(b, commas[:o.n]...)
				break
			}
			if r.App.Plain() { // nothing to quote: each field as it is
				for f := o.index; f < o.index+o.n; f++ {
					b = append(r.App.AppendField(b, app.Field(f)), ',')
				}
				break
			}
			for f := o.index; f < o.index+o.n; f++ {
				from := len(b)
				b = append(quoteFrom(r.App.AppendField(b, app.Field(f)), from), ',')
			}
		case opText:
			tk++
			if t, ok := plainText(r, w.cols[o.col].Field); ok {
				b = append(e.texts[tk-1].quoted(b, t), ',')
				break
			}
			from := len(b)
			b = append(quoteFrom(feature.AppendValue(b, r, w.cols[o.col]), from), ',')
		default:
			b = append(feature.AppendValue(b, r, w.cols[o.col]), ',')
		}
	}
	if len(b) > start {
		b[len(b)-1] = '\n'
	} else {
		b = append(b, '\n')
	}
	return b
}

// appendChunk appends a run of features, copied from m when the run repeats
// m's values, and keeps m up to date.
func (e *encoder) appendChunk(b []byte, m *chunk, run []float64) []byte {
	if m.skipping() {
		return e.appendRun(b, run)
	}
	if m.ok && sameBits(m.bits[:len(run)], run) {
		m.misses = 0
		return append(b, m.text...)
	}
	from := len(b)
	b = e.appendRun(b, run)
	if m.missed() {
		m.keep(m.bits[:], run, b[from:])
	}
	return b
}

// appendRun appends a run of features, each with its comma.
func (e *encoder) appendRun(b []byte, run []float64) []byte {
	for _, v := range run {
		// most values of most flows are 0, 1 or −1 ("none")
		switch v {
		case 0:
			b = append(b, '0', ',')
		case 1:
			b = append(b, '1', ',')
		case -1:
			b = append(b, '-', '1', ',')
		default:
			b = append(e.floats.AppendFloat(b, v), ',')
		}
	}
	return b
}

// sameBits reports whether vals are, bit for bit, the values of bits: a
// whole chunk without a branch per value (one per value cost a tenth of a
// flood's row), a shorter run compared as memory.
func sameBits(bits []uint64, vals []float64) bool {
	if len(vals) == chunkLen && len(bits) == chunkLen {
		a, b := (*[chunkLen]uint64)(bits), (*[chunkLen]uint64)(unsafe.Pointer(unsafe.SliceData(vals)))
		return (a[0]^b[0])|(a[1]^b[1])|(a[2]^b[2])|(a[3]^b[3])|(a[4]^b[4])|(a[5]^b[5])|(a[6]^b[6])|(a[7]^b[7]) == 0
	}
	n := 8 * len(vals)
	a := unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(bits))), n)
	b := unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), n)
	return a == b
}

// commas holds the empty fields of a run of metadata columns.
var commas = []byte(strings.Repeat(",", int(app.NumFields)))

// op is how Write writes one column or a run of them: features as they are
// (n of them from index on, consecutive in the schema), metadata fields
// (n from field index on), text that may need quoting (names given by the
// user: capture, labels, verdict), or anything else through
// feature.AppendValue (never quoted: addresses, numbers, times,
// identifiers). col is the column's position for the last two. A block
// stands before two or more runs of features that go on from each other:
// n features from index on, in the col runs that follow it.
type op struct {
	kind  uint8
	index int
	n     int
	col   int
}

const (
	opValue = iota
	opFeature
	opText
	opApp
	opBlock
)

func compile(cols []feature.Column) []op {
	var ops []op
	for i, c := range cols {
		o := op{kind: opValue, col: i, n: 1}
		switch {
		case c.Field == feature.FieldFeature && (c.Scale == 0 || c.Scale == 1):
			o.kind, o.index = opFeature, c.Index
		case c.Field == feature.FieldApp:
			o.kind, o.index = opApp, c.Index
		case c.Field == feature.FieldCapture, c.Field == feature.FieldLabel, c.Field == feature.FieldCategory,
			c.Field == feature.FieldNamedLabel, c.Field == feature.FieldVerdict:
			o.kind = opText
		}
		if k := len(ops) - 1; k >= 0 && (o.kind == opFeature || o.kind == opApp) &&
			ops[k].kind == o.kind && ops[k].index+ops[k].n == o.index && (o.kind == opApp || ops[k].n < chunkLen) {
			ops[k].n++ // the run goes on
			continue
		}
		ops = append(ops, o)
	}
	return blocks(ops)
}

// blocks puts an opBlock before each sequence of two or more runs of
// features that go on from each other.
func blocks(ops []op) []op {
	var out []op
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && ops[i].kind == opFeature && ops[j].kind == opFeature && ops[j-1].index+ops[j-1].n == ops[j].index {
			j++
		}
		if j-i >= 2 {
			last := ops[j-1]
			out = append(out, op{kind: opBlock, index: ops[i].index, n: last.index + last.n - ops[i].index, col: j - i})
		}
		out = append(out, ops[i:j]...)
		i = j
	}
	return out
}

// quoteFrom quotes b[from:], the field just appended, when it needs it.
func quoteFrom(b []byte, from int) []byte {
	if !needsQuote(b[from:]) {
		return b
	}
	v := append([]byte(nil), b[from:]...)
	return appendText(b[:from], v)
}

func needsQuote(v []byte) bool {
	for _, c := range v {
		if c == ',' || c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	return false
}

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
	return closing.Close(func() error { w.flush(); return w.err }, &w.c, &w.err)
}
