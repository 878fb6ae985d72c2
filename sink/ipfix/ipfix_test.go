package ipfix_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/ipfix"
)

// keep is a sink that keeps what it needs of each record.
type keep struct {
	s    *feature.Schema
	rows []string
}

func (k *keep) Write(r *feature.Record) error {
	v := func(n string) int64 { return int64(r.Values[k.s.Index(n)]) }
	k.rows = append(k.rows, fmt.Sprintf("%s|%s|%s|%s|%d|%d|%d|%d|%d|%d|%d", time.Unix(0, r.First).UTC().Format("2006-01-02 15:04:05.000"),
		time.Unix(0, r.Last).UTC().Format("2006-01-02 15:04:05.000"), r.Src.Addr(), r.Dst.Addr(), r.Src.Port(), r.Dst.Port(), r.Proto,
		v("fwd_packets"), v("fwd_bytes"), v("bwd_packets"), v("bwd_bytes")))
	return nil
}
func (k *keep) Close() error { return nil }

func freeUDPPort(t *testing.T) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Every flow of the lab fixtures and the meter's fixtures, exported as
// IPFIX to a real collector (Debian's nfdump: nfcapd), reads back with the
// same endpoints, protocol, packets and bytes each way, and times (ms).
func TestNfcapdReadsEveryFlow(t *testing.T) {
	if _, err := exec.LookPath("nfcapd"); err != nil {
		t.Skip("nfcapd (Debian's nfdump) is not installed")
	}
	dir := t.TempDir()
	port := freeUDPPort(t)
	nf := exec.Command("nfcapd", "-p", fmt.Sprint(port), "-b", "127.0.0.1", "-w", dir, "-B", "33554432")
	if err := nf.Start(); err != nil {
		t.Fatal(err)
	}
	defer nf.Process.Kill()
	time.Sleep(500 * time.Millisecond) // listening
	s, _ := feature.NewSchema(8)
	w, err := ipfix.NewWriter(fmt.Sprintf("127.0.0.1:%d", port), 7, s)
	if err != nil {
		t.Fatal(err)
	}
	k := &keep{s: s}
	paths, _, _ := capture.Expand([]string{"../../lab/testdata", "../../meter/testdata"})
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: s}, w, k)
	if err := m.RunFiles(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	nf.Process.Signal(os.Interrupt)
	nf.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.*"))
	if len(files) == 0 {
		t.Fatal("nfcapd wrote no file")
	}
	cmd := exec.Command("nfdump", "-R", dir, "-q", "-N", "-o", "fmt:%ts|%te|%sa|%da|%sp|%dp|%pr|%ipkt|%ibyt|%opkt|%obyt")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) > 5 && f[5] == "0.0" { // nfdump shows ICMP type.code as the port
			f[5] = "0"
		}
		got[strings.Join(f, "|")]++
	}
	missing := 0
	for _, r := range k.rows {
		if got[r] == 0 {
			if missing++; missing <= 5 {
				t.Errorf("not read back: %s", r)
			}
			continue
		}
		got[r]--
	}
	if missing > 0 || len(k.rows) < 4000 {
		t.Errorf("%d of %d flows not read back equal", missing, len(k.rows))
	}
}
