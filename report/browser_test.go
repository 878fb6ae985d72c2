package report_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/report"
)

// chromium runs Debian's Chromium headless on the page, with nothing that
// reaches the network, and returns its stdout.
func chromium(t *testing.T, page string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian's chromium package)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--user-data-dir=" + t.TempDir()}
	out, err := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

// The page renders in a real browser: its DOM has the warning, the
// confusion matrix, the two curves (with chance and the operating point),
// the importance chart with full feature names and the distributions, and
// a screenshot is taken.
func TestPageInBrowser(t *testing.T) {
	dir := t.TempDir()
	scores := []float64{0.9, 0.8, 0.3, 0.7, 0.1, 0.2}
	labels := []bool{true, true, false, true, false, false}
	in := &report.Input{
		Title: "browser test", Model: "Model: test.", Data: "Data: six flows.", Scores: scores, Labels: labels,
		Metrics:    model.Evaluate(scores, labels, []string{"scan", "scan", "web", "scan", "web", "web"}, 0.5),
		Importance: map[string]float64{"ctx_src_failed_ratio": 0.6, "flow_payload_bytes_per_s": 0.4},
		Features:   map[string][2][]float64{"duration_s": {{1, 2, 3}, {0, 0, 0.1}}},
		Order:      []string{"duration_s"},
		Warning:    "these flows trained the model.",
	}
	if err := report.Write(dir, in); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "index.html")
	dom := chromium(t, page, "--dump-dom")
	for _, want := range []string{`id="warning"`, "these flows trained the model", "ROC curve", "Precision-recall curve", "chance",
		"at the threshold", ">ctx_src_failed_ratio<", ">flow_payload_bytes_per_s<", "<svg"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<svg"); n != 3 {
		t.Errorf("%d SVG figures rendered, want 3", n)
	}
	shot := filepath.Join(dir, "page.png")
	chromium(t, page, "--window-size=1200,1600", "--screenshot="+shot)
	if st, err := os.Stat(shot); err != nil || st.Size() < 20000 {
		t.Errorf("screenshot: %v", err)
	}
}
