package sink_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink"
)

func write(t *testing.T, target string, cols []feature.Column) {
	t.Helper()
	s, err := sink.Open(target, cols, schema0(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := feature.NewSchema(0)
	r := &feature.Record{ID: 7, Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Proto: 6, Values: make([]float64, schema.Len())}
	for i := 0; i < 100; i++ {
		r.Values[0] = float64(i)
		if err := s.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// An output ending in .gz or .zst is compressed: it decompresses to the
// plain output, byte for byte (it used to be plain text under that name).
func TestCompressedOutputs(t *testing.T) {
	schema, _ := feature.NewSchema(0)
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	dir := t.TempDir()
	for _, base := range []string{"f.csv", "f.jsonl"} {
		plain := filepath.Join(dir, base)
		write(t, plain, cols)
		want, _ := os.ReadFile(plain)
		for _, ext := range []string{".gz", ".zst"} {
			write(t, plain+ext, cols)
			f, _ := os.Open(plain + ext)
			var r io.Reader
			if ext == ".gz" {
				zr, err := gzip.NewReader(f)
				if err != nil {
					t.Fatalf("%s%s is not gzip: %v", base, ext, err)
				}
				r = zr
			} else {
				zr, err := zstd.NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				r = zr.IOReadCloser()
			}
			got, err := io.ReadAll(r)
			f.Close()
			if err != nil || !bytes.Equal(got, want) || len(want) < 1000 {
				t.Errorf("%s%s: %v, %d bytes decompressed, want %d", base, ext, err, len(got), len(want))
			}
		}
	}
}

func TestTargetErrors(t *testing.T) {
	dir := t.TempDir()
	for _, target := range []string{"s3://bucket/flows", "http://x/y", filepath.Join(dir, "f.parquet.gz"), "kafka://", "kafka://host:9092",
		filepath.Join(dir, "f.csv.bz2"), filepath.Join(dir, "f.xz"), filepath.Join(dir, "f.txt")} {
		if _, err := sink.Open(target, nil, schema0(), io.Discard); !errors.Is(err, sink.ErrTarget) {
			t.Errorf("%s: %v", target, err)
		}
	}
}

func schema0() *feature.Schema {
	s, _ := feature.NewSchema(0)
	return s
}

// Check refuses what Open would, without creating anything.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	for target, ok := range map[string]bool{"-": true, "/dev/null": true, filepath.Join(dir, "a.csv.gz"): true, "kafka://h:1/t": true,
		"ipfix://127.0.0.1:4739": true, filepath.Join(dir, "conn.log"): true, filepath.Join(dir, "a.csv.bz2"): false, "s3://b/k": false,
		"kafka://h:1": false, filepath.Join(dir, "a.parquet.zst"): false} {
		if err := sink.Check(target); (err == nil) != ok {
			t.Errorf("%s: %v", target, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Check created %d files", len(entries))
	}
}
