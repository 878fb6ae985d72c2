// Command recontext adds the context features that a flow table lacks by
// replaying its flows, in the table's order (the order they ended), through
// the context tracker that extraction uses (feature.Context with its
// default window). It is how the lab's committed training tables
// (lab/flows) gained a context feature added after their runs: the
// captures are not kept, but a context feature reads only what a table
// row holds (addresses, ports, protocol, first and last times, payload
// bytes).
//
// Before it writes anything it checks that the replay gives back, bit for
// bit, every context column the table already has that does not depend on
// whether a flow failed (the table does not say). A table that is not in
// extraction order, was sampled, or was made with another window fails
// that check, and nothing is written.
//
//	go run ./lab/recontext IN.csv[.gz] OUT.csv[.gz]
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/flowmeter/flowmeter/lab/internal/table"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: recontext IN.csv[.gz] OUT.csv[.gz]")
		os.Exit(2)
	}
	st, err := convert(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "recontext:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "recontext: %s: %d flows, %d values checked, added %s\n", os.Args[1], st.rows, st.checked, strings.Join(st.added, ", "))
}

func convert(inPath, outPath string) (stats, error) {
	rows, err := table.Read(inPath)
	if err != nil {
		return stats{}, err
	}
	out, st, err := replay(rows)
	if err != nil {
		return st, fmt.Errorf("%s: %w", inPath, err)
	}
	return st, table.Write(outPath, out)
}
