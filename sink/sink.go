// Package sink opens the flow-record outputs by name: the target of a -o
// flag. Each format lives in its own package below (csv, jsonl, parquet,
// kafka), the only importer of its library; this package only chooses.
package sink

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/csv"
	"github.com/flowmeter/flowmeter/sink/ipfix"
	"github.com/flowmeter/flowmeter/sink/jsonl"
	"github.com/flowmeter/flowmeter/sink/kafka"
	"github.com/flowmeter/flowmeter/sink/parquet"
	"github.com/flowmeter/flowmeter/sink/zeek"
)

// Sink receives flow records (meter.Sink).
type Sink interface {
	Write(r *feature.Record) error
	Close() error
}

// ErrTarget marks a target that names no output (a usage error).
var ErrTarget = errors.New("bad output")

// Open opens the output target for the columns cols: "-" is CSV on
// stdout; kafka://BROKERS/TOPIC publishes to Kafka; ipfix://HOST:PORT
// exports IPFIX over UDP (records of schema s); a file name ending in
// .jsonl or .json is JSON lines, in .parquet Parquet, in conn.log Zeek's
// conn.log (records of schema s), in .csv or without an extension CSV; any
// other extension is an error, before any file is created. A
// further .gz or .zst compresses the file (flows.csv.gz, flows.jsonl.zst);
// any other scheme (xyz://) is an error.
func Open(target string, cols []feature.Column, s *feature.Schema, stdout io.Writer) (Sink, error) {
	sp, err := parse(target)
	switch {
	case err != nil:
		return nil, err
	case sp.kafka != nil:
		return kafka.NewWriter(*sp.kafka, cols)
	case sp.ipfixAddr != "":
		return ipfix.NewWriter(sp.ipfixAddr, sp.ipfixDomain, s)
	}
	name, codec := sp.name, sp.codec
	var w io.WriteCloser = nopCloser{stdout}
	if target != "-" {
		f, err := os.Create(target)
		if err != nil {
			return nil, err
		}
		w = f
	}
	switch codec {
	case ".gz":
		w = compressed{gzip.NewWriter(w), w}
	case ".zst":
		zw, err := zstd.NewWriter(w)
		if err != nil {
			w.Close()
			return nil, err
		}
		w = compressed{zw, w}
	}
	switch {
	case strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".json"):
		return jsonl.NewWriter(w, cols), nil
	case strings.HasSuffix(name, ".parquet"):
		return parquet.NewWriter(w, cols), nil
	case strings.HasSuffix(name, "conn.log"):
		zw, err := zeek.NewWriter(w, s)
		if err != nil {
			w.Close()
		}
		return zw, err
	}
	return csv.NewWriter(w, cols), nil
}

// compressed is a compressor over a file: Close ends the stream, then
// closes the file.
type compressed struct {
	io.WriteCloser
	file io.Closer
}

func (c compressed) Close() error {
	err := c.WriteCloser.Close()
	if cerr := c.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// Check reports whether target names an output Open knows, without
// creating anything: check every target before opening the first.
func Check(target string) error {
	_, err := parse(target)
	return err
}

// spec is what a target names: a Kafka topic, an IPFIX collector, or a
// file (or "-") with its compression.
type spec struct {
	kafka       *kafka.Config
	ipfixAddr   string
	ipfixDomain uint32
	name, codec string
}

// parse reads a target, refusing a scheme, URL or extension Open does not
// know.
func parse(target string) (spec, error) {
	scheme, _, ok := strings.Cut(target, "://")
	switch {
	case !ok:
		name, codec, err := fileTarget(target)
		return spec{name: name, codec: codec}, err
	case scheme == "kafka":
		cfg, err := kafka.ParseURL(target)
		if err != nil {
			return spec{}, fmt.Errorf("%w: %v", ErrTarget, err)
		}
		return spec{kafka: &cfg}, nil
	case scheme == "ipfix":
		addr, domain, err := ipfix.ParseURL(target)
		if err != nil {
			return spec{}, fmt.Errorf("%w: %v", ErrTarget, err)
		}
		return spec{ipfixAddr: addr, ipfixDomain: domain}, nil
	}
	return spec{}, fmt.Errorf("%w: unknown scheme %s:// (kafka:// and ipfix:// are known)", ErrTarget, scheme)
}

// fileTarget splits a file target into its name and compression (.gz,
// .zst or ""), and refuses an extension Open does not know.
func fileTarget(target string) (name, codec string, err error) {
	name = target
	for _, ext := range []string{".gz", ".zst"} {
		if strings.HasSuffix(target, ext) {
			name, codec = strings.TrimSuffix(target, ext), ext
		}
	}
	if codec != "" && strings.HasSuffix(name, ".parquet") {
		return "", "", fmt.Errorf("%w: %s: Parquet compresses its columns itself (zstd); write .parquet", ErrTarget, target)
	}
	if ext := filepath.Ext(name); ext != "" && !knownExt[ext] && !strings.HasSuffix(name, "conn.log") {
		return "", "", fmt.Errorf("%w: %s: unknown extension %s (.csv, .jsonl, .json, .parquet, conn.log; then .gz or .zst to compress)", ErrTarget, target, ext)
	}
	return name, codec, nil
}

// knownExt are the file extensions Open knows (a name without one, such as
// /dev/null, is CSV).
var knownExt = map[string]bool{".csv": true, ".jsonl": true, ".json": true, ".parquet": true}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
