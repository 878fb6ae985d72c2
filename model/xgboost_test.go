package model_test

import (
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

// The system Python, where Debian's python3-xgboost installs.
const python = "/usr/bin/python3"

const trainScript = `
import sys, json
import pandas as pd, xgboost as xgb
d = pd.read_csv(sys.argv[1])
y = d.pop("label")
dm = xgb.DMatrix(d, label=y)  # the DataFrame's columns become the feature names
bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "tree_method": "hist", "seed": 1}, dm, 25)
bst.save_model(sys.argv[2])
p = bst.predict(dm)
with open(sys.argv[3], "w") as f:
    f.write("\n".join(repr(float(v)) for v in p))
`

// TestImportXGBoost trains an XGBoost model with Debian's python3-xgboost on
// flowmeter column names, imports it, and checks that flowmeter's scores
// are XGBoost's predictions.
func TestImportXGBoost(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(python, "-c", "import xgboost, pandas").Run(); err != nil {
		t.Skip("python3-xgboost (and pandas) not installed: apt-get install python3-xgboost python3-pandas")
	}
	s, _ := feature.NewSchema(8)
	cols := []string{"duration_s", "fwd_packets", "bwd_packets", "fwd_pkt_len_mean", "ctx_src_dst_ports", "flow_iat_mean_s", "syn_count"}
	dir := t.TempDir()
	data := filepath.Join(dir, "flows.csv")
	f, _ := os.Create(data)
	w := csv.NewWriter(f)
	w.Write(append(append([]string{}, cols...), "label"))
	var rows [][]float64
	for i := 0; i < 600; i++ {
		row := make([]float64, len(cols))
		for j := range row {
			row[j] = math.Round(1000*math.Abs(math.Sin(float64(i*(j+3))+float64(j)))*float64(j+1)) / 100
		}
		lab := 0
		if row[4] > 3 && row[1] < 5 || row[6] > 6 {
			lab = 1
		}
		rec := make([]string, 0, len(cols)+1)
		for _, v := range row {
			rec = append(rec, strconv.FormatFloat(v, 'f', -1, 64))
		}
		w.Write(append(rec, strconv.Itoa(lab)))
		rows = append(rows, row)
	}
	w.Flush()
	f.Close()
	modelPath, predPath := filepath.Join(dir, "xgb.json"), filepath.Join(dir, "pred.txt")
	cmd := exec.Command(python, "-c", trainScript, data, modelPath, predPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xgboost: %v\n%s", err, out)
	}
	mf, err := os.Open(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	m, err := model.ImportXGBoost(mf, s, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Bind(s)
	if err != nil {
		t.Fatal(err)
	}
	predText, _ := os.ReadFile(predPath)
	preds := strings.Split(strings.TrimSpace(string(predText)), "\n")
	values := make([]float64, s.Len())
	worst := 0.0
	for i, row := range rows {
		for j, c := range cols {
			values[s.Index(c)] = row[j]
		}
		want, _ := strconv.ParseFloat(preds[i], 64)
		got := b.Score(values)
		worst = math.Max(worst, math.Abs(got-want))
		if math.Abs(got-want) > 1e-5 {
			t.Fatalf("row %d: flowmeter %v, xgboost %v", i, got, want)
		}
	}
	t.Logf("600 rows agree within %.2g", worst)
}
