package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/capture/filter"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/label"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/metrics"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/sink"
)

// metering is the wiring every metering command shares: the inputs, the
// schema, the labelling rules and the meter's configuration.
type metering struct {
	paths, skipped []string
	schema         *feature.Schema
	rules          *label.Rules // nil without --labels
	cfg            meter.Config
	run            *runFlags
}

// newMetering checks the flag groups and builds the meter's configuration
// for schema s.
func newMetering(s *feature.Schema, ff *flowFlags, rf *runFlags, lf *labelFlags, stderr io.Writer) (*metering, error) {
	fc, cc, err := ff.config()
	if err != nil {
		return nil, err
	}
	pw, err := rf.progressWriter(stderr)
	if err != nil {
		return nil, err
	}
	rules, err := lf.load()
	if err != nil {
		return nil, err
	}
	r := &metering{schema: s, rules: rules, run: rf,
		cfg: meter.Config{Flow: fc, Context: cc, Schema: s, Progress: pw, Workers: rf.workers, App: true}}
	if rules != nil {
		r.cfg.Decorate = append(r.cfg.Decorate, rules.Label)
	}
	return r, nil
}

// inputs expands the command's inputs (files, directories, - for stdin).
func (r *metering) inputs(cmd string, args []string) error {
	if len(args) == 0 {
		return usagef("%s: no input (give capture files, directories or -)", cmd)
	}
	paths, skipped, err := capture.Expand(args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("no capture files in %s", strings.Join(args, " "))
	}
	r.paths, r.skipped = paths, skipped
	return nil
}

// inputFlags: -r FILE and --filter, for the commands that read captures
// (--filter is also live's capture filter).
type inputFlags struct {
	read   listFlag
	filter *string
}

func (f *inputFlags) register(fs *flag.FlagSet, filter *string) {
	f.filter = filter
	fs.Var(&f.read, "r", "read the capture `FILE` (repeatable; as tcpdump -r), besides the inputs given as arguments")
	fs.StringVar(filter, "filter", "", "keep only the frames that match `EXPR`, in tcpdump syntax (host, net, port, portrange, ip, ip6, arp, tcp, udp, icmp, and/or/not, parentheses; vlan: live only). Files: Ethernet frames only, the others are filtered out")
}

// apply expands the inputs (-r files, then the arguments) and sets the
// offline filter.
func (f *inputFlags) apply(r *metering, fs *flag.FlagSet) error {
	if err := r.inputs(fs.Name(), append(append([]string{}, f.read...), fs.Args()...)); err != nil {
		return err
	}
	if *f.filter == "" {
		return nil
	}
	m, err := filter.NewMatcher(*f.filter)
	if err != nil {
		return usagef("--filter %q: %v", *f.filter, err)
	}
	r.cfg.Filter = m.Match
	return nil
}

// refuseInputs refuses an output that would overwrite one of the inputs
// (the same path or the same file), before anything is opened for writing.
func refuseInputs(targets, inputs []string) error {
	for _, t := range targets {
		if t == "" || t == "-" || strings.Contains(t, "://") {
			continue
		}
		ot, err := os.Stat(t)
		if err != nil {
			continue // a new file
		}
		for _, in := range inputs {
			if it, err := os.Stat(in); err == nil && os.SameFile(ot, it) {
				return usagef("output %s is the input %s: it would be overwritten before it is read", t, in)
			}
		}
	}
	return nil
}

// classify makes the meter score every record with cl (after labelling).
func (r *metering) classify(cl *model.Classifier) {
	r.cfg.Decorate = append(r.cfg.Decorate, cl.Classify)
}

// openSinks opens every -o target (stdout CSV when there is none).
func openSinks(targets []string, cols []feature.Column, s *feature.Schema, stdout io.Writer) ([]meter.Sink, error) {
	if len(targets) == 0 {
		targets = []string{"-"}
	}
	for _, t := range targets {
		if err := sink.Check(t); err != nil {
			return nil, usagef("-o %s: %v", t, err)
		}
	}
	var sinks []meter.Sink
	for _, t := range targets {
		o, err := sink.Open(t, cols, s, stdout)
		if err != nil {
			meter.CloseSinks(sinks)
			if errors.Is(err, sink.ErrTarget) {
				return nil, usagef("-o %s: %v", t, err)
			}
			return nil, err
		}
		sinks = append(sinks, o)
	}
	return sinks, nil
}

// startMetrics serves Prometheus metrics on --metrics when it is set. The
// returned tick goes in meter.Config.OnTick; extra (may be nil) supplies
// the counters kept outside the meter. stop keeps serving the final
// values for --metrics-linger (unless ctx ends first), then stops.
func (rf *runFlags) startMetrics(ctx context.Context, stderr io.Writer, extra func() metrics.Extra) (tick func(meter.Stats, int), stop func(), err error) {
	if rf.metrics == "" {
		return nil, func() {}, nil
	}
	bound, tick, stopNow, err := metrics.Start(rf.metrics, extra)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "flowmeter: metrics on http://%s/metrics\n", bound)
	return tick, func() {
		if rf.linger > 0 {
			select {
			case <-time.After(rf.linger):
			case <-ctx.Done():
			}
		}
		stopNow()
	}, nil
}

// after is what an offline run reports and closes besides its sinks.
type after struct {
	classifier *model.Classifier    // its verdict counts go in the summary
	packets    *meter.PacketOutputs // closed after the sinks, reported in the summary
}

func (a after) extra(sinks []meter.Sink) func() metrics.Extra {
	return func() metrics.Extra {
		e := metrics.Extra{OutputLost: meter.OutputLost(sinks)}
		if a.classifier != nil {
			e.Verdicts = a.classifier.Counts()
		}
		return e
	}
}

// execute meters the inputs into the sinks, closes them and prints the
// summary.
func (r *metering) execute(ctx context.Context, sinks []meter.Sink, a after, stderr io.Writer) error {
	tick, stop, err := r.run.startMetrics(ctx, stderr, a.extra(sinks))
	if err != nil {
		meter.CloseSinks(sinks)
		return err
	}
	defer stop()
	r.cfg.OnTick, r.cfg.Packets = tick, a.packets
	m := meter.New(r.cfg, sinks...)
	start := time.Now()
	runErr := m.RunFiles(ctx, r.paths)
	closeErr := meter.CloseSinks(sinks)
	if a.packets != nil {
		closeErr = errors.Join(closeErr, a.packets.Close())
	}
	if !r.run.quiet {
		outErr := closeErr
		if m.Err() != nil {
			outErr = m.Err()
		}
		meter.WriteSummary(stderr, m.Stats(), meter.Summary{Elapsed: time.Since(start), SkippedFiles: r.skipped, OutputErr: outErr})
		if a.classifier != nil {
			fmt.Fprintf(stderr, "  %s\n", a.classifier.Summary())
		}
		if a.packets != nil {
			a.packets.Report(stderr)
		}
	}
	if runErr != nil {
		return runErr
	}
	return closeErr
}
