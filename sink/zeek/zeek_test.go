package zeek_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/zeek"
)

// conn writes the fixture's flows as conn.log and returns its lines.
func conn(t *testing.T, path string) []string {
	t.Helper()
	s, _ := feature.NewSchema(8)
	var b bytes.Buffer
	w, err := zeek.NewWriter(&b, s)
	if err != nil {
		t.Fatal(err)
	}
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: s}, w)
	if err := m.RunFiles(context.Background(), []string{path}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// The header is Zeek's ASCII writer's, every line has the 22 typed fields,
// and conn_state follows the handshake and the close.
func TestConnLog(t *testing.T) {
	lines := conn(t, "../../meter/testdata/tcp_sessions.pcap")
	head := []string{"#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn"}
	for i, h := range head {
		if lines[i] != h {
			t.Fatalf("header line %d: %q, want %q", i+1, lines[i], h)
		}
	}
	if !strings.HasPrefix(lines[5], "#open\t20") || lines[6] != "#fields\t"+zeek.Fields || lines[7] != "#types\t"+zeek.Types ||
		!strings.HasPrefix(lines[len(lines)-1], "#close\t20") {
		t.Fatalf("header/footer:\n%s", strings.Join(append(lines[5:8], lines[len(lines)-1]), "\n"))
	}
	states := map[string]int{}
	for _, l := range lines[8 : len(lines)-1] {
		f := strings.Split(l, "\t")
		if len(f) != 22 {
			t.Fatalf("%d fields: %q", len(f), l)
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil || !strings.HasPrefix(f[1], "C") || f[6] != "tcp" || !strings.HasPrefix(f[21], "1:") {
			t.Errorf("line %q", l)
		}
		for _, i := range []int{3, 5, 9, 10, 14, 16, 17, 18, 19} {
			if _, err := strconv.ParseUint(f[i], 10, 64); err != nil {
				t.Errorf("field %d %q is not a count", i+1, f[i])
			}
		}
		states[f[11]]++
	}
	if states["SF"] != 2 || states["RSTO"]+states["RSTR"] != 1 {
		t.Errorf("conn_state %v, want 2 SF and one reset", states)
	}
	scan := map[string]int{}
	for _, l := range conn(t, "../../meter/testdata/scan.pcap")[8:] {
		if f := strings.Split(l, "\t"); len(f) == 22 {
			scan[f[11]]++
		}
	}
	if scan["REJ"] == 0 || scan["S0"]+scan["RSTO"]+scan["SF"]+scan["S1"] == 0 {
		t.Errorf("a SYN scan's conn_states: %v", scan)
	}
}
