package parquet_test

import (
	"context"
	"io"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/parquet"
)

type keep struct{ recs []feature.Record }

func (k *keep) Write(r *feature.Record) error {
	c := *r
	c.Values = append([]float64(nil), r.Values...)
	k.recs = append(k.recs, c)
	return nil
}
func (k *keep) Close() error { return nil }

// BenchmarkWrite writes the fixture's flow records, round and round, as
// Parquet and, for comparison, as CSV: the cost per record of each format.
func BenchmarkWrite(b *testing.B) {
	schema, _ := feature.NewSchema(8)
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	k := &keep{}
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, k)
	if err := m.RunFiles(context.Background(), []string{"../../meter/testdata/sample.pcap"}); err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name string
		open func(io.Writer) meter.Sink
	}{
		{"parquet", func(w io.Writer) meter.Sink { return parquet.NewWriter(w, cols) }},
		{"csv", func(w io.Writer) meter.Sink { return csv.NewWriter(w, cols) }},
	} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			w := f.open(io.Discard)
			for i := 0; b.Loop(); i++ {
				w.Write(&k.recs[i%len(k.recs)])
			}
			w.Close()
		})
	}
}
