package main

// Flag groups. Each command registers the groups it uses; a flag name has
// one meaning in every command that has it:
//
//	-o            where the command writes what it makes: flow outputs
//	              (extract, classify, live), the model file (train,
//	              import-xgboost), the report folder (report)
//	--model       a model to read (classify, live, evaluate, report)
//	--threshold   the score from which a flow is malicious
//	--early       the early-flow feature window (extract, train,
//	              import-xgboost, features); commands that read a model
//	              take the model's
//	--early-verdict  live: a scored record when a flow reaches N packets

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/label"
	"github.com/flowmeter/flowmeter/model"
)

// newFlags returns a command's flag set; synopsis follows "flowmeter" in
// the usage line and about says what the command does.
func newFlags(synopsis, about string, stderr io.Writer) *flag.FlagSet {
	name, _, _ := strings.Cut(synopsis, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowmeter %s\n\n%s\n\nflags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags anywhere among the arguments (`extract x.pcap -o
// y.csv` works as `extract -o y.csv x.pcap`); "--" ends the flags.
// fs.Args() returns the other arguments afterwards. A bad flag is a usage
// error (the flag package has printed it).
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// isSet reports whether the flag name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// flowFlags: how packets become flows, and the context window.
type flowFlags struct {
	maxFlows             int
	idle, active, linger time.Duration
	ctxWin               time.Duration
	ctxFlows             int
}

func (f *flowFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.idle, "idle-timeout", time.Duration(flow.DefaultConfig.IdleTimeout), "end a flow after this long without a packet")
	fs.DurationVar(&f.active, "active-timeout", time.Duration(flow.DefaultConfig.ActiveTimeout), "cut a flow that lasts this long (it goes on in a new record)")
	fs.DurationVar(&f.linger, "linger", time.Duration(flow.DefaultConfig.Linger), "keep a closed TCP flow this long for trailing packets")
	fs.IntVar(&f.maxFlows, "max-flows", 1000000, "hold at most `N` flows at once (about 1.4 KB each); a full table ends lingering closed flows, then flows never answered (a flood's), then the least recently seen (end_reason evicted); 0: no bound")
	fs.DurationVar(&f.ctxWin, "ctx-window", time.Duration(feature.DefaultContext.Window), "context features: window before each flow's start")
	fs.IntVar(&f.ctxFlows, "ctx-flows", feature.DefaultContext.Flows, "context features: most recent flows kept per host and per service")
}

func (f *flowFlags) config() (flow.Config, feature.ContextConfig, error) {
	cc := feature.DefaultContext
	switch {
	case f.idle <= 0 || f.active <= 0:
		return flow.Config{}, cc, usagef("--idle-timeout and --active-timeout must be positive durations (e.g. 2m, 30s)")
	case f.linger < 0:
		return flow.Config{}, cc, usagef("--linger must be a duration ≥ 0")
	case f.maxFlows < 0:
		return flow.Config{}, cc, usagef("--max-flows must be ≥ 0 (0: no bound)")
	case f.ctxWin <= 0 || f.ctxFlows <= 0:
		return flow.Config{}, cc, usagef("--ctx-window and --ctx-flows must be positive")
	}
	cc.Window, cc.Flows = int64(f.ctxWin), f.ctxFlows
	return flow.Config{IdleTimeout: int64(f.idle), ActiveTimeout: int64(f.active), Linger: int64(f.linger), MaxFlows: f.maxFlows}, cc, nil
}

// registerEarly adds --early, the early-flow feature window.
func registerEarly(fs *flag.FlagSet, n *int) {
	fs.IntVar(n, "early", 8, fmt.Sprintf("early-flow features (direction, size, gap) of the first `N` packets (0..%d)", feature.MaxEarly))
}

// schemaOf is the feature schema of early-flow window n.
func schemaOf(n int) (*feature.Schema, error) {
	s, err := feature.NewSchema(n)
	if err != nil {
		return nil, usagef("--early: %v", err)
	}
	return s, nil
}

// runFlags: how a metering run goes.
type runFlags struct {
	workers  int
	progress string
	quiet    bool
	metrics  string
	linger   time.Duration // of the metrics endpoint after the run
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.workers, "workers", runtime.NumCPU(), "parallel workers: offline, 2 or more shard flows over that many flow tables by a symmetric hash of the flow key (output identical to 1); live, capture sockets in a PACKET_FANOUT group")
	fs.StringVar(&f.progress, "progress", "auto", "progress line on stderr: auto (when a terminal), always, never")
	fs.BoolVar(&f.quiet, "q", false, "no summary on stderr")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (host:port; a bare :port binds 127.0.0.1); off by default")
	fs.DurationVar(&f.linger, "metrics-linger", 0, "keep serving the final metrics this long after the run ends (so that a scrape catches them); Ctrl-C ends it")
}

