package meter_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/jsonl"
)

var update = flag.Bool("update", false, "rewrite the fixture captures and golden files in testdata")

// TestFixturesUpToDate checks that the checked-in captures are exactly what
// packettest.Fixtures builds (and writes them with -update).
func TestFixturesUpToDate(t *testing.T) {
	var readme strings.Builder
	readme.WriteString("# Test captures\n\nMade by `internal/packettest/fixtures.go`; `go test ./meter -update` rewrites them and their golden outputs.\n\n")
	for _, f := range packettest.Fixtures() {
		path := filepath.Join("testdata", f.Name)
		fmt.Fprintf(&readme, "- `%s`: %s.\n", f.Name, f.How)
		if *update {
			if err := os.WriteFile(path, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs from what packettest.Fixtures makes (err %v); run go test ./meter -update", path, err)
		}
	}
	if *update {
		os.WriteFile(filepath.Join("testdata", "README.md"), []byte(readme.String()), 0o644)
	}
}

func extract(t *testing.T, path, set string, json bool) []byte {
	t.Helper()
	cols, err := feature.Columns(set, schema, feature.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var s meter.Sink = csv.NewWriter(&buf, cols)
	if json {
		s = jsonl.NewWriter(&buf, cols)
	}
	runInto(t, meter.Config{}, []string{path}, s)
	return buf.Bytes()
}

// runInto meters paths with cfg (the default flow configuration and the
// schema filled in) into s, closes s and returns the meter.
func runInto(t *testing.T, cfg meter.Config, paths []string, s meter.Sink) *meter.Meter {
	t.Helper()
	cfg.Flow, cfg.Schema = flow.DefaultConfig, schema
	m := meter.New(cfg, s)
	if err := m.RunFiles(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGolden(t *testing.T) {
	type golden struct {
		fixture, set string
		json         bool
	}
	var cases []golden
	for _, f := range packettest.Fixtures() {
		cases = append(cases, golden{f.Name, feature.SetNative, false})
	}
	cases = append(cases,
		golden{"tcp_sessions.pcap", feature.SetCIC2017, false},
		golden{"tcp_sessions.pcap", feature.SetCIC2018, false},
		golden{"tcp_sessions.pcap", feature.SetSeed, false},
		golden{"tcp_sessions.pcap", feature.SetNFStream, false},
		golden{"mixed.pcapng", feature.SetNative, true},
	)
	for _, c := range cases {
		name, _, _ := strings.Cut(c.fixture, ".")
		ext := ".csv"
		if c.json {
			ext = ".jsonl"
		}
		goldenPath := filepath.Join("testdata", name+"."+c.set+".golden"+ext)
		t.Run(filepath.Base(goldenPath), func(t *testing.T) {
			got := extract(t, filepath.Join("testdata", c.fixture), c.set, c.json)
			if *update {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test ./meter -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s; run go test ./meter -update and review the diff\n%s", goldenPath, firstDiff(got, want))
			}
		})
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	i := firstDifferent(g, w)
	if i < 0 {
		return ""
	}
	// show the first differing field, not two whole 150-column rows
	fa, fb := strings.Split(elem(g, i), ","), strings.Split(elem(w, i), ",")
	j := firstDifferent(fa, fb)
	return fmt.Sprintf("line %d, field %d: got %.80q, want %.80q", i+1, j+1, elem(fa, j), elem(fb, j))
}

// firstDifferent is the first index where a and b differ (a missing element
// is ""), or -1.
func firstDifferent(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		if elem(a, i) != elem(b, i) {
			return i
		}
	}
	return -1
}

func elem(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// Metering several files in one run gives the same records as metering each
// on its own, whatever their timestamps (each file has its own timeline).
func TestFilesIndependent(t *testing.T) {
	paths, _, err := capture.Expand([]string{"testdata"})
	if err != nil {
		t.Fatal(err)
	}
	// loopback_timeouts.pcap.gz, first, spans 40 minutes; the next files
	// start at its beginning.
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	var together, apart bytes.Buffer
	w := csv.NewWriter(&together, cols)
	if err := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, w).RunFiles(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	w.Close()
	for i, p := range paths {
		out := extract(t, p, feature.SetNative, false)
		if i > 0 {
			out = out[bytes.IndexByte(out, '\n')+1:]
		}
		apart.Write(out)
	}
	if !bytes.Equal(together.Bytes(), apart.Bytes()) {
		t.Errorf("one run over %d files differs from separate runs\n%s", len(paths), firstDiff(together.Bytes(), apart.Bytes()))
	}
}

// TestParallelIdentical checks that the sharded offline path, whose
// records are filled and encoded on several goroutines (a CSV sink is a
// RowSink), gives byte for byte the records (early ones included, with the
// application metadata read so far) and the
// per-packet flow IDs of one worker, on the fixtures and, when present, on
// the public captures.
func TestParallelIdentical(t *testing.T) {
	dirs := []string{"testdata"}
	if ds := datasetsDir(); ds != "" && !testing.Short() {
		dirs = append(dirs, ds)
	}
	for _, dir := range dirs {
		paths, _, err := capture.Expand([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		for _, early := range []int64{0, 3} {
			base, baseIDs, baseSt := meterOut(t, paths, meter.Config{EarlyAfter: early})
			if len(base) < 1000 {
				t.Fatalf("%s: only %d bytes of output", dir, len(base))
			}
			for _, c := range []struct {
				name string
				cfg  meter.Config
			}{
				{"workers=2", meter.Config{Workers: 2}},
				{"workers=3", meter.Config{Workers: 3}},
			} {
				c.cfg.EarlyAfter = early
				got, ids, st := meterOut(t, paths, c.cfg)
				if !bytes.Equal(got, base) {
					t.Errorf("%s, early %d: %s output differs (%d vs %d bytes)\n%s", dir, early, c.name, len(got), len(base), firstDiff(got, base))
				}
				if !slices.Equal(ids, baseIDs) {
					t.Errorf("%s, early %d: %s per-packet flow IDs differ", dir, early, c.name)
				}
				// "most flows open at once" is the peak over all the
				// tables, not the sum of each table's peak
				if st.MaxActive != baseSt.MaxActive || st.Flows != baseSt.Flows {
					t.Errorf("%s, early %d: %s: %d flows, at most %d open; one worker: %d flows, at most %d open",
						dir, early, c.name, st.Flows, st.MaxActive, baseSt.Flows, baseSt.MaxActive)
				}
			}
		}
	}
}

// meterOut meters paths with cfg (schema, flow config and CSV sink added)
// and returns the CSV, each packet's flow ID and the counts.
func meterOut(t *testing.T, paths []string, cfg meter.Config) ([]byte, []uint64, *meter.Stats) {
	t.Helper()
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{App: true})
	cfg.App = true
	var b bytes.Buffer
	var ids []uint64
	cfg.OnPacket = func(n int, id uint64) { ids = append(ids, uint64(n), id) }
	m := runInto(t, cfg, paths, csv.NewWriter(&b, cols))
	return b.Bytes(), ids, m.Stats()
}
