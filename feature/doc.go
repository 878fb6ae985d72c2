// Package feature computes the per-flow statistics of a flow record and
// defines the one schema that names them.
//
// An Acc accumulates a flow packet by packet in O(1) space. A Schema lists
// the features in column order, each with its unit and formula; the same
// Schema drives the CSV header, the JSON keys, docs/features.md and the
// model input, and its Hash pins a trained model to it.
//
// Units: times in seconds (float), sizes in bytes, counts in packets. No
// feature is ever NaN or Infinity: a statistic over an empty series is 0, a
// standard deviation over fewer than 2 values is 0, and a rate over a
// duration of 0 is 0.
package feature

import (
	"fmt"
	"strings"
)

// Markdown renders the schema as the Markdown table in docs/features.md.
func Markdown(s *Schema) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| # | name | unit | formula |\n|---|---|---|---|\n")
	for i, f := range s.Features {
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s |\n", i+1, f.Name, f.Unit, strings.ReplaceAll(f.Formula, "|", "\\|"))
	}
	return b.String()
}
