package parquet_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/parquet"
)

var _ meter.Sink = (*parquet.Writer)(nil)

// The fixture's flows, written as Parquet and read back with parquet-go,
// hold the values of the CSV output.
func TestReadBack(t *testing.T) {
	schema, _ := feature.NewSchema(8)
	for _, set := range []string{feature.SetNative, feature.SetCIC2017, feature.SetNFStream} {
		cols, _ := feature.Columns(set, schema, feature.Options{})
		var pbuf, cbuf bytes.Buffer
		pw, cw := parquet.NewWriter(&pbuf, cols), csv.NewWriter(&cbuf, cols)
		m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, pw, cw)
		if err := m.RunFiles(context.Background(), []string{"../../meter/testdata/sample.pcap"}); err != nil {
			t.Fatal(err)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		cw.Close()
		f, err := pq.OpenFile(bytes.NewReader(pbuf.Bytes()), int64(pbuf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if n := f.NumRows(); n != m.Stats().Flows {
			t.Fatalf("%s: %d rows, %d flows", set, n, m.Stats().Flows)
		}
		r := pq.NewReader(f)
		rows := make([]pq.Row, 10)
		n, _ := r.ReadRows(rows)
		if n == 0 {
			t.Fatal("no rows read")
		}
		name := "duration_s"
		switch set {
		case feature.SetCIC2017:
			name = "Flow Duration"
		case feature.SetNFStream:
			name = "bidirectional_duration_ms"
		}
		leaf, ok := f.Schema().Lookup(name)
		if !ok {
			t.Fatalf("%s: no column %q", set, name)
		}
		if v := rows[0][leaf.ColumnIndex].Double(); v <= 0 {
			t.Errorf("%s: first flow's %s = %v", set, name, v)
		}
		if set == feature.SetNFStream { // whole ms since the epoch, as the CSV has them
			first, _ := f.Schema().Lookup("bidirectional_first_seen_ms")
			want, _ := strconv.ParseInt(strings.Split(strings.Split(cbuf.String(), "\n")[1], ",")[9], 10, 64)
			if got := rows[0][first.ColumnIndex].Int64(); got != want || want < 1e12 {
				t.Errorf("nfstream: first flow's bidirectional_first_seen_ms = %d, CSV %d", got, want)
			}
		}
		if set == feature.SetNative { // a count: delta encoded, its bounds in the chunk and the column index
			pk, _ := f.Schema().Lookup("packets")
			md := f.Metadata().RowGroups[0].Columns[pk.ColumnIndex].MetaData
			if !slices.Contains(md.Encoding, format.DeltaBinaryPacked) {
				t.Errorf("packets: encodings %v, no DELTA_BINARY_PACKED", md.Encoding)
			}
			if len(md.Statistics.MinValue) == 0 || len(md.Statistics.MaxValue) == 0 {
				t.Error("packets: no minimum and maximum in the column chunk")
			}
			ci, err := f.RowGroups()[0].ColumnChunks()[pk.ColumnIndex].ColumnIndex()
			if err != nil || ci.NumPages() == 0 || ci.MaxValue(0).Int64() < 2 {
				t.Errorf("packets: column index %v, %v", ci, err)
			}
		}
		if set == feature.SetCIC2017 {
			if _, ok := f.Schema().Lookup("Fwd Header Length.1"); !ok {
				t.Error("the duplicated CIC column was not renamed")
			}
		}
	}
}

// The Parquet file has the columns of the CSV header in its order, typed:
// times as TIMESTAMP(MICROS), ports and counts as INT64 (whose values are
// exactly the CSV's), the other features as DOUBLE, text as UTF-8 strings
// (a capture name that is not UTF-8 escaped, and the file still readable).
func TestTypedOrderedColumns(t *testing.T) {
	schema, _ := feature.NewSchema(8)
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	dir := t.TempDir()
	b, err := os.ReadFile("../../meter/testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(dir, "caf\xe9.pcap")}
	os.WriteFile(paths[0], b, 0o644)
	more, _ := filepath.Glob("../../meter/testdata/*.pcap*")
	paths = append(paths, more...)
	var pbuf, cbuf bytes.Buffer
	pw, cw := parquet.NewWriter(&pbuf, cols), csv.NewWriter(&cbuf, cols)
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, pw, cw)
	if err := m.RunFiles(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	cw.Close()
	f, err := pq.OpenFile(bytes.NewReader(pbuf.Bytes()), int64(pbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	fields := f.Schema().Fields()
	if len(fields) != len(cols) {
		t.Fatalf("%d columns, want %d", len(fields), len(cols))
	}
	for i, c := range cols {
		if fields[i].Name() != c.Name {
			t.Fatalf("column %d is %q, want %q (the CSV order)", i, fields[i].Name(), c.Name)
		}
	}
	typeOf := func(name string) string {
		leaf, _ := f.Schema().Lookup(name)
		return leaf.Node.Type().String()
	}
	for name, want := range map[string]string{"first_seen": "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)", "src_port": "INT(64,true)",
		"packets": "INT(64,true)", "fwd_syn_count": "INT(64,true)", "ctx_src_flows": "INT(64,true)", "duration_s": "DOUBLE", "pkt_len_mean": "DOUBLE",
		"subflow_fwd_packets": "DOUBLE", "capture": "STRING", "community_id": "STRING"} {
		if got := typeOf(name); got != want {
			t.Errorf("%s is %s, want %s", name, got, want)
		}
	}
	// every value read back is the CSV's
	csvRows := strings.Split(strings.TrimSpace(cbuf.String()), "\n")[1:]
	r := pq.NewReader(f)
	row := make([]pq.Row, 1)
	for i := 0; ; i++ {
		n, err := r.ReadRows(row)
		if n == 0 {
			if i != len(csvRows) {
				t.Fatalf("%d rows, %d in the CSV (%v)", i, len(csvRows), err)
			}
			break
		}
		want := strings.Split(csvRows[i], ",")
		for j, c := range cols {
			v := row[0][j]
			var got string
			switch {
			case c.Name == "first_seen" || c.Name == "last_seen":
				got = time.UnixMicro(v.Int64()).UTC().Format("2006-01-02T15:04:05.000000") + "000Z"
			case c.Name == "capture" && !utf8.ValidString(want[j]):
				if g := string(v.ByteArray()); g != strings.Replace(want[j], "\xe9", `\xe9`, 1) || !utf8.ValidString(g) {
					t.Fatalf("capture %q", g)
				}
				continue
			case v.Kind() == pq.Int64:
				got = strconv.FormatInt(v.Int64(), 10)
			case v.Kind() == pq.Double:
				got = string(feature.AppendFloat(nil, v.Double()))
			default:
				got = string(v.ByteArray())
			}
			if got != want[j] && !(v.Kind() == pq.Double && c.Scale != 0) {
				t.Fatalf("row %d, %s: %q, the CSV has %q", i+1, c.Name, got, want[j])
			}
		}
	}
}
