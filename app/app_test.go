package app_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/app"
)

// clientHello is a minimal TLS 1.2 ClientHello for name, in one record.
func clientHello(name string) []byte {
	sni := binary.BigEndian.AppendUint16(nil, uint16(len(name)+3))
	sni = append(sni, 0)
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(name)))
	sni = append(sni, name...)
	ext := binary.BigEndian.AppendUint16(nil, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(sni)))
	ext = append(ext, sni...)
	pad := binary.BigEndian.AppendUint16(nil, 0x0015) // padding, to span segments
	pad = binary.BigEndian.AppendUint16(pad, 900)
	ext = append(ext, append(pad, make([]byte, 900)...)...)
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, 0, 2, 0xc0, 0x2f, 1, 0)
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	rec := []byte{0x16, 3, 1, byte(len(msg) >> 8), byte(len(msg))}
	return append(rec, msg...)
}

// A ClientHello split over three segments, with a retransmission between
// them, is read whole; with a segment missing, nothing is made up.
func TestTLSAcrossSegments(t *testing.T) {
	ch := clientHello("split.example.com")
	parts := [][]byte{ch[:300], ch[300:700], ch[700:]}
	s := app.New(app.TCP, 50000, 443)
	seq := uint32(1000)
	for i, p := range parts {
		s.Feed(p, 0, seq, false)
		if i == 0 {
			s.Feed(p, 0, seq, false) // retransmitted
		}
		seq += uint32(len(p))
	}
	if got := s.Field(app.TLSSNI); got != "split.example.com" {
		t.Errorf("SNI = %q", got)
	}
	if s.Field(app.TLSJA3) == "" || s.Field(app.TLSJA4)[:4] != "t12d" {
		t.Errorf("JA3 %q, JA4 %q", s.Field(app.TLSJA3), s.Field(app.TLSJA4))
	}
	s.Release()

	s = app.New(app.TCP, 50000, 443)
	s.Feed(parts[0], 0, 1000, false)
	s.Feed(parts[2], 0, 1000+uint32(len(parts[0])+len(parts[1])), false) // a gap
	if s.Proto() != app.TLS || s.Field(app.TLSSNI) != "" {
		t.Errorf("with a gap: proto %v, SNI %q", s.Proto(), s.Field(app.TLSSNI))
	}
}

// Text fields are escaped and bounded; a DNS name with a compression loop
// ends.
func TestHostileText(t *testing.T) {
	s := app.New(app.TCP, 50000, 80)
	req := []byte("GET / HTTP/1.1\r\nHost: a\x00b\\c\xff\r\nUser-Agent: ")
	for i := 0; i < 1000; i++ {
		req = append(req, 'x')
	}
	req = append(req, "\r\n\r\n"...)
	s.Feed(req, 0, 1, false)
	if got := s.Field(app.HTTPHost); got != `a\x00b\\c\xff` {
		t.Errorf("host = %q", got)
	}
	if n := len(s.Field(app.HTTPUserAgent)); n == 0 || n > app.MaxText {
		t.Errorf("user agent of %d bytes (max %d)", n, app.MaxText)
	}
	loop := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}
	d := app.New(app.UDP, 5000, 53)
	d.Feed(loop, 0, 0, false)
	if d.Field(app.DNSQName) != "" {
		t.Errorf("looping name read as %q", d.Field(app.DNSQName))
	}
}

// At most MaxPackets payload packets are looked at.
func TestBounded(t *testing.T) {
	s := app.New(app.UDP, 40000, 9999)
	for i := 0; i < 100 && !s.Done(); i++ {
		s.Feed([]byte("nothing to see"), i%2, 0, false)
		if i > app.MaxPackets {
			t.Fatalf("still looking after %d packets", i)
		}
	}
	if !s.Done() || s.Proto() != app.Unknown {
		t.Errorf("done %v, proto %v", s.Done(), s.Proto())
	}
}

