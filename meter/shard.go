package meter

import (
	"context"
	"io"
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
//	reader ──decoded frames, by Key.Hash──▶ worker 1..W (own flow.Table each)
//	   │                                        │ ended flows, tagged
//	   └──batch (frame times, numbers)──▶ writer: merge in the one-table order ──▶ context, Fill, sinks
//
// The reader reads, decodes and attributes fragments, and deals each decoded
// frame to the worker that owns its flow (a symmetric hash of the flow key,
// so both directions meet). Frames go in batches; every worker sees every
// batch's frame times and expires its table at each of them, so a flow ends
// at the same frame as it would in one table. Each ended flow is tagged with
// where one table would have emitted it (frame, step, list, index of its
// latest frame), and the writer merges the workers' outputs by that tag. The
// context features, which depend on every flow before, are computed by the
// writer in that order, so the records are the same, in the same order, as
// with one worker, also when a capture's time goes backwards (a flow's idle
// time counts from the table clock, which every worker keeps alike: see
// flow.Table.Expire). At the end of the input the writer flushes the
// workers' tables as one (flushAll).

const (
	shardBatchFrames = 4096
	shardBatches     = 4
	noTime           = -1 << 63 // a frame that did not decode: no clock step
)

// Emission steps within one frame, in one table's order.
const (
	stepExpire = iota // Expire before the lookup (idle, linger)
	stepLookup        // Lookup: a new SYN on a closed flow, the active timeout
	stepEarly         // the early record after the packet was added
)

// flowOut is an ended flow on its way to the writer goroutine: a copy of
// what the table entry held, since the table reuses the entry at once, and
// where one table would have emitted it.
type flowOut struct {
	key      flow.Key
	src, dst netip.AddrPort
	reason   flow.EndReason
	capture  string
	acc      feature.Acc

	g          int32 // frame within the batch
	step       uint8
	closedList bool
	touch      int64 // input index of the flow's latest frame
}

type shardItem struct {
	g    int32 // frame index within the batch
	mark bool  // not a packet: mark the flow with key as unreachable (ICMP error)
	key  flow.Key
	meta packet.Meta
}

type shardBatch struct {
	base  int64   // input index of the batch's first frame
	n     int     // frames
	times []int64 // per frame: packet time, or noTime
	nums  []int   // per frame: number in its capture
	ids   []uint64
	in    [][]shardItem // per worker
	out   [][]flowOut   // per worker, in emission order
	flush bool          // the last batch: the writer then flushes the workers' tables
	wg    sync.WaitGroup
}

type shardWorker struct {
	m      *Meter
	id     int
	table  *flow.Table[feature.Acc]
	reason flow.EndReason // flush reason, set with the last batch
	b      *shardBatch
	g      int32
	step   uint8
	open   atomic.Int64
	max    int
	emitFn flow.EmitFunc[feature.Acc]
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
	stats   Stats // counted by the writer
}

func startSharded(m *Meter, n int) *sharded {
	s := &sharded{m: m, toWrite: make(chan *shardBatch, shardBatches), free: make(chan *shardBatch, shardBatches), done: make(chan struct{})}
	early := m.cfg.Schema.EarlyN
	for i := 0; i < n; i++ {
		w := &shardWorker{m: m, id: i}
		w.table = flow.NewTable(m.cfg.Flow, func(a *feature.Acc) {
			a.Reset()
			a.EarlyN = early
		})
		w.emitFn = w.emit
		s.workers = append(s.workers, w)
		q := make(chan *shardBatch, shardBatches)
		s.queues = append(s.queues, q)
		go w.run(q)
	}
	for i := 0; i < shardBatches; i++ {
		b := &shardBatch{
			times: make([]int64, shardBatchFrames),
			nums:  make([]int, shardBatchFrames),
			ids:   make([]uint64, shardBatchFrames),
			in:    make([][]shardItem, n),
			out:   make([][]flowOut, n),
		}
		s.free <- b
	}
	go s.writer()
	return s
}

// run reads frames from src to its end (or ctx's), like Meter.Run.
func (s *sharded) run(ctx context.Context, src capture.Source) error {
	m := s.m
	var meta packet.Meta
	var rerr error
	b := s.next(0)
	var index int64
	for {
		data, info, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
		meta.Time = info.Time
		s.frame(b, &meta, data, info)
		index++
		if b.n == shardBatchFrames {
			s.send(b)
			if s.failed.Load() {
				b = s.next(index)
				break
			}
			if ctx.Err() != nil {
				rerr = ctx.Err()
				b = s.next(index)
				break
			}
			s.progress()
			b = s.next(index)
		}
	}
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
		m.stats.MaxActive += w.max
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
	return b
}

func (s *sharded) send(b *shardBatch) {
	b.wg.Add(len(s.workers))
	for _, q := range s.queues {
		q <- b
	}
	s.toWrite <- b
}

// frame decodes one frame and deals it to its flow's worker.
func (s *sharded) frame(b *shardBatch, meta *packet.Meta, data []byte, info capture.Info) {
	g := int32(b.n)
	b.n++
	b.nums[g] = info.Number
	b.ids[g] = 0
	b.times[g] = noTime
	if !s.m.decode(meta, data, info) {
		return
	}
	b.times[g] = meta.Time
	k, _ := flow.KeyOf(meta)
	w := int(k.Hash() % uint64(len(s.workers)))
	b.in[w] = append(b.in[w], shardItem{g: g, meta: *meta})
	if meta.ICMPError {
		k := flow.TupleKey(&meta.Inner)
		w := int(k.Hash() % uint64(len(s.workers)))
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

func (w *shardWorker) batch(b *shardBatch) {
	w.b = b
	items := b.in[w.id]
	t := w.table
	m := w.m
	for g := int32(0); g < int32(b.n); g++ {
		if b.times[g] == noTime {
			continue
		}
		w.g, w.step = g, stepExpire
		t.Expire(b.times[g], w.emitFn)
		for len(items) > 0 && items[0].g == g {
			it := &items[0]
			items = items[1:]
			if it.mark {
				if orig := t.Find(it.key); orig != nil {
					orig.State.MarkUnreachable()
				}
				continue
			}
			w.step = stepLookup
			e, dir := t.Lookup(&it.meta, w.emitFn)
			e.Tag = b.base + int64(g)
			e.State.Add(&it.meta, dir)
			if m.cfg.EarlyAfter > 0 && e.State.Packets() == m.cfg.EarlyAfter {
				w.step = stepEarly
				w.out(e, flow.Early)
			}
			b.ids[g] = feature.FlowID(e.Key, e.State.First())
			if n := t.Len(); n > w.max {
				w.max = n
			}
		}
	}
	w.open.Store(int64(t.Len()))
}

func (w *shardWorker) emit(e *flow.Entry[feature.Acc], reason flow.EndReason) {
	if e.State.Packets() == 0 {
		return // an active-timeout continuation that never got a packet
	}
	w.out(e, reason)
}

func (w *shardWorker) out(e *flow.Entry[feature.Acc], reason flow.EndReason) {
	b := w.b
	o := b.out[w.id]
	o = slices.Grow(o, 1)[:len(o)+1]
	b.out[w.id] = o
	f := &o[len(o)-1]
	f.key, f.src, f.dst, f.reason, f.capture = e.Key, e.Src(), e.Dst(), reason, w.m.capture
	f.g, f.step, f.closedList, f.touch = w.g, w.step, e.InClosedList(), e.Tag
	e.State.CopyTo(&f.acc)
}

// writer merges each batch's emissions in one table's order and writes them
// (writer goroutine).
func (s *sharded) writer() {
	defer close(s.done)
	m := s.m
	heads := make([]int, len(s.workers))
	for b := range s.toWrite {
		b.wg.Wait()
		clear(heads)
		for g := int32(0); g <= int32(b.n); g++ {
			for {
				best := -1
				for w, h := range heads {
					if h < len(b.out[w]) && b.out[w][h].g == g &&
						(best < 0 || before(&b.out[w][h], &b.out[best][heads[best]])) {
						best = w
					}
				}
				if best < 0 {
					break
				}
				s.write(&b.out[best][heads[best]])
				heads[best]++
			}
			if g < int32(b.n) && m.cfg.OnPacket != nil {
				m.cfg.OnPacket(b.nums[g], b.ids[g])
			}
		}
		if b.flush {
			s.flushAll()
		}
		if m.err != nil {
			s.failed.Store(true)
		}
		s.free <- b
	}
}

// before orders two emissions of one frame and step as one table would
// emit them: Expire walks the open list, then the closed list, each in the
// order the flows were last seen.
func before(a, b *flowOut) bool {
	if a.step != b.step {
		return a.step < b.step
	}
	if a.closedList != b.closedList {
		return !a.closedList
	}
	return a.touch < b.touch
}

// flushAll ends the flows still open at the end of the input in the order
// of one flow.Table.Flush: each worker's table flushes in the order of
// (Seen, closed list, latest frame), so the writer merges them on that,
// writing straight from the tables (the workers are done with them).
func (s *sharded) flushAll() {
	w := s.workers
	for {
		var best *shardWorker
		var be *flow.Entry[feature.Acc]
		for _, x := range w {
			e := x.table.Oldest()
			if e != nil && (be == nil || flushBefore(e, be)) {
				best, be = x, e
			}
		}
		if best == nil {
			return
		}
		best.table.FlushOldest(best.reason, s.emitFlush)
	}
}

func flushBefore(a, b *flow.Entry[feature.Acc]) bool {
	if a.Seen() != b.Seen() {
		return a.Seen() < b.Seen()
	}
	if a.InClosedList() != b.InClosedList() {
		return !a.InClosedList()
	}
	return a.Tag < b.Tag
}

func (s *sharded) emitFlush(e *flow.Entry[feature.Acc], reason flow.EndReason) {
	if e.State.Packets() == 0 {
		return
	}
	s.stats.count(reason)
	s.written.Add(1)
	s.m.write(e.Key, e.Src(), e.Dst(), &e.State, reason, s.m.capture)
}

func (s *sharded) write(f *flowOut) {
	s.stats.count(f.reason)
	if f.reason != flow.Early {
		s.written.Add(1)
	}
	s.m.write(f.key, f.src, f.dst, &f.acc, f.reason, f.capture)
}
