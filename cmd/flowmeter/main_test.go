package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
)

const fixtures = "../../meter/testdata"

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

func TestExtractStdoutCSV(t *testing.T) {
	out, errOut, err := runCmd(t, "extract", filepath.Join(fixtures, "tcp_sessions.pcap"))
	if err != nil {
		t.Fatal(err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "flow_id,capture,src_ip,src_port,dst_ip,dst_port,protocol") {
		t.Errorf("got %d lines, header %q", len(lines), lines[0])
	}
	for _, want := range []string{"32 packets", "flows written 3 (fin 2, rst 1)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, errOut)
		}
	}
}

func TestExtractOutputs(t *testing.T) {
	dir := t.TempDir()
	csvPath, jsonPath := filepath.Join(dir, "f.csv"), filepath.Join(dir, "f.jsonl")
	_, errOut, err := runCmd(t, "extract", "-q", "-o", csvPath, "-o", jsonPath, "--columns", "native", fixtures)
	if err != nil {
		t.Fatal(err, errOut)
	}
	c, _ := os.ReadFile(csvPath)
	j, _ := os.ReadFile(jsonPath)
	rows := strings.Count(string(c), "\n") - 1
	lines := strings.Split(strings.TrimSpace(string(j)), "\n")
	if rows != len(lines) || rows < 30 {
		t.Errorf("CSV has %d rows, JSONL %d lines", rows, len(lines))
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"flow_id", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "first_seen", "last_seen", "duration_s", "fwd_packets", "bwd_packets", "fwd_bytes", "bwd_bytes", "end_reason"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("JSON record lacks %q", k)
		}
	}
}

func TestColumnSets(t *testing.T) {
	want := map[string]int{"cic2017": 85, "cic2018": 80, "seed": 39}
	for set, n := range want {
		out, _, err := runCmd(t, "extract", "-q", "--columns", set, filepath.Join(fixtures, "tcp_sessions.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		header := strings.SplitN(out, "\n", 2)[0]
		if got := len(strings.Split(header, ",")); got != n {
			t.Errorf("%s: %d columns, want %d", set, got, n)
		}
	}
	if _, _, err := runCmd(t, "extract", "--columns", "bogus", filepath.Join(fixtures, "tcp_sessions.pcap")); !errors.Is(err, errUsage) {
		t.Errorf("bogus column set: %v", err)
	}
}

// A truncated capture: the flows decoded so far are written, the error names
// the file and the packet, and the command fails.
func TestTruncatedCapture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "tcp_sessions.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(path, b[:len(b)-30], 0o644)
	out, errOut, err := runCmd(t, "extract", path)
	if err == nil {
		t.Fatal("no error for a truncated capture")
	}
	if !strings.Contains(err.Error(), path+": packet 32: truncated capture") {
		t.Errorf("error %q does not name the file and packet", err)
	}
	if rows := strings.Count(out, "\n") - 1; rows != 3 {
		t.Errorf("%d flows written, want the 3 decoded before the cut\n%s", rows, errOut)
	}
}

func TestNotACapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "labels.csv")
	os.WriteFile(path, []byte("file,label\n"), 0o644)
	_, _, err := runCmd(t, "extract", path)
	if err == nil || !strings.Contains(err.Error(), path+": not a pcap or pcapng capture") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v", err)
	}
}

func TestUnknownLinkType(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(fixtures, "tcp_sessions.pcap"))
	b = append([]byte(nil), b...)
	b[20] = 147 // LINKTYPE_USER0
	path := filepath.Join(t.TempDir(), "user0.pcap")
	os.WriteFile(path, b, 0o644)
	_, _, err := runCmd(t, "extract", path)
	if err == nil || !strings.Contains(err.Error(), "unsupported link type 147") {
		t.Errorf("error %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"extract"}, {"extract", "--early", "999", "x.pcap"}} {
		if _, _, err := runCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
	if _, _, err := runCmd(t, "extract", "/does/not/exist.pcap"); err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing file: %v", err)
	}
}

// docs/features.md holds the table that `flowmeter features -markdown`
// prints, so the documentation cannot drift from the schema.
func TestFeaturesDocCurrent(t *testing.T) {
	doc, err := os.ReadFile("../../docs/features.md")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := feature.NewSchema(8)
	if !strings.Contains(string(doc), feature.Markdown(s)) {
		t.Error("docs/features.md is out of date: paste the output of `go run ./cmd/flowmeter features -markdown` into it")
	}
}
