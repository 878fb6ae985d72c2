// Command flowmeter turns packet captures into flow records with a complete,
// documented feature set.
//
//	flowmeter extract [flags] INPUT...   captures → one row per flow (CSV or JSON lines)
//	flowmeter classify [flags] INPUT...  the same, scored by a model, with verdicts
//	flowmeter train -model FILE ...      fit a model on labelled flows
//	flowmeter evaluate [flags] ...       measure a model on labelled flows
//	flowmeter features [-markdown]       the feature schema: name, unit, formula
//
// Run "flowmeter COMMAND -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "flowmeter:", err)
		os.Exit(1)
	}
}

const usage = `usage: flowmeter COMMAND [flags] [args]

commands:
  extract    read captures and write one record per flow (CSV or JSON lines)
  classify   score every flow with a model (default: the embedded one) and give verdicts
  live       capture from an interface (-i IFACE), classify flows as they end
  train      train a model on labelled flows (grouped cross-validation)
  evaluate   measure a model on labelled flows
  report     write an HTML report (curves, confusion matrix, importances, distributions)
  import-xgboost  convert an XGBoost JSON model trained on flowmeter's columns
  features   print the feature schema (name, unit, formula)

Run 'flowmeter COMMAND -h' for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "extract":
		return runExtract(ctx, rest, stdout, stderr)
	case "features":
		return runFeatures(rest, stdout, stderr)
	case "train":
		return runTrain(ctx, rest, stdout, stderr)
	case "classify":
		for _, a := range rest {
			if a == "-i" || a == "--i" || strings.HasPrefix(a, "-i=") || strings.HasPrefix(a, "--i=") {
				return runLive(ctx, rest, stdout, stderr) // classify -i IFACE: a live sensor
			}
		}
		return runClassify(ctx, rest, stdout, stderr)
	case "live":
		return runLive(ctx, rest, stdout, stderr)
	case "evaluate":
		return runEvaluate(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdout, stderr)
	case "import-xgboost":
		return runImportXGBoost(rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "flowmeter: unknown command %q\n%s", cmd, usage)
	return errUsage
}

// parseArgs parses flags anywhere among the arguments (`extract x.pcap -o
// y.csv` works as `extract -o y.csv x.pcap`); "--" ends the flags. fs.Args()
// returns the other arguments afterwards.
func parseArgs(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
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
