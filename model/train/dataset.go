// Package train fits models on labelled flows: gradient-boosted decision
// trees (histogram-based, flowmeter's own trainer) and logistic regression,
// with capture-grouped cross-validation. It is imported only by the train
// and evaluate commands.
//
// Training is deterministic: for the same data, flags and seed it yields the
// same model file.
package train

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/label"
)

// Dataset is labelled flows, column-major: X[j][i] is feature j of flow i.
type Dataset struct {
	Schema *feature.Schema
	X      [][]float64 // one column per schema feature
	Y      []bool      // malicious
	Cat    []string
	Group  []string // the capture each flow came from
	// Absent lists the features that some of the data lacked: flow tables
	// written before the features derived from the application metadata
	// (feature.AppFeaturePrefix) existed. Their values are −1 there, and
	// they are not model inputs (Train leaves them out).
	Absent []string
}

// Len is the number of flows.
func (d *Dataset) Len() int { return len(d.Y) }

// LeaveOut returns d without the malicious flows whose category matches
// one of patterns (path.Match globs, "c2:*"; * does not cross a /), and
// how many it left out: attacks whose flows the model's inputs cannot tell
// from ordinary traffic (an HTTPS beacon's single request, without inputs
// over several flows) only teach it that ordinary traffic is suspicious. A
// malformed pattern is an error.
func (d *Dataset) LeaveOut(patterns []string) (*Dataset, int, error) {
	if len(patterns) == 0 {
		return d, 0, nil
	}
	if err := CheckPatterns(patterns); err != nil {
		return nil, 0, err
	}
	var keep []int
	for i, c := range d.Cat {
		if !d.Y[i] || !excluded(c, patterns) {
			keep = append(keep, i)
		}
	}
	if len(keep) == d.Len() {
		return d, 0, nil
	}
	return d.Subset(keep), d.Len() - len(keep), nil
}

// Subset returns the flows at rows (sharing nothing with d).
func (d *Dataset) Subset(rows []int) *Dataset {
	s := &Dataset{Schema: d.Schema, X: make([][]float64, len(d.X)), Absent: d.Absent}
	for j := range d.X {
		col := make([]float64, len(rows))
		for k, i := range rows {
			col[k] = d.X[j][i]
		}
		s.X[j] = col
	}
	for _, i := range rows {
		s.Y = append(s.Y, d.Y[i])
		s.Cat = append(s.Cat, d.Cat[i])
		s.Group = append(s.Group, d.Group[i])
	}
	return s
}

// Row copies flow i's features into dst (schema order).
func (d *Dataset) Row(i int, dst []float64) []float64 {
	dst = dst[:0]
	for j := range d.X {
		dst = append(dst, d.X[j][i])
	}
	return dst
}

// Counts returns the number of benign and malicious flows.
func (d *Dataset) Counts() (benign, malicious int) {
	for _, y := range d.Y {
		if y {
			malicious++
		} else {
			benign++
		}
	}
	return
}

// Builder collects labelled records into a Dataset, keeping at most Cap
// flows per capture (a uniform sample, by reservoir sampling with a fixed
// seed) and dropping unlabelled and "unknown" flows. Each flow's group
// (cross-validation) is its capture, or its capture's directory with
// BySource. It implements
// meter.Sink, so a meter can feed it directly.
type Builder struct {
	Cap      int  // 0: no cap
	BySource bool // group flows by their capture's directory instead of the capture
	rng      *rand.Rand
	ds       *Dataset
	// per capture: rows held and flows seen
	held map[string][]int
	seen map[string]int
}

// NewBuilder returns a Builder for records of schema s.
func NewBuilder(s *feature.Schema, cap int, seed uint64) *Builder {
	return &Builder{Cap: cap, rng: rand.New(rand.NewPCG(seed, 0x5EED)),
		ds:   &Dataset{Schema: s, X: make([][]float64, s.Len())},
		held: map[string][]int{}, seen: map[string]int{}}
}

// Write adds a record (meter.Sink).
func (b *Builder) Write(r *feature.Record) error {
	b.add(r.Values, r.Label, r.Category, r.Capture)
	return nil
}

