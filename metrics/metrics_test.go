package metrics_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
	"github.com/flowmeter/flowmeter/packet"
)

func TestServe(t *testing.T) {
	c := &metrics.Collector{}
	addr, stop, err := metrics.Serve("127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var st meter.Stats
	st.Packets, st.Bytes, st.Decoded = 32, 9212, 31
	st.Skipped[packet.NotIP] = 1
	st.ByEnd[flow.EndFIN] = 2
	c.Update(st, 5)
	c.UpdateExtra(metrics.Extra{Verdicts: map[string]int64{"malicious": 3}, KernelDrops: 7})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"flowmeter_packets_total 32", "flowmeter_bytes_total 9212", `flowmeter_packets_skipped_total{reason="not_ip"} 1`,
		"flowmeter_flows_active 5", `flowmeter_flows_ended_total{reason="fin"} 2`, `flowmeter_verdicts_total{verdict="malicious"} 3`,
		`flowmeter_drops_total{cause="kernel"} 7`, "go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestAddr(t *testing.T) {
	for in, want := range map[string]string{":9100": "127.0.0.1:9100", "9100": "127.0.0.1:9100", "0.0.0.0:9100": "0.0.0.0:9100"} {
		if got := metrics.Addr(in); got != want {
			t.Errorf("Addr(%q) = %q, want %q", in, got, want)
		}
	}
}
