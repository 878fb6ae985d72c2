package meter

import (
	"net/netip"
	"sync/atomic"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
)

// flowOut is an ended flow on its way to the writer goroutine: a copy of
// what the table entry held, since the table reuses the entry at once.
type flowOut struct {
	key      flow.Key
	src, dst netip.AddrPort
	reason   flow.EndReason
	capture  string
	acc      feature.Acc
}

const batchSize = 256

// pipeline hands batches of ended flows, in emission order, to one writer
// goroutine; batches are recycled, so copying allocates nothing once warm.
type pipeline struct {
	m      *Meter
	cur    []flowOut
	work   chan []flowOut
	free   chan []flowOut
	done   chan struct{}
	failed atomic.Bool
}

func startPipeline(m *Meter) *pipeline {
	p := &pipeline{m: m, work: make(chan []flowOut, 4), free: make(chan []flowOut, 6), done: make(chan struct{})}
	for i := 0; i < 5; i++ {
		p.free <- make([]flowOut, 0, batchSize)
	}
	p.cur = <-p.free
	go p.writer()
	return p
}

// add copies an ended flow into the current batch (meter goroutine).
func (p *pipeline) add(e *flow.Entry[feature.Acc], reason flow.EndReason, capture string) {
	p.cur = p.cur[:len(p.cur)+1]
	o := &p.cur[len(p.cur)-1]
	o.key, o.src, o.dst, o.reason, o.capture = e.Key, e.Src(), e.Dst(), reason, capture
	e.State.CopyTo(&o.acc)
	if len(p.cur) == batchSize {
		p.work <- p.cur
		p.cur = (<-p.free)[:0]
	}
}

// writer writes the records of each batch in order (writer goroutine).
func (p *pipeline) writer() {
	defer close(p.done)
	for b := range p.work {
		for i := range b {
			o := &b[i]
			p.m.write(o.key, o.src, o.dst, &o.acc, o.reason, o.capture)
		}
		if p.m.err != nil {
			p.failed.Store(true)
		}
		p.free <- b[:0]
	}
}

// finish sends the last batch and waits until everything is written.
func (p *pipeline) finish() {
	if len(p.cur) > 0 {
		p.work <- p.cur
	}
	close(p.work)
	<-p.done
}
