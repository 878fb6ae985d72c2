package jsonl_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/jsonl"
)

func TestValidJSON(t *testing.T) {
	cols := []feature.Column{
		{Name: "src_ip", Field: feature.FieldSrcIP},
		{Name: "category", Field: feature.FieldCategory},
		{Name: "v", Field: feature.FieldFeature},
	}
	var b bytes.Buffer
	w := jsonl.NewWriter(&b, cols)
	cat := "scan: \"nmap\"\t\\ \x01 é \xff"
	w.Write(&feature.Record{Src: netip.MustParseAddrPort("10.0.0.1:1"), Category: cat, Values: []float64{0.000125}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, b.Bytes())
	}
	if got["src_ip"] != "10.0.0.1" || got["v"] != 0.000125 || got["category"] != "scan: \"nmap\"\t\\ \x01 é \uFFFD" {
		t.Errorf("decoded %#v", got)
	}
}
