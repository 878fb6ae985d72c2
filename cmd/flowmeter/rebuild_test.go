package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/model"
)

// The embedded default model is rebuilt, byte for byte, by the command it
// records, from what the repository holds (the lab's flow tables) and the
// public datasets: `go run ./cmd/flowmeter <its command> -o model/default.json`.
func TestDefaultModelRebuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("short: not retraining the default model (about a minute)")
	}
	t.Chdir("../..")
	if _, err := os.Stat("../shared/datasets/labels.csv"); err != nil {
		t.Skip("the public datasets are not at ../shared/datasets")
	}
	want, err := os.ReadFile("model/default.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Default()
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(strings.TrimPrefix(m.Training.Command, "flowmeter "))
	out := filepath.Join(t.TempDir(), "default.json")
	if _, errOut, err := runCmd(t, append(args, "-o", out)...); err != nil {
		t.Fatalf("flowmeter %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Errorf("rebuilding with %q gives another model (%d bytes, the committed one %d)", m.Training.Command, len(got), len(want))
	}
}
