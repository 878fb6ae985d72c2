package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A table extracted with every context column, with the newest one taken
// out, gets that column back from the replay exactly as extraction wrote
// it; a table whose rows are out of order is refused.
func TestReplayGivesExtraction(t *testing.T) {
	files, _ := filepath.Glob("../../meter/testdata/*.native.golden.csv")
	if len(files) == 0 {
		t.Fatal("no golden tables")
	}
	const drop = "ctx_pair_svc_same_reply_ratio"
	withCtx := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		k := slices.Index(want[0], drop)
		if k < 0 {
			continue // the column set without context
		}
		withCtx++
		var in [][]string
		for _, r := range want {
			in = append(in, slices.Delete(slices.Clone(r), k, k+1))
		}
		got, st, err := replay(in)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(st.added) != 1 || st.added[0] != drop || st.rows != len(want)-1 || st.checked == 0 {
			t.Errorf("%s: %+v", f, st)
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("%s line %d:\n got %v\nwant %v", f, i+1, got[i], want[i])
			}
		}
		if len(in) > 3 { // two flows of one capture swapped: the replay disagrees
			sw := slices.Clone(in)
			sw[1], sw[len(sw)-1] = sw[len(sw)-1], sw[1]
			if _, _, err := replay(sw); err == nil {
				t.Errorf("%s: rows out of order were accepted", f)
			}
		}
	}
	if withCtx < 3 {
		t.Errorf("only %d golden tables have context columns", withCtx)
	}
}
