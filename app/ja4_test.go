package app

import (
	"strings"
	"testing"
)

// The examples of FoxIO's JA4 specification (technical_details/JA4.md).
func TestJA4SpecificationExamples(t *testing.T) {
	for _, c := range []struct {
		alpn []byte
		want string
	}{
		{[]byte("h2"), "h2"}, {[]byte("http/1.1"), "h1"}, {nil, "00"}, {[]byte("h"), "hh"},
		{[]byte{0xab}, "ab"}, {[]byte{0xab, 0xcd}, "ad"}, {[]byte{0x30, 0xab}, "3b"},
		{[]byte{0x30, 0x31, 0xab, 0xcd}, "3d"}, {[]byte{0x30, 0xab, 0xcd, 0x31}, "01"},
	} {
		if got := string(ja4ALPN(nil, c.alpn)); got != c.want {
			t.Errorf("ALPN %q: %q, want %q", c.alpn, got, c.want)
		}
	}
	h := hello{version: 0x0303, maxVersion: 0x0304, sni: true, alpn0: []byte("h2")}
	for _, c := range []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035} {
		h.ciphers[h.nc] = c
		h.nc++
	}
	for _, e := range []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015} {
		h.exts[h.ne] = e
		h.ne++
	}
	h.allCiphers, h.allExts = h.nc, h.ne
	for _, s := range []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601} {
		h.sigs[h.ns] = s
		h.ns++
	}
	if got := string(h.ja4(nil, 't')); got != "t13d1516h2_8daaf6152771_e5627efa2ab1" {
		t.Errorf("JA4 = %s, want the example's t13d1516h2_8daaf6152771_e5627efa2ab1", got)
	}
	h.ns = 0 // "If there are no signature algorithms … = 6d807ffa2a79"
	if got := string(h.ja4(nil, 't')); !strings.HasSuffix(got, "_6d807ffa2a79") {
		t.Errorf("JA4 without signature algorithms = %s, want …_6d807ffa2a79", got)
	}
	h.nc, h.allCiphers, h.ne, h.allExts = 0, 0, 0, 0 // empty lists: twelve zeros
	if got := string(h.ja4(nil, 'q')); got != "q13d0000h2_000000000000_000000000000" {
		t.Errorf("JA4 of empty lists = %s", got)
	}
}
