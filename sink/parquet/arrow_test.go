package parquet_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	aparquet "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/parquet"
)

// An independent implementation (Apache Arrow's Go Parquet reader) reads
// the file as written: the CSV's columns in its order, times as UTC
// microsecond timestamps, counts as int64, the rest as float64 and UTF-8
// strings, with the CSV's values.
func TestReadBackWithArrow(t *testing.T) {
	schema, _ := feature.NewSchema(8)
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	var pbuf, cbuf bytes.Buffer
	pw, cw := parquet.NewWriter(&pbuf, cols), csv.NewWriter(&cbuf, cols)
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, pw, cw)
	if err := m.RunFiles(context.Background(), []string{"../../meter/testdata/mixed.pcapng", "../../meter/testdata/sample.pcap"}); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	cw.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(pbuf.Bytes()), aparquet.NewReaderProperties(memory.DefaultAllocator),
		pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	fields := tbl.Schema().Fields()
	if len(fields) != len(cols) {
		t.Fatalf("%d columns, want %d", len(fields), len(cols))
	}
	for i, c := range cols {
		if fields[i].Name != c.Name {
			t.Fatalf("column %d is %q, want %q", i, fields[i].Name, c.Name)
		}
	}
	want := map[string]string{"first_seen": "timestamp[us, tz=UTC]", "src_port": "int64", "packets": "int64",
		"duration_s": "float64", "capture": "utf8", "community_id": "utf8"}
	for i, f := range fields {
		if w, ok := want[f.Name]; ok && f.Type.String() != w {
			t.Errorf("%s is %s, want %s", f.Name, f.Type, w)
		}
		_ = i
	}
	rows := strings.Split(strings.TrimSpace(cbuf.String()), "\n")[1:]
	if int(tbl.NumRows()) != len(rows) {
		t.Fatalf("%d rows, the CSV has %d", tbl.NumRows(), len(rows))
	}
	for j, c := range cols {
		col := tbl.Column(j).Data().Chunk(0)
		for i := 0; i < col.Len() && i < len(rows); i++ {
			csvVal := strings.Split(rows[i], ",")[j]
			var got string
			switch a := col.(type) {
			case *array.Int64:
				got = strconv.FormatInt(a.Value(i), 10)
			case *array.Float64:
				got = string(feature.AppendFloat(nil, a.Value(i)))
			case *array.String:
				got = a.Value(i)
			case *array.Timestamp:
				got = a.Value(i).ToTime(arrow.Microsecond).UTC().Format("2006-01-02T15:04:05.000000") + csvVal[26:]
			default:
				t.Fatalf("%s: unexpected %T", c.Name, col)
			}
			if got != csvVal {
				t.Fatalf("row %d, %s: %q, the CSV has %q", i+1, c.Name, got, csvVal)
			}
		}
	}
}