// Close implements meter.Sink.
func (b *Builder) Close() error { return nil }

func isMalicious(l string) (mal, ok bool) {
	switch l {
	case "", label.Unknown:
		return false, false
	case label.Benign:
		return false, true
	}
	return true, true
}

func (b *Builder) add(values []float64, lab, cat, group string) {
	mal, ok := isMalicious(lab)
	if !ok {
		return
	}
	capture := group
	group = GroupName(group, b.BySource)
	n := b.seen[capture]
	b.seen[capture] = n + 1
	d := b.ds
	if b.Cap > 0 && n >= b.Cap {
		// Reservoir sampling: replace a held row with probability Cap/(n+1).
		k := b.rng.IntN(n + 1)
		if k >= b.Cap {
			return
		}
		i := b.held[capture][k]
		for j := range d.X {
			d.X[j][i] = values[j]
		}
		d.Y[i], d.Cat[i] = mal, cat
		return
	}
	for j := range d.X {
		d.X[j] = append(d.X[j], values[j])
	}
	d.Y = append(d.Y, mal)
	d.Cat = append(d.Cat, cat)
	d.Group = append(d.Group, group)
	b.held[capture] = append(b.held[capture], len(d.Y)-1)
}

// Dataset returns what was collected.
func (b *Builder) Dataset() *Dataset { return b.ds }

// ReadCSV adds the flows of a labelled CSV written by `flowmeter extract
// --labels` (native columns) to b. Errors name the file and line.
func (b *Builder) ReadCSV(path string) error {
	f, err := openCSV(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: no header: %w", path, err)
	}
	cr.ReuseRecord = true // the rows' slices are reused; the header's is its own
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	s := b.ds.Schema
	idx := make([]int, s.Len())
	for j, name := range s.Names() {
		i, ok := col[name]
		if !ok && feature.IsAppFeature(name) {
			idx[j] = -1 // a table from before the feature existed
			if !slices.Contains(b.ds.Absent, name) {
				b.ds.Absent = append(b.ds.Absent, name)
			}
			continue
		}
		if !ok {
			return fmt.Errorf("%s: no column %q: write the CSV with `flowmeter extract --labels RULES --early %d` (native columns)", path, name, s.EarlyN)
		}
		idx[j] = i
	}
	li, ok := col["label"]
	if !ok {
		return fmt.Errorf("%s: no label column: extract with --labels RULES", path)
	}
	ci, gi := col["category"], col["capture"]
	values := make([]float64, s.Len())
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for j, i := range idx {
			if i < 0 {
				values[j] = -1
				continue
			}
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				return fmt.Errorf("%s: line %d: column %s: %q is not a number", path, line, header[i], rec[i])
			}
			values[j] = v
		}
		cat, group := "", path
		if _, ok := col["category"]; ok {
			cat = rec[ci]
		}
		if _, ok := col["capture"]; ok {
			group = rec[gi]
		}
		b.add(values, rec[li], cat, group)
	}
}

// EarlyOfCSV reads a CSV header and returns its early-flow window, so that
// the schema can be built before reading.
func EarlyOfCSV(path string) (int, error) {
	f, err := openCSV(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	header, err := csv.NewReader(f).Read()
	if err != nil {
		return 0, fmt.Errorf("%s: no header: %w", path, err)
	}
	n := 0
	for _, h := range header {
		if strings.HasPrefix(h, "early_") && strings.HasSuffix(h, "_dir") {
			n++
		}
	}
	return n, nil
}

// IsCSV reports whether path names a labelled flow table: .csv, or .csv.gz
// (gzip-compressed, as the lab's committed flow tables are).
func IsCSV(path string) bool {
	p := strings.ToLower(path)
	return strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".csv.gz")
}

// openCSV opens a flow table, decompressing a .gz one.
func openCSV(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil || !strings.HasSuffix(strings.ToLower(path), ".gz") {
		return f, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

// GroupName maps a capture path to its cross-validation group: the capture
// itself, or its directory (the source) when bySource.
func GroupName(capture string, bySource bool) string {
	if bySource {
		return filepath.Dir(capture)
	}
	return capture
}
