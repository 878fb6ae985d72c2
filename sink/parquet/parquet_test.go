package parquet_test

import (
	"bytes"
	"context"
	"testing"

	pq "github.com/parquet-go/parquet-go"

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
	for _, set := range []string{feature.SetNative, feature.SetCIC2017} {
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
		if set == feature.SetCIC2017 {
			name = "Flow Duration"
		}
		leaf, ok := f.Schema().Lookup(name)
		if !ok {
			t.Fatalf("%s: no column %q", set, name)
		}
		if v := rows[0][leaf.ColumnIndex].Double(); v <= 0 {
			t.Errorf("%s: first flow's %s = %v", set, name, v)
		}
		if set == feature.SetCIC2017 {
			if _, ok := f.Schema().Lookup("Fwd Header Length.1"); !ok {
				t.Error("the duplicated CIC column was not renamed")
			}
		}
	}
}
