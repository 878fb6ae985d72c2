package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture/filter"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
)

// liveStats are the kernel's counters of a live capture.
type liveStats struct{ Packets, Drops, Freezes uint64 }

// runLive captures from an interface until SIGINT/SIGTERM (ctx), scoring
// every flow with the model, and writes flows as they end.
func runLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := meterFlags{live: true}
	f.register(fs)
	iface := fs.String("i", "", "capture from interface `IFACE` (needs CAP_NET_RAW)")
	modelPath := fs.String("model", "", "model `FILE` (default: the embedded model)")
	threshold := fs.Float64("threshold", -1, "flag flows with score ≥ `T` (default: the model's threshold)")
	bpfFile := fs.String("bpf", "", "attach the classic BPF program in `FILE` (the output of tcpdump -dd EXPR) to the socket")
	filterExpr := fs.String("filter", "", "capture filter `EXPR` in tcpdump syntax (host, net, port, portrange, ip, ip6, arp, tcp, udp, icmp, and/or/not, parentheses)")
	promisc := fs.Bool("promisc", false, "put the interface in promiscuous mode while capturing")
	var earlyVerdict int64
	fs.Int64Var(&earlyVerdict, "early", 0, "also write a record with a verdict when a flow reaches `N` packets (end_reason early), while it goes on; the early-flow feature window is the model's")
	fs.Int64Var(&earlyVerdict, "early-verdict", 0, "the same as --early")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter live -i IFACE [flags]\n\nCaptures until interrupted (SIGINT/SIGTERM), writes each flow with its score and verdict when it ends,\nand at the end every open flow with end_reason shutdown.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	lingerSet := false
	fs.Visit(func(fl *flag.Flag) { lingerSet = lingerSet || fl.Name == "linger" })
	if !lingerSet {
		f.linger = time.Second // a sensor reports a closed flow promptly (within the 1 s expiry tick)
	}
	if *iface == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	m, err := loadModel(*modelPath)
	if err != nil {
		return err
	}
	f.early = m.Early
	// prepare wants inputs; the interface is the one input here.
	sub := flag.NewFlagSet("live", flag.ContinueOnError)
	sub.Parse([]string{"-"})
	r, err := f.prepare(sub, stderr)
	if err != nil {
		return err
	}
	sc, cols, err := r.score(m, *threshold, f.columns)
	if err != nil {
		return err
	}
	prog, err := filterProgram(*bpfFile, *filterExpr)
	if err != nil {
		return err
	}
	srcs, kstats, idle, closeSrc, err := openLive(*iface, prog, *promisc, f.workers)
	if err != nil {
		return err
	}
	defer closeSrc()
	sinks, err := openSinks(f.outputs, cols, stdout)
	if err != nil {
		return err
	}
	r.cfg.EarlyAfter = earlyVerdict
	tick, stopMetrics, err := startMetrics(f.metrics, stderr, func() metrics.Extra {
		k := kstats()
		return metrics.Extra{Verdicts: verdictCounts(sc), KernelDrops: k.Drops, Freezes: k.Freezes, OutputLost: outputLost(sinks)}
	})
	if err != nil {
		closeSinks(sinks)
		return err
	}
	defer stopMetrics()
	// One meter per socket of the fanout group, sharing the context
	// features and the outputs.
	r.cfg.Shared = meter.NewShared(r.cfg.Context)
	r.cfg.Workers = 0 // live: one meter per capture socket (below), not the offline shards
	// The progress line and the metrics show the sums over the workers.
	progress := r.cfg.Progress
	r.cfg.Progress = nil
	start := time.Now()
	next := func(st meter.Stats, open int) {
		if tick != nil {
			tick(st, open)
		}
		if progress != nil {
			fmt.Fprintf(progress, "\r%d packets, %d flows written, %d open, %d kernel drops, %.0f packets/s   ",
				st.Packets, st.Flows, open, kstats().Drops, float64(st.Packets)/max(time.Since(start).Seconds(), 1e-9))
		}
	}
	meters := make([]*meter.Meter, len(srcs))
	var agg statsSum
	for i := range srcs {
		cfg := r.cfg
		if tick != nil || progress != nil {
			cfg.OnTick = agg.tick(i, len(srcs), next)
		}
		meters[i] = meter.New(cfg, sinks...)
	}
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = meters[i].RunLive(ctx, src, *iface, idle)
		}()
	}
	wg.Wait()
	if progress != nil {
		fmt.Fprintf(progress, "\r%90s\r", "")
	}
	closeErr := closeSinks(sinks)
	var total meter.Stats
	for _, m := range meters {
		total.Add(m.Stats())
	}
	if !f.quiet {
		printSummary(stderr, &total, time.Since(start), nil)
		k := kstats()
		if total.EarlyRecords > 0 {
			fmt.Fprintf(stderr, "  early verdicts written: %d\n", total.EarlyRecords)
		}
		fmt.Fprintf(stderr, "  %d capture workers; kernel: %d packets, %d dropped (ring full), %d queue freezes\n", len(srcs), k.Packets, k.Drops, k.Freezes)
		sc.report(stderr)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return closeErr
}

// statsSum adds up the counters of parallel meters for the metrics.
type statsSum struct {
	mu   sync.Mutex
	st   []meter.Stats
	open []int
}

// tick returns worker i's OnTick: it stores i's counters and passes the
// sums on.
func (a *statsSum) tick(i, n int, next func(meter.Stats, int)) func(meter.Stats, int) {
	return func(st meter.Stats, open int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.st == nil {
			a.st, a.open = make([]meter.Stats, n), make([]int, n)
		}
		a.st[i], a.open[i] = st, open
		var sum meter.Stats
		total := 0
		for j := range a.st {
			sum.Add(&a.st[j])
			total += a.open[j]
		}
		next(sum, total)
	}
}

// filterProgram returns the BPF program of --bpf FILE (tcpdump -dd text) or
// compiles --filter EXPR.
func filterProgram(file, expr string) ([]bpf.RawInstruction, error) {
	switch {
	case file != "" && expr != "":
		return nil, fmt.Errorf("%w: give --bpf or --filter, not both", errUsage)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		prog, err := filter.ParseRaw(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return prog, nil
	case expr != "":
		prog, err := filter.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		return prog, nil
	}
	return nil, nil
}
