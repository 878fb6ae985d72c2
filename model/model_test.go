package model_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

func TestMetrics(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.2, 0.1}
	labels := []bool{true, true, false, true, false, false}
	m := model.Evaluate(scores, labels, []string{"a", "a", "b", "a", "b", "b"}, 0.65)
	if m.TP != 2 || m.FP != 1 || m.FN != 1 || m.TN != 2 {
		t.Errorf("confusion %+v", m)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if !near(m.ROCAUC, 8.0/9) || !near(m.PRAUC, 2.75/3) || !near(m.Precision, 2.0/3) || !near(m.Recall, 2.0/3) || !near(m.FPR, 1.0/3) {
		t.Errorf("ROC AUC %v PR AUC %v precision %v recall %v FPR %v", m.ROCAUC, m.PRAUC, m.Precision, m.Recall, m.FPR)
	}
	if len(m.Categories) != 2 || m.Categories[0].Category != "a" || m.Categories[0].Flagged != 2 {
		t.Errorf("categories %+v", m.Categories)
	}
	// 1 % of 3 benign flows is 0 flows: the threshold must clear every benign score
	if thr := model.ThresholdAtFPR(scores, labels, 0.01); thr <= 0.7 || model.RecallAtFPR(scores, labels, 0.01) != 2.0/3 {
		t.Errorf("threshold at 1%% FPR %v", thr)
	}
}

// The embedded default model reads the schema flowmeter writes by default:
// a change of features must come with a retrained default model.
func TestDefaultModelBinds(t *testing.T) {
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := feature.NewSchema(m.Early)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Bind(s); err != nil {
		t.Fatalf("%v: retrain it with the command in docs/model.md", err)
	}
	if m.Early != 8 {
		t.Errorf("default model uses --early %d, the default is 8", m.Early)
	}
	for _, in := range m.Inputs {
		if in == "fwd_init_win" || in == "bwd_init_win" {
			t.Errorf("default model reads the site feature %s", in)
		}
	}
}

// Binding returns a new bound model and leaves the loaded one untouched:
// one model may be bound to several schemas, from several goroutines.
func TestBindLeavesModelUntouched(t *testing.T) {
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	var before, after bytes.Buffer
	m.Save(&before)
	s, _ := feature.NewSchema(m.Early)
	other := s.Without(m.Inputs[0])
	var wg sync.WaitGroup
	bound := make([]*model.Bound, 8)
	for i := range bound {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bound[i], _ = m.Bind(s)
			if _, err := m.Bind(other); err == nil {
				t.Error("bound to a schema without one of its inputs")
			}
		}()
	}
	wg.Wait()
	m.Save(&after)
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Error("Bind changed the model")
	}
	values := make([]float64, s.Len())
	for i := range values {
		values[i] = float64(i % 7)
	}
	for _, b := range bound {
		if b == nil || b.Model != m || b.Score(values) != bound[0].Score(values) {
			t.Fatal("bound models differ")
		}
	}
	if d := m.Describe(); !strings.Contains(d, "trees") {
		t.Errorf("Describe() = %q", d)
	}
}

// Every algorithm a model file may name is in the one table; a name that
// is not is refused when the file is loaded.
func TestUnknownAlgorithmRefused(t *testing.T) {
	m, _ := model.Default()
	var buf bytes.Buffer
	m.Save(&buf)
	name := fmt.Sprintf(`"algorithm": %q`, m.Algorithm)
	if !strings.Contains(buf.String(), name) {
		t.Fatalf("no %s in the file", name)
	}
	text := strings.Replace(buf.String(), name, `"algorithm": "forest"`, 1)
	if _, err := model.Load(strings.NewReader(text)); err == nil || !strings.Contains(err.Error(), `unknown algorithm "forest"`) {
		t.Errorf("Load = %v", err)
	}
}

