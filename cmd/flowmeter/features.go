package main

import (
	"context"
	"fmt"
	"io"

	"github.com/flowmeter/flowmeter/feature"
)

func runFeatures(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("features [flags]", "Prints the feature schema: name, unit, formula.", stderr)
	md := fs.Bool("markdown", false, "print the Markdown table of docs/features.md")
	var early int
	registerEarly(fs, &early)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("features takes no arguments")
	}
	s, err := schemaOf(early)
	if err != nil {
		return err
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
