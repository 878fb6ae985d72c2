package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
	"github.com/flowmeter/flowmeter/model"
)

// loadModel reads --model, or the embedded default model.
func loadModel(path string) (*model.Model, error) {
	if path == "" {
		return model.Default()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := model.Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// scorer scores records with a model and counts verdicts.
type scorer struct {
	m         *model.Model
	threshold float64
	label     func(*feature.Record)
	malicious atomic.Int64 // verdict counts, read by the metrics from another goroutine
	benign    atomic.Int64
}

func (s *scorer) decorate(r *feature.Record) {
	if s.label != nil {
		s.label(r)
	}
	r.Score = s.m.Score(r.Values)
	r.Verdict = model.Verdict(r.Score, s.threshold)
	if r.Verdict == model.VerdictMalicious {
		s.malicious.Add(1)
	} else {
		s.benign.Add(1)
	}
}

// score binds m to the run's schema and makes every record scored (after
// labelling, when there are rules), at threshold (the model's when < 0). It
// returns the scorer and the columns, with score and verdict.
func (r *meterRun) score(m *model.Model, threshold float64, set string) (*scorer, []feature.Column, error) {
	if err := m.Bind(r.schema); err != nil {
		return nil, nil, err
	}
	t := m.Threshold
	if threshold >= 0 {
		t = threshold
	}
	sc := &scorer{m: m, threshold: t, label: r.cfg.Decorate}
	r.cfg.Decorate = sc.decorate
	cols, err := feature.Columns(set, r.schema, feature.Options{Labels: r.rules != nil, Scores: true})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return sc, cols, nil
}

func (s *scorer) report(w io.Writer) {
	fmt.Fprintf(w, "  verdicts (threshold %.4g): %d malicious, %d benign\n", s.threshold, s.malicious.Load(), s.benign.Load())
}

// packetVerdicts keeps, for the file being metered, each packet's flow and
// each flow's verdict, to write per-packet verdicts when the file is done.
type packetVerdicts struct {
	flowOf    []uint64        // by packet number − 1; 0: no flow
	malicious map[uint64]bool // flow ID → malicious
}

func (p *packetVerdicts) onPacket(n int, id uint64) {
	for len(p.flowOf) < n {
		p.flowOf = append(p.flowOf, 0)
	}
	p.flowOf[n-1] = id
}

func runClassify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f meterFlags
	f.register(fs)
	modelPath := fs.String("model", "", "model `FILE` (default: the model embedded in flowmeter)")
	threshold := fs.Float64("threshold", -1, "flag flows with score ≥ `T` (default: the model's threshold)")
	packetsOut := fs.String("packets", "", "write per-packet verdicts to `FILE.csv` (capture, packet number, flow_id, verdict)")
	suspicious := fs.String("suspicious", "", "write the packets of malicious flows to `FILE` (.pcap, or .pcapng for mixed link types)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter classify [flags] INPUT...\n\nScores every flow (score = probability of malicious) and gives a verdict.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	m, err := loadModel(*modelPath)
	if err != nil {
		return err
	}
	earlySet := false
	fs.Visit(func(fl *flag.Flag) { earlySet = earlySet || fl.Name == "early" })
	if !earlySet {
		f.early = m.Early
	}
	r, err := f.prepare(fs, stderr)
	if err != nil {
		return err
	}
	sc, cols, err := r.score(m, *threshold, f.columns)
	if err != nil {
		return err
	}
	if (*packetsOut != "" || *suspicious != "") && containsStdin(r.paths) {
		return fmt.Errorf("%w: --packets and --suspicious need capture files, not standard input", errUsage)
	}
	sinks, err := openSinks(f.outputs, cols, stdout)
	if err != nil {
		return err
	}
	pv := &packetVerdicts{malicious: map[uint64]bool{}}
	if *packetsOut != "" || *suspicious != "" {
		r.cfg.OnPacket = pv.onPacket
		prev := r.cfg.Decorate
		r.cfg.Decorate = func(rec *feature.Record) {
			prev(rec)
			if rec.Verdict == model.VerdictMalicious {
				pv.malicious[rec.ID] = true
			}
		}
	}
	out, err := newPacketOutputs(*packetsOut, *suspicious)
	if err != nil {
		closeSinks(sinks)
		return err
	}
	tick, stopMetrics, err := startMetrics(f.metrics, stderr, func() metrics.Extra {
		return metrics.Extra{Verdicts: verdictCounts(sc), OutputLost: outputLost(sinks)}
	})
	if err != nil {
		closeSinks(sinks)
		return err
	}
	defer stopMetrics()
	r.cfg.OnTick = tick
	mt := meter.New(r.cfg, sinks...)
	start := time.Now()
	var runErrs []error
	for _, p := range r.paths {
		pv.flowOf = pv.flowOf[:0]
		clear(pv.malicious)
		err := mt.RunFiles(ctx, []string{p})
		if err != nil {
			if mt.Err() != nil || errors.Is(err, context.Canceled) {
				runErrs = append(runErrs, err)
				break
			}
			runErrs = append(runErrs, err)
		}
		if oerr := out.file(p, pv); oerr != nil {
			runErrs = append(runErrs, oerr)
			break
		}
	}
	closeErr := closeSinks(sinks)
	outErr := out.close()
	if !f.quiet {
		st := mt.Stats()
		st.ReadErrors = nil // printed below with the other errors
		printSummary(stderr, st, time.Since(start), r.skipped)
		sc.report(stderr)
		out.report(stderr)
	}
	if err := errors.Join(runErrs...); err != nil {
		return err
	}
	if closeErr != nil {
		return closeErr
	}
	return outErr
}

func containsStdin(paths []string) bool {
	for _, p := range paths {
		if p == "-" {
			return true
		}
	}
	return false
}

// packetOutputs writes per-packet verdicts and the suspicious capture.
type packetOutputs struct {
	csvFile *os.File
	csv     *bufio.Writer
	pcapF   *os.File
	pcapW   *bufio.Writer
	pcap    *pcapgo.Writer
	ng      *pcapgo.NgWriter
	ngIface map[uint16]int
	link    uint16
	// totals for the reduction report
	packets, keptPackets int64
	bytes, keptBytes     int64
	skippedLink          int64
}

func newPacketOutputs(csvPath, pcapPath string) (*packetOutputs, error) {
	o := &packetOutputs{ngIface: map[uint16]int{}}
	if csvPath != "" {
		f, err := os.Create(csvPath)
		if err != nil {
			return nil, err
		}
		o.csvFile, o.csv = f, bufio.NewWriterSize(f, 1<<16)
		o.csv.WriteString("capture,packet,flow_id,verdict\n")
	}
	if pcapPath != "" {
		f, err := os.Create(pcapPath)
		if err != nil {
			o.close()
			return nil, err
		}
		// the writer is created with the first packet, whose link type it takes
		o.pcapF, o.pcapW = f, bufio.NewWriterSize(f, 1<<20)
	}
	return o, nil
}

func (o *packetOutputs) wantNg() bool {
	return o.pcapF != nil && strings.HasSuffix(o.pcapF.Name(), ".pcapng")
}

// file writes the outputs for one metered capture.
func (o *packetOutputs) file(path string, pv *packetVerdicts) error {
	if o.csv == nil && o.pcapF == nil {
		return nil
	}
	if o.csv != nil {
		var b []byte
		for i, id := range pv.flowOf {
			b = b[:0]
			b = appendCSVText(b, path)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(i+1), 10)
			b = append(b, ',')
			verdict := "none"
			if id != 0 {
				b = feature.AppendFlowID(b, id)
				verdict = model.VerdictBenign
				if pv.malicious[id] {
					verdict = model.VerdictMalicious
				}
			}
			b = append(b, ',')
			b = append(b, verdict...)
			b = append(b, '\n')
			if _, err := o.csv.Write(b); err != nil {
				return err
			}
		}
	}
	return o.copySuspicious(path, pv)
}

func appendCSVText(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	return append(b, strconv.Quote(s)...)
}

// copySuspicious re-reads the capture and writes the packets of malicious
// flows, counting what was kept.
func (o *packetOutputs) copySuspicious(path string, pv *packetVerdicts) error {
	c, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		data, info, err := c.ReadPacket()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // the read error was reported by the meter
		}
		o.packets++
		o.bytes += int64(info.WireLen)
		n := info.Number - 1
		if n >= len(pv.flowOf) || pv.flowOf[n] == 0 || !pv.malicious[pv.flowOf[n]] {
			continue
		}
		o.keptPackets++
		o.keptBytes += int64(info.WireLen)
		if o.pcapF == nil {
			continue
		}
		if err := o.writePacket(data, info); err != nil {
			return fmt.Errorf("%s: %w", o.pcapF.Name(), err)
		}
	}
}

