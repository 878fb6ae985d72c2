package meter

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// Summary is what a run's summary says besides the counts.
type Summary struct {
	Live         string        // the interface of a live capture; "" offline
	Elapsed      time.Duration // wall time
	SkippedFiles []string      // files in the input directories that are not captures
	OutputErr    error         // an output failed: not every record counted was written
}

// WriteSummary writes the end-of-run summary: packets read, decoded and
// skipped by reason, fragments, flows by end reason and the most open at
// once. Read errors are not in it: the run returns them.
func WriteSummary(w io.Writer, st *Stats, sum Summary) {
	source := fmt.Sprintf("%d files", st.Files)
	switch {
	case sum.Live != "":
		source = "live capture on " + sum.Live
	case st.Files == 1:
		source = "1 file"
	}
	elapsed := sum.Elapsed
	fmt.Fprintf(w, "flowmeter: %s, %d packets (%d bytes) in %.2fs (%.0f packets/s)\n",
		source, st.Packets, st.Bytes, elapsed.Seconds(), float64(st.Packets)/max(elapsed.Seconds(), 1e-9))
	fmt.Fprintf(w, "  decoded %d, ", st.Decoded)
	if st.Filtered > 0 {
		fmt.Fprintf(w, "filtered out %d, ", st.Filtered)
	}
	fmt.Fprintf(w, "skipped %d", st.SkippedTotal())
	var parts []string
	for r, n := range st.Skipped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", packet.Reason(r), n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	if st.FragAttributed+st.FragUnattributed > 0 {
		fmt.Fprintf(w, "  fragments: %d attributed to their flow, %d without their first fragment\n", st.FragAttributed, st.FragUnattributed)
	}
	parts = parts[:0]
	for r, n := range st.ByEnd {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", flow.EndReason(r), n))
		}
	}
	byEnd := ""
	if len(parts) > 0 {
		byEnd = " (" + strings.Join(parts, ", ") + ")"
	}
	written := "written"
	if sum.OutputErr != nil {
		written = "metered (not all written: an output failed)"
	}
	fmt.Fprintf(w, "  flows %s %d%s, at most %d open at once\n", written, st.Flows, byEnd, st.MaxActive)
	if st.Evicted > 0 {
		fmt.Fprintf(w, "  %d flows ended early to make room: the flow table was full (--max-flows)\n", st.Evicted)
	}
	if st.EarlyRecords > 0 {
		fmt.Fprintf(w, "  early verdicts written: %d\n", st.EarlyRecords)
	}
	if len(sum.SkippedFiles) > 0 {
		fmt.Fprintf(w, "  %d files in the input directories are not captures and were skipped\n", len(sum.SkippedFiles))
	}
}

// Lossy is a sink that may lose records without failing (Kafka: a full
// buffer, an undelivered batch).
type Lossy interface {
	Lost() int64 // records lost so far
}

// OutputLost sums the records the lossy sinks lost so far.
func OutputLost(sinks []Sink) int64 {
	var n int64
	for _, s := range sinks {
		if l, ok := s.(Lossy); ok {
			n += l.Lost()
		}
	}
	return n
}

// CloseSinks closes every sink and returns the first error.
func CloseSinks(sinks []Sink) error {
	var first error
	for _, s := range sinks {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
