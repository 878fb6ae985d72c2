package main

import (
	"context"
	"io"

	"github.com/flowmeter/flowmeter/feature"
)

type extractFlags struct {
	flow   flowFlags
	run    runFlags
	out    outFlags
	labels labelFlags
	in     inputFlags
	filter string
	early  int
}

func runExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("extract [flags] INPUT...", "Reads captures and writes one record per flow. INPUT is a pcap or pcapng file\n(optionally gzip-compressed), a directory (its captures, in path order) or - for standard input.", stderr)
	var f extractFlags
	f.flow.register(fs)
	f.run.register(fs)
	f.out.register(fs)
	f.labels.register(fs)
	registerEarly(fs, &f.early)
	f.in.register(fs, &f.filter)
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := schemaOf(f.early)
	if err != nil {
		return err
	}
	r, err := newMetering(s, &f.flow, &f.run, &f.labels, stderr)
	if err != nil {
		return err
	}
	cols, err := f.out.cols(s, feature.Options{Labels: r.rules != nil})
	if err != nil {
		return err
	}
	r.cfg.App = f.out.app && feature.NeedsApp(s, cols)
	if err := f.in.apply(r, fs); err != nil {
		return err
	}
	if err := refuseInputs(f.out.targets, r.paths); err != nil {
		return err
	}
	sinks, err := openSinks(f.out.targets, cols, r.schema, stdout)
	if err != nil {
		return err
	}
	return r.execute(ctx, sinks, after{}, stderr)
}
