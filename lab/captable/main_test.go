package main

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flowmeter/flowmeter/lab/internal/table"
)

func flows(counts map[string]int) [][]string {
	rows := [][]string{{"flow_id", "capture", "x"}}
	i := 0
	for more := true; more; {
		more = false
		for _, c := range []string{"a", "b", "c"} {
			if counts[c] > 0 {
				counts[c]--
				more = true
				rows = append(rows, []string{fmt.Sprint(i), c, fmt.Sprint(i * 7)})
				i++
			}
		}
	}
	return rows
}

func TestSample(t *testing.T) {
	rows := flows(map[string]int{"a": 50, "b": 5, "c": 500})
	keep, err := sample(rows, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	last := 0
	for _, i := range keep {
		if i <= last {
			t.Fatalf("rows out of order or repeated: %d after %d", i, last)
		}
		last = i
		per[rows[i][1]]++
	}
	if want := map[string]int{"a": 20, "b": 5, "c": 20}; !reflect.DeepEqual(per, want) {
		t.Fatalf("kept per capture %v, want %v", per, want)
	}
	// A capture's later rows are kept too (a sample, not the first N).
	late := false
	for _, i := range keep {
		if rows[i][1] == "c" && i > len(rows)/2 {
			late = true
		}
	}
	if !late {
		t.Fatal("no row of the second half of capture c kept: not a uniform sample")
	}
	again, _ := sample(rows, 20, 1)
	if !reflect.DeepEqual(keep, again) {
		t.Fatal("the same seed gave another sample")
	}
	other, _ := sample(rows, 20, 2)
	if reflect.DeepEqual(keep, other) {
		t.Fatal("another seed gave the same sample")
	}
	if _, err := sample([][]string{{"flow_id"}}, 5, 1); err == nil {
		t.Fatal("a table without a capture column was accepted")
	}
}

func TestRunWritesGzip(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.csv.gz"), filepath.Join(dir, "out.csv.gz")
	rows := flows(map[string]int{"a": 30, "b": 3})
	if err := table.Write(in, rows); err != nil {
		t.Fatal(err)
	}
	kept, total, err := run(in, out, 10, 1)
	if err != nil || kept != 13 || total != 33 {
		t.Fatalf("run: kept %d of %d, %v; want 13 of 33", kept, total, err)
	}
	kept, total, err = run(out, filepath.Join(dir, "again.csv"), 10, 1)
	if err != nil || kept != 13 || total != 13 {
		t.Fatalf("a sampled table sampled again: kept %d of %d, %v; want all 13", kept, total, err)
	}
}
