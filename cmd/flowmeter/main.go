// Command flowmeter turns packet captures into flow records with a complete,
// documented feature set, and classifies them with a model.
//
//	flowmeter extract [flags] INPUT...   captures → one row per flow (CSV, JSON lines, Parquet, Kafka)
//	flowmeter classify [flags] INPUT...  the same, scored by a model, with verdicts (-i IFACE: live)
//	flowmeter live -i IFACE [flags]      a live sensor
//	flowmeter train -o MODEL ...         fit a model on labelled flows
//	flowmeter evaluate [flags] ...       measure a model on labelled flows
//	flowmeter report -o DIR ...          an HTML report of a model on labelled flows
//	flowmeter import-xgboost -o MODEL X  convert an XGBoost model
//	flowmeter features [-markdown]       the feature schema: name, unit, formula
//
// This package only parses flags and wires packages: one file per command,
// the flag groups in flags.go (a command registers the groups it uses, so a
// flag it does not use is an error), the wiring shared by the metering
// commands in setup.go. Run "flowmeter COMMAND -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

// usageError is a command-line mistake with the message that says what is
// wrong.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == errUsage }

// usagef returns a usage error with a message.
func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitCode prints err (unless the flag package already did) and returns
// the exit status: 0, 1 for a failure, 2 for a usage error.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "flowmeter:", ue.msg)
		return 2
	case errors.Is(err, errUsage):
		return 2 // the flag package printed what was wrong
	}
	fmt.Fprintln(stderr, "flowmeter:", err)
	return 1
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists every command, in the order of the usage text.
func commands() []command {
	return []command{
		{"extract", "read captures and write one record per flow (CSV, JSON lines, Parquet, Kafka)", runExtract},
		{"classify", "score every flow with a model (default: the embedded one) and give verdicts; -i IFACE: live", runClassify},
		{"live", "capture from an interface (-i IFACE), classify flows as they end (classify -i)", runLive},
		{"score", "score the flow records in a Kafka topic as a consumer group, verdicts to another topic (exactly once)", runScore},
		{"train", "train a model on labelled flows (grouped cross-validation)", runTrain},
		{"evaluate", "measure a model on labelled flows", runEvaluate},
		{"report", "write an HTML report (curves, confusion matrix, importances, distributions)", runReport},
		{"import-xgboost", "convert an XGBoost JSON model trained on flowmeter's columns", runImportXGBoost},
		{"features", "print the feature schema (name, unit, formula)", runFeatures},
		{"completion", "print a shell completion script: bash or zsh", runCompletion},
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: flowmeter COMMAND [flags] [args]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-15s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'flowmeter COMMAND -h' for the flags of a command, 'flowmeter --version' for the version.\n")
	return b.String()
}

// version is the module version and the commit the binary was built from
// (from the Go build information).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "flowmeter (no build information)"
	}
	v, rev, dirty := bi.Main.Version, "unknown commit", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = "commit " + s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = " (with uncommitted changes)"
		}
	}
	return fmt.Sprintf("flowmeter %s, %s%s, %s", v, rev, dirty, bi.GoVersion)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return errUsage
	}
	name, rest := args[0], args[1:]
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, rest, stdout, stderr)
		}
	}
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return nil
	}
	fmt.Fprint(stderr, usage())
	return usagef("unknown command %q", name)
}
