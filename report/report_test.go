package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/report"
)

func TestWrite(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.3, 0.6, 0.2, 0.1}
	labels := []bool{true, true, false, true, false, false}
	dir := t.TempDir()
	in := &report.Input{Title: "t", Scores: scores, Labels: labels,
		Metrics:    model.Evaluate(scores, labels, []string{"scan", "scan", "web", "scan", "web", "web"}, 0.5),
		Importance: map[string]float64{"ctx_src_dst_ports": 0.7, "duration_s": 0.3},
		Features:   map[string][2][]float64{"duration_s": {{1, 2, 3}, {0, 0, 0.1}}},
		Order:      []string{"duration_s"},
	}
	if err := report.Write(dir, in); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if n := strings.Count(page, "<svg"); n != 3 {
		t.Errorf("%d inline SVG plots, want 3 (ROC, PR, 1 distribution)", n)
	}
	if !strings.Contains(page, `<table class="bars">`) {
		t.Error("no importance chart")
	}
	for _, want := range []string{"ROC curve (AUC 1.000)", "<td>0</td><td>3</td>", "scan"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "src=\"http") || strings.Contains(page, "href=\"http") {
		t.Error("page loads something from the network")
	}
}
