package csv_test

import (
	"bytes"
	stdcsv "encoding/csv"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/csv"
)

// Per-packet verdicts are CSV that a CSV reader takes back field for
// field, also for a capture name with a quote, a comma or a line break (Go
// string quoting, which escapes a quote as \", is not CSV).
func TestPacketWriterQuotes(t *testing.T) {
	var b bytes.Buffer
	w := csv.NewPacketWriter(&b)
	names := []string{"plain.pcap", `we"ird,name.pcap`, "line\nbreak.pcap", `C:\caps\a b.pcap`}
	for i, n := range names {
		if err := w.Write(n, i+1, uint64(i), "benign"); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := stdcsv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, b.String())
	}
	if len(rows) != len(names)+1 || rows[0][0] != "capture" || rows[0][3] != "verdict" {
		t.Fatalf("rows %q", rows)
	}
	for i, n := range names {
		r := rows[i+1]
		wantID, wantVerdict := string(feature.AppendFlowID(nil, uint64(i))), "benign"
		if i == 0 {
			wantID, wantVerdict = "", "none" // flow ID 0: the packet joined no flow
		}
		if r[0] != n || r[1] != string(rune('1'+i)) || r[2] != wantID || r[3] != wantVerdict {
			t.Errorf("row %d: %q, want %q, %d, %q, %q", i+1, r, n, i+1, wantID, wantVerdict)
		}
	}
}

func TestPacketWriterEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := csv.NewPacketWriter(&b).Close(); err != nil || b.String() != csv.PacketHeader+"\n" {
		t.Errorf("empty output %q, %v", b.String(), err)
	}
}
