package meter

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/model"
)

// RowSink is a Sink whose records are rows of bytes written in order (CSV,
// JSON lines). With several workers, the meter fills and encodes records on
// several goroutines with RowFunc's functions and writes the rows in record
// order with WriteRows: the output is byte for byte Write's.
type RowSink interface {
	Sink
	RowFunc() func(dst []byte, r *feature.Record) []byte
	WriteRows(b []byte) error
}

// The encoding pipe of the sharded path:
//
//	writer (context, in order) ──chunks──▶ encoders 1..N (Fill, Decorate, rows)
//	   └──────────────chunks, in order──────────▶ output (WriteRows, verdicts)
//
// The writer computes each ended flow's context features, which depend on
// every flow before it, and copies the flow into a chunk; the encoders do
// the rest of the per-record work, which depends on the flow alone.

const chunkRecords = 128

type pending struct {
	key       flow.Key
	src, dst  netip.AddrPort
	reason    flow.EndReason
	acc       feature.Acc
	cv        feature.ContextValues
	id        uint64 // set by the encoder
	malicious bool   // set by the encoder
}

type chunk struct {
	items []pending
	n     int
	rows  [][]byte // per sink
	done  chan struct{}
}

type encodePipe struct {
	m       *Meter
	capture string // the records' capture (one pipe per input)
	sinks   []RowSink
	work    chan *chunk
	order   chan *chunk
	free    chan *chunk
	cur     *chunk
	wg      sync.WaitGroup // encoders and output
	err     error          // the first sink error (output goroutine; read after wg)
	failed  atomic.Bool    // err is set
}

// newEncodePipe starts n encoders, or returns nil when a sink does not
// write rows.
func newEncodePipe(m *Meter, n int) *encodePipe {
	if len(m.sinks) == 0 {
		return nil
	}
	p := &encodePipe{m: m, capture: m.capture, work: make(chan *chunk, 2*n), order: make(chan *chunk, 4*n), free: make(chan *chunk, 4*n)}
	for _, s := range m.sinks {
		rs, ok := s.(RowSink)
		if !ok {
			return nil
		}
		p.sinks = append(p.sinks, rs)
	}
	for i := 0; i < 4*n; i++ {
		p.free <- &chunk{items: make([]pending, chunkRecords), rows: make([][]byte, len(p.sinks)), done: make(chan struct{}, 1)}
	}
	p.wg.Add(n + 1)
	for i := 0; i < n; i++ {
		go p.encoder()
	}
	go p.output()
	p.cur = <-p.free
	return p
}

// add queues a flow ended in order (writer goroutine): its context is
// computed here, the rest of its record by an encoder.
func (p *encodePipe) add(key flow.Key, src, dst netip.AddrPort, a *feature.Acc, reason flow.EndReason) {
	c := p.cur
	it := &c.items[c.n]
	c.n++
	it.key, it.src, it.dst, it.reason = key, src, dst, reason
	// a is a worker's copy (flowOut, early records included: the worker
	// copied the inspection of a flow that goes on) or, at the end of an
	// input, a flow the flush ends: either way nothing reads it after this
	a.MoveTo(&it.acc)
	it.cv = p.m.context(key, src, dst, a, reason)
	if c.n == len(c.items) {
		p.send()
	}
}

func (p *encodePipe) send() {
	if p.cur.n == 0 {
		return
	}
	p.work <- p.cur
	p.order <- p.cur
	p.cur = <-p.free
}

// close writes what is queued and stops the goroutines; it returns the
// first sink error.
func (p *encodePipe) close() error {
	p.send()
	close(p.work)
	close(p.order)
	p.wg.Wait()
	return p.err
}

func (p *encodePipe) encoder() {
	defer p.wg.Done()
	m := p.m
	rows := make([]func([]byte, *feature.Record) []byte, len(p.sinks))
	for i, s := range p.sinks {
		rows[i] = s.RowFunc()
	}
	r := &feature.Record{Values: make([]float64, len(m.cfg.Schema.Features))}
	for c := range p.work {
		for i := range c.rows {
			c.rows[i] = c.rows[i][:0]
		}
		for k := range c.items[:c.n] {
			it := &c.items[k]
			m.fill(r, it.key, it.src, it.dst, &it.acc, it.reason, p.capture, &it.cv)
			for i, row := range rows {
				c.rows[i] = row(c.rows[i], r)
			}
			it.id, it.malicious = r.ID, r.Verdict == model.VerdictMalicious
		}
		c.done <- struct{}{}
	}
}

func (p *encodePipe) output() {
	defer p.wg.Done()
	for c := range p.order {
		<-c.done
		for i, s := range p.sinks {
			if err := s.WriteRows(c.rows[i]); err != nil && p.err == nil {
				p.err = err
				p.failed.Store(true)
			}
		}
		if pk := p.m.cfg.Packets; pk != nil {
			for k := range c.items[:c.n] {
				if c.items[k].malicious {
					pk.malicious[c.items[k].id] = true
				}
			}
		}
		c.n = 0
		p.free <- c
	}
}
