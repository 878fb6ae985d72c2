package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/model"
)

// The embedded default model is rebuilt, byte for byte, by the command it
// records, from what the repository holds (the lab's flow tables) and the
// public datasets: `go run ./cmd/flowmeter <its command> -o model/default.json`.
func TestDefaultModelRebuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("short: not retraining the default model (about a minute)")
	}
	t.Chdir("../..")
	if _, err := os.Stat("../shared/datasets/labels.csv"); err != nil {
		t.Skip("the public datasets are not at ../shared/datasets")
	}
	want, err := os.ReadFile("model/default.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(strings.TrimPrefix(m.Training.Command, "flowmeter "))
	out := filepath.Join(t.TempDir(), "default.json")
	if _, errOut, err := runCmd(t, append(args, "-o", out)...); err != nil {
		t.Fatalf("flowmeter %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Errorf("rebuilding with %q gives another model (%d bytes, the committed one %d)", m.Training.Command, len(got), len(want))
	}
}

// The embedded model on the lab runs it never saw (lab/flows/heldout,
// docs/model.md): s301, its own seed and a 300 ms, 2 %-loss, 5 Mbit/s
// link; s302, another seed, a 150 ms link and three attack tools no
// training run used (GoldenEye, patator on FTP and SSH); s303, a 24 ms
// link, mail and database clients among the busy hosts; s306 and s307,
// runs in which the attacker host also looks up names and pings a
// neighbour during every attack (s307, made after the model was chosen,
// with browsing of many sites and connections open before the capture
// starts among its benign scenarios). At most 0.5 % of
// the benign flows flagged, busy hosts included, and every scan, flood and
// brute force of at least 50 flows caught: ≥ 95 % of all their flows,
// ≥ 90 % of each kind (issue #10). The other categories' recall is stated
// in docs/model.md, not asserted.
func TestDefaultModelHeldOut(t *testing.T) {
	checkHeldOut(t, "s301-sat150.csv.gz", 10)
	checkHeldOut(t, "s302-newtools-wan75.csv.gz", 3)
	checkHeldOut(t, "s303-mail-wan12.csv.gz", 7)
	checkHeldOut(t, "s306-chatter-wan50.csv.gz", 11)
	checkHeldOut(t, "s307-chatter-wan25.csv.gz", 11)
}

func checkHeldOut(t *testing.T, table string, kinds int) {
	out, errOut, err := runCmd(t, "evaluate", "-q", "../../lab/flows/heldout/"+table)
	if err != nil {
		t.Fatalf("evaluate %s: %v\n%s", table, err, errOut)
	}
	var fpr float64 = -1
	checked, flows, caught := 0, 0, 0.0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && f[0] == "precision" {
			fpr, _ = strconv.ParseFloat(f[7], 64)
		}
		// "  malicious   99.3% of   5000  scan: masscan"
		if len(f) >= 5 && f[0] == "malicious" && strings.HasSuffix(f[1], "%") {
			cat := strings.Join(f[4:], " ")
			n, _ := strconv.Atoi(f[3])
			if n < 50 || !(strings.HasPrefix(cat, "scan:") || strings.HasPrefix(cat, "brute force:") ||
				strings.HasPrefix(cat, "dos:") && strings.Contains(cat, "flood")) {
				continue
			}
			checked++
			r, _ := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
			flows, caught = flows+n, caught+r/100*float64(n)
			if r < 90 {
				t.Errorf("%s: %s: %.1f %% caught, want ≥ 90 %%", table, cat, r)
			}
		}
	}
	if fpr < 0 || fpr > 0.005 {
		t.Errorf("%s: benign false-positive rate %v, want ≤ 0.005\n%s", table, fpr, out)
	}
	if flows > 0 && caught/float64(flows) < 0.95 {
		t.Errorf("%s: scans, floods and brute force: %.3f caught, want ≥ 0.95", table, caught/float64(flows))
	}
	if checked < kinds {
		t.Errorf("%s: only %d scan, flood and brute-force categories checked, want %d\n%s", table, checked, kinds, out)
	}
}
