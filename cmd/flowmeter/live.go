package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture/filter"
	"github.com/flowmeter/flowmeter/capture/live"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
)

// liveFlags: the interface and what only a live capture takes.
type liveFlags struct {
	iface, bpfFile, filter string
	promisc                bool
	earlyVerdict           int64
}

func (f *liveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.iface, "i", "", "capture from interface `IFACE` (needs CAP_NET_RAW)")
	fs.StringVar(&f.bpfFile, "bpf", "", "attach the classic BPF program in `FILE` (the output of tcpdump -dd EXPR) to the socket")
	fs.BoolVar(&f.promisc, "promisc", false, "put the interface in promiscuous mode while capturing")
	fs.Int64Var(&f.earlyVerdict, "early-verdict", 0, "also write a scored record when a flow reaches `N` packets (end_reason early), while it goes on")
}

// program returns the BPF program of --bpf FILE (tcpdump -dd text) or
// compiles --filter EXPR.
func (f *liveFlags) program() ([]bpf.RawInstruction, error) {
	switch {
	case f.bpfFile != "" && f.filter != "":
		return nil, usagef("give --bpf or --filter, not both")
	case f.bpfFile != "":
		b, err := os.ReadFile(f.bpfFile)
		if err != nil {
			return nil, err
		}
		prog, err := filter.ParseRaw(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.bpfFile, err)
		}
		return prog, nil
	case f.filter != "":
		prog, err := filter.Compile(f.filter)
		if err != nil {
			return nil, usagef("--filter %q: %v", f.filter, err)
		}
		return prog, nil
	}
	return nil, nil
}

func runLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newClassifyFlags("live -i IFACE [flags]",
		"Captures until interrupted (SIGINT/SIGTERM), writes each flow with its score and verdict when it ends,\nand at the end every open flow with end_reason shutdown. The same as classify -i IFACE.", stderr)
	if err := parse(f.fs, args); err != nil {
		return err
	}
	if f.live.iface == "" {
		return usagef("live: give the interface to capture from with -i IFACE")
	}
	return f.runLive(ctx, stdout, stderr)
}

// runLive captures from -i until ctx is done.
func (f *classifyFlags) runLive(ctx context.Context, stdout, stderr io.Writer) error {
	if err := f.mustNot(offlineOnly, "needs capture files, not -i"); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return usagef("-i IFACE takes no capture files (got %s)", f.fs.Arg(0))
	}
	if !isSet(f.fs, "linger") {
		f.flow.linger = time.Second // a sensor reports a closed flow promptly (within the 1 s expiry tick)
	}
	prog, err := f.live.program()
	if err != nil {
		return err
	}
	r, cl, cols, err := f.setup(stderr)
	if err != nil {
		return err
	}
	g, err := live.OpenGroup(f.live.iface, prog, f.live.promisc, f.run.workers)
	if err != nil {
		return err
	}
	defer g.Close()
	sinks, err := openSinks(f.out.targets, cols, r.schema, stdout)
	if err != nil {
		return err
	}
	r.cfg.EarlyAfter = f.live.earlyVerdict
	return r.executeLive(ctx, g, f.live.iface, sinks, after{classifier: cl}, stderr)
}

// executeLive meters the capture group into the sinks until ctx is done,
// closes them and prints the summary.
func (r *metering) executeLive(ctx context.Context, g *live.Group, iface string, sinks []meter.Sink, a after, stderr io.Writer) error {
	extra := a.extra(sinks)
	tick, stop, err := r.run.startMetrics(ctx, stderr, func() metrics.Extra {
		e, k := extra(), g.Stats()
		e.KernelDrops, e.Freezes = k.Drops, k.Freezes
		return e
	})
	if err != nil {
		meter.CloseSinks(sinks)
		return err
	}
	defer stop()
	r.cfg.OnTick = tick
	start := time.Now()
	l := meter.Live{Sources: g.Sources(), Name: iface, Idle: live.ErrTimeout, Drops: func() uint64 { return g.Stats().Drops }}
	st, runErr := meter.RunLive(ctx, r.cfg, l, sinks...)
	closeErr := meter.CloseSinks(sinks)
	if !r.run.quiet {
		meter.WriteSummary(stderr, st, meter.Summary{Live: iface, Elapsed: time.Since(start), OutputErr: closeErr})
		k := g.Stats()
		fmt.Fprintf(stderr, "  %d capture workers; kernel: %d packets, %d dropped (ring full), %d queue freezes\n", len(l.Sources), k.Packets, k.Drops, k.Freezes)
		fmt.Fprintf(stderr, "  %s\n", a.classifier.Summary())
	}
	return errors.Join(runErr, closeErr)
}