// A model binds by the inputs it reads: columns added to flowmeter after it
// was trained, wherever they stand, leave it loadable with the same scores;
// an input that is missing or whose meaning changed is refused by name.
func TestBindByInputs(t *testing.T) {
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	full, _ := feature.NewSchema(m.Early + 1) // early_9_* added at the end
	read := map[string]bool{}
	for _, in := range m.Inputs {
		read[in] = true
	}
	// the schema before some columns in the middle were added
	var added []string
	for _, n := range full.Names() {
		if !read[n] && !strings.HasPrefix(n, "early_9_") {
			added = append(added, n) // the site features fwd/bwd_init_win
		}
	}
	if len(added) == 0 {
		t.Fatal("the default model reads every column: pick others")
	}
	old := full.Without(append(added, "early_9_dir", "early_9_size", "early_9_gap_s")...)
	bOld, err := m.Bind(old)
	if err != nil {
		t.Fatal(err)
	}
	bFull, err := m.Bind(full)
	if err != nil {
		t.Fatalf("a schema with %d more columns: %v", len(added)+3, err)
	}
	vf, vo := make([]float64, full.Len()), make([]float64, old.Len())
	for r := 0; r < 50; r++ {
		for i, n := range full.Names() {
			vf[i] = float64((i*7+r*13)%17) / 3
			if j := old.Index(n); j >= 0 {
				vo[j] = vf[i]
			}
		}
		if a, b := bOld.Score(vo), bFull.Score(vf); a != b {
			t.Fatalf("row %d: score %v on the old schema, %v with the added columns", r, a, b)
		}
	}
	// an input gone, and one whose definition changed
	gone := m.Inputs[3]
	less := full.Without(gone)
	changed := *less
	changed.Features = append([]feature.Feature(nil), less.Features...)
	k := less.Index(m.Inputs[0])
	changed.Features[k].Formula += " (now per packet)"
	_, err = m.Bind(&changed)
	var ie *model.InputError
	if !errors.As(err, &ie) || !slices.Equal(ie.Missing, []string{gone}) || !slices.Equal(ie.Changed, []string{m.Inputs[0]}) ||
		!strings.Contains(err.Error(), gone) || !strings.Contains(err.Error(), m.Inputs[0]) {
		t.Errorf("Bind = %v", err)
	}
}

// A model file from before input meanings binds only to the very schema
// it was trained on.
func TestBindWithoutMeanings(t *testing.T) {
	m, _ := model.Default()
	m.InputMeanings = nil
	s, _ := feature.NewSchema(m.Early)
	if _, err := m.Bind(s); err != nil {
		t.Fatal(err)
	}
	other, _ := feature.NewSchema(m.Early + 1)
	var se *model.SchemaError
	if _, err := m.Bind(other); !errors.As(err, &se) {
		t.Errorf("Bind = %v, want a SchemaError", err)
	}
}

// A model is checked, not trusted: a threshold is required and a score in
// (0, 1), and a file whose content changed after Save is refused (unless
// loaded with LoadEdited, knowingly).
func TestModelChecked(t *testing.T) {
	m, _ := model.Default()
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if !strings.Contains(good, `"content_hash": "sha256:`) {
		t.Fatal("Save wrote no content hash")
	}
	if _, err := model.Load(strings.NewReader(good)); err != nil {
		t.Fatalf("a saved model: %v", err)
	}
	thr := fmt.Sprintf(`"threshold": %v,`, m.Threshold)
	if !strings.Contains(good, thr) {
		t.Fatalf("no %s in the file", thr)
	}
	for name, c := range map[string]struct {
		text string
		want error
	}{
		"no threshold":     {strings.Replace(good, thr, "", 1), model.ErrCorrupt},
		"threshold 0":      {strings.Replace(good, thr, `"threshold": 0,`, 1), model.ErrCorrupt},
		"threshold 1":      {strings.Replace(good, thr, `"threshold": 1,`, 1), model.ErrCorrupt},
		"threshold 1.5":    {strings.Replace(good, thr, `"threshold": 1.5,`, 1), model.ErrCorrupt},
		"edited weight":    {strings.Replace(good, `"base": `, `"base": 0.25, "was_base": `, 1), model.ErrEdited},
		"edited threshold": {strings.Replace(good, thr, `"threshold": 0.5,`, 1), model.ErrEdited},
	} {
		_, err := model.Load(strings.NewReader(c.text))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Load = %v, want %v", name, err, c.want)
		}
	}
	edited := strings.Replace(good, thr, `"threshold": 0.5,`, 1)
	if e, err := model.LoadEdited(strings.NewReader(edited)); err != nil || e.Threshold != 0.5 {
		t.Errorf("LoadEdited: %v", err)
	}
}

