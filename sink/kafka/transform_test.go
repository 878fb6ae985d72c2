package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/flowmeter/flowmeter/sink/kafka"
)

// Two scorers share 4 partitions; one is stopped mid-way and restarted.
// Every input record comes out exactly once (read committed).
func TestTransformExactlyOnce(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "flows", "verdicts"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	const n = 2000
	pr, _ := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("flows"))
	for i := 0; i < n; i++ {
		pr.Produce(context.Background(), &kgo.Record{Key: []byte(fmt.Sprintf("k%05d", i)), Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := pr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	from, _ := kafka.ParseURL("kafka://" + addr + "/flows")
	to, _ := kafka.ParseURL("kafka://" + addr + "/verdicts")
	var mu sync.Mutex
	seen := 0
	fn := func(k, v []byte) ([]byte, error) {
		mu.Lock()
		seen++
		mu.Unlock()
		time.Sleep(100 * time.Microsecond)
		return append([]byte("scored "), v...), nil
	}
	run := func(ctx context.Context, id string, wg *sync.WaitGroup) {
		defer wg.Done()
		if _, err := kafka.Transform(ctx, kafka.TransformConfig{From: from, To: to, Group: "scorers", TxnID: id}, fn); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go run(ctxA, "scorer-a", &wg)
	go run(ctxB, "scorer-b", &wg)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		s := seen
		mu.Unlock()
		if s > n/4 {
			break
		}
	}
	stopA() // a scorer goes away mid-way …
	ctxA2, stopA2 := context.WithCancel(context.Background())
	wg.Add(1)
	go run(ctxA2, "scorer-a", &wg) // … and comes back
	got := consumeCommitted(t, addr, n)
	stopB()
	stopA2()
	wg.Wait()
	t.Logf("%d records transformed (some twice: the stopped scorer's open transaction was aborted), %d keys out", seen, len(got))
	if len(got) != n {
		t.Errorf("%d distinct keys out of %d", len(got), n)
	}
	for k, c := range got {
		if c != 1 {
			t.Errorf("%s came out %d times", k, c)
			break
		}
	}
}

// consumeCommitted reads the committed output until want keys came, then
// a little longer (duplicates would come late), and counts each key.
func consumeCommitted(t *testing.T, addr string, want int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("verdicts"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var settle <-chan time.Time
	for ctx.Err() == nil {
		if settle != nil {
			select {
			case <-settle:
				return got
			default:
			}
		}
		pctx, pc := context.WithTimeout(ctx, 200*time.Millisecond)
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got[string(r.Key)]++ })
		pc()
		if len(got) >= want && settle == nil {
			settle = time.After(time.Second)
		}
	}
	return got
}
