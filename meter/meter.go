// Package meter is the pipeline that turns captures into flow records:
//
//	capture.File ──frame──▶ packet.Meta.Decode ──Meta──▶ stage.packet: flow.Table.Lookup ──Entry──▶ feature.Acc.Add
//	                                                            │ (ended flows, by packet time)
//	                                                            ▼
//	                              feature.Schema.Fill, Decorate ──Record──▶ Sink.Write (CSV, JSON lines, …)
//
// One per-packet step (stage.packet, step.go) runs every decoded frame on a
// flow table, in the one-table path (Meter.Packet) and in each worker of
// the sharded path (shard.go) alike. The per-packet path (read, decode,
// lookup, accumulate) allocates nothing in a steady state. Time is the
// packets' own: timeouts are checked against the latest packet timestamp,
// so the same input always gives the same records in the same order. Each
// input file is metered on its own: its open flows end with end_reason
// "eof" when the file ends. docs/architecture.md draws the whole pipeline.
package meter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// Sink receives flow records. It may buffer; errors may surface at Close.
type Sink interface {
	Write(r *feature.Record) error
	Close() error
}

// Config configures a Meter.
type Config struct {
	Flow    flow.Config
	Context feature.ContextConfig
	Schema  *feature.Schema
	// Progress, when set, receives a progress line (ending in '\r') about
	// twice a second of wall time. Leave nil when output is not a terminal.
	Progress io.Writer
	// Decorate, in order, is called for every record before it is written
	// (labelling, then scoring). Each may set Label, Category, Score,
	// Verdict. With Workers > 1 they may run on several goroutines at once.
	Decorate []func(r *feature.Record)
	// Filter, when set, keeps only the frames it accepts (data, link type);
	// the others are counted in Stats.Filtered and join no flow.
	Filter func(data []byte, link uint16) bool
	// OnPacket, when set, is called for every frame read, with its number in
	// its capture and the ID of the flow record it joined (0: it joined
	// none).
	OnPacket func(number int, flowID uint64)
	// Packets, when set, writes each capture's per-packet verdicts and the
	// packets of its malicious flows once the capture is metered (RunFiles).
	Packets *PacketOutputs
	// EarlyAfter, when > 0, writes an extra record (end_reason "early") when
	// a flow reaches this many packets, so that a verdict comes while the
	// flow goes on; the flow's final record follows when it ends.
	EarlyAfter int64
	// OnTick, when set, receives a copy of the counters and the number of
	// open flows about twice a second of wall time, on the meter's
	// goroutine (for metrics).
	OnTick func(st Stats, open int)
	// Workers, when 2 or more, meters an offline input (Run, RunFiles) on
	// that many goroutines, each with its own flow table for the flows
	// whose key hashes to it, beside a reader and a writer goroutine: the
	// same records in the same order as one worker (see shard.go).
	Workers int
	// Shared, when set, is the state several meters share when they meter
	// one traffic in parallel (live capture workers, RunLive).
	Shared *Shared
	// App, when set, inspects the payload of each flow's first packets for
	// its application protocol and handshake metadata (Record.App; the
	// app package).
	App bool
}

// Shared is what parallel meters share: the context of all their flows, a
// lock around writing records, and the count of flows open in all of
// them. Records from different meters interleave in no fixed order.
type Shared struct {
	mu   sync.Mutex
	ctx  *feature.Context
	open atomic.Int64 // flows open in all the meters
	peak atomic.Int64 // most flows open at once in all the meters
}

// NewShared returns the shared state for parallel meters.
func NewShared(cfg feature.ContextConfig) *Shared {
	return &Shared{ctx: feature.NewContext(cfg)}
}

// addOpen adds a meter's change in open flows and keeps the peak.
func (sh *Shared) addOpen(d int64) {
	n := sh.open.Add(d)
	for p := sh.peak.Load(); n > p && !sh.peak.CompareAndSwap(p, n); p = sh.peak.Load() {
	}
}

// Peak is the most flows open at once in all the meters together.
func (sh *Shared) Peak() int { return int(sh.peak.Load()) }

