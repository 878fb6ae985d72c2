package label_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/label"
)

const datasetRules = `file,label,category,key_ip,key_role,key_basis,packets,format,linktype,source,licence
malicious/x/synscan.pcapng,malicious,scan: nmap TCP SYN,172.16.0.8,attacker,documented,2011,pcapng,ether,a,b
malicious/x/flood.pcap,malicious,dos: flood,,victim,inferred,10,pcap,ether,a,b
benign/y/http.pcap,benign,HTTP,10.0.0.9,,,5,pcap,ether,a,b
`

func rec(capture, src, dst string, proto uint8) *feature.Record {
	return &feature.Record{Capture: capture, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Proto: proto}
}

func TestDatasetFormat(t *testing.T) {
	rs, err := label.Parse(strings.NewReader(datasetRules))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		r          *feature.Record
		label, cat string
	}{
		{rec("../shared/datasets/malicious/x/synscan.pcapng", "172.16.0.8:4000", "172.16.0.1:80", 6), "malicious", "scan: nmap TCP SYN"},
		{rec("../shared/datasets/malicious/x/synscan.pcapng", "172.16.0.1:4000", "172.16.0.8:80", 6), "malicious", "scan: nmap TCP SYN"},
		{rec("../shared/datasets/malicious/x/synscan.pcapng", "172.16.0.2:137", "172.16.0.255:137", 17), "unknown", ""},
		{rec("malicious/x/flood.pcap", "1.2.3.4:1", "5.6.7.8:80", 6), "malicious", "dos: flood"},
		{rec("/data/benign/y/http.pcap", "10.0.0.1:1", "10.0.0.2:80", 6), "benign", "HTTP"},
		{rec("other.pcap", "10.0.0.1:1", "10.0.0.2:80", 6), "unknown", ""},
		{rec("xbenign/y/http.pcap", "10.0.0.1:1", "10.0.0.2:80", 6), "unknown", ""},
	}
	for _, tt := range tests {
		rs.Label(tt.r)
		if tt.r.Label != tt.label || tt.r.Category != tt.cat {
			t.Errorf("%s %v→%v: %q/%q, want %q/%q", tt.r.Capture, tt.r.Src, tt.r.Dst, tt.r.Label, tt.r.Category, tt.label, tt.cat)
		}
	}
}

func TestUserRules(t *testing.T) {
	rules := `label,category,src,dst,port,proto,start,end
malicious,brute force: ssh,203.0.113.0/24,,22,tcp,2024-01-01T10:00:00Z,2024-01-01T11:00:00Z
benign,ssh,,,22,tcp,,
malicious,dns tunnel,,192.0.2.53,53,udp,,
`
	rs, err := label.Parse(strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) int64 { return time.Date(2024, 1, 1, h, 30, 0, 0, time.UTC).UnixNano() }
	r := rec("a.pcap", "203.0.113.7:5000", "10.0.0.1:22", 6)
	r.First = at(10)
	rs.Label(r)
	if r.Label != "malicious" {
		t.Errorf("in window: %s", r.Label)
	}
	r.First = at(12)
	rs.Label(r)
	if r.Label != "benign" || r.Category != "ssh" {
		t.Errorf("after window: %s/%s", r.Label, r.Category)
	}
	r = rec("a.pcap", "10.0.0.5:5000", "192.0.2.53:53", 17)
	rs.Label(r)
	if r.Label != "malicious" {
		t.Errorf("dns: %s", r.Label)
	}
	r.Proto = 6
	rs.Label(r)
	if r.Label != "unknown" {
		t.Errorf("dns over tcp: %s", r.Label)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"file,label\nx,\n", "line 2: empty label"},
		{"file,colour\n", "line 1: unknown column \"colour\""},
		{"file\nx\n", "line 1: no label column"},
		{"label,src\nbenign,10.0.0.300\n", "line 2: src: "},
		{"label,port\nbenign,99999\n", "line 2: port: "},
		{"label,start\nbenign,yesterday\n", "line 2: start: "},
		{"label,proto\nbenign,sctpish\n", "line 2: proto: "},
	} {
		_, err := label.Parse(strings.NewReader(tt.in))
		var pe *label.ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q…", tt.in, err, tt.want)
		}
	}
}

// Load takes several rule files; their rules apply in order.
func TestLoadSeveral(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	os.WriteFile(a, []byte(datasetRules), 0o644)
	os.WriteFile(b, []byte("file,label,category,key_ip\nmalicious/iodine.pcap,malicious,tunnel,10.77.0.66\nmalicious/x/flood.pcap,benign,never,\n"), 0o644)
	rs, err := label.Load(a, b)
	if err != nil || rs.Len() != 5 {
		t.Fatalf("Load = %v, %d rules", err, rs.Len())
	}
	r := rec("lab/malicious/iodine.pcap", "10.77.0.66:1", "10.77.0.53:53", 17)
	rs.Label(r)
	if r.Label != "malicious" || r.Category != "tunnel" {
		t.Errorf("second file's rule: %q/%q", r.Label, r.Category)
	}
	r = rec("malicious/x/flood.pcap", "1.2.3.4:1", "5.6.7.8:80", 6)
	rs.Label(r)
	if r.Category != "dos: flood" {
		t.Errorf("the first file's rule should win, got %q", r.Category)
	}
	if _, err := label.Load(a, filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
}

// Rule files with mistakes are refused with the line: a row with more
// fields than the header, a window that ends before it starts, and a rule
// that contradicts an earlier one with the same conditions (it could never
// apply).
func TestParseRefusesMistakes(t *testing.T) {
	for name, c := range map[string]struct {
		text, want string
		line       int
	}{
		"extra field":   {"label,host\nbenign,10.0.0.1\nmalicious,10.0.0.2,80\n", "3 fields, but the header names 2", 3},
		"start > end":   {"label,host,start,end\nmalicious,10.0.0.2,2024-01-02T10:00:00Z,2024-01-02T09:00:00Z\n", "is after end", 2},
		"contradiction": {"label,category,host,port\nmalicious,scan,10.0.0.2,22\nbenign,ssh,10.0.0.3,22\nbenign,ssh,10.0.0.2,22\n", "the same conditions as line 2", 4},
		"quoted line":   {"label,category,host\nbenign,\"web\nbrowsing\",10.0.0.1\nbenign,x,10.0.0.2,9\n", "4 fields", 4},
	} {
		_, err := label.Parse(strings.NewReader(c.text))
		var pe *label.ParseError
		if !errors.As(err, &pe) || pe.Line != c.line || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want line %d: …%s…", name, err, c.line, c.want)
		}
	}
	// the same conditions with the same label are harmless
	if _, err := label.Parse(strings.NewReader("label,host\nbenign,10.0.0.1\nbenign,10.0.0.1\n")); err != nil {
		t.Errorf("a repeated rule: %v", err)
	}
}
