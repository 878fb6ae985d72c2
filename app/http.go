package app

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"math/bits"
)

// http reads the head of the first HTTP/1.x message of one direction: a
// request (method, target length, Host, User-Agent) or a response (status,
// Content-Type). It returns true until the head's end (an empty line) is in
// b; the lines that are complete are read each time.
func (s *State) http(b []byte, dir int) (more bool) {
	line, full := firstLine(b)
	if !full {
		return true
	}
	request := true
	if bytes.HasPrefix(line, []byte("HTTP/1.")) {
		request = false
		if len(line) >= 12 && isDigits(line[9:12]) {
			n := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
			s.setUint(HTTPStatus, uint64(n))
		}
	} else {
		sp := bytes.IndexByte(line, ' ')
		last := bytes.LastIndexByte(line, ' ')
		if sp <= 0 || last <= sp {
			return false
		}
		s.set(HTTPMethod, line[:sp])
		s.set(HTTPTarget, line[sp+1:last])
		s.setUint(HTTPPathLen, uint64(last-sp-1))
	}
	rest := b[len(line):]
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return true
		}
		rest = rest[i+1:]
		h, full := firstLine(rest)
		if !full {
			return true
		}
		if len(h) == 0 {
			return false // the end of the head
		}
		colon := bytes.IndexByte(h, ':')
		if colon <= 0 {
			continue
		}
		name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case request && bytes.EqualFold(name, []byte("Host")):
			s.set(HTTPHost, value)
		case request && bytes.EqualFold(name, []byte("User-Agent")):
			s.set(HTTPUserAgent, value)
		case !request && bytes.EqualFold(name, []byte("Content-Type")):
			s.set(HTTPContentType, value)
		}
	}
}

// ssh reads one direction's identification line ("SSH-2.0-…"; a server
// may send other lines before it) and the key exchange offer after it
// (SSH_MSG_KEXINIT) for HASSH. It returns true until both are in b.
func (s *State) ssh(b []byte, dir int) (more bool) {
	for len(b) > 0 {
		line, full := firstLine(b)
		if !full {
			return len(b) < 1024
		}
		b = b[len(line):]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		if bytes.HasPrefix(line, []byte("SSH-")) {
			f := SSHClient
			if dir == 1 {
				f = SSHServer
			}
			s.set(f, line)
			return s.kexinit(b, dir)
		}
	}
	return true
}

// kexinit reads the first binary packet after the identification line,
// when it is a KEXINIT (RFC 4253 §7.1), and sets the side's HASSH. It
// returns true while the packet is incomplete.
func (s *State) kexinit(b []byte, dir int) (more bool) {
	if len(b) < 6 {
		return true
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 2 || n > MaxBuffer {
		return false
	}
	if 4+n > len(b) {
		return true
	}
	pad := int(b[4])
	if pad+1 > n || b[5] != 20 || n-pad-1 < 17 {
		return false
	}
	r := reader{b: b[6+16 : 4+n-pad]} // after the message code and the cookie
	var lists [8][]byte
	for i := range lists {
		l := r.bytes(4)
		if r.bad {
			return false
		}
		lists[i] = r.bytes(int(binary.BigEndian.Uint32(l)))
		if r.bad {
			return false
		}
	}
	// kex, host key, enc c→s, enc s→c, mac c→s, mac s→c, comp c→s, comp s→c
	pick, f := [4]int{0, 2, 4, 6}, SSHHassh
	if dir == 1 {
		pick, f = [4]int{0, 3, 5, 7}, SSHHasshServer
	}
	h := md5.New()
	for i, k := range pick {
		if i > 0 {
			h.Write([]byte{';'})
		}
		h.Write(lists[k])
	}
	var sum [16]byte
	s.setHex(f, h.Sum(sum[:0]))
	return false
}

// attackMarkers are what requests of web attacks carry in their target and
// ordinary requests do not, by kind: path traversal, system files, shell
// metacharacters, line breaks and NULs, SQL, script.
var attackMarkers = [][]string{
	{"../", "..\\"},
	{"/etc/passwd", "/etc/shadow", "/etc/hosts", "win.ini", "/proc/self", "boot.ini"},
	{";", "|", "`", "$("},
	{"\n", "\r", "\x00"},
	{"union select", "union all select", "' or ", "\" or ", "or 1=1", "sleep(", "benchmark(", "waitfor delay", "--", "/*"},
	{"<script", "javascript:", "onerror="},
}

// markersAt[c] are the attackMarkers that begin with the byte c, each with
// its kind (its index in attackMarkers), so that one pass over a target
// finds them all: the target's bytes rarely begin one, where a search per
// marker (28 of them) cost 2 % of a real-traffic run.
var markersAt = func() (t [256][]marker) {
	for k, kind := range attackMarkers {
		for _, m := range kind {
			t[m[0]] = append(t[m[0]], marker{m, uint8(k)})
		}
	}
	return t
}()

type marker struct {
	text string
	kind uint8
}

// TargetMarkers returns how many kinds of attackMarkers the request target
// t holds once percent-decoded (twice, for doubly encoded ones) and lower
// case.
func TargetMarkers(t []byte) int {
	var buf [2 * MaxText]byte
	d := decodeTarget(buf[:0], t)
	d = decodeTarget(buf[len(d):len(d)], d)
	for i, c := range d {
		if c >= 'A' && c <= 'Z' {
			d[i] = c + 'a' - 'A'
		}
	}
	var kinds uint8 // bit k: a marker of kind k is in d
	for i, c := range d {
		for _, m := range markersAt[c] {
			if kinds&(1<<m.kind) == 0 && bytes.HasPrefix(d[i:], []byte(m.text)) {
				kinds |= 1 << m.kind
			}
		}
	}
	return bits.OnesCount8(kinds)
}

// decodeTarget appends t with %XX decoded, + as a space, and the app
// package's \xNN escapes undone.
func decodeTarget(dst, t []byte) []byte {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '%' && i+2 < len(t) && isHex(t[i+1]) && isHex(t[i+2]):
			c = unhex(t[i+1])<<4 | unhex(t[i+2])
			i += 2
		case c == '\\' && i+3 < len(t) && t[i+1] == 'x' && isHex(t[i+2]) && isHex(t[i+3]):
			c = unhex(t[i+2])<<4 | unhex(t[i+3])
			i += 3
		case c == '+':
			c = ' '
		}
		if len(dst) < cap(dst) {
			dst = append(dst, c)
		}
	}
	return dst
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