// classify says what the model promises at its threshold (its out-of-fold
// false-positive rate and recall), and that it promises nothing at another.
func TestPromise(t *testing.T) {
	m, _ := model.Default()
	c, _, err := model.NewClassifier(m, -1)
	if err != nil {
		t.Fatal(err)
	}
	mm := m.Training.Metrics
	if p := c.Promise(); !strings.Contains(p, fmt.Sprintf("%.2f %% of benign", 100*mm.FPR)) || !strings.Contains(p, fmt.Sprintf("%.1f %% of malicious", 100*mm.Recall)) {
		t.Errorf("promise %q", p)
	}
	c2, _, _ := model.NewClassifier(m, 0.9)
	if p := c2.Promise(); !strings.Contains(p, "no promise") {
		t.Errorf("at another threshold: %q", p)
	}
}

// TestThresholdAtGroupFPR: the mean of the groups' benign FPRs is bounded,
// so a small group's false alarms cost as much as a large group's share.
func TestThresholdAtGroupFPR(t *testing.T) {
	var scores []float64
	var labels []bool
	var groups []string
	// big: 1 000 benign flows scoring 0.000–0.999; small: 10 benign flows,
	// one of them at 0.9955; one attack at 0.99.
	for i := 0; i < 1000; i++ {
		scores, labels, groups = append(scores, float64(i)/1000), append(labels, false), append(groups, "big")
	}
	for i := 0; i < 10; i++ {
		s := 0.1
		if i == 0 {
			s = 0.9955
		}
		scores, labels, groups = append(scores, s), append(labels, false), append(groups, "small")
	}
	scores, labels, groups = append(scores, 0.99), append(labels, true), append(groups, "attack")
	flagged := func(thr float64, g string) (n int) {
		for i, s := range scores {
			if groups[i] == g && !labels[i] && s >= thr {
				n++
			}
		}
		return
	}
	// Pooled, 1 % of the 1 010 benign flows may be flagged: the top 10,
	// the small group's 0.9955 among them (10 % of that group).
	if thr := model.ThresholdAtFPR(scores, labels, 0.01); flagged(thr, "small") != 1 || flagged(thr, "big") != 9 {
		t.Fatalf("pooled threshold %v flags %d of small, %d of big; want 1 and 9", thr, flagged(thr, "small"), flagged(thr, "big"))
	}
	// By group, a mean of 1 %: the small group's flow alone would make it
	// 5 %, so the threshold stays above it: the big group's top 4 flows.
	thr := model.ThresholdAtGroupFPR(scores, labels, groups, 0.01)
	if flagged(thr, "small") != 0 || flagged(thr, "big") != 4 || thr > 0.9956 {
		t.Fatalf("group threshold %v flags %d of small, %d of big; want 0 and 4", thr, flagged(thr, "small"), flagged(thr, "big"))
	}
	// Without the small group's outlier, the big group may have 2 % (its
	// top 20 flows) and the small group none: a mean of 1 %.
	scores[1000] = 0.1
	if thr := model.ThresholdAtGroupFPR(scores, labels, groups, 0.01); flagged(thr, "big") != 20 || flagged(thr, "small") != 0 {
		t.Fatalf("group threshold %v flags %d of big, want 20", thr, flagged(thr, "big"))
	}
	// Ties: a threshold flags all flows of one score or none.
	if thr := model.ThresholdAtGroupFPR([]float64{0.9, 0.9, 0.1, 0.1}, []bool{false, false, false, false}, []string{"a", "a", "a", "a"}, 0.3); thr <= 0.9 {
		t.Fatalf("tied scores split: threshold %v", thr)
	}
	if thr := model.ThresholdAtGroupFPR(scores, labels, groups, 1); thr != 0 {
		t.Fatalf("FPR 1: threshold %v, want 0 (flag everything)", thr)
	}
}
