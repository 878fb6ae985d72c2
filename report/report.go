// Package report writes a self-contained HTML page about a model on labelled
// flows: ROC and precision-recall curves, the confusion matrix, feature
// importances and per-feature distributions of benign and malicious flows.
// Plots are SVG, drawn offline by gonum.org/v1/plot and inlined in the page,
// so it loads nothing from the network. It is the only package that imports
// the plotting library.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/flowmeter/flowmeter/model"
)

// Input is what the report shows.
type Input struct {
	Title      string
	Model      string // a line about the model
	Data       string // a line about the data
	Scores     []float64
	Labels     []bool // true: malicious
	Metrics    model.Metrics
	Importance map[string]float64
	// Features holds, per feature to plot, the values of the benign [0] and
	// malicious [1] flows.
	Features map[string][2][]float64
	Order    []string // features in the order to show
	// Warning, when set, is shown above everything: the data is (partly)
	// the model's training data, so the curves flatter it.
	Warning string
}

var (
	benignColor    = color.RGBA{R: 46, G: 125, B: 50, A: 255}
	maliciousColor = color.RGBA{R: 198, G: 40, B: 40, A: 255}
)

func svg(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// curve returns the ROC (FPR, recall) or precision-recall (recall,
// precision) points of the scores.
func curve(scores []float64, labels []bool, pr bool) plotter.XYs {
	pts, pos, neg := model.Curve(scores, labels)
	xy := plotter.XYs{}
	if !pr {
		xy = append(xy, plotter.XY{})
	}
	for _, p := range pts {
		if pr {
			xy = append(xy, plotter.XY{X: p.TP / math.Max(pos, 1), Y: p.TP / (p.TP + p.FP)})
		} else {
			xy = append(xy, plotter.XY{X: p.FP / math.Max(neg, 1), Y: p.TP / math.Max(pos, 1)})
		}
	}
	return xy
}

// linePlot draws a curve with what a classifier that guesses would draw
// (chance, dashed) and the model's operating point at its threshold.
func linePlot(title, x, y string, pts, chance plotter.XYs, at plotter.XY) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.Color = maliciousColor
	l.Width = vg.Points(1.5)
	c, err := plotter.NewLine(chance)
	if err != nil {
		return nil, err
	}
	c.Color, c.Dashes = color.Gray{Y: 140}, []vg.Length{vg.Points(4), vg.Points(3)}
	mark, err := plotter.NewScatter(plotter.XYs{at})
	if err != nil {
		return nil, err
	}
	mark.GlyphStyle.Color, mark.GlyphStyle.Radius, mark.GlyphStyle.Shape = color.Black, vg.Points(4), draw.CircleGlyph{}
	p.Add(plotter.NewGrid(), c, l, mark)
	p.Legend.Add("model", l)
	p.Legend.Add("chance", c)
	p.Legend.Add("at the threshold", mark)
	p.Legend.Top = false // bottom right: below an ROC curve, below a precision-recall curve
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(14), vg.Points(8)
	return p, nil
}

// bar is one input's share of the importance, for the HTML bar chart.
type bar struct {
	Name  string
	Share float64
	Width float64 // % of the largest
}

// importanceBars lists the 20 largest importances, largest first: an HTML
// chart, so that every feature name shows in full.
func importanceBars(imp map[string]float64) []bar {
	var all []bar
	for k, v := range imp {
		all = append(all, bar{Name: k, Share: v})
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].Share > all[j].Share || all[i].Share == all[j].Share && all[i].Name < all[j].Name
	})
	if len(all) > 20 {
		all = all[:20]
	}
	for i := range all {
		all[i].Width = 100 * all[i].Share / math.Max(all[0].Share, 1e-12)
	}
	return all
}