// Stats counts what a Meter saw.
type Stats struct {
	Files            int
	Packets          int64 // frames read
	Bytes            int64 // frame bytes on the wire
	Decoded          int64 // frames that joined a flow
	Filtered         int64 // frames the filter (Config.Filter) left out
	Skipped          [packet.NumReasons]int64
	FragAttributed   int64 // non-first fragments attributed to their flow
	FragUnattributed int64 // non-first fragments whose first fragment was not seen
	Flows            int64 // flow records written (ended flows)
	EarlyRecords     int64 // early records written (Config.EarlyAfter)
	ByEnd            [flow.NumEndReasons]int64
	MaxActive        int   // most flows open at once
	Evicted          int64 // flows ended to make room in a full flow table (flow.Config.MaxFlows)
	ReadErrors       []error
}

// Add adds o's counts to s (for parallel meters). MaxActive is not a sum:
// it keeps the larger of the two; parallel meters of one traffic take the
// true peak from Shared.Peak.
func (s *Stats) Add(o *Stats) {
	s.Files += o.Files
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	s.Decoded += o.Decoded
	s.Filtered += o.Filtered
	for i := range s.Skipped {
		s.Skipped[i] += o.Skipped[i]
	}
	s.FragAttributed += o.FragAttributed
	s.FragUnattributed += o.FragUnattributed
	s.Flows += o.Flows
	s.EarlyRecords += o.EarlyRecords
	for i := range s.ByEnd {
		s.ByEnd[i] += o.ByEnd[i]
	}
	s.MaxActive = max(s.MaxActive, o.MaxActive)
	s.Evicted += o.Evicted
	s.ReadErrors = append(s.ReadErrors, o.ReadErrors...)
}

// SkippedTotal is the number of frames that joined no flow.
func (s *Stats) SkippedTotal() int64 {
	var n int64
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

func (s *Stats) count(reason flow.EndReason) {
	if reason == flow.Early {
		s.EarlyRecords++
	} else {
		s.Flows++
		s.ByEnd[reason]++
	}
}

// Meter meters packets into flows. Not safe for concurrent use.
type Meter struct {
	cfg         Config
	sinks       []Sink
	stage       *stage
	ctx         *feature.Context
	frags       flow.Fragments
	stats       Stats
	rec         feature.Record
	capture     string
	index       int64 // frames read from the current input
	open        int64 // flows open as last told to Config.Shared
	evictedSeen int64 // the stage's evictions already in stats
	trackIDs    bool  // someone wants each packet's flow ID
	err         error // first sink error

	start, lastProgress time.Time
}

// New returns a Meter writing to sinks.
func New(cfg Config, sinks ...Sink) *Meter {
	m := &Meter{cfg: cfg, sinks: sinks}
	m.stage = newStage(cfg, m.out)
	m.rec.Values = make([]float64, cfg.Schema.Len())
	m.ctx = feature.NewContext(m.cfg.Context)
	if cfg.Shared != nil {
		m.ctx = cfg.Shared.ctx
	}
	m.trackIDs = cfg.OnPacket != nil || cfg.Packets != nil
	return m
}

// Stats returns the counts so far.
func (m *Meter) Stats() *Stats {
	m.stats.MaxActive = max(m.stats.MaxActive, m.stage.max)
	m.stats.Evicted += m.stage.table.Evicted() - m.evictedSeen
	m.evictedSeen = m.stage.table.Evicted()
	return &m.stats
}

// ErrUnsupportedLink is returned for a capture whose link type Decode does
// not know.
var ErrUnsupportedLink = errors.New("unsupported link type")

// RunFiles meters each capture in paths, in order. A file that cannot be read
// to its end is reported (with its name and packet number) in the returned
// error after the flows it held have been written; the other files are still
// metered. A sink error stops the run. With Config.Packets, each file's
// per-packet outputs are written once it is metered.
func (m *Meter) RunFiles(ctx context.Context, paths []string) error {
	m.start = time.Now()
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.cfg.Packets.reset()
		err := m.runFile(ctx, p)
		if m.err != nil {
			return m.err
		}
		if err != nil {
			m.stats.ReadErrors = append(m.stats.ReadErrors, err)
			errs = append(errs, err)
		}
		if !errors.Is(err, context.Canceled) {
			if perr := m.cfg.Packets.file(p); perr != nil {
				return errors.Join(append(errs, perr)...)
			}
		}
	}
	m.clearProgress()
	return errors.Join(errs...)
}

