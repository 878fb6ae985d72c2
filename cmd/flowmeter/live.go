package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture/filter"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
	"github.com/flowmeter/flowmeter/model"
)

// liveStats are the kernel's counters of a live capture.
type liveStats struct{ Packets, Drops, Freezes uint64 }

// runLive captures from an interface until SIGINT/SIGTERM (ctx), scoring
// every flow with the model, and writes flows as they end.
func runLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f meterFlags
	f.register(fs)
	iface := fs.String("i", "", "capture from interface `IFACE` (needs CAP_NET_RAW)")
	modelPath := fs.String("model", "", "model `FILE` (default: the embedded model)")
	threshold := fs.Float64("threshold", -1, "flag flows with score ≥ `T` (default: the model's threshold)")
	bpfFile := fs.String("bpf", "", "attach the classic BPF program in `FILE` (the output of tcpdump -dd EXPR) to the socket")
	filterExpr := fs.String("filter", "", "capture filter `EXPR` in tcpdump syntax (host, net, port, portrange, ip, ip6, arp, tcp, udp, icmp, and/or/not, parentheses)")
	promisc := fs.Bool("promisc", false, "put the interface in promiscuous mode while capturing")
	earlyVerdict := fs.Int64("early-verdict", 0, "also write a record with a verdict when a flow reaches `N` packets (end_reason early), while it goes on")
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
	t := sc.threshold
	prog, err := filterProgram(*bpfFile, *filterExpr)
	if err != nil {
		return err
	}
	src, kstats, idle, closeSrc, err := openLive(*iface, prog, *promisc)
	if err != nil {
		return err
	}
	defer closeSrc()
	sinks, err := openSinks(f.outputs, cols, stdout)
	if err != nil {
		return err
	}
	r.cfg.EarlyAfter = *earlyVerdict
	tick, stopMetrics, err := startMetrics(f.metrics, stderr, func() metrics.Extra {
		k := kstats()
		return metrics.Extra{Verdicts: verdictCounts(sc), KernelDrops: k.Drops, Freezes: k.Freezes, OutputLost: outputLost(sinks)}
	})
	if err != nil {
		closeSinks(sinks)
		return err
	}
	defer stopMetrics()
	r.cfg.OnTick = tick
	mt := meter.New(r.cfg, sinks...)
	start := time.Now()
	runErr := mt.RunLive(ctx, src, *iface, idle)
	closeErr := closeSinks(sinks)
	if !f.quiet {
		printSummary(stderr, mt.Stats(), time.Since(start), nil)
		k := kstats()
		if mt.Stats().EarlyRecords > 0 {
			fmt.Fprintf(stderr, "  early verdicts written: %d\n", mt.Stats().EarlyRecords)
		}
		fmt.Fprintf(stderr, "  kernel: %d packets, %d dropped (ring full), %d queue freezes\n", k.Packets, k.Drops, k.Freezes)
		fmt.Fprintf(stderr, "  verdicts (threshold %.4g): %d malicious, %d benign\n", t, sc.verdicts[model.VerdictMalicious], sc.verdicts[model.VerdictBenign])
	}
	if runErr != nil {
		return runErr
	}
	return closeErr
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
