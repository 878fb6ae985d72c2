package kafka_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/flowmeter/flowmeter/sink/kafka"
)

// A broker process that dies mid-run and comes back on the same port:
// Write never blocks while it is gone, and at the end every record is
// accounted for (delivered, or counted lost and said in Close's error).
func TestBrokerKilledAndRestarted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	start := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(1, "flows"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := start()
	cfg, _ := kafka.ParseURL("kafka://127.0.0.1:" + strconv.Itoa(port) + "/flows?flush_timeout=15s")
	cfg.Linger = 5 * time.Millisecond
	w, err := kafka.NewWriter(cfg, cols)
	if err != nil {
		t.Fatal(err)
	}
	write := func(from, to int) {
		begin := time.Now()
		for i := from; i < to; i++ {
			w.Write(record(i))
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("writing took %v: the producer blocked", d)
		}
	}
	write(0, 200)
	time.Sleep(300 * time.Millisecond)
	c.Close() // the broker dies …
	write(200, 400)
	time.Sleep(500 * time.Millisecond)
	c = start() // … and a new one takes its port
	defer c.Close()
	write(400, 600)
	closeErr := w.Close()
	st := w.Stats()
	t.Logf("%+v (%v)", st, closeErr)
	if st.Written != 600 || st.Delivered+st.Dropped+st.Failed != st.Written {
		t.Errorf("records unaccounted for: %+v", st)
	}
	if (st.Dropped+st.Failed > 0) != (closeErr != nil) {
		t.Errorf("losses %d but Close says %v", st.Dropped+st.Failed, closeErr)
	}
	if st.Delivered < 200 {
		t.Errorf("only %d delivered before the broker died", st.Delivered)
	}
	// What comes after the restart depends on the new broker: kfake starts
	// empty, so the topic comes back with a new topic ID, which the client
	// reports as UNKNOWN_TOPIC_ID for every later record: lost, counted and
	// said (a real broker keeps its topics across a restart).
}
