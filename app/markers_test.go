package app

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// targetMarkersPlain is TargetMarkers as docs/features.md defines it: for
// each kind, whether any of its markers is in the decoded, lower-case target.
func targetMarkersPlain(t []byte) int {
	var buf [2 * MaxText]byte
	d := decodeTarget(buf[:0], t)
	d = bytes.ToLower(decodeTarget(buf[len(d):len(d)], d))
	n := 0
	for _, kind := range attackMarkers {
		for _, m := range kind {
			if bytes.Contains(d, []byte(m)) {
				n++
				break
			}
		}
	}
	return n
}

// The one-pass matcher finds what a search per marker finds, on targets
// made of markers, their pieces, escapes and plain text.
func TestTargetMarkersOnePass(t *testing.T) {
	var parts []string
	for _, kind := range attackMarkers {
		for _, m := range kind {
			parts = append(parts, m, m[:len(m)/2], m[len(m)/2:])
		}
	}
	parts = append(parts, "/", "a", "%2e", "%252f", "%27", "+", "\\x2e", "OR ", "Union Select", "/index.html")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		var b []byte
		for n := r.IntN(8); n >= 0; n-- {
			b = append(b, parts[r.IntN(len(parts))]...)
		}
		if len(b) > MaxText {
			b = b[:MaxText]
		}
		if got, want := TargetMarkers(b), targetMarkersPlain(b); got != want {
			t.Fatalf("%q: %d kinds, want %d", b, got, want)
		}
	}
}
