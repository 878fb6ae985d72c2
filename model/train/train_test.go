package train_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/model/train"
)

var schema, _ = feature.NewSchema(2)

// fixture builds a small labelled dataset where malicious flows are short,
// failed and come from hosts that contact many ports (ctx_src_dst_ports),
// spread over 10 captures.
func fixture() *train.Dataset {
	b := train.NewBuilder(schema, 0, 1)
	values := make([]float64, schema.Len())
	ports, dur, pk := schema.Index("ctx_src_dst_ports"), schema.Index("duration_s"), schema.Index("packets")
	for c := 0; c < 10; c++ {
		for i := 0; i < 40; i++ {
			for j := range values {
				values[j] = float64((i*7 + j*3 + c) % 11) // noise
			}
			mal := c%2 == 0 && i%4 != 0
			lab := "benign"
			if mal {
				values[ports] = 20 + float64(i%9)
				values[dur] = 0.001 * float64(i%3)
				values[pk] = 1 + float64(i%2)
				lab = "malicious"
			} else {
				values[ports] = 1 + float64(i%3)
				values[dur] = 1 + float64(i%5)
				values[pk] = 5 + float64(i%13)
			}
			b.Write(&feature.Record{Values: values, Label: lab, Category: "cat-" + lab, Capture: fmt.Sprintf("cap%d.pcap", c)})
		}
	}
	b.Write(&feature.Record{Values: values, Label: "unknown", Capture: "cap0.pcap"}) // left out
	return b.Dataset()
}

func TestBuilder(t *testing.T) {
	d := fixture()
	if d.Len() != 400 {
		t.Fatalf("%d flows, want 400 (unknown dropped)", d.Len())
	}
	b := train.NewBuilder(schema, 5, 1)
	values := make([]float64, schema.Len())
	for i := 0; i < 100; i++ {
		values[0] = float64(i)
		b.Write(&feature.Record{Values: values, Label: "benign", Capture: "big.pcap"})
	}
	if n := b.Dataset().Len(); n != 5 {
		t.Errorf("cap 5 kept %d flows", n)
	}
	// Grouped by source, the cap is still per capture: two captures of one
	// directory keep 5 flows each, in one group.
	b = train.NewBuilder(schema, 5, 1)
	b.BySource = true
	for i := 0; i < 100; i++ {
		b.Write(&feature.Record{Values: values, Label: "benign", Capture: fmt.Sprintf("src/%d.pcap", i%2)})
	}
	if d := b.Dataset(); d.Len() != 10 || d.Groups() != 1 {
		t.Errorf("by source: %d flows in %d groups, want 10 in 1", d.Len(), d.Groups())
	}
}

// Train-only captures get fold -1 (always trained on, never scored), and
// the other captures keep the folds they get without them.
func TestGroupFoldsTrainOnly(t *testing.T) {
	d := fixture()
	extra := func(g string) bool { return g == "cap8.pcap" || g == "cap9.pcap" }
	with := train.GroupFolds(d, 3, 7, extra)
	if with["cap8.pcap"] != -1 || with["cap9.pcap"] != -1 {
		t.Fatalf("train-only captures in folds %d, %d", with["cap8.pcap"], with["cap9.pcap"])
	}
	base := train.GroupFolds(d.Subset(rowsNotIn(d, extra)), 3, 7, nil)
	for g, f := range base {
		if with[g] != f {
			t.Errorf("%s: fold %d with train-only captures, %d without", g, with[g], f)
		}
	}
	held := train.HeldOut(d, with)
	if len(held) != 8*40 {
		t.Errorf("%d rows held out, want %d", len(held), 8*40)
	}
	oof, err := train.CrossValidate(d, train.Config{Approach: train.ApproachLogReg, LogReg: train.DefaultLogReg, Folds: 3}, with)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range held {
		if oof[i] == 0 {
			t.Fatalf("held-out row %d not scored", i)
		}
	}
}

func rowsNotIn(d *train.Dataset, skip func(string) bool) []int {
	var rows []int
	for i, g := range d.Group {
		if !skip(g) {
			rows = append(rows, i)
		}
	}
	return rows
}

func TestGroupFoldsNeverSplitACapture(t *testing.T) {
	d := fixture()
	fold := train.GroupFolds(d, 3, 7, nil)
	seen := map[int]int{}
	for g, f := range fold {
		if f < 0 || f >= 3 {
			t.Errorf("capture %s in fold %d", g, f)
		}
		seen[f]++
	}
	if len(fold) != 10 || len(seen) != 3 {
		t.Errorf("%d captures in %d folds", len(fold), len(seen))
	}
	// every flow of a capture is scored by a model that never saw that capture:
	// the folds are a function of the capture name alone.
	for i, g := range d.Group {
		if fold[g] != fold[d.Group[(i/40)*40]] {
			t.Fatalf("flows of %s in different folds", g)
		}
	}
}

