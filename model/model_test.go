package model_test

import (
	"bytes"
	"math"
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
	other, _ := feature.NewSchema(m.Early + 1)
	var wg sync.WaitGroup
	bound := make([]*model.Bound, 8)
	for i := range bound {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bound[i], _ = m.Bind(s)
			if _, err := m.Bind(other); err == nil {
				t.Error("bound to a schema the model was not trained on")
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
	if d := m.Describe(); !strings.Contains(d, "trees") || !strings.Contains(d, "logistic regression") {
		t.Errorf("Describe() = %q", d)
	}
}

// Every algorithm a model file may name is in the one table; a name that
// is not is refused when the file is loaded.
func TestUnknownAlgorithmRefused(t *testing.T) {
	m, _ := model.Default()
	var buf bytes.Buffer
	m.Save(&buf)
	text := strings.Replace(buf.String(), `"algorithm": "blend"`, `"algorithm": "forest"`, 1)
	if _, err := model.Load(strings.NewReader(text)); err == nil || !strings.Contains(err.Error(), `unknown algorithm "forest"`) {
		t.Errorf("Load = %v", err)
	}
}
