package meter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// Live is a live capture: the sockets of one fanout group, whose packets
// are metered in parallel, one Meter per socket.
type Live struct {
	Sources []capture.Source
	Name    string        // the interface, recorded as each record's capture
	Idle    error         // what ReadPacket returns when no packet came for a while (errors.Is)
	Drops   func() uint64 // the kernel's drops so far, for the progress line; may be nil
}

// RunLive meters the live sources until ctx is done, one Meter per source
// sharing the context features and the sinks (Config.Shared), then ends
// every open flow with end_reason shutdown. It returns the counts of all
// the meters, with the true peak of flows open at once in all of them.
// The progress line and Config.OnTick get the sums over the meters.
func RunLive(ctx context.Context, cfg Config, l Live, sinks ...Sink) (*Stats, error) {
	cfg.Shared = NewShared(cfg.Context)
	// one meter per capture socket, not the offline shards; the bound on
	// flows is shared out over their tables
	cfg.Workers = 0
	if n := len(l.Sources); cfg.Flow.MaxFlows > 0 && n > 1 {
		cfg.Flow.MaxFlows = (cfg.Flow.MaxFlows + n - 1) / n
	}
	sum := &liveSum{progress: cfg.Progress, onTick: cfg.OnTick, drops: l.Drops, start: time.Now(),
		st: make([]Stats, len(l.Sources)), open: make([]int, len(l.Sources))}
	cfg.Progress = nil
	meters := make([]*Meter, len(l.Sources))
	for i := range l.Sources {
		c := cfg
		c.OnTick = nil
		if sum.progress != nil || sum.onTick != nil {
			c.OnTick = sum.tick(i)
		}
		meters[i] = New(c, sinks...)
	}
	errs := make([]error, len(l.Sources))
	var wg sync.WaitGroup
	for i, src := range l.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = meters[i].runLive(ctx, src, l.Name, l.Idle)
		}()
	}
	wg.Wait()
	if sum.progress != nil {
		fmt.Fprintf(sum.progress, "\r%90s\r", "")
	}
	var total Stats
	for _, m := range meters {
		total.Add(m.Stats())
	}
	total.MaxActive = cfg.Shared.Peak()
	return &total, errors.Join(errs...)
}

// runLive meters a live source until ctx is done, then ends every open flow
// with end_reason shutdown. ReadPacket returning an error that matches idle
// (errors.Is) means no packet came for a while; once a second of wall time,
// flows are expired against the clock (the later of the clock and the
// newest packet), so an idle flow ends on time even when no packet comes.
func (m *Meter) runLive(ctx context.Context, src capture.Source, name string, idle error) error {
	m.capture = name
	m.start = time.Now()
	var meta packet.Meta
	last := time.Now()
	for ctx.Err() == nil {
		data, info, err := src.ReadPacket()
		switch {
		case err == nil:
			meta.Time = info.Time
			m.Packet(&meta, data, info)
			m.syncOpen()
		case errors.Is(err, idle):
		default:
			m.Flush(flow.EndShutdown)
			return err
		}
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			m.stage.expire(now.UnixNano())
			m.syncOpen()
			m.progress()
			if m.err != nil {
				break
			}
		}
	}
	m.Flush(flow.EndShutdown)
	m.syncOpen()
	m.clearProgress()
	return m.err
}

// syncOpen tells the shared state how many flows this meter has open.
func (m *Meter) syncOpen() {
	if n := int64(m.stage.table.Len()); n != m.open {
		m.cfg.Shared.addOpen(n - m.open)
		m.open = n
	}
}

// liveSum adds up the counters of parallel meters for the progress line
// and the metrics.
type liveSum struct {
	mu       sync.Mutex
	st       []Stats
	open     []int
	progress io.Writer
	onTick   func(Stats, int)
	drops    func() uint64
	start    time.Time
}

// tick returns meter i's OnTick: it stores i's counters and passes the
// sums on.
func (a *liveSum) tick(i int) func(Stats, int) {
	return func(st Stats, open int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.st[i], a.open[i] = st, open
		var sum Stats
		total := 0
		for j := range a.st {
			sum.Add(&a.st[j])
			total += a.open[j]
		}
		if a.onTick != nil {
			a.onTick(sum, total)
		}
		if a.progress != nil {
			var drops uint64
			if a.drops != nil {
				drops = a.drops()
			}
			fmt.Fprintf(a.progress, "\r%d packets, %d flows written, %d open, %d kernel drops, %.0f packets/s   ",
				sum.Packets, sum.Flows, total, drops, float64(sum.Packets)/max(time.Since(a.start).Seconds(), 1e-9))
		}
	}
}