func fit(t *testing.T, approach string) *model.Bound {
	t.Helper()
	cfg := train.DefaultConfig
	cfg.Approach = approach
	cfg.GBDT.Rounds, cfg.GBDT.EarlyStop = 20, 0
	cfg.GBDT.MinChildWeight, cfg.GBDT.Lambda = 1, 1
	m, _, err := train.Fit(fixture(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Bind(schema)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Training on the fixture reaches exact predictions: every flow on the right
// side of 0.5, and the same scores on every run.
func TestTrainExactPredictions(t *testing.T) {
	d := fixture()
	for _, a := range []string{train.ApproachGBDT, train.ApproachLogReg, train.ApproachBlend} {
		m := fit(t, a)
		m2 := fit(t, a)
		row := make([]float64, 0, schema.Len())
		for i := 0; i < d.Len(); i++ {
			row = d.Row(i, row)
			s := m.Score(row)
			if (s >= 0.5) != d.Y[i] {
				t.Errorf("%s: flow %d (malicious %v) scored %v", a, i, d.Y[i], s)
			}
			if s2 := m2.Score(row); s2 != s {
				t.Fatalf("%s: not deterministic: %v then %v", a, s, s2)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, a := range []string{train.ApproachGBDT, train.ApproachLogReg, train.ApproachBlend} {
		m := fit(t, a)
		var buf bytes.Buffer
		if err := m.Model.Save(&buf); err != nil {
			t.Fatal(err)
		}
		loaded, err := model.Load(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		m2, err := loaded.Bind(schema)
		if err != nil {
			t.Fatal(err)
		}
		d := fixture()
		row := make([]float64, 0, schema.Len())
		for i := 0; i < d.Len(); i += 7 {
			row = d.Row(i, row)
			if a, b := m.Score(row), m2.Score(row); a != b {
				t.Fatalf("score %v before saving, %v after", a, b)
			}
		}
	}
}

func TestRejects(t *testing.T) {
	m := fit(t, train.ApproachGBDT).Model
	var buf bytes.Buffer
	m.Save(&buf)
	good := buf.String()

	if _, err := m.Bind(mustSchema(4)); err != nil {
		t.Errorf("a schema with more early packets holds every input: %v", err)
	}
	_, err := m.Bind(mustSchema(1))
	var ie *model.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "early_2_size") || !strings.Contains(err.Error(), "--early 2") {
		t.Errorf("a schema without the model's early_2_* inputs: %v", err)
	}
	cases := map[string]string{
		"truncated":      good[:len(good)/2],
		"empty":          "",
		"nonsense":       "hello, world",
		"other format":   `{"format":"xgboost","version":1}`,
		"future version": strings.Replace(good, `"version": 1`, `"version": 99`, 1),
		"bad hash":       strings.Replace(good, `"schema_hash": "`, `"schema_hash": "00`, 1),
		"bad child":      strings.Replace(good, `"left": [`, `"left": [-5,`, 1),
		"bad threshold":  strings.Replace(good, `"threshold": `, `"threshold": 7`, 1),
		"bad meanings":   strings.Replace(good, `"input_meanings": [`, `"input_meanings": ["x",`, 1),
	}
	for name, text := range cases {
		if _, err := model.Load(strings.NewReader(text)); err == nil {
			t.Errorf("%s: loaded", name)
		} else if !errors.Is(err, model.ErrFormat) && !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("%s: error %v is neither ErrFormat nor ErrCorrupt", name, err)
		}
	}
}

func TestCrossValidate(t *testing.T) {
	d := fixture()
	cfg := train.DefaultConfig
	cfg.Folds = 5
	cfg.GBDT.Rounds = 30
	oof, err := train.CrossValidate(d, cfg, train.GroupFolds(d, 5, 1, nil))
	if err != nil {
		t.Fatal(err)
	}
	m := model.Evaluate(oof, d.Y, d.Cat, 0.5)
	if m.ROCAUC < 0.95 || math.IsNaN(m.F1) {
		t.Errorf("out-of-fold ROC AUC %v on a separable fixture", m.ROCAUC)
	}
}

func mustSchema(early int) *feature.Schema {
	s, err := feature.NewSchema(early)
	if err != nil {
		panic(err)
	}
	return s
}

// Leave one group out: each group is its own fold, scored by a model that
// never saw it, and the per-group table counts its flows and flags.
func TestLeaveOneOutByGroup(t *testing.T) {
	d := fixture()
	fold, k := train.LeaveOneOut(d, nil)
	if k != d.Groups() || len(fold) != k {
		t.Fatalf("%d folds for %d groups", k, d.Groups())
	}
	seen := map[int]bool{}
	for _, f := range fold {
		if seen[f] {
			t.Fatal("two groups share a fold")
		}
		seen[f] = true
	}
	cfg := train.DefaultConfig
	cfg.Approach = train.ApproachLogReg
	mm, gm, err := train.LeaveOneOutByGroup(d, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	benign, mal := d.Counts()
	var b, m, fp, caught int
	for _, g := range gm {
		b, m, fp, caught = b+g.Benign, m+g.Malicious, fp+g.FalsePositives, caught+g.Caught
	}
	if len(gm) != k || b != benign || m != mal || fp != mm.FP || caught != mm.TP {
		t.Errorf("%d groups, %d/%d flows, %d FP, %d caught; metrics %+v", len(gm), b, m, fp, caught, mm)
	}
	var out bytes.Buffer
	train.WriteByGroup(&out, gm)
	if strings.Count(out.String(), "\n") != k+2 {
		t.Errorf("table:\n%s", out.String())
	}
}

// A flow table written before the app_* features existed lacks their
// columns: it is read with them absent (−1), and they are not model inputs;
// any other missing column is refused.
func TestReadCSVWithoutAppFeatures(t *testing.T) {
	var names []string
	for _, n := range schema.Names() {
		if !feature.IsAppFeature(n) {
			names = append(names, n)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(names, ",") + ",label,category,capture\n")
	for i := 0; i < 40; i++ {
		row := make([]string, len(names))
		for j := range row {
			row[j] = fmt.Sprint((i*7 + j) % 5)
		}
		lab := "benign"
		if i%2 == 0 {
			lab = "malicious"
			row[schema.Index("packets")] = "1"
		}
		fmt.Fprintf(&b, "%s,%s,x,cap%d.pcap\n", strings.Join(row, ","), lab, i%4)
	}
	path := t.TempDir() + "/old.csv"
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bl := train.NewBuilder(schema, 0, 1)
	if err := bl.ReadCSV(path); err != nil {
		t.Fatal(err)
	}
	d := bl.Dataset()
	if len(d.Absent) == 0 || !feature.IsAppFeature(d.Absent[0]) || d.X[schema.Index(d.Absent[0])][0] != -1 {
		t.Fatalf("absent %v", d.Absent)
	}
	cfg := train.DefaultConfig
	cfg.Folds = 0
	m, _, err := train.Fit(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Inputs {
		if feature.IsAppFeature(in) {
			t.Errorf("input %s, absent from the data", in)
		}
	}
	old := strings.Replace(b.String(), "packets,", "pkts,", 1)
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := train.NewBuilder(schema, 0, 1).ReadCSV(path); err == nil || !strings.Contains(err.Error(), "no column") {
		t.Errorf("a missing feature column: %v", err)
	}
}

// FixRounds chooses the trees once: early stopping off, a round count the
// early stopping found, and the final model has exactly that many trees
// (what the folds' models have too). Logistic regression is left as it is.
func TestFixRounds(t *testing.T) {
	d := fixture()
	cfg := train.DefaultConfig
	cfg.GBDT.Rounds, cfg.GBDT.EarlyStop = 60, 5
	cfg.GBDT.MinChildWeight, cfg.GBDT.Lambda = 1, 1
	c := train.FixRounds(d, cfg)
	if c.GBDT.EarlyStop != 0 || c.GBDT.Rounds < 1 || c.GBDT.Rounds > 60 {
		t.Fatalf("FixRounds: %d rounds, early stop %d", c.GBDT.Rounds, c.GBDT.EarlyStop)
	}
	m, _, err := train.Fit(d, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trees.Trees) != c.GBDT.Rounds {
		t.Errorf("final model: %d trees, want %d", len(m.Trees.Trees), c.GBDT.Rounds)
	}
	lr := cfg
	lr.Approach = train.ApproachLogReg
	if c := train.FixRounds(d, lr); c.GBDT != lr.GBDT {
		t.Errorf("logreg: rounds changed to %+v", c.GBDT)
	}
}

// LeaveOut drops the malicious flows of matching categories, never benign
// ones, and keeps the rest whole.
func TestLeaveOut(t *testing.T) {
	d := fixture()
	b0, m0 := d.Counts()
	s, n, err := d.LeaveOut([]string{"cat-*"})
	if err != nil {
		t.Fatal(err)
	}
	b, m := s.Counts()
	if n != m0 || m != 0 || b != b0 {
		t.Errorf("left out %d: %d benign, %d malicious remain (had %d, %d)", n, b, m, b0, m0)
	}
	if s, n, _ := d.LeaveOut([]string{"other: *"}); n != 0 || s.Len() != d.Len() {
		t.Errorf("no match: left out %d", n)
	}
	if _, _, err := d.LeaveOut([]string{"["}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
}

// The regression of logreg and blend reads its inputs log-scaled and clipped
// at ±5 standard deviations (model.Linear.Log); seed, the original FlowMeter's
// regression, the raw inputs.
func TestLogRegLogScaled(t *testing.T) {
	for a, want := range map[string]bool{train.ApproachLogReg: true, train.ApproachBlend: true, train.ApproachSeed: false} {
		cfg := train.DefaultConfig
		cfg.Approach = a
		cfg.GBDT.Rounds, cfg.GBDT.EarlyStop = 5, 0
		m, _, err := train.Fit(fixture(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if m.LogReg == nil || m.LogReg.Log != want || (m.LogReg.Clip == 5) != want {
			t.Errorf("%s: regression %+v, want log %v", a, m.LogReg, want)
		}
	}
}