func (m *Meter) runFile(ctx context.Context, path string) error {
	f, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// pcap has one link type; for pcapng this is the first interface's
	// (frames of a later, unsupported interface are counted as skipped).
	if l := packet.Link(f.Link()); !l.Supported() {
		return fmt.Errorf("%s: %w %d (supported: Ethernet 1, BSD loopback 0/108, raw IP 12/14/101/228/229, Linux cooked 113/276)", path, ErrUnsupportedLink, l)
	}
	m.stats.Files++
	return m.Run(ctx, f, path)
}

// Run meters every packet of src, then ends the flows still open with
// end_reason eof (shutdown when ctx was cancelled). name is recorded as
// each record's capture. The flow table's clock and the context features
// start afresh for each source.
func (m *Meter) Run(ctx context.Context, src capture.Source, name string) error {
	m.capture, m.index = name, 0
	m.ctx = feature.NewContext(m.cfg.Context) // each input has its own timeline
	if m.cfg.Workers > 1 && m.cfg.Shared == nil {
		return startSharded(m, m.cfg.Workers).run(ctx, src)
	}
	n := 0
	rerr := readFrames(ctx, src, name, func(meta *packet.Meta, data []byte, info capture.Info) bool {
		m.Packet(meta, data, info)
		n++
		return (n-1)&0xFFFF == 0
	}, func() bool {
		if m.err != nil {
			return true
		}
		m.progress()
		return false
	})
	m.Flush(endOfInput(rerr))
	return rerr
}

