package main

import (
	"bytes"
	"context"
	stdcsv "encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowmeter/flowmeter/capture"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	want := map[string]int{"cic2017": 85, "cic2017-ml": 79, "cic2018": 80, "seed": 39, "nfstream": 74}
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

func TestFlagsAfterInputs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	_, _, err := runCmd(t, "extract", filepath.Join(fixtures, "scan.pcap"), "-q", "-o", path, "--", "-")
	// "-" after "--" is an input (stdin, empty here): an error about it, but -o was taken as a flag
	if _, statErr := os.Stat(path); statErr != nil {
		t.Errorf("-o after the input was not taken as a flag (%v, %v)", err, statErr)
	}
}

// The whole loop on the bundled sample: label, train, evaluate, classify with
// per-packet verdicts and the suspicious capture.
func TestTrainClassifyEvaluate(t *testing.T) {
	dir := t.TempDir()
	rules := sampleRules(t, dir, "scan and brute force")
	sample := filepath.Join(fixtures, "sample.pcap")
	modelPath := filepath.Join(dir, "m.json")
	out, errOut, err := runCmd(t, "train", "-q", "-o", modelPath, "--labels", rules, "--folds", "0", "--rounds", "20", sample)
	if err != nil {
		t.Fatal(err, errOut)
	}
	if !strings.Contains(out, "wrote "+modelPath) {
		t.Errorf("train output:\n%s", out)
	}
	scores := filepath.Join(dir, "scores.csv")
	out, _, err = runCmd(t, "evaluate", "-q", "--model", modelPath, "--labels", rules, "--scores", scores, sample)
	if err != nil || !strings.Contains(out, "recall 1.0000") || !strings.Contains(out, "FPR 0.0000") {
		t.Errorf("evaluate on its training data (%v):\n%s", err, out)
	}
	checkScores(t, scores, out)
	pk, sus := filepath.Join(dir, "packets.csv"), filepath.Join(dir, "suspicious.pcap")
	out, errOut, err = runCmd(t, "classify", "--model", modelPath, "--packets", pk, "--suspicious", sus, sample)
	if err != nil {
		t.Fatal(err, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	header := strings.Split(rows[0], ",")
	if header[len(header)-2] != "score" || header[len(header)-1] != "verdict" {
		t.Errorf("classify header ends with %v", header[len(header)-2:])
	}
	malFlows, malPackets := 0, 0
	for _, r := range rows[1:] {
		f := strings.Split(r, ",")
		if f[len(f)-1] == "malicious" {
			malFlows++
			if !strings.Contains(r, "203.0.113.66") {
				t.Errorf("flagged a benign flow: %s", r[:80])
			}
		}
	}
	b, _ := os.ReadFile(pk)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines[1:] {
		if strings.HasSuffix(l, ",malicious") {
			malPackets++
		}
	}
	if len(lines)-1 != 1403 || malFlows < 300 {
		t.Errorf("%d packet verdicts (want 1403), %d malicious flows", len(lines)-1, malFlows)
	}
	if !strings.Contains(errOut, fmt.Sprintf("malicious flows hold %d of 1403 packets", malPackets)) {
		t.Errorf("reduction report does not match the packet verdicts (%d):\n%s", malPackets, errOut)
	}
	c, err := capture.Open(sus)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	for {
		if _, _, err := c.ReadPacket(); err != nil {
			break
		}
		n++
	}
	if n != malPackets {
		t.Errorf("suspicious capture holds %d packets, packet verdicts say %d", n, malPackets)
	}
}

func TestClassifyDefaultModel(t *testing.T) {
	out, errOut, err := runCmd(t, "classify", filepath.Join(fixtures, "sample.pcap"))
	if err != nil {
		t.Fatal(err, errOut)
	}
	if !strings.Contains(errOut, "verdicts (threshold") || !strings.Contains(out, ",malicious\n") {
		t.Errorf("no verdicts from the embedded model:\n%s", errOut)
	}
	// classify meters with the model's own early-flow window: --early is
	// not its flag
	if _, _, err = runCmd(t, "classify", "--early", "4", filepath.Join(fixtures, "sample.pcap")); !errors.Is(err, errUsage) {
		t.Errorf("classify --early: %v, want a usage error", err)
	}
}

func TestKafkaAndParquetOutputs(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pq := filepath.Join(t.TempDir(), "f.parquet")
	_, errOut, err := runCmd(t, "extract", "-o", "kafka://"+c.ListenAddrs()[0]+"/flows", "-o", pq, filepath.Join(fixtures, "tcp_sessions.pcap"))
	if err != nil {
		t.Fatal(err, errOut)
	}
	if st, err := os.Stat(pq); err != nil || st.Size() == 0 {
		t.Errorf("parquet output: %v", err)
	}
	if _, _, err := runCmd(t, "extract", "-o", "kafka://nohost", filepath.Join(fixtures, "tcp_sessions.pcap")); !errors.Is(err, errUsage) {
		t.Errorf("bad kafka URL: %v", err)
	}
}

// The per-packet verdicts of a capture whose name holds a quote and a comma
// are still CSV (they were written with Go string quoting once).
func TestPacketVerdictsCSV(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(fixtures, "sample.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, `we"ird,name.pcap`)
	os.WriteFile(name, b, 0o644)
	pk := filepath.Join(dir, "packets.csv")
	if _, errOut, err := runCmd(t, "classify", "-q", "-o", filepath.Join(dir, "flows.csv"), "--packets", pk, name); err != nil {
		t.Fatal(err, errOut)
	}
	f, err := os.Open(pk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := stdcsv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("per-packet verdicts are not CSV: %v", err)
	}
	if len(rows) != 1404 || rows[1][0] != name || rows[1403][1] != "1403" {
		t.Errorf("%d rows, first %q", len(rows), rows[1])
	}
}

// Each command takes only the flags it uses: another command's flag is a
// usage error, with a message (exit status 2), not silently ignored.
func TestFlagsOfOtherCommands(t *testing.T) {
	sample := filepath.Join(fixtures, "sample.pcap")
	for _, args := range [][]string{
		{"train", "-o", "m.json", "--columns", "cic2017", "x.csv"},
		{"train", "-o", "m.json", "--metrics", ":0", "--model", "m.json", "x.csv"},
		{"evaluate", "--columns", "seed", "x.csv"},
		{"report", "-o", "dir", "--early", "4", "x.csv"},
		{"classify", "--early", "4", sample},
		{"classify", "--bpf", "prog.txt", sample},
		{"classify", "--early-verdict", "4", sample},
		{"live", "-i", "lo", "--packets", "p.csv"},
		{"live", "-i", "lo", "-r", sample},
		{"live", "-i", "lo", sample},
		{"live", sample},
		{"extract", "--model", "m.json", sample},
		{"extract", "--threshold", "0.5", sample},
		{"features", "-o", "x"},
		{"import-xgboost", "--columns", "seed", "-o", "m.json", "x.json"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), args, io.Discard, &stderr)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
			continue
		}
		if code := exitCode(err, &stderr); code != 2 || strings.TrimSpace(stderr.String()) == "" {
			t.Errorf("%v: exit %d, message %q", args, code, stderr.String())
		}
	}
}

// Every mistyped option value is a usage error with a message that names
// the flag (exit status 2), found before any output is opened.
func TestBadOptionValues(t *testing.T) {
	sample := filepath.Join(fixtures, "sample.pcap")
	out := filepath.Join(t.TempDir(), "never.csv")
	for _, c := range []struct {
		args []string
		flag string // the message names it
	}{
		{[]string{"extract", "--columns", "foo", sample}, "columns"},
		{[]string{"extract", "--early", "65", sample}, "early"},
		{[]string{"extract", "--workers", "0", sample}, "workers"},
		{[]string{"extract", "--idle-timeout", "-5s", sample}, "idle-timeout"},
		{[]string{"extract", "--active-timeout", "0s", sample}, "active-timeout"},
		{[]string{"extract", "--linger", "-1s", sample}, "linger"},
		{[]string{"extract", "--ctx-window", "0s", sample}, "ctx-window"},
		{[]string{"extract", "--ctx-flows", "0", sample}, "ctx-flows"},
		{[]string{"extract", "--max-flows", "-1", sample}, "max-flows"},
		{[]string{"extract", "--progress", "foo", sample}, "progress"},
		{[]string{"extract", "--early", "x", sample}, "early"},
		{[]string{"extract", "-o", "kafka://", sample}, "-o"},
		{[]string{"extract", "-o", "kafka://localhost:9092", sample}, "-o"},
		{[]string{"classify", "--threshold", "2", sample}, "threshold"},
		{[]string{"classify", "--threshold", "NaN", sample}, "threshold"},
		{[]string{"classify", "--threshold", "-1", sample}, "threshold"},
		{[]string{"classify", "--threshold", "0", sample}, "threshold"},
		{[]string{"live", "-i", "lo", "--filter", "tcp port", "-o", out}, "filter"},
		{[]string{"live", "-i", "lo", "--filter", "(tcp", "-o", out}, "filter"},
		{[]string{"live", "-i", "lo", "--filter", "port 99999", "-o", out}, "filter"},
		{[]string{"live", "-i", "lo", "--bpf", "x", "--filter", "tcp", "-o", out}, "filter"},
		{[]string{"train", "-o", out, "--group", "foo", "x.csv"}, "group"},
		{[]string{"train", "-o", out, "--leave-out", "c2: [", "x.csv"}, "leave-out"},
		{[]string{"evaluate", "--group", "foo", "x.csv"}, "group"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), c.args, io.Discard, &stderr)
		code := exitCode(err, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.flag) {
			t.Errorf("%v: exit %d, message %q (want 2 and one naming %s)", c.args, code, stderr.String(), c.flag)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output was created before a usage error")
	}
}

// An output that names an input is refused before anything is written:
// the capture is still whole afterwards.
func TestOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(fixtures, "sample.pcap"))
	in := filepath.Join(dir, "in.pcap")
	os.WriteFile(in, b, 0o644)
	link := filepath.Join(dir, "link.pcap")
	os.Link(in, link)
	for _, args := range [][]string{
		{"extract", "-o", in, in},
		{"extract", "-o", link, in},
		{"extract", "-o", filepath.Join(dir, "x.csv"), "-o", in, dir},
		{"classify", "--packets", in, in},
		{"classify", "--suspicious", link, in},
		{"train", "-o", in, "--labels", in, in},
	} {
		_, _, err := runCmd(t, args...)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "would be overwritten") {
			t.Errorf("%v: %v", args, err)
		}
		if after, _ := os.ReadFile(in); !bytes.Equal(after, b) {
			t.Fatalf("%v: the input was changed", args)
		}
	}
}

// Kafka that cannot be reached: the run fails and says how many records
// were lost.
func TestKafkaUnreachableFails(t *testing.T) {
	addr := freeAddr(t)
	_, _, err := runCmd(t, "extract", "-q", "-o", "kafka://"+addr+"/flows?flush_timeout=50ms", filepath.Join(fixtures, "tcp_sessions.pcap"))
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "3 of 3 records lost") {
		t.Errorf("extract to an unreachable broker: %v", err)
	}
}

// Messages tell the truth: an empty file is not a capture (said once,
// nothing on stdout, not a "live capture"), and a summary after a failed
// output does not claim the records were written.
func TestTruthfulMessages(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"extract", empty}, &stdout, &stderr)
	exitCode(err, &stderr)
	if stdout.Len() != 0 || strings.Count(stderr.String(), "not a pcap or pcapng capture") != 1 || strings.Contains(stderr.String(), "live") {
		t.Errorf("empty file: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	_, errOut, err := runCmd(t, "extract", "-o", "/dev/full", filepath.Join(fixtures, "sample.pcap"))
	if err == nil || !strings.Contains(errOut, "not all written") || strings.Contains(errOut, "flows written") || !strings.Contains(errOut, "1 file,") {
		t.Errorf("output to a full disk: %v\n%s", err, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runCmd(t, "--version")
	if err != nil || !strings.HasPrefix(out, "flowmeter ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: %q, %v", out, err)
	}
}

// The CIC column sets name labels as their datasets do, so that notebooks
// written for them (Label == "BENIGN", or "Benign") read flowmeter's output.
func TestCICLabelNames(t *testing.T) {
	dir := t.TempDir()
	rules := sampleRules(t, dir, "PortScan")
	sample := filepath.Join(fixtures, "sample.pcap")
	for _, c := range []struct {
		args        []string
		benign, mal string
	}{
		{[]string{"--columns", "cic2017"}, "BENIGN", "PortScan"},
		{[]string{"--columns", "cic2018"}, "Benign", "PortScan"},
		{[]string{"--columns", "cic2017", "--label-names", "cic2018"}, "Benign", "PortScan"},
		{[]string{"--columns", "cic2018", "--label-names", "native"}, "benign", "malicious"},
	} {
		out, errOut, err := runCmd(t, append(append([]string{"extract", "-q", "--labels", rules}, c.args...), sample)...)
		if err != nil {
			t.Fatal(err, errOut)
		}
		counts := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			counts[line[strings.LastIndexByte(line, ',')+1:]]++
		}
		if len(counts) != 2 || counts[c.benign] == 0 || counts[c.mal] == 0 {
			t.Errorf("%v: labels %v, want %s and %s", c.args, counts, c.benign, c.mal)
		}
	}
	if _, _, err := runCmd(t, "extract", "--label-names", "foo", sample); !errors.Is(err, errUsage) {
		t.Errorf("--label-names foo: %v", err)
	}
}

// --filter works on files as on a live capture, and -r names a capture as
// tcpdump's does; filtered frames are counted, and vlan (a live-capture
// filter) is refused for files.
func TestOfflineFilter(t *testing.T) {
	sample := filepath.Join(fixtures, "sample.pcap")
	all, _, err := runCmd(t, "extract", "-q", "-r", sample)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "extract", "--filter", "udp and port 53", "-r", sample)
	if err != nil {
		t.Fatal(err, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")[1:]
	if len(rows) == 0 || len(rows) >= strings.Count(all, "\n")-1 || !strings.Contains(errOut, "filtered out") {
		t.Fatalf("%d of %d flows kept:\n%s", len(rows), strings.Count(all, "\n")-1, errOut)
	}
	for _, r := range rows {
		f := strings.Split(r, ",")
		if f[6] != "17" || f[3] != "53" && f[5] != "53" {
			t.Errorf("a flow the filter should have left out: %.80s", r)
		}
	}
	if _, _, err := runCmd(t, "classify", "--filter", "vlan 10", sample); !errors.Is(err, errUsage) {
		t.Errorf("offline vlan filter: %v", err)
	}
}

// With --metrics-linger an offline run keeps serving its final counts,
// with the standard Go and process metrics, until the linger ends.
func TestMetricsLinger(t *testing.T) {
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := runCmd(t, "extract", "-q", "-o", filepath.Join(t.TempDir(), "f.csv"), "--metrics", addr, "--metrics-linger", "3s", filepath.Join(fixtures, "sample.pcap"))
		done <- err
	}()
	var body string
	for i := 0; i < 100 && !strings.Contains(body, "flowmeter_packets_total 1403"); i++ {
		time.Sleep(20 * time.Millisecond)
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		}
	}
	if !strings.Contains(body, "flowmeter_packets_total 1403") || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Errorf("no final metrics during the linger:\n%.400s", body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Sensors → Kafka → scorers: the flows extract publishes are scored by
// `flowmeter score` into a verdict topic, once each.
func TestScoreFromKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "flows", "verdicts"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	if _, errOut, err := runCmd(t, "extract", "-q", "-o", "kafka://"+addr+"/flows", filepath.Join(fixtures, "sample.pcap")); err != nil {
		t.Fatal(err, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var o, e bytes.Buffer
		done <- run(ctx, []string{"score", "--from", "kafka://" + addr + "/flows", "--to", "kafka://" + addr + "/verdicts", "--id", "t1"}, &o, &e)
	}()
	cl, _ := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("verdicts"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	verdicts := map[string]string{}
	pctx, pcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer pcancel()
	for len(verdicts) < 364 && pctx.Err() == nil {
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			var v struct {
				FlowID  string  `json:"flow_id"`
				Score   float64 `json:"score"`
				Verdict string  `json:"verdict"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil || v.FlowID != string(r.Key) {
				t.Fatalf("verdict %q: %v", r.Value, err)
			}
			verdicts[v.FlowID] = v.Verdict
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 364 {
		t.Errorf("%d verdicts, want one for each of the 364 flows", len(verdicts))
	}
	// the same verdicts as classify gives the same flows
	out, _, err := runCmd(t, "classify", "-q", filepath.Join(fixtures, "sample.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Split(row, ",")
		if v := verdicts[f[0]]; v != f[len(f)-1] {
			t.Fatalf("flow %s: scorer says %q, classify %q", f[0], v, f[len(f)-1])
		}
	}
}

// The report of a model on its own training data says so, with what the
// model did on captures it was not trained on; its curves carry the chance
// line and the operating point at the threshold.
func TestReportOnTrainingData(t *testing.T) {
	dir := t.TempDir()
	rules := sampleRules(t, dir, "scan")
	sample := filepath.Join(fixtures, "sample.pcap")
	mdl := filepath.Join(dir, "m.json")
	if _, errOut, err := runCmd(t, "train", "-q", "-o", mdl, "--labels", rules, "--folds", "0", "--rounds", "10", sample); err != nil {
		t.Fatal(err, errOut)
	}
	out := filepath.Join(dir, "rep")
	if _, errOut, err := runCmd(t, "report", "-q", "-o", out, "--model", mdl, "--labels", rules, sample); err != nil {
		t.Fatal(err, errOut)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, want := range []string{`id="warning"`, "the model&#39;s training data", "chance", "at the threshold"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	other := filepath.Join(dir, "rep2")
	if _, _, err := runCmd(t, "report", "-q", "-o", other, "--labels", rules, sample); err != nil {
		t.Fatal(err)
	}
	if page, _ := os.ReadFile(filepath.Join(other, "index.html")); strings.Contains(string(page), `id="warning"`) {
		t.Error("the embedded model was not trained on the sample, yet the report warns")
	}
}

// The completion script completes commands and each command's own flags
// (run in bash when it is there).
func TestCompletion(t *testing.T) {
	script, _, err := runCmd(t, "completion", "bash")
	if err != nil {
		t.Fatal(err)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	path := filepath.Join(t.TempDir(), "c.sh")
	os.WriteFile(path, []byte(script), 0o644)
	for words, want := range map[string]string{"flowmeter ex": "extract", "flowmeter extract --max-": "--max-flows", "flowmeter score --fr": "--from"} {
		cmd := exec.Command(bash, "-c", `source "$0"; COMP_WORDS=($1); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _flowmeter; echo "${COMPREPLY[@]}"`, path, words)
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q completes to %q (%v), want %q", words, out, err, want)
		}
	}
	if _, _, err := runCmd(t, "completion", "fish"); !errors.Is(err, errUsage) {
		t.Errorf("completion fish: %v", err)
	}
}

// The cic2017-ml set writes the MachineLearningCVE header byte for byte, as
// the published CSVs have it (leading spaces included).
func TestCIC2017MLHeader(t *testing.T) {
	out, _, err := runCmd(t, "extract", "-q", "--columns", "cic2017-ml", filepath.Join(fixtures, "scan.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if header := strings.SplitN(out, "\n", 2)[0]; header != feature.CIC2017MLHeader || !strings.HasPrefix(header, " Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets,") ||
		!strings.HasSuffix(header, ",Idle Mean, Idle Std, Idle Max, Idle Min, Label") {
		t.Errorf("header %q", header)
	}
}

// freeAddr is a loopback TCP address where nothing listens now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// An output with an unknown extension is a usage error before any output
// is created (it used to be written as plain CSV under that name).
func TestUnknownOutputExtension(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "a.csv")
	_, _, err := runCmd(t, "extract", "-o", first, "-o", filepath.Join(dir, "b.csv.bz2"), filepath.Join(fixtures, "scan.pcap"))
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "unknown extension .bz2") {
		t.Errorf("-o b.csv.bz2: %v", err)
	}
	if _, err := os.Stat(first); err == nil {
		t.Error("an output was created before the usage error")
	}
}

// Labelled flow tables may be gzip-compressed (the lab's committed ones
// are): train and evaluate read .csv.gz as they read .csv.
func TestTrainFromCompressedTable(t *testing.T) {
	dir := t.TempDir()
	rules := sampleRules(t, dir, "scan")
	table := filepath.Join(dir, "flows.csv.gz")
	if _, errOut, err := runCmd(t, "extract", "-q", "--labels", rules, "-o", table, filepath.Join(fixtures, "sample.pcap")); err != nil {
		t.Fatal(err, errOut)
	}
	mdl := filepath.Join(dir, "m.json")
	out, errOut, err := runCmd(t, "train", "-q", "-o", mdl, "--folds", "0", "--rounds", "5", table)
	if err != nil || !strings.Contains(out, "364 flows (24 benign, 340 malicious)") {
		t.Fatalf("%v %s\n%s", err, errOut, out)
	}
	if out, _, err := runCmd(t, "evaluate", "-q", "--model", mdl, table); err != nil || !strings.Contains(out, "364 labelled flows") {
		t.Errorf("evaluate: %v\n%s", err, out)
	}
}

// sampleRules writes the rules that label the bundled sample (its attacker
// 203.0.113.66 malicious, with category cat; the rest benign) in dir.
func sampleRules(t *testing.T, dir, cat string) string {
	t.Helper()
	rules := filepath.Join(dir, "rules.csv")
	if err := os.WriteFile(rules, []byte("label,category,host\nmalicious,"+cat+",203.0.113.66\nbenign,normal,0.0.0.0/0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return rules
}

// checkScores checks evaluate --scores' file against its summary out, of a
// model that gets every flow right: a row per flow, each verdict its label.
func checkScores(t *testing.T, path, out string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := stdcsv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("--scores: %d rows, %v", len(rows), err)
	}
	if h := strings.Join(rows[0][:6], ","); h != "capture,label,category,score,verdict,fwd_packets" {
		t.Errorf("--scores header starts %s", h)
	}
	if want := fmt.Sprintf("%d labelled flows", len(rows)-1); !strings.Contains(out, want) {
		t.Errorf("--scores has %d flows; evaluate said:\n%s", len(rows)-1, out)
	}
	for _, r := range rows[1:] {
		if r[1] != r[4] || len(r) != len(rows[0]) {
			t.Fatalf("--scores row %v: verdict %s, label %s", r[:5], r[4], r[1])
		}
	}
}
