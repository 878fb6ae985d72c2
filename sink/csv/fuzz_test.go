package csv_test

import (
	"bytes"
	"encoding/binary"
	encsv "encoding/csv"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/csv"
)

// FuzzRows writes a sequence of records through one Writer, whose rows
// remember runs, blocks and text from the row before, and checks the
// output against rows formatted afresh and against what the records hold.
// The fuzzer's bytes choose the column layout (runs of features that go on
// from each other or jump, scaled features, text and application columns)
// and, record by record, which values and texts repeat and which change.
func FuzzRows(f *testing.F) {
	f.Add([]byte{40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 13, 0, 1, 2, 3, 0, 0, 1, 1, 2, 3}, []byte("curl/8.5.0"))
	f.Add([]byte{20, 4, 0, 0, 7, 0, 0, 0, 0, 4, 5, 6, 0, 3, 2, 1, 2, 0, 3, 3, 1, 0, 0, 1, 2, 0, 0}, []byte(`a "b", c`))
	f.Add([]byte("\x30\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x02\x02\x01\x01\x01\x00\x00\x00"), []byte("x\r\ny"))
	f.Fuzz(func(t *testing.T, data, text []byte) {
		in := bytes.NewReader(data)
		next := func() int {
			b, err := in.ReadByte()
			if err != nil {
				return 0
			}
			return int(b)
		}
		const nvals = 64
		cols := layout(next)
		texts := []string{"a.pcap", "", "b,c.pcap", `q"x`, "line\nbreak", string(text)}
		values := []float64{0, math.Copysign(0, -1), 1, -1, 2.5, 1e-7, 0.1, 1.0 / 3, 123456789.25, 1e300, 5e-324,
			math.NaN(), math.Inf(1), math.Inf(-1), 1e15, -1e15 - 2}
		states := []*app.State{nil, httpState("curl/8.5.0"), httpState(string(text))}

		var out bytes.Buffer
		w := csv.NewWriter(&out, cols)
		var want []byte
		rec := record()
		rec.Values = make([]float64, nvals)
		var recs []feature.Record
		for k := 0; k < 64 && (k == 0 || in.Len() > 0); k++ {
			switch next() % 4 {
			case 0: // the record before, again
			case 1: // a few values change
				for range next() % 4 {
					i := next() % nvals
					if next()%2 == 0 {
						rec.Values[i] = values[next()%len(values)]
					} else {
						var b [8]byte
						in.Read(b[:])
						rec.Values[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
					}
				}
			case 2: // every value changes
				v := next()
				for i := range rec.Values {
					rec.Values[i] = values[(v+i*next())%len(values)]
				}
			case 3: // texts and application metadata
				rec.Capture, rec.Label = texts[next()%len(texts)], texts[next()%len(texts)]
				rec.Category, rec.Verdict = texts[next()%len(texts)], texts[next()%len(texts)]
				rec.App = states[next()%len(states)]
			}
			rec.ID = uint64(k)
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			want = csv.NewWriter(io.Discard, cols).RowFunc()(want, rec) // nothing remembered
			r := *rec
			r.Values = append([]float64(nil), rec.Values...)
			recs = append(recs, r)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		header, rows, _ := bytes.Cut(out.Bytes(), []byte("\n"))
		if !bytes.Equal(rows, want) {
			t.Fatalf("rows written differ from rows formatted afresh:\n%q\nwant\n%q", rows, want)
		}
		cr := encsv.NewReader(bytes.NewReader(out.Bytes()))
		cr.FieldsPerRecord = len(cols)
		all, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("the output is not CSV: %v\n%s", err, header)
		}
		if len(all) != 1+len(recs) {
			t.Fatalf("%d rows read back, want %d", len(all)-1, len(recs))
		}
		for k, row := range all[1:] {
			checkRow(t, k, cols, row, &recs[k])
		}
	})
}

// layout returns 2 to 48 columns: mostly features that go on from the
// column before (runs and blocks), some that jump, scaled ones, text and
// application columns, and identifiers between them. (A row of one empty
// field would be an empty line, which CSV readers skip; every column set
// has many columns.)
func layout(next func() int) []feature.Column {
	var cols []feature.Column
	index := 0
	for range 2 + next()%47 {
		c := next()
		col := feature.Column{Name: "c" + strconv.Itoa(len(cols)), Field: feature.FieldFeature}
		switch c % 10 {
		case 0, 1, 2, 3, 4: // the next feature
			index = (index + 1) % 64
			col.Index = index
		case 5: // a jump
			index = c / 10 % 64
			col.Index = index
		case 6: // scaled: formatted on its own
			col.Index, col.Scale = c/10%64, 1e6
		case 7:
			col.Field = []feature.Field{feature.FieldCapture, feature.FieldLabel, feature.FieldCategory, feature.FieldVerdict}[c/10%4]
		case 8:
			col.Field, col.Index = feature.FieldApp, c/10%int(app.NumFields)
		case 9:
			col.Field = []feature.Field{feature.FieldFlowID, feature.FieldSrcIP, feature.FieldEnd}[c/10%3]
		}
		cols = append(cols, col)
	}
	return cols
}

func httpState(ua string) *app.State {
	s := app.New(app.TCP, 50000, 80)
	s.Feed([]byte("GET /x HTTP/1.1\r\nHost: h,1\r\nUser-Agent: "+ua+"\r\n\r\n"), 0, 1, false)
	return s
}

// checkRow checks the fields read back from row k against the record.
func checkRow(t *testing.T, k int, cols []feature.Column, row []string, r *feature.Record) {
	t.Helper()
	crlf := strings.NewReplacer("\r\n", "\n") // encoding/csv reads a quoted \r\n as \n
	for i, c := range cols {
		got := row[i]
		var want string
		switch c.Field {
		case feature.FieldFeature:
			v := r.Values[c.Index]
			if c.Scale != 0 {
				continue // scaled to whole units: see feature's tests
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				want = "0"
				break
			}
			if g, err := strconv.ParseFloat(got, 64); err != nil || g != v {
				t.Fatalf("row %d, %s (feature %d): %q, want %v", k, c.Name, c.Index, got, v)
			}
			continue
		case feature.FieldCapture:
			want = r.Capture
		case feature.FieldLabel:
			want = r.Label
		case feature.FieldCategory:
			want = r.Category
		case feature.FieldVerdict:
			want = r.Verdict
		case feature.FieldApp:
			if r.App != nil {
				want = r.App.Field(app.Field(c.Index))
			}
		default:
			continue
		}
		if got != crlf.Replace(want) {
			t.Fatalf("row %d, %s: %q, want %q", k, c.Name, got, want)
		}
	}
}
