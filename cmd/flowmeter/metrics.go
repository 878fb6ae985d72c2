package main

import (
	"fmt"
	"io"

	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/sink/kafka"
)

// startMetrics serves Prometheus metrics on addr when it is set. The
// returned tick goes in meter.Config.OnTick; extra (may be nil) supplies the
// counters kept outside the meter and is called on the meter's goroutine.
func startMetrics(addr string, stderr io.Writer, extra func() metrics.Extra) (tick func(meter.Stats, int), stop func(), err error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	c := &metrics.Collector{}
	bound, stop, err := metrics.Serve(addr, c)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	fmt.Fprintf(stderr, "flowmeter: metrics on http://%s/metrics\n", bound)
	return func(st meter.Stats, open int) {
		c.Update(st, open)
		if extra != nil {
			c.UpdateExtra(extra())
		}
	}, stop, nil
}

// verdictCounts copies a scorer's counts.
func verdictCounts(sc *scorer) map[string]int64 {
	return map[string]int64{model.VerdictMalicious: sc.malicious.Load(), model.VerdictBenign: sc.benign.Load()}
}

// outputLost sums the records the outputs lost so far (Kafka's dropped and
// undelivered records).
func outputLost(sinks []meter.Sink) int64 {
	var n int64
	for _, s := range sinks {
		if k, ok := s.(*kafka.Writer); ok {
			st := k.Stats()
			n += st.Dropped + st.Failed
		}
	}
	return n
}
