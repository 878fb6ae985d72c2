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

// escapedPlain is set's text as docs/app.md defines it: \\ for a
// backslash, \xNN for a byte that is not printable ASCII, cut before the
// text could not take one more 4-byte escape within MaxText.
func escapedPlain(v []byte) string {
	const hex = "0123456789abcdef"
	var t []byte
	for _, c := range v {
		if len(t)+4 > MaxText {
			break
		}
		switch {
		case c == '\\':
			t = append(t, '\\', '\\')
		case c < 0x20 || c >= 0x7f:
			t = append(t, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			t = append(t, c)
		}
	}
	return string(t)
}

// set's whole copy of printable text gives what escaping byte by byte
// gives, at every length around the cut and with an escape anywhere.
func TestSetPrintable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		v := make([]byte, r.IntN(2*MaxText))
		for j := range v {
			v[j] = byte(0x20 + r.IntN(0x5f))
			if r.IntN(400) == 0 {
				v[j] = []byte{'\\', 0, 0x7f, 0xff, '\n'}[r.IntN(5)]
			}
		}
		s := New(TCP, 1000, 80)
		s.set(HTTPUserAgent, v)
		if got, want := string(s.Text(HTTPUserAgent)), escapedPlain(v); got != want {
			t.Fatalf("%q: set %q, want %q", v, got, want)
		}
	}
}
