// Package sink opens the flow-record outputs by name: the target of a -o
// flag. Each format lives in its own package below (csv, jsonl, parquet,
// kafka), the only importer of its library; this package only chooses.
package sink

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/jsonl"
	"github.com/flowmeter/flowmeter/sink/kafka"
	"github.com/flowmeter/flowmeter/sink/parquet"
)

// Sink receives flow records (meter.Sink).
type Sink interface {
	Write(r *feature.Record) error
	Close() error
}

// ErrTarget marks a target that names no output (a usage error).
var ErrTarget = errors.New("bad output")

// Open opens the output target for the columns cols: "-" is CSV on
// stdout; kafka://BROKERS/TOPIC publishes to Kafka; a file name ending in
// .jsonl or .json is JSON lines, in .parquet Parquet, anything else CSV.
func Open(target string, cols []feature.Column, stdout io.Writer) (Sink, error) {
	if strings.HasPrefix(target, "kafka://") {
		cfg, err := kafka.ParseURL(target)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTarget, err)
		}
		return kafka.NewWriter(cfg, cols)
	}
	var w io.Writer = nopCloser{stdout}
	if target != "-" {
		f, err := os.Create(target)
		if err != nil {
			return nil, err
		}
		w = f
	}
	switch {
	case strings.HasSuffix(target, ".jsonl") || strings.HasSuffix(target, ".json"):
		return jsonl.NewWriter(w, cols), nil
	case strings.HasSuffix(target, ".parquet"):
		return parquet.NewWriter(w, cols), nil
	}
	return csv.NewWriter(w, cols), nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