// progressWriter is where the progress line goes (nil: nowhere).
func (f *runFlags) progressWriter(stderr io.Writer) (io.Writer, error) {
	if f.workers < 1 {
		return nil, usagef("--workers must be at least 1")
	}
	if f.linger < 0 {
		return nil, usagef("--metrics-linger must be a duration ≥ 0")
	}
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
	return nil, usagef("--progress must be auto, always or never, not %q", f.progress)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// outFlags: the flow outputs and their columns.
type outFlags struct {
	targets    listFlag
	columns    string
	labelNames string
	app        bool
}

func (f *outFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.targets, "o", "output `TARGET` (repeatable): .jsonl/.json for JSON lines, .parquet for Parquet, kafka://BROKER/TOPIC for Kafka, anything else CSV; - or none: CSV on stdout")
	fs.StringVar(&f.columns, "columns", feature.SetNative, "column set: native, cic2017, cic2017-ml, cic2018, seed or nfstream (NFStream's names)")
	fs.BoolVar(&f.app, "app", true, "read each flow's first payload packets: app_proto and the tls_*, dns_*, http_*, ssh_* metadata columns (native set; docs/app.md); --app=false leaves them out")
	fs.StringVar(&f.labelNames, "label-names", "", "how the cic2017/cic2018 sets' Label column names labels: cic2017 (BENIGN), cic2018 (Benign) or native (benign); default: the set's own")
}

// cols are the output columns over schema s.
func (f *outFlags) cols(s *feature.Schema, o feature.Options) ([]feature.Column, error) {
	o.LabelNames = f.labelNames
	o.App = f.app
	cols, err := feature.Columns(f.columns, s, o)
	if err != nil {
		return nil, usagef("--columns/--label-names: %v", err)
	}
	return cols, nil
}

// labelFlags: --labels.
type labelFlags struct{ files string }

func (f *labelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.files, "labels", "", "label flows with the rules in these CSV `FILES` (comma-separated, first match wins; docs/labels.md); adds label and category columns")
}

// load reads the rules; nil without --labels.
func (f *labelFlags) load() (*label.Rules, error) {
	if f.files == "" {
		return nil, nil
	}
	return label.Load(strings.Split(f.files, ",")...)
}

// modelFlags: the model to read and its threshold.
type modelFlags struct {
	fs        *flag.FlagSet
	path      string
	threshold float64
	edited    bool
}

func (f *modelFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.path, "model", "", "model `FILE` to read (default: the model embedded in flowmeter)")
	fs.Float64Var(&f.threshold, "threshold", -1, "flag flows with score ≥ `T`, a score between 0 and 1 (default: the model's threshold)")
	fs.BoolVar(&f.edited, "accept-edited", false, "use a model file changed after flowmeter saved it (its content_hash does not match)")
}

// load reads --model, or the embedded default model.
func (f *modelFlags) load() (*model.Model, error) {
	if isSet(f.fs, "threshold") && !(f.threshold > 0 && f.threshold < 1) {
		return nil, usagef("--threshold must be a score between 0 and 1 (exclusive), not %v", f.threshold)
	}
	if f.path == "" {
		return model.Default()
	}
	r, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	load := model.Load
	if f.edited {
		load = model.LoadEdited
	}
	m, err := load(r)
	if errors.Is(err, model.ErrEdited) {
		return nil, fmt.Errorf("%s: %w; --accept-edited uses it all the same", f.path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return m, nil
}
