// Package metrics serves a meter's counters as Prometheus metrics
// (prometheus/client_golang). It wraps the pipeline from outside: the meter
// hands it copies of its counters (meter.Config.OnTick), and the core
// packages never import Prometheus.
package metrics

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
)

// Extra are counters kept outside the meter.
type Extra struct {
	Verdicts    map[string]int64 // by verdict
	KernelDrops uint64           // packets the kernel dropped (ring full)
	Freezes     uint64           // ring queue freezes
	OutputLost  int64            // records an output lost (e.g. Kafka)
}

// Collector is a prometheus.Collector over the latest snapshot.
type Collector struct {
	mu    sync.Mutex
	st    meter.Stats
	open  int
	extra Extra
}

// Update stores a snapshot; safe to call from any goroutine.
func (c *Collector) Update(st meter.Stats, open int) {
	c.mu.Lock()
	c.st, c.open = st, open
	c.mu.Unlock()
}

// UpdateExtra stores the counters kept outside the meter.
func (c *Collector) UpdateExtra(e Extra) {
	c.mu.Lock()
	c.extra = e
	c.mu.Unlock()
}

var (
	dPackets  = prometheus.NewDesc("flowmeter_packets_total", "Frames read.", nil, nil)
	dBytes    = prometheus.NewDesc("flowmeter_bytes_total", "Frame bytes on the wire.", nil, nil)
	dDecoded  = prometheus.NewDesc("flowmeter_packets_decoded_total", "Frames that joined a flow.", nil, nil)
	dSkipped  = prometheus.NewDesc("flowmeter_packets_skipped_total", "Frames that joined no flow, by reason.", []string{"reason"}, nil)
	dActive   = prometheus.NewDesc("flowmeter_flows_active", "Flows open now.", nil, nil)
	dEnded    = prometheus.NewDesc("flowmeter_flows_ended_total", "Flow records written, by end reason.", []string{"reason"}, nil)
	dVerdicts = prometheus.NewDesc("flowmeter_verdicts_total", "Flows classified, by verdict.", []string{"verdict"}, nil)
	dDrops    = prometheus.NewDesc("flowmeter_drops_total", "Packets or records lost, by cause.", []string{"cause"}, nil)
	dFreezes  = prometheus.NewDesc("flowmeter_ring_freezes_total", "Times the capture ring's queue was frozen.", nil, nil)
	dErrors   = prometheus.NewDesc("flowmeter_read_errors_total", "Captures that could not be read to their end.", nil, nil)
	dEvicted  = prometheus.NewDesc("flowmeter_flows_evicted_total", "Flows ended early to make room in a full flow table (--max-flows).", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dPackets, dBytes, dDecoded, dSkipped, dActive, dEnded, dVerdicts, dDrops, dFreezes, dErrors, dEvicted} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	counter(dPackets, float64(c.st.Packets))
	counter(dBytes, float64(c.st.Bytes))
	counter(dDecoded, float64(c.st.Decoded))
	for r := 1; r < packet.NumReasons; r++ {
		counter(dSkipped, float64(c.st.Skipped[r]), packet.Reason(r).String())
	}
	ch <- prometheus.MustNewConstMetric(dActive, prometheus.GaugeValue, float64(c.open))
	for _, r := range []flow.EndReason{flow.EndIdle, flow.EndActive, flow.EndFIN, flow.EndRST, flow.EndEOF, flow.EndShutdown, flow.EndEvicted} {
		counter(dEnded, float64(c.st.ByEnd[r]), r.String())
	}
	for v, n := range c.extra.Verdicts {
		counter(dVerdicts, float64(n), v)
	}
	counter(dDrops, float64(c.extra.KernelDrops), "kernel")
	counter(dDrops, float64(c.extra.OutputLost), "output")
	counter(dFreezes, float64(c.extra.Freezes))
	counter(dErrors, float64(len(c.st.ReadErrors)))
	counter(dEvicted, float64(c.st.Evicted))
}

// Addr completes a listen address: a bare ":PORT" or "PORT" binds to
// 127.0.0.1, so metrics are not exposed beyond the host unless asked.
func Addr(a string) string {
	if !strings.Contains(a, ":") {
		a = ":" + a
	}
	if strings.HasPrefix(a, ":") {
		return "127.0.0.1" + a
	}
	return a
}

// Serve registers c and serves /metrics on addr in the background. It
// returns the listening address and a function that stops the server.
func Serve(addr string, c *Collector) (string, func(), error) {
	reg := prometheus.NewRegistry()
	// the standard go_* and process_* metrics beside flowmeter's own
	for _, col := range []prometheus.Collector{c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(col); err != nil {
			return "", nil, err
		}
	}
	ln, err := net.Listen("tcp", Addr(addr))
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// Start serves metrics on addr (Addr's rules) and returns the listening
// address, the function that feeds them (for meter.Config.OnTick) and the
// one that stops the server. extra, when not nil, supplies the counters kept
// outside the meter; it is called on the meter's goroutine.
func Start(addr string, extra func() Extra) (bound string, tick func(meter.Stats, int), stop func(), err error) {
	c := &Collector{}
	bound, stop, err = Serve(addr, c)
	if err != nil {
		return "", nil, nil, fmt.Errorf("metrics: %w", err)
	}
	return bound, func(st meter.Stats, open int) {
		c.Update(st, open)
		if extra != nil {
			c.UpdateExtra(extra())
		}
	}, stop, nil
}
