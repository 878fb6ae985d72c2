// Command captable keeps at most N flows of each capture of a flow table (a
// uniform sample per capture: reservoir sampling with a fixed seed), in the
// table's own order. It is how a lab run's table is made small enough to
// commit when training would sample it anyway (`flowmeter train --cap`,
// 2 000 flows per capture): the context columns were computed by the
// extraction over every flow, before sampling, so they are the
// extraction's. A sampled table can no longer be given a new context column
// by lab/recontext (which replays every flow of a capture); make it from
// the run's captures instead.
//
//	go run ./lab/captable [-n 2000] [-seed 1] IN.csv[.gz] OUT.csv[.gz]
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"

	"github.com/flowmeter/flowmeter/lab/internal/table"
)

func main() {
	n := flag.Int("n", 2000, "keep at most `N` flows of each capture")
	seed := flag.Uint64("seed", 1, "the sample's `seed`")
	flag.Parse()
	if flag.NArg() != 2 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: captable [-n N] [-seed S] IN.csv[.gz] OUT.csv[.gz] (N ≥ 1)")
		os.Exit(2)
	}
	kept, total, err := run(flag.Arg(0), flag.Arg(1), *n, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "captable:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "captable: %s: kept %d of %d flows\n", flag.Arg(0), kept, total)
}

func run(inPath, outPath string, n int, seed uint64) (kept, total int, err error) {
	rows, err := table.Read(inPath)
	if err != nil {
		return 0, 0, err
	}
	keep, err := sample(rows, n, seed)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", inPath, err)
	}
	out := make([][]string, 0, len(keep)+1)
	out = append(out, rows[0])
	for _, i := range keep {
		out = append(out, rows[i])
	}
	return len(keep), len(rows) - 1, table.Write(outPath, out)
}

// sample returns the indexes (into rows, header at 0) of the rows kept: at
// most n per value of the "capture" column, each capture's chosen by
// reservoir sampling from one seeded generator, in ascending order.
func sample(rows [][]string, n int, seed uint64) ([]int, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("no header")
	}
	col := -1
	for i, h := range rows[0] {
		if h == "capture" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("no capture column")
	}
	rng := rand.New(rand.NewPCG(seed, 0xCA9))
	held := map[string][]int{}
	seen := map[string]int{}
	for i := 1; i < len(rows); i++ {
		if len(rows[i]) <= col {
			return nil, fmt.Errorf("line %d: %d fields, the header has %d", i+1, len(rows[i]), len(rows[0]))
		}
		c := rows[i][col]
		k := seen[c]
		seen[c] = k + 1
		if k < n {
			held[c] = append(held[c], i)
		} else if j := rng.IntN(k + 1); j < n {
			held[c][j] = i
		}
	}
	var keep []int
	for _, h := range held {
		keep = append(keep, h...)
	}
	sort.Ints(keep)
	return keep, nil
}
