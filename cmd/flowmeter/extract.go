package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/label"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
	"github.com/flowmeter/flowmeter/packet"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/jsonl"
	"github.com/flowmeter/flowmeter/sink/kafka"
	"github.com/flowmeter/flowmeter/sink/parquet"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// meterFlags are the flags shared by every command that meters captures.
type meterFlags struct {
	outputs  listFlag
	columns  string
	idle     time.Duration
	active   time.Duration
	linger   time.Duration
	early    int
	ctxWin   time.Duration
	ctxFlows int
	labels   string
	metrics  string
	workers  int
	quiet    bool
	live     bool // registering for `live`: --early is the early verdict there
	progress string
}

func (f *meterFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.outputs, "o", "output `FILE` (repeatable): .jsonl/.json for JSON lines, .parquet for Parquet, kafka://BROKER/TOPIC for Kafka, anything else CSV; - or none: CSV on stdout")
	fs.StringVar(&f.columns, "columns", feature.SetNative, "column set: native, cic2017, cic2018 or seed")
	fs.DurationVar(&f.idle, "idle-timeout", time.Duration(flow.DefaultConfig.IdleTimeout), "end a flow after this long without a packet")
	fs.DurationVar(&f.active, "active-timeout", time.Duration(flow.DefaultConfig.ActiveTimeout), "cut a flow that lasts this long (it goes on in a new record)")
	fs.DurationVar(&f.linger, "linger", time.Duration(flow.DefaultConfig.Linger), "keep a closed TCP flow this long for trailing packets")
	if !f.live {
		fs.IntVar(&f.early, "early", 8, fmt.Sprintf("early-flow features for the first `N` packets (0..%d)", feature.MaxEarly))
	}
	fs.DurationVar(&f.ctxWin, "ctx-window", time.Duration(feature.DefaultContext.Window), "context features: window before each flow's start")
	fs.IntVar(&f.ctxFlows, "ctx-flows", feature.DefaultContext.Flows, "context features: most recent flows kept per host and per service")
	fs.StringVar(&f.labels, "labels", "", "label flows with the rules in these CSV `FILES` (comma-separated, first match wins; docs/labels.md); adds label and category columns")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (host:port; a bare :port binds 127.0.0.1); off by default")
	fs.IntVar(&f.workers, "workers", runtime.NumCPU(), "parallel workers: offline, 2 or more shard flows over that many flow tables by a symmetric hash of the flow key (output identical to 1); live, capture sockets in a PACKET_FANOUT group")
	fs.BoolVar(&f.quiet, "q", false, "no summary on stderr")
	fs.StringVar(&f.progress, "progress", "auto", "progress line on stderr: auto (when a terminal), always, never")
}