// distPlot overlays histograms of log10(1+|x|)·sign(x) for benign and
// malicious flows, each normalised to its own count.
func distPlot(name string, vals [2][]float64) (*plot.Plot, error) {
	tr := func(x float64) float64 { return math.Copysign(math.Log10(1+math.Abs(x)), x) }
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range vals {
		for _, v := range vs {
			t := tr(v)
			lo, hi = math.Min(lo, t), math.Max(hi, t)
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	const bins = 30
	p := plot.New()
	p.Title.Text = name
	p.X.Label.Text = "sign(x)·log10(1+|x|)"
	p.Y.Label.Text = "share of flows"
	for c, vs := range vals {
		if len(vs) == 0 {
			continue
		}
		counts := make([]float64, bins)
		for _, v := range vs {
			k := int(float64(bins) * (tr(v) - lo) / (hi - lo))
			counts[min(max(k, 0), bins-1)]++
		}
		pts := make(plotter.XYs, 0, 2*bins)
		for k, n := range counts {
			x0 := lo + (hi-lo)*float64(k)/bins
			x1 := lo + (hi-lo)*float64(k+1)/bins
			y := n / float64(len(vs))
			pts = append(pts, plotter.XY{X: x0, Y: y}, plotter.XY{X: x1, Y: y})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Width = vg.Points(1.5)
		name := "benign"
		l.Color = benignColor
		if c == 1 {
			name, l.Color = "malicious", maliciousColor
		}
		p.Add(l)
		p.Legend.Add(name, l)
	}
	p.Legend.Top = true
	return p, nil
}

type figure struct {
	Caption string
	SVG     template.HTML
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{"pct": func(x float64) float64 { return 100 * x }}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.3em .8em;text-align:right}
th{background:#f3f3f3}.fig{display:inline-block;margin:.5em;vertical-align:top}
.fig p{text-align:center;margin:.2em;font-size:90%}
.warn{background:#fff3cd;border:1px solid #e0b000;padding:.6em}
.bars td{text-align:left;min-width:20em}.bars td.name{font-family:monospace;min-width:0}
.bar{display:inline-block;height:.9em;background:#c62828;vertical-align:middle;max-width:80%}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.Model}}<br>{{.Data}}</p>
{{if .Warning}}<p class="warn" id="warning"><strong>Warning:</strong> {{.Warning}}</p>{{end}}
<h2>At the threshold {{printf "%.4g" .M.Threshold}}</h2>
<table><tr><th>truth \ verdict</th><th>benign</th><th>malicious</th></tr>
<tr><th>benign</th><td>{{.M.TN}}</td><td>{{.M.FP}}</td></tr>
<tr><th>malicious</th><td>{{.M.FN}}</td><td>{{.M.TP}}</td></tr></table>
<table><tr><th>precision</th><th>recall</th><th>F1</th><th>false-positive rate</th><th>ROC AUC</th><th>PR AUC</th><th>recall at 1 % FPR</th></tr>
<tr><td>{{printf "%.4f" .M.Precision}}</td><td>{{printf "%.4f" .M.Recall}}</td><td>{{printf "%.4f" .M.F1}}</td><td>{{printf "%.4f" .M.FPR}}</td><td>{{printf "%.4f" .M.ROCAUC}}</td><td>{{printf "%.4f" .M.PRAUC}}</td><td>{{printf "%.4f" .M.RecallAt1FPR}}</td></tr></table>
{{range .Curves}}<div class="fig">{{.SVG}}<p>{{.Caption}}</p></div>{{end}}
{{if .Bars}}<h2>What the model leans on</h2>
<table class="bars"><tr><th>feature</th><th>share of the importance</th></tr>
{{range .Bars}}<tr><td class="name">{{.Name}}</td><td><div class="bar" style="width:{{printf "%.1f" .Width}}%"></div> {{printf "%.4f" .Share}}</td></tr>
{{end}}</table>{{end}}
<h2>Flagged per category</h2>
<table><tr><th>truth</th><th>category</th><th>flows</th><th>flagged</th></tr>
{{range .M.Categories}}<tr><td>{{.Label}}</td><td style="text-align:left">{{.Category}}</td><td>{{.Flows}}</td><td>{{printf "%.1f %%" (pct .Rate)}}</td></tr>
{{end}}</table>
<h2>Feature distributions, benign and malicious</h2>
{{range .Dists}}<div class="fig">{{.SVG}}<p>{{.Caption}}</p></div>{{end}}
</body></html>
`))

// Write writes DIR/index.html (and nothing else: plots are inline).
func Write(dir string, in *Input) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var curves, dists []figure
	m := in.Metrics
	roc, err := linePlot(fmt.Sprintf("ROC curve (AUC %.3f)", m.ROCAUC), "false-positive rate", "recall", curve(in.Scores, in.Labels, false),
		plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, plotter.XY{X: m.FPR, Y: m.Recall})
	if err != nil {
		return err
	}
	base := float64(m.TP+m.FN) / math.Max(float64(m.TP+m.FN+m.FP+m.TN), 1) // the share of malicious flows
	prc, err := linePlot(fmt.Sprintf("Precision-recall curve (AP %.3f)", m.PRAUC), "recall", "precision", curve(in.Scores, in.Labels, true),
		plotter.XYs{{X: 0, Y: base}, {X: 1, Y: base}}, plotter.XY{X: m.Recall, Y: m.Precision})
	if err != nil {
		return err
	}
	for _, p := range []struct {
		p *plot.Plot
		c string
	}{{roc, "ROC"}, {prc, "precision-recall"}} {
		s, err := svg(p.p, 4.5*vg.Inch, 3.5*vg.Inch)
		if err != nil {
			return err
		}
		curves = append(curves, figure{p.c, s})
	}
	for _, name := range in.Order {
		dp, err := distPlot(name, in.Features[name])
		if err != nil {
			return err
		}
		s, err := svg(dp, 3.6*vg.Inch, 2.6*vg.Inch)
		if err != nil {
			return err
		}
		dists = append(dists, figure{name, s})
	}
	var b bytes.Buffer
	err = page.Execute(&b, map[string]any{"Title": in.Title, "Model": in.Model, "Data": in.Data, "M": in.Metrics, "Curves": curves, "Dists": dists, "Warning": in.Warning, "Bars": importanceBars(in.Importance)})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.html"), b.Bytes(), 0o644)
}
