package meter

import (
	"context"
	"iter"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// The sharded offline path (Config.Workers > 1):
//
//	reader ──decoded frames, by Key.ShardHash──▶ worker 1..W (a stage each: own flow.Table)
//	   │                                             │ ended flows, tagged
//	   └──batch (frame times, numbers)──▶ writer: merge in the one-table order ──▶ context ──▶ encoders (Fill, rows) ──▶ sinks
//
// The reader reads, decodes and attributes fragments, and deals each decoded
// frame to the worker that owns its flow (a symmetric hash of the flow key,
// so both directions meet). Frames go in batches; every worker sees every
// batch's frame times and expires its table at each of them, then runs the
// one per-packet step (stage.packet) on its own frames, so a flow ends at
// the same frame as it would in one table. The writer merges the workers'
// ended flows in the one-table order (below) and computes the context
// features, which depend on every flow before, in that order. At the end
// of the input it drains the workers' tables as one table's Flush would.

// The one-table order. Invariant: the writer writes the flows of all the
// workers in exactly the order one flow.Table would end them, so the
// records, the context features and the per-packet flow IDs are byte for
// byte those of one worker, also when a capture's time goes backwards (idle
// time counts from the table clock, which every worker keeps alike: see
// flow.Table.Expire). One table ends flows
//   - frame by frame; within a frame, Expire before Lookup before the early
//     record (the step); within Expire, the open list before the closed
//     list, each in the order its flows were last touched (before);
//   - at the end of an input, by (Seen, open before closed, last touched)
//     (flushBefore).

// before orders two flows ended at one frame.
func before(a, b *flowOut) bool {
	if a.step != b.step {
		return a.step < b.step
	}
	if a.closed != b.closed {
		return !a.closed
	}
	return a.touch < b.touch
}

// endsFirst orders two flows ended within a batch: by frame, then before.
func endsFirst(a, b *flowOut) bool {
	return a.g < b.g || a.g == b.g && before(a, b)
}

// flushBefore orders two flows ended by the flush at the end of an input.
func flushBefore(a, b *flow.Entry[flowState]) bool {
	if a.Seen() != b.Seen() {
		return a.Seen() < b.Seen()
	}
	if ac, bc := a.Closed() != flow.Open, b.Closed() != flow.Open; ac != bc {
		return !ac
	}
	return a.State.touch < b.State.touch
}

const (
	shardBatchFrames = 4096
	shardBatches     = 4
	noTime           = -1 << 63 // a frame that did not decode: no clock step
)

// flowOut is an ended flow on its way to the writer goroutine: a copy of
// what the table entry held, since the table reuses the entry at once, and
// where one table would have ended it.
type flowOut struct {
	key      flow.Key
	src, dst netip.AddrPort
	reason   flow.EndReason
	acc      feature.Acc

	g      int32 // frame within the batch
	step   uint8
	closed bool  // in the closed list (TCP closed, lingering)
	touch  int64 // input index of the flow's latest frame
}

type shardItem struct {
	g     int32    // frame index within the batch
	mark  bool     // not a packet: mark the flow with key as unreachable (ICMP error)
	srcLo bool     // flow.KeyOf(&meta)'s second result
	key   flow.Key // the frame's flow (flow.KeyOf), or the quoted one's (mark)
	pay   [2]int32 // the inspected payload: shardBatch.pay[pay[0]:pay[1]]
}

type shardBatch struct {
	base  int64         // input index of the batch's first frame
	n     int           // frames
	times []int64       // per frame: packet time, or noTime
	nums  []int         // per frame: number in its capture
	metas []packet.Meta // per frame: decoded in place (a worker reads its frames' from here)
	ids   []uint64      // per frame: its flow's record ID (when tracked)
	in    [][]shardItem // per worker
	out   [][]flowOut   // per worker, in emission order
	open  [][]int32     // per worker, per frame: flows open after it
	pay   []byte        // the inspected payloads of the frames (Config.App)
	flush bool          // the last batch: the writer then drains the workers' tables
	wg    sync.WaitGroup
}

type shardWorker struct {
	s      *sharded
	id     int
	st     *stage
	reason flow.EndReason // flush reason, set with the last batch
	b      *shardBatch
	g      int32
	open   atomic.Int64
}

type sharded struct {
	m       *Meter
	workers []*shardWorker
	queues  []chan *shardBatch
	toWrite chan *shardBatch
	free    chan *shardBatch
	done    chan struct{}
	failed  atomic.Bool
	written atomic.Int64
	stats   Stats       // counted by the writer
	pipe    *encodePipe // nil: the writer fills and writes each record itself
}

func startSharded(m *Meter, n int) *sharded {
	s := &sharded{m: m, toWrite: make(chan *shardBatch, shardBatches), free: make(chan *shardBatch, shardBatches), done: make(chan struct{})}
	cfg := m.cfg
	if cfg.Flow.MaxFlows > 0 { // the bound is shared out over the tables
		cfg.Flow.MaxFlows = (cfg.Flow.MaxFlows + n - 1) / n
	}
	for i := 0; i < n; i++ {
		w := &shardWorker{s: s, id: i}
		w.st = newStage(cfg, w.out)
		s.workers = append(s.workers, w)
		q := make(chan *shardBatch, shardBatches)
		s.queues = append(s.queues, q)
		go w.run(q)
	}
	for i := 0; i < shardBatches; i++ {
		b := &shardBatch{
			times: make([]int64, shardBatchFrames),
			nums:  make([]int, shardBatchFrames),
			metas: make([]packet.Meta, shardBatchFrames),
			ids:   make([]uint64, shardBatchFrames),
			in:    make([][]shardItem, n),
			out:   make([][]flowOut, n),
			open:  make([][]int32, n),
		}
		for w := range b.open {
			b.open[w] = make([]int32, shardBatchFrames)
		}
		s.free <- b
	}
	s.pipe = newEncodePipe(m, n)
	go s.writer()
	return s
}

// run reads frames from src to its end (or ctx's), like Meter.Run.
func (s *sharded) run(ctx context.Context, src capture.Source) error {
	m := s.m
	b := s.next(0)
	var index int64
	rerr := readFrames(ctx, src, m.capture, func(_ *packet.Meta, data []byte, info capture.Info) bool {
		s.frame(b, data, info)
		index++
		if b.n < shardBatchFrames {
			return false
		}
		s.send(b)
		b = s.next(index)
		return true
	}, func() bool {
		if s.failed.Load() {
			return true
		}
		s.progress()
		return false
	})
	reason := endOfInput(rerr)
	for _, w := range s.workers {
		w.reason = reason
	}
	b.flush = true
	s.send(b)
	for _, q := range s.queues {
		close(q)
	}
	close(s.toWrite)
	<-s.done
	for _, w := range s.workers {
		s.stats.Evicted += w.st.table.Evicted()
	}
	m.stats.Add(&s.stats)
	return rerr
}

func (s *sharded) next(base int64) *shardBatch {
	b := <-s.free
	b.base, b.n, b.flush = base, 0, false
	for i := range b.in {
		b.in[i] = b.in[i][:0]
		b.out[i] = b.out[i][:0]
	}
	b.pay = b.pay[:0]
	return b
}

func (s *sharded) send(b *shardBatch) {
	b.wg.Add(len(s.workers))
	for _, q := range s.queues {
		q <- b
	}
	s.toWrite <- b
}

// frame decodes one frame into the batch and deals it to its flow's worker.
func (s *sharded) frame(b *shardBatch, data []byte, info capture.Info) {
	g := int32(b.n)
	b.n++
	b.nums[g] = info.Number
	b.ids[g] = 0
	b.times[g] = noTime
	meta := &b.metas[g]
	meta.Time = info.Time
	if !s.m.decode(meta, data, info) {
		return
	}
	b.times[g] = meta.Time
	k, srcLo := flow.KeyOf(meta)
	w := int(k.ShardHash() % uint64(len(s.workers)))
	var pay [2]int32
	if p := inspected(s.m.cfg.App, meta, data); len(p) > 0 {
		pay[0] = int32(len(b.pay))
		b.pay = append(b.pay, p...)
		pay[1] = int32(len(b.pay))
	}
	b.in[w] = append(b.in[w], shardItem{g: g, srcLo: srcLo, key: k, pay: pay})
	if meta.ICMPError {
		k := flow.TupleKey(&meta.Inner)
		w := int(k.ShardHash() % uint64(len(s.workers)))
		b.in[w] = append(b.in[w], shardItem{g: g, mark: true, key: k})
	}
}

func (s *sharded) progress() {
	m := s.m
	if m.cfg.Progress == nil && m.cfg.OnTick == nil {
		return
	}
	open := 0
	for _, w := range s.workers {
		open += int(w.open.Load())
	}
	st := m.stats
	st.Flows = s.written.Load()
	m.progressWith(&st, open)
}

// run meters the worker's frames of each batch (worker goroutine).
func (w *shardWorker) run(q chan *shardBatch) {
	for b := range q {
		w.batch(b)
		b.wg.Done()
	}
}

// batch expires the worker's table at every decoded frame's time and runs
// the per-packet step on its own frames.
func (w *shardWorker) batch(b *shardBatch) {
	w.b = b
	items := b.in[w.id]
	open := b.open[w.id]
	track := w.s.m.trackIDs
	for g := int32(0); g < int32(b.n); g++ {
		if b.times[g] == noTime {
			continue
		}
		w.g = g
		w.st.expire(b.times[g])
		for len(items) > 0 && items[0].g == g {
			it := &items[0]
			items = items[1:]
			if it.mark {
				w.st.markUnreachable(it.key)
				continue
			}
			e := w.st.packetKey(&b.metas[g], it.key, it.srcLo, b.base+int64(g), b.pay[it.pay[0]:it.pay[1]])
			if track {
				b.ids[g] = feature.FlowID(e.Key, e.State.First())
			}
		}
		open[g] = int32(w.st.table.Len())
	}
	w.open.Store(int64(w.st.table.Len()))
}

// out copies a flow the worker's stage ended into the batch, tagged with
// where one table would have ended it.
func (w *shardWorker) out(e *flow.Entry[flowState], reason flow.EndReason, step uint8) {
	b := w.b
	o := b.out[w.id]
	o = slices.Grow(o, 1)[:len(o)+1]
	b.out[w.id] = o
	f := &o[len(o)-1]
	f.key, f.src, f.dst, f.reason = e.Key, e.Src(), e.Dst(), reason
	f.g, f.step, f.closed, f.touch = w.g, step, e.Closed() != flow.Open, e.State.touch
	if reason == flow.Early {
		e.State.CopyTo(&f.acc) // the flow goes on
	} else {
		e.State.MoveTo(&f.acc)
	}
}

// writer merges each batch's ended flows in the one-table order and
// writes them (writer goroutine).
func (s *sharded) writer() {
	defer close(s.done)
	m := s.m
	if s.pipe != nil {
		defer func() {
			if err := s.pipe.close(); err != nil && m.err == nil {
				m.err = err
			}
		}()
	}
	heads := make([]int, len(s.workers))
	for b := range s.toWrite {
		b.wg.Wait()
		clear(heads)
		next := int32(0) // the frames before next are done
		for {
			best := -1 // the worker whose next flow comes first
			for w, h := range heads {
				if h < len(b.out[w]) && (best < 0 || endsFirst(&b.out[w][h], &b.out[best][heads[best]])) {
					best = w
				}
			}
			if best < 0 {
				break
			}
			f := &b.out[best][heads[best]]
			next = s.framesDone(b, next, f.g)
			s.write(f)
			heads[best]++
		}
		s.framesDone(b, next, int32(b.n))
		s.stats.MaxActive = max(s.stats.MaxActive, peakOpen(b))
		if b.flush {
			s.flushAll()
		}
		if m.err != nil || s.pipe != nil && s.pipe.failed.Load() {
			s.failed.Store(true)
		}
		s.free <- b
	}
}

// framesDone passes on the flow IDs of frames from up to before end (when
// they are tracked), in frame order, after the flows ended at an earlier
// frame were written; it returns end.
func (s *sharded) framesDone(b *shardBatch, from, end int32) int32 {
	if m := s.m; m.trackIDs {
		for g := from; g < end; g++ {
			m.onPacket(b.nums[g], b.ids[g])
		}
	}
	return end
}

// peakOpen is the most flows open in all the tables together after any
// decoded frame of b: the true peak, as one table would count it.
func peakOpen(b *shardBatch) int {
	peak := 0
	for g := range b.n {
		if b.times[g] == noTime {
			continue
		}
		open := 0
		for w := range b.open {
			open += int(b.open[w][g])
		}
		peak = max(peak, open)
	}
	return peak
}

// flushAll ends the flows still open at the end of the input in the order
// of one flow.Table.Flush: it drains every worker's table (each in its own
// flush order) and merges them by flushBefore, writing straight from the
// tables (the workers are done with them).
func (s *sharded) flushAll() {
	type head struct {
		next   func() (*flow.Entry[flowState], flow.EndReason, bool)
		stop   func()
		e      *flow.Entry[flowState]
		reason flow.EndReason
		ok     bool
	}
	heads := make([]head, len(s.workers))
	for i, w := range s.workers {
		h := &heads[i]
		h.next, h.stop = iter.Pull2(w.drain())
		defer h.stop()
		h.e, h.reason, h.ok = h.next()
	}
	for {
		best := -1
		for i := range heads {
			if heads[i].ok && (best < 0 || flushBefore(heads[i].e, heads[best].e)) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		h := &heads[best]
		s.stats.count(h.reason)
		s.written.Add(1)
		s.out(h.e.Key, h.e.Src(), h.e.Dst(), &h.e.State.Acc, h.reason)
		h.e, h.reason, h.ok = h.next()
	}
}

// drain flushes the worker's table, yielding each flow record it ends.
func (w *shardWorker) drain() iter.Seq2[*flow.Entry[flowState], flow.EndReason] {
	return func(yield func(*flow.Entry[flowState], flow.EndReason) bool) {
		w.st.table.Flush(w.reason, func(e *flow.Entry[flowState], r flow.EndReason) {
			if e.State.Packets() > 0 {
				yield(e, r)
			}
		})
	}
}

func (s *sharded) write(f *flowOut) {
	s.stats.count(f.reason)
	if f.reason != flow.Early {
		s.written.Add(1)
	}
	s.out(f.key, f.src, f.dst, &f.acc, f.reason)
}

// out writes a flow's record, or queues it for the encoders.
func (s *sharded) out(key flow.Key, src, dst netip.AddrPort, a *feature.Acc, reason flow.EndReason) {
	if s.pipe != nil {
		s.pipe.add(key, src, dst, a, reason)
		return
	}
	s.m.write(key, src, dst, a, reason, s.m.capture)
}