func (f *meterFlags) flowConfig() (flow.Config, error) {
	if f.idle <= 0 || f.active <= 0 || f.linger < 0 {
		return flow.Config{}, fmt.Errorf("%w: timeouts must be positive", errUsage)
	}
	return flow.Config{IdleTimeout: int64(f.idle), ActiveTimeout: int64(f.active), Linger: int64(f.linger)}, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (f *meterFlags) progressWriter(stderr io.Writer) (io.Writer, error) {
	switch f.progress {
	case "always":
		return stderr, nil
	case "never":
		return nil, nil
	case "auto":
		if isTerminal(stderr) {
			return stderr, nil
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: -progress must be auto, always or never", errUsage)
}

// openSinks opens every -o target (stdout CSV when there is none).
func openSinks(outputs []string, cols []feature.Column, stdout io.Writer) ([]meter.Sink, error) {
	if len(outputs) == 0 {
		outputs = []string{"-"}
	}
	var sinks []meter.Sink
	for _, o := range outputs {
		if strings.HasPrefix(o, "kafka://") {
			cfg, err := kafka.ParseURL(o)
			if err != nil {
				closeSinks(sinks)
				return nil, fmt.Errorf("%w: %v", errUsage, err)
			}
			k, err := kafka.NewWriter(cfg, cols)
			if err != nil {
				closeSinks(sinks)
				return nil, err
			}
			sinks = append(sinks, k)
			continue
		}
		var w io.Writer
		if o == "-" {
			w = nopCloser{stdout}
		} else {
			f, err := os.Create(o)
			if err != nil {
				closeSinks(sinks)
				return nil, err
			}
			w = f
		}
		switch {
		case strings.HasSuffix(o, ".jsonl") || strings.HasSuffix(o, ".json"):
			sinks = append(sinks, jsonl.NewWriter(w, cols))
		case strings.HasSuffix(o, ".parquet"):
			sinks = append(sinks, parquet.NewWriter(w, cols))
		default:
			sinks = append(sinks, csv.NewWriter(w, cols))
		}
	}
	return sinks, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func closeSinks(sinks []meter.Sink) error {
	var first error
	for _, s := range sinks {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// meterRun is a configured run: inputs, schema, columns and sinks.
type meterRun struct {
	paths   []string
	skipped []string
	schema  *feature.Schema
	cfg     meter.Config
	rules   *label.Rules // nil without --labels
}

func (f *meterFlags) prepare(fs *flag.FlagSet, stderr io.Writer) (*meterRun, error) {
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "flowmeter %s: no input (give capture files, directories or -)\n", fs.Name())
		return nil, errUsage
	}
	fc, err := f.flowConfig()
	if err != nil {
		return nil, err
	}
	schema, err := feature.NewSchema(f.early)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	paths, skipped, err := capture.Expand(fs.Args())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no capture files in %s", strings.Join(fs.Args(), " "))
	}
	pw, err := f.progressWriter(stderr)
	if err != nil {
		return nil, err
	}
	if f.ctxWin <= 0 || f.ctxFlows <= 0 {
		return nil, fmt.Errorf("%w: -ctx-window and -ctx-flows must be positive", errUsage)
	}
	cc := feature.DefaultContext
	cc.Window, cc.Flows = int64(f.ctxWin), f.ctxFlows
	if f.workers < 1 {
		return nil, fmt.Errorf("%w: -workers must be at least 1", errUsage)
	}
	r := &meterRun{paths: paths, skipped: skipped, schema: schema,
		cfg: meter.Config{Flow: fc, Context: cc, Schema: schema, Progress: pw, Workers: f.workers}}
	if f.labels != "" {
		if r.rules, err = label.Load(strings.Split(f.labels, ",")...); err != nil {
			return nil, err
		}
		r.cfg.Decorate = r.rules.Label
	}
	return r, nil
}

func runExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f meterFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter extract [flags] INPUT...\n\nINPUT is a pcap or pcapng file (optionally gzip-compressed), a directory\n(its captures, in path order) or - for standard input.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	r, err := f.prepare(fs, stderr)
	if err != nil {
		return err
	}
	cols, err := feature.Columns(f.columns, r.schema, feature.Options{Labels: r.rules != nil})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return r.execute(ctx, f, cols, stdout, stderr)
}

// execute meters the inputs into the sinks and prints the summary.
func (r *meterRun) execute(ctx context.Context, f meterFlags, cols []feature.Column, stdout, stderr io.Writer) error {
	sinks, err := openSinks(f.outputs, cols, stdout)
	if err != nil {
		return err
	}
	tick, stopMetrics, err := startMetrics(f.metrics, stderr, func() metrics.Extra { return metrics.Extra{OutputLost: outputLost(sinks)} })
	if err != nil {
		closeSinks(sinks)
		return err
	}
	defer stopMetrics()
	r.cfg.OnTick = tick
	m := meter.New(r.cfg, sinks...)
	start := time.Now()
	runErr := m.RunFiles(ctx, r.paths)
	closeErr := closeSinks(sinks)
	if !f.quiet {
		printSummary(stderr, m.Stats(), time.Since(start), r.skipped)
	}
	if runErr != nil {
		return runErr
	}
	return closeErr
}

func printSummary(w io.Writer, st *meter.Stats, el time.Duration, skippedFiles []string) {
	source := fmt.Sprintf("%d files", st.Files)
	if st.Files == 0 {
		source = "live capture"
	}
	fmt.Fprintf(w, "flowmeter: %s, %d packets (%d bytes) in %.2fs (%.0f packets/s)\n",
		source, st.Packets, st.Bytes, el.Seconds(), float64(st.Packets)/max(el.Seconds(), 1e-9))
	fmt.Fprintf(w, "  decoded %d, skipped %d", st.Decoded, st.SkippedTotal())
	var parts []string
	for r, n := range st.Skipped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", packet.Reason(r), n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	if st.FragAttributed+st.FragUnattributed > 0 {
		fmt.Fprintf(w, "  fragments: %d attributed to their flow, %d without their first fragment\n", st.FragAttributed, st.FragUnattributed)
	}
	parts = parts[:0]
	for r, n := range st.ByEnd {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", flow.EndReason(r), n))
		}
	}
	byEnd := ""
	if len(parts) > 0 {
		byEnd = " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "  flows written %d%s, at most %d open at once\n", st.Flows, byEnd, st.MaxActive)
	if len(skippedFiles) > 0 {
		fmt.Fprintf(w, "  %d files in the input directories are not captures and were skipped\n", len(skippedFiles))
	}
	for _, e := range st.ReadErrors {
		fmt.Fprintf(w, "  error: %v\n", e)
	}
}

func runFeatures(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("features", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.Bool("markdown", false, "print the Markdown table of docs/features.md")
	early := fs.Int("early", 8, "early-flow window")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	s, err := feature.NewSchema(*early)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *md {
		_, err := io.WriteString(stdout, feature.Markdown(s))
		return err
	}
	for _, ft := range s.Features {
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", ft.Name, ft.Unit, ft.Formula)
	}
	return nil
}