func (o *packetOutputs) writePacket(data []byte, info capture.Info) error {
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, info.Time).UTC(), CaptureLength: len(data), Length: info.WireLen}
	if o.wantNg() {
		if o.ng == nil {
			w, err := pcapgo.NewNgWriterInterface(o.pcapW, pcapgo.NgInterface{LinkType: layers.LinkType(info.Link), SnapLength: 262144, TimestampResolution: 9}, pcapgo.DefaultNgWriterOptions)
			if err != nil {
				return err
			}
			o.ng, o.ngIface[info.Link] = w, 0
		}
		id, ok := o.ngIface[info.Link]
		if !ok {
			var err error
			if id, err = o.ng.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkType(info.Link), SnapLength: 262144, TimestampResolution: 9}); err != nil {
				return err
			}
			o.ngIface[info.Link] = id
		}
		ci.InterfaceIndex = id
		return o.ng.WritePacket(ci, data)
	}
	if o.pcap == nil {
		o.pcap = pcapgo.NewWriterNanos(o.pcapW)
		if err := o.pcap.WriteFileHeader(262144, layers.LinkType(info.Link)); err != nil {
			return err
		}
		o.link = info.Link
	}
	if info.Link != o.link {
		o.skippedLink++ // a pcap file has one link type; use .pcapng for mixed inputs
		return nil
	}
	return o.pcap.WritePacket(ci, data)
}

