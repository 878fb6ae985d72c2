package main

import (
	"context"
	"flag"
	"io"
	"os"
	"slices"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/sink/csv"
)

// classifyFlags are the flags of classify and live: classify reads captures,
// or an interface with -i (then it is live).
type classifyFlags struct {
	fs         *flag.FlagSet
	flow       flowFlags
	run        runFlags
	out        outFlags
	labels     labelFlags
	model      modelFlags
	packets    string // offline only
	suspicious string // offline only
	live       liveFlags
	in         inputFlags
}

// offlineOnly and liveOnly are the flags of one mode.
var (
	offlineOnly = []string{"packets", "suspicious", "r"}
	liveOnly    = []string{"bpf", "promisc", "early-verdict"}
)

func newClassifyFlags(synopsis, about string, stderr io.Writer) *classifyFlags {
	f := &classifyFlags{fs: newFlags(synopsis, about, stderr)}
	f.flow.register(f.fs)
	f.run.register(f.fs)
	f.out.register(f.fs)
	f.labels.register(f.fs)
	f.model.register(f.fs)
	f.fs.StringVar(&f.packets, "packets", "", "write per-packet verdicts to `FILE.csv` (capture, packet number, flow_id, verdict)")
	f.fs.StringVar(&f.suspicious, "suspicious", "", "write the packets of malicious flows to `FILE` (.pcap, or .pcapng for mixed link types)")
	f.live.register(f.fs)
	f.in.register(f.fs, &f.live.filter)
	return f
}

func runClassify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newClassifyFlags("classify [flags] INPUT... | classify -i IFACE [flags]",
		"Scores every flow (score = probability of malicious) and gives a verdict. With -i, a live sensor (see live).", stderr)
	if err := parse(f.fs, args); err != nil {
		return err
	}
	if f.live.iface != "" {
		return f.runLive(ctx, stdout, stderr)
	}
	return f.runOffline(ctx, stdout, stderr)
}

// mustNot refuses the flags of the other mode.
func (f *classifyFlags) mustNot(names []string, why string) error {
	for _, n := range names {
		if isSet(f.fs, n) {
			return usagef("--%s %s", n, why)
		}
	}
	return nil
}

// classifier loads the model and binds it at the threshold.
func (f *classifyFlags) classifier() (*model.Classifier, *feature.Schema, error) {
	m, err := f.model.load()
	if err != nil {
		return nil, nil, err
	}
	return model.NewClassifier(m, f.model.threshold)
}

// setup builds the metering with the classifier, and the output columns.
func (f *classifyFlags) setup(stderr io.Writer) (*metering, *model.Classifier, []feature.Column, error) {
	cl, s, err := f.classifier()
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := newMetering(s, &f.flow, &f.run, &f.labels, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	r.classify(cl)
	cols, err := f.out.cols(s, feature.Options{Labels: r.rules != nil, Scores: true})
	// the payload is inspected for the metadata columns, and for a model
	// that reads the features derived from them
	r.cfg.App = f.out.app && (feature.NeedsApp(s, cols) || slices.ContainsFunc(cl.Model.Model.Inputs, feature.IsAppFeature))
	return r, cl, cols, err
}

func (f *classifyFlags) runOffline(ctx context.Context, stdout, stderr io.Writer) error {
	if err := f.mustNot(liveOnly, "needs -i IFACE (live capture)"); err != nil {
		return err
	}
	r, cl, cols, err := f.setup(stderr)
	if err != nil {
		return err
	}
	if err := f.in.apply(r, f.fs); err != nil {
		return err
	}
	if err := refuseInputs(append([]string{f.packets, f.suspicious}, f.out.targets...), r.paths); err != nil {
		return err
	}
	packets, err := f.packetOutputs(r.paths)
	if err != nil {
		return err
	}
	sinks, err := openSinks(f.out.targets, cols, r.schema, stdout)
	if err != nil {
		if packets != nil {
			packets.Close()
		}
		return err
	}
	return r.execute(ctx, sinks, after{classifier: cl, packets: packets}, stderr)
}

// packetOutputs opens --packets and --suspicious (nil when neither is set).
func (f *classifyFlags) packetOutputs(paths []string) (*meter.PacketOutputs, error) {
	if f.packets == "" && f.suspicious == "" {
		return nil, nil
	}
	if slices.Contains(paths, "-") {
		return nil, usagef("--packets and --suspicious need capture files, not standard input")
	}
	p := &meter.PacketOutputs{}
	if f.packets != "" {
		w, err := os.Create(f.packets)
		if err != nil {
			return nil, err
		}
		p.Verdicts = csv.NewPacketWriter(w)
	}
	if f.suspicious != "" {
		w, err := capture.Create(f.suspicious)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Suspicious = w
	}
	return p, nil
}