// FuzzFeed feeds arbitrary payloads in both directions: no panic, and every
// field printable ASCII within MaxText.
func FuzzFeed(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"), uint16(80), true)
	f.Add(clientHello("a.example"), []byte{0x16, 3, 3, 0, 4, 2, 0, 0, 0}, uint16(443), true)
	f.Add([]byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}, []byte{0xc0, 0, 0, 0, 1, 8}, uint16(53), false)
	f.Fuzz(func(t *testing.T, a, b []byte, port uint16, tcp bool) {
		l4 := uint8(app.UDP)
		if tcp {
			l4 = app.TCP
		}
		s := app.New(l4, 40000, port)
		seq := [2]uint32{1, 1}
		for i, p := range [][]byte{a, b, a[:len(a)/2], b} {
			d := i % 2
			s.Feed(p, d, seq[d], i == 3)
			seq[d] += uint32(len(p))
		}
		for f := app.Field(1); f < app.NumFields; f++ {
			v := s.Field(f)
			if len(v) > app.MaxText {
				t.Fatalf("%s: %d bytes", app.Fields[f].Name, len(v))
			}
			for _, c := range []byte(v) {
				if c < 0x20 || c >= 0x7f {
					t.Fatalf("%s: byte %#x in %q", app.Fields[f].Name, c, v)
				}
			}
		}
		s.Release()
	})
}

// The worked example of docs/features.md: the entropy of t0kq3xv9a7bt.
func TestEntropyExample(t *testing.T) {
	if got := app.Entropy([]byte("t0kq3xv9a7bt")); got < 3.41825 || got > 3.41835 {
		t.Errorf("entropy = %v, want 3.4183", got)
	}
}

func TestTargetMarkers(t *testing.T) {
	for _, c := range []struct {
		target string
		want   int
	}{
		{"/index.html?q=flows", 0}, {"/search?q=apple+pie", 0}, {"/a/b/c.css", 0},
		{"/static/../../../../etc/passwd", 2}, {"/x?f=..%2f..%2f..%2fetc%2fshadow", 2}, {"/x?f=%252e%252e%252fetc", 1},
		{"/search?q=apple;cat%20/etc/passwd", 2}, {"/search?q=%24(id)", 1}, {"/s?q=1%27%20OR%201=1--", 1},
		{"/s?q=%3Cscript%3Ealert(1)%3C/script%3E", 1}, {"/s?q=a%0acat", 1},
	} {
		if got := app.TargetMarkers([]byte(c.target)); got != c.want {
			t.Errorf("%s: %d kinds, want %d", c.target, got, c.want)
		}
	}
}

// Every field has a name and a meaning.
func TestFieldsDescribed(t *testing.T) {
	for f, info := range app.Fields {
		if info.Name == "" || info.Meaning == "" {
			t.Errorf("field %d has no name or meaning", f)
		}
	}
}

// Plain is false exactly when some field's text holds a comma, a double
// quote or a line break, also for a clone and for a State used again.
func TestPlain(t *testing.T) {
	hasDelim := func(s *app.State) bool {
		for f := range app.NumFields {
			if strings.ContainsAny(s.Field(f), ",\"\r\n") {
				return true
			}
		}
		return false
	}
	for _, ua := range []string{"curl/8.5.0", "Mozilla/5.0 (X11, Linux)", `say "hi"`, "a\rb", "plain"} {
		for range 3 { // States come back from the pool
			s := app.New(app.TCP, 50000, 80)
			s.Feed([]byte("GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: "+ua+"\r\n\r\n"), 0, 1, false)
			if s.Field(app.HTTPUserAgent) == "" {
				t.Fatalf("user agent %q not read", ua)
			}
			if got, want := s.Plain(), !hasDelim(s); got != want {
				t.Errorf("user agent %q: Plain() = %v, want %v", ua, got, want)
			}
			if c := s.Clone(); c.Plain() != s.Plain() {
				t.Errorf("user agent %q: the clone's Plain() = %v", ua, c.Plain())
			}
			s.Release()
		}
	}
}
