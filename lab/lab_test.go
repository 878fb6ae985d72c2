// Package lab_test checks the traffic lab: the captures it made and checked
// in (testdata, always), and a short run of the lab itself (as root, when
// FLOWMETER_LAB_TESTS=1; it takes about a minute).
package lab_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/label"
	"github.com/flowmeter/flowmeter/meter"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.csv")

const attacker = "10.77.0.66"

type flowRow struct {
	capture, src, dst, proto, end, label, category string
	packets, bytes                                 float64
}

// meterDir meters every capture under dir with dir/labels.csv.
func meterDir(t *testing.T, dir string) []flowRow {
	t.Helper()
	rules, err := label.Load(filepath.Join(dir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _, err := capture.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	schema, err := feature.NewSchema(8)
	if err != nil {
		t.Fatal(err)
	}
	pk, by := schema.Index("packets"), schema.Index("bytes")
	if pk < 0 || by < 0 {
		t.Fatal("no packets or bytes feature")
	}
	var rows []flowRow
	sink := sinkFunc(func(r *feature.Record) error {
		c, _ := filepath.Rel(dir, r.Capture)
		rows = append(rows, flowRow{filepath.ToSlash(c), r.Src.String(), r.Dst.String(), fmt.Sprint(r.Proto), r.End.String(),
			r.Label, r.Category, r.Values[pk], r.Values[by]})
		return nil
	})
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Decorate: []func(*feature.Record){rules.Label}}, sink)
	if err := m.RunFiles(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	return rows
}

type sinkFunc func(*feature.Record) error

func (f sinkFunc) Write(r *feature.Record) error { return f(r) }
func (f sinkFunc) Close() error                  { return nil }

// checkLabels checks that labels and flows line up: every flow of a benign
// capture is benign and none involves the attacker; every flow of a
// malicious capture involves the attacker and carries its capture's
// category, or is the benign background (docs/lab.md); no flow is unknown. It returns the flows per capture.
func checkLabels(t *testing.T, dir string, rows []flowRow) map[string]int {
	t.Helper()
	cats := map[string]string{}
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if r[2] != "background" {
			cats[r[0]] = r[2]
		}
		if r[1] == "malicious" && (r[3] != attacker || r[4] != "attacker" || r[5] != "documented") {
			t.Errorf("labels.csv %s: key %q role %q basis %q", r[0], r[3], r[4], r[5])
		}
	}
	n := map[string]int{}
	for _, r := range rows {
		n[r.capture]++
		involves := strings.HasPrefix(r.src, attacker+":") || strings.HasPrefix(r.dst, attacker+":")
		mal := strings.HasPrefix(r.capture, "malicious/")
		switch {
		case r.label == label.Unknown:
			t.Errorf("%s: flow %s → %s is unknown", r.capture, r.src, r.dst)
		case mal && r.label == "benign":
			// the background: started by a benign client, never the attacker
			if involves || r.category != "background" {
				t.Errorf("%s: background flow %s → %s labelled %s/%s", r.capture, r.src, r.dst, r.label, r.category)
			}
		case mal && (r.label != "malicious" || !involves || r.category != cats[r.capture]):
			t.Errorf("%s: flow %s → %s labelled %s/%s", r.capture, r.src, r.dst, r.label, r.category)
		case !mal && (r.label != "benign" || involves || r.category != cats[r.capture]):
			t.Errorf("%s: flow %s → %s labelled %s/%s", r.capture, r.src, r.dst, r.label, r.category)
		}
	}
	for c := range cats {
		if n[c] == 0 {
			t.Errorf("%s: no flows", c)
		}
	}
	return n
}

// TestFixtures meters the lab captures checked in under testdata and
// compares the flows with testdata/golden.csv (go test ./lab -update).
func TestFixtures(t *testing.T) {
	rows := meterDir(t, "testdata")
	n := checkLabels(t, "testdata", rows)
	if len(n) < 10 {
		t.Errorf("only %d captures in testdata", len(n))
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"capture", "src", "dst", "proto", "end_reason", "packets", "bytes", "label", "category"})
	for _, r := range rows {
		w.Write([]string{r.capture, r.src, r.dst, r.proto, r.end, fmt.Sprint(r.packets), fmt.Sprint(r.bytes), r.label, r.category})
	}
	w.Flush()
	golden := filepath.Join("testdata", "golden.csv")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		got, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(got) && i < len(wl); i++ {
			if got[i] != wl[i] {
				t.Fatalf("flows differ from %s at line %d:\n got %s\nwant %s\n(go test ./lab -update after a deliberate change)", golden, i+1, got[i], wl[i])
			}
		}
		t.Fatalf("flows differ from %s: %d lines, want %d", golden, len(got), len(wl))
	}
}

// TestLabRun runs a short version of three scenarios, two benign (one with
// servers of its own) and one malicious, and checks their captures, labels
// and flows, and that nothing the lab started is left behind.
func TestLabRun(t *testing.T) {
	if os.Getenv("FLOWMETER_LAB_TESTS") == "" {
		t.Skip("set FLOWMETER_LAB_TESTS=1 to run the lab (root, the tools of docs/lab.md; about a minute)")
	}
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root")
	}
	for _, tool := range []string{"nginx", "nmap", "curl", "tcpdump", "sshd", "dovecot", "redis-server", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("%s is not installed (docs/lab.md has the apt-get line)", tool)
			}
		}
	}
	before := namespaces(t)
	out := t.TempDir()
	cmd := exec.Command("./run.sh", "-o", out, "-s", "3", "--short", "-S", "web,mail-db,nmap-syn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run.sh: %v\n%s", err, stderr.String())
	}
	t.Logf("%s", stderr.String())
	n := checkLabels(t, out, meterDir(t, out))
	if n["benign/web.pcap"] < 10 || n["benign/mail-db.pcap"] < 10 || n["malicious/nmap-syn.pcap"] < 100 {
		t.Errorf("flows per capture: %v", n)
	}
	if after := namespaces(t); after != before {
		t.Errorf("namespaces left behind: before %q, after %q", before, after)
	}
	if ps, _ := exec.Command("pgrep", "-af", "flowmeter-lab").Output(); len(ps) > 0 {
		t.Errorf("processes left behind:\n%s", ps)
	}
}

func namespaces(t *testing.T) string {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	l := strings.Fields(string(out))
	sort.Strings(l)
	return strings.Join(l, " ")
}