// readFrames reads src to its end and hands each frame to frame, with
// meta.Time set. After a frame for which frame reports a checkpoint, the
// read stops when stop says so or ctx is done. It returns the read error,
// ctx's error when it was cancelled, or nil (the end of the input, or a
// stop).
//
// A fault on reading the frames' bytes (a mapped capture file cut short
// while it is read: capture.Open) ends the read with capture.ErrChanged as
// a *capture.ReadError of name, not a crash.
func readFrames(ctx context.Context, src capture.Source, name string, frame func(*packet.Meta, []byte, capture.Info) bool, stop func() bool) (rerr error) {
	var meta packet.Meta
	last := 0
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer catchFault(name, &last, &rerr)
	for {
		data, info, err := src.ReadPacket()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		meta.Time = info.Time
		checkpoint := frame(&meta, data, info)
		last = info.Number
		if !checkpoint {
			continue
		}
		if stop() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// catchFault, deferred by a goroutine that runs with debug.SetPanicOnFault,
// makes a memory fault (a mapped capture cut short) the error *err of
// name's packet *last+1 (*last: the packets done), the one being read or
// metered; any other panic goes on.
func catchFault(name string, last *int, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if _, ok := r.(interface{ Addr() uintptr }); !ok {
		panic(r)
	}
	*err = &capture.ReadError{File: name, Packet: *last + 1, Err: capture.ErrChanged}
}

// endOfInput is the end reason of the flows still open when reading an
// input stopped with err: shutdown when it was interrupted (the input did
// not end), eof otherwise.
func endOfInput(err error) flow.EndReason {
	if errors.Is(err, context.Canceled) {
		return flow.EndShutdown
	}
	return flow.EndEOF
}

// Packet meters one frame: decode, then the per-packet step on the flow
// table. meta is scratch space owned by the caller, with Time set to the
// frame's timestamp.
func (m *Meter) Packet(meta *packet.Meta, data []byte, info capture.Info) {
	m.index++
	if !m.decode(meta, data, info) {
		if m.trackIDs {
			m.onPacket(info.Number, 0)
		}
		return
	}
	e := m.stage.packet(meta, m.index, inspected(m.cfg.App, meta, data))
	if m.trackIDs {
		m.onPacket(info.Number, feature.FlowID(e.Key, e.State.First()))
	}
	if meta.ICMPError {
		m.stage.markUnreachable(flow.TupleKey(&meta.Inner))
	}
}

// onPacket hands a frame's flow ID to whoever wants it.
func (m *Meter) onPacket(n int, id uint64) {
	if m.cfg.OnPacket != nil {
		m.cfg.OnPacket(n, id)
	}
	m.cfg.Packets.packet(n, id)
}

// decode decodes one frame into meta, counts it, and attributes a later
// IP fragment to its flow; it reports whether the frame joins a flow.
func (m *Meter) decode(meta *packet.Meta, data []byte, info capture.Info) bool {
	m.stats.Packets++
	m.stats.Bytes += int64(info.WireLen)
	if m.cfg.Filter != nil && !m.cfg.Filter(data, info.Link) {
		m.stats.Filtered++
		return false
	}
	if r := meta.Decode(data, packet.Link(info.Link), info.WireLen); r != packet.OK {
		m.stats.Skipped[r]++
		return false
	}
	m.stats.Decoded++
	if meta.Frag {
		if meta.FragFirst {
			m.frags.Note(meta)
		} else if m.frags.Attribute(meta) {
			m.stats.FragAttributed++
		} else {
			m.stats.FragUnattributed++
		}
	}
	return true
}

// Flush ends every open flow with reason r.
func (m *Meter) Flush(r flow.EndReason) {
	m.stage.flush(r)
}

// out writes a flow the stage emitted (the one-table path).
func (m *Meter) out(e *flow.Entry[flowState], reason flow.EndReason, _ uint8) {
	m.stats.count(reason)
	m.write(e.Key, e.Src(), e.Dst(), &e.State.Acc, reason, m.capture)
}

// write builds the record of a flow and writes it to every sink. An early
// record sees the context without entering it.
func (m *Meter) write(key flow.Key, src, dst netip.AddrPort, a *feature.Acc, reason flow.EndReason, capture string) {
	cv := m.context(key, src, dst, a, reason)
	r := &m.rec
	m.fill(r, key, src, dst, a, reason, capture, &cv)
	m.cfg.Packets.record(r)
	for _, s := range m.sinks {
		if err := s.Write(r); err != nil && m.err == nil {
			m.err = err
		}
	}
}

// context returns a flow's context features and, unless the record is an
// early one, enters the flow into the context. Flows must come in the order
// they end.
func (m *Meter) context(key flow.Key, src, dst netip.AddrPort, a *feature.Acc, reason flow.EndReason) feature.ContextValues {
	if sh := m.cfg.Shared; sh != nil {
		sh.mu.Lock()
		defer sh.mu.Unlock()
	}
	f := feature.Flow{Src: src, Dst: dst, Proto: key.Proto(), First: a.First(), Last: a.Last(), Reply: a.Reply(), Failed: a.Failed(key.Proto(), reason)}
	if reason == flow.Early {
		return m.ctx.Peek(&f)
	}
	return m.ctx.Observe(&f)
}

// fill makes r the record of a flow whose context is cv, and decorates it
// (labels, verdicts). It reads only its arguments and the configuration, so
// several goroutines may fill records at once.
func (m *Meter) fill(r *feature.Record, key flow.Key, src, dst netip.AddrPort, a *feature.Acc, reason flow.EndReason, capture string, cv *feature.ContextValues) {
	r.ID = feature.FlowID(key, a.First())
	r.Src, r.Dst = src, dst
	r.Proto, r.Version, r.VLAN = key.Proto(), key.Version(), a.VLAN()
	r.First, r.Last = a.First(), a.Last()
	r.End = reason
	r.Capture = capture
	r.App = a.App()
	r.Label, r.Category, r.Score, r.Verdict = "", "", 0, ""
	m.cfg.Schema.FillRecord(a, cv, r)
	for _, d := range m.cfg.Decorate {
		d(r)
	}
}

// Err returns the first sink error.
func (m *Meter) Err() error { return m.err }

func (m *Meter) progress() {
	if m.cfg.Progress == nil && m.cfg.OnTick == nil {
		return
	}
	m.progressWith(m.Stats(), m.stage.table.Len())
}

// progressWith shows st and open (at most twice a second).
func (m *Meter) progressWith(st *Stats, open int) {
	now := time.Now()
	if now.Sub(m.lastProgress) < 500*time.Millisecond {
		return
	}
	m.lastProgress = now
	if m.cfg.OnTick != nil {
		m.cfg.OnTick(*st, open)
	}
	if m.cfg.Progress == nil {
		return
	}
	el := now.Sub(m.start).Seconds()
	fmt.Fprintf(m.cfg.Progress, "\r%d packets, %d flows written, %d open, %.0f packets/s   ",
		st.Packets, st.Flows, open, float64(st.Packets)/max(el, 1e-9))
}

func (m *Meter) clearProgress() {
	if m.cfg.OnTick != nil {
		m.cfg.OnTick(*m.Stats(), m.stage.table.Len())
	}
	if m.cfg.Progress != nil && !m.lastProgress.IsZero() {
		fmt.Fprintf(m.cfg.Progress, "\r%80s\r", "")
	}
}
