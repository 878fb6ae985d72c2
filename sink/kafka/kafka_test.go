package kafka_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/kafka"
)

var _ meter.Sink = (*kafka.Writer)(nil)

var cols = []feature.Column{
	{Name: "flow_id", Field: feature.FieldFlowID},
	{Name: "src_ip", Field: feature.FieldSrcIP},
	{Name: "duration_s", Field: feature.FieldFeature, Index: 0},
}

func record(i int) *feature.Record {
	return &feature.Record{ID: uint64(1000 + i), Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"),
		Values: []float64{float64(i) / 10}}
}

func consume(t *testing.T, addrs []string, want int) map[string]map[string]any {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics("flows"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]map[string]any{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(got) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var v map[string]any
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("value %q: %v", r.Value, err)
			}
			if v["flow_id"] != string(r.Key) {
				t.Fatalf("key %q, flow_id %v", r.Key, v["flow_id"])
			}
			got[string(r.Key)] = v
		})
	}
	return got
}

func TestProduce(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg, err := kafka.ParseURL("kafka://" + c.ListenAddrs()[0] + "/flows")
	if err != nil {
		t.Fatal(err)
	}
	w, err := kafka.NewWriter(cfg, cols)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		w.Write(record(i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Delivered != 500 {
		t.Errorf("stats %+v", st)
	}
	got := consume(t, c.ListenAddrs(), 500)
	if len(got) != 500 || got[fmt.Sprintf("%016x", 1007)]["duration_s"] != 0.7 {
		t.Errorf("consumed %d records", len(got))
	}
}

// A broker that goes away: while it is down, every produce request closes
// the connection. Write never blocks, the client retries, records beyond the
// buffer are dropped and counted, and once the broker is back the buffered
// records are delivered.
func TestBrokerOutage(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var down atomic.Bool
	c.ControlKey(kmsg.Produce.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if down.Load() {
			return nil, errors.New("broker down"), true
		}
		return nil, nil, false
	})
	cfg, _ := kafka.ParseURL("kafka://" + c.ListenAddrs()[0] + "/flows")
	cfg.Buffer, cfg.Linger, cfg.Delivery, cfg.FlushTimeout = 300, 5*time.Millisecond, 30*time.Second, 20*time.Second
	w, err := kafka.NewWriter(cfg, cols)
	if err != nil {
		t.Fatal(err)
	}
	write := func(from, to int) {
		start := time.Now()
		for i := from; i < to; i++ {
			w.Write(record(i))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("writing %d records took %v: the producer blocked", to-from, d)
		}
	}
	write(0, 100)
	time.Sleep(300 * time.Millisecond)
	down.Store(true)
	write(100, 600) // more than the buffer holds: some are dropped, none block
	time.Sleep(500 * time.Millisecond)
	down.Store(false)
	write(600, 650)
	closeErr := w.Close()
	st := w.Stats()
	t.Logf("after the outage: %+v (%v)", st, closeErr)
	if st.Delivered+st.Dropped+st.Failed != st.Written || st.Written != 650 {
		t.Errorf("records unaccounted for: %+v", st)
	}
	if st.Dropped == 0 || closeErr == nil {
		t.Errorf("500 records into a 300-record buffer during the outage, yet none lost: %+v", st)
	}
	if st.Delivered < 350 {
		t.Errorf("only %d records delivered: the buffered ones should follow once the broker is back", st.Delivered)
	}
	if got := consume(t, c.ListenAddrs(), int(st.Delivered)); int64(len(got)) != st.Delivered {
		t.Errorf("consumed %d records, %d delivered", len(got), st.Delivered)
	}
}

// With no broker to reach, Close reports every record as lost, every time
// (a bounded loop: the callbacks of the records Close fails may come after
// Close returns, and must still be counted).
func TestUnreachableLosesLoudly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	runs := 100
	if testing.Short() {
		runs = 10
	}
	for run := 0; run < runs; run++ {
		cfg, err := kafka.ParseURL("kafka://" + addr + "/flows?flush_timeout=20ms")
		if err != nil {
			t.Fatal(err)
		}
		w, err := kafka.NewWriter(cfg, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			w.Write(record(i))
		}
		err = w.Close()
		st := w.Stats()
		if err == nil || st.Failed+st.Dropped != 20 || st.Delivered != 0 || !strings.Contains(err.Error(), "20 of 20 records lost") {
			t.Fatalf("run %d: Close = %v, %+v", run+1, err, st)
		}
	}
}
