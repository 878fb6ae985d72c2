package csv_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/sink/csv"
)

func record() *feature.Record {
	return &feature.Record{ID: 0xABCDEF, Src: netip.MustParseAddrPort("10.0.0.1:1234"), Dst: netip.MustParseAddrPort("[2001:db8::1]:80"),
		Proto: 6, Version: 4, First: 1e9, Last: 2.5e9, End: flow.EndFIN, Capture: `dir,with "comma".pcap`, Values: []float64{1.5, 0, -1}}
}

func Example() {
	cols := []feature.Column{
		{Name: "flow_id", Field: feature.FieldFlowID},
		{Name: "src_ip", Field: feature.FieldSrcIP},
		{Name: "end_reason", Field: feature.FieldEnd},
		{Name: "duration_s", Field: feature.FieldFeature, Index: 0},
		{Name: "duration_us", Field: feature.FieldFeature, Index: 0, Scale: 1e6},
	}
	w := csv.NewWriter(os.Stdout, cols)
	w.Write(record())
	w.Close()
	// Output:
	// flow_id,src_ip,end_reason,duration_s,duration_us
	// 0000000000abcdef,10.0.0.1,fin,1.5,1500000
}

func TestQuoting(t *testing.T) {
	var b bytes.Buffer
	w := csv.NewWriter(&b, []feature.Column{{Name: "capture", Field: feature.FieldCapture}, {Name: "x", Field: feature.FieldFeature, Index: 2}})
	w.Write(record())
	w.Close()
	if got, want := b.String(), "capture,x\n\"dir,with \"\"comma\"\".pcap\",-1\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestStickyError(t *testing.T) {
	w := csv.NewWriter(failWriter{}, []feature.Column{{Name: "x", Field: feature.FieldFeature}})
	for i := 0; i < 10000; i++ {
		w.Write(record())
	}
	if err := w.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close = %v, want the write error", err)
	}
}

// A row copied from the last record's runs or blocks of equal values is
// the row formatted afresh: records that repeat some runs, change others,
// repeat every feature (a block), and differ only in a sign of zero or a
// NaN's bits.
func TestRepeatedRuns(t *testing.T) {
	const n = 37 // runs of 8 and a shorter one
	cols := []feature.Column{{Name: "flow_id", Field: feature.FieldFlowID}}
	for i := range n {
		cols = append(cols, feature.Column{Name: fmt.Sprint("f", i), Field: feature.FieldFeature, Index: i})
		if i == 20 { // two blocks: f0–f20 and f21–f36
			cols = append(cols, feature.Column{Name: "src_ip", Field: feature.FieldSrcIP})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	choices := []float64{0, math.Copysign(0, -1), 1, -1, 2.5, 1e-7, 123456789.25, math.NaN(), math.Inf(1)}
	var all bytes.Buffer
	w := csv.NewWriter(&all, cols)
	row := csv.NewWriter(io.Discard, cols).RowFunc()
	var want []byte
	rec := record()
	rec.Values = make([]float64, n)
	for k := range 500 {
		for i := range rec.Values {
			if k == 0 || k%8 > 2 && r.IntN(10) == 0 { // most values repeat the record before, some records all
				rec.Values[i] = choices[r.IntN(len(choices))]
			}
		}
		rec.ID = uint64(k)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		fresh := csv.NewWriter(io.Discard, cols).RowFunc() // nothing remembered
		want = fresh(want, rec)
		if got := row(nil, rec); !bytes.Equal(got, fresh(nil, rec)) {
			t.Fatalf("record %d: row %q, want %q", k, got, fresh(nil, rec))
		}
	}
	w.Close()
	lines := bytes.SplitN(all.Bytes(), []byte("\n"), 2)
	if !bytes.Equal(lines[1], want) {
		t.Error("rows written differ from rows formatted afresh")
	}
}

type shortWriter struct{ bytes.Buffer }

func (s *shortWriter) Write(p []byte) (int, error) { return s.Buffer.Write(p[:len(p)/2]) }

// Rows written by Write and by WriteRows (single rows, and chunks bigger
// than the Writer's buffer) come out whole and in order; a short write by
// the underlying writer is an error, never a silent loss.
func TestBuffering(t *testing.T) {
	cols := []feature.Column{{Name: "flow_id", Field: feature.FieldFlowID}, {Name: "x", Field: feature.FieldFeature}}
	row := csv.NewWriter(io.Discard, cols).RowFunc()
	var got, want bytes.Buffer
	want.WriteString("flow_id,x\n")
	w := csv.NewWriter(&got, cols)
	rec := record()
	r := rand.New(rand.NewPCG(3, 4))
	for k := range 2000 {
		rec.ID, rec.Values[0] = uint64(k), float64(k)/7
		switch r.IntN(3) {
		case 0:
			w.Write(rec)
			want.Write(row(nil, rec))
		case 1:
			b := row(nil, rec)
			w.WriteRows(b)
			want.Write(b)
		default: // a chunk of up to 3 000 rows, most over 64 KiB
			var b []byte
			for range r.IntN(3000) {
				b = row(b, rec)
				rec.ID++
			}
			w.WriteRows(b)
			want.Write(b)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("output (%d bytes) is not the rows written (%d bytes)", got.Len(), want.Len())
	}
	s := csv.NewWriter(&shortWriter{}, cols)
	for range 10000 {
		s.Write(rec)
	}
	if err := s.Close(); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("Close after short writes = %v, want %v", err, io.ErrShortWrite)
	}
}

// Text columns remembered from the row before are the text written
// afresh, whether it repeats, changes, or needs quoting.
func TestTextColumns(t *testing.T) {
	cols := []feature.Column{{Name: "capture", Field: feature.FieldCapture}, {Name: "label", Field: feature.FieldLabel},
		{Name: "category", Field: feature.FieldCategory}, {Name: "verdict", Field: feature.FieldVerdict}}
	texts := []string{"a.pcap", "a.pcap", "b,c.pcap", `q"x`, "", "", "line\nbreak"}
	row := csv.NewWriter(io.Discard, cols).RowFunc()
	r := rand.New(rand.NewPCG(5, 6))
	rec := record()
	for k := range 300 {
		rec.Capture, rec.Label = texts[r.IntN(len(texts))], texts[r.IntN(len(texts))]
		rec.Category, rec.Verdict = texts[r.IntN(len(texts))], texts[k%len(texts)]
		fresh := csv.NewWriter(io.Discard, cols).RowFunc()
		if got, want := row(nil, rec), fresh(nil, rec); !bytes.Equal(got, want) {
			t.Fatalf("record %d: row %q, want %q", k, got, want)
		}
	}
}