func (o *packetOutputs) report(w io.Writer) {
	if o.csv == nil && o.pcapF == nil {
		return
	}
	pct := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	fmt.Fprintf(w, "  malicious flows hold %d of %d packets: kept %.1f %% of packets, %.1f %% of bytes\n",
		o.keptPackets, o.packets, pct(o.keptPackets, o.packets), pct(o.keptBytes, o.bytes))
	if o.skippedLink > 0 {
		fmt.Fprintf(w, "  %d suspicious packets of another link type were not written to the pcap (write .pcapng to keep them)\n", o.skippedLink)
	}
}

func (o *packetOutputs) close() error {
	var errs []error
	if o.csv != nil {
		errs = append(errs, o.csv.Flush(), o.csvFile.Close())
	}
	if o.pcapF != nil {
		if o.ng != nil {
			errs = append(errs, o.ng.Flush())
		}
		if o.pcap == nil && o.ng == nil {
			// no suspicious packet: still write a valid, empty capture
			if o.wantNg() {
				w, err := pcapgo.NewNgWriterInterface(o.pcapW, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
				errs = append(errs, err)
				if w != nil {
					errs = append(errs, w.Flush())
				}
			} else {
				o.pcap = pcapgo.NewWriterNanos(o.pcapW)
				errs = append(errs, o.pcap.WriteFileHeader(262144, layers.LinkTypeEthernet))
			}
		}
		errs = append(errs, o.pcapW.Flush(), o.pcapF.Close())
	}
	return errors.Join(errs...)
}
