package app

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// TLS handshake message types read here.
const (
	hsClientHello = 1
	hsServerHello = 2
	hsCertificate = 11
)

// tls reads the start of one direction of a TLS stream: the ClientHello,
// or the ServerHello and, up to TLS 1.2, the server's Certificate (TLS 1.3
// encrypts it). The messages may span records and segments; it returns
// true while the one it waits for is incomplete.
func (s *State) tls(b []byte, dir int, cut bool) (more bool) {
	msgs, partial, rest := s.handshakeBytes(b)
	for len(msgs) >= 4 {
		typ, hl := msgs[0], int(msgs[1])<<16|int(msgs[2])<<8|int(msgs[3])
		if 4+hl > len(msgs) {
			break
		}
		body := msgs[4 : 4+hl]
		msgs = msgs[4+hl:]
		switch typ {
		case hsClientHello:
			s.clientHello(body, 't')
			return false
		case hsServerHello:
			if !s.serverHello(body) {
				return false // TLS 1.3: the certificate is encrypted
			}
		case hsCertificate:
			s.certificate(body)
			return false
		default:
			return false // no certificate (an anonymous or PSK suite, a resumption)
		}
	}
	// incomplete: more, unless another record type followed
	return !cut && (partial || len(rest) < 5)
}

// handshakeBytes returns the handshake messages' bytes of the handshake
// records that start b (b itself when one record holds them, else a copy
// joining the records), whether the last of them is cut short by the end
// of b, and what follows them.
func (s *State) handshakeBytes(b []byte) (msgs []byte, partial bool, rest []byte) {
	if len(b) >= 5 && b[0] == 0x16 {
		if rl := int(binary.BigEndian.Uint16(b[3:5])); 5+rl <= len(b) && (5+rl == len(b) || b[5+rl] != 0x16) {
			return b[5 : 5+rl], false, b[5+rl:]
		}
	}
	msgs = s.w.hs[:0]
	for len(b) >= 5 && b[0] == 0x16 {
		rl := int(binary.BigEndian.Uint16(b[3:5]))
		if 5+rl > len(b) {
			msgs = append(msgs, b[5:]...)
			b, partial = nil, true
			break
		}
		msgs = append(msgs, b[5:5+rl]...)
		b = b[5+rl:]
	}
	s.w.hs = msgs
	return msgs, partial, b
}

// certificate reads the first (the server's own) certificate of a
// Certificate message.
func (s *State) certificate(body []byte) {
	if len(body) < 6 {
		return
	}
	n := int(body[3])<<16 | int(body[4])<<8 | int(body[5])
	if 6+n > len(body) {
		return
	}
	c, ok := parseCert(body[6 : 6+n])
	if !ok {
		return
	}
	s.set(TLSCertSubject, c.subject)
	s.set(TLSCertIssuer, c.issuer)
	self := byte('0')
	if c.selfSigned {
		self = '1'
	}
	s.setRaw(TLSCertSelfSigned, []byte{self})
	var buf [32]byte
	s.setRaw(TLSCertNotBefore, c.notBefore.AppendFormat(buf[:0], time.RFC3339))
	s.setRaw(TLSCertNotAfter, c.notAfter.AppendFormat(buf[:0], time.RFC3339))
}

// cert is what certificate reads of an X.509 certificate.
type cert struct {
	subject, issuer     []byte // common name, else organizational unit, else organization
	selfSigned          bool   // the issuer's name is the subject's
	notBefore, notAfter time.Time
}

// parseCert reads the names and validity of a DER certificate with a walk
// of its TBSCertificate (RFC 5280 §4.1), without crypto/x509's full parse
// (five times the cost of the rest of a TLS flow's inspection).
func parseCert(b []byte) (c cert, ok bool) {
	var tag byte
	var crt, tbs, iss, val, sub, t1, t2 []byte
	if _, crt, _, ok = der(b); !ok {
		return c, false
	}
	if _, tbs, _, ok = der(crt); !ok {
		return c, false
	}
	rest := tbs
	if len(rest) > 0 && rest[0] == 0xa0 { // version
		if _, _, rest, ok = der(rest); !ok {
			return c, false
		}
	}
	for _, dst := range []*[]byte{nil, nil, &iss, &val, &sub} { // serial, signature, issuer, validity, subject
		var v []byte
		if tag, v, rest, ok = der(rest); !ok || (dst != nil && tag != 0x30) {
			return c, false
		}
		if dst != nil {
			*dst = v
		}
	}
	var tag1, tag2 byte
	if tag1, t1, val, ok = der(val); !ok {
		return c, false
	}
	if tag2, t2, _, ok = der(val); !ok {
		return c, false
	}
	if c.notBefore, ok = derTime(tag1, t1); !ok {
		return c, false
	}
	if c.notAfter, ok = derTime(tag2, t2); !ok {
		return c, false
	}
	c.subject, c.issuer, c.selfSigned = nameOf(sub), nameOf(iss), bytes.Equal(iss, sub)
	return c, true
}

// der reads one DER element of b: its tag, its content and what follows.
func der(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	l, i := int(b[1]), 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || len(b) < 2+n {
			return 0, nil, nil, false
		}
		l = 0
		for j := 0; j < n; j++ {
			l = l<<8 | int(b[2+j])
		}
		i += n
	}
	if len(b)-i < l {
		return 0, nil, nil, false
	}
	return b[0], b[i : i+l], b[i+l:], true
}

// nameOf returns the common name of an X.501 Name (its SEQUENCE's content),
// else its organizational unit, else its organization.
func nameOf(name []byte) []byte {
	var best []byte
	rank := 0
	for len(name) > 0 {
		_, set, rest, ok := der(name)
		if !ok {
			break
		}
		name = rest
		for len(set) > 0 {
			_, atv, r, ok := der(set)
			if !ok {
				break
			}
			set = r
			_, oid, v, ok := der(atv)
			if !ok || len(oid) != 3 || oid[0] != 0x55 || oid[1] != 0x04 {
				continue
			}
			_, value, _, ok := der(v)
			if !ok {
				continue
			}
			r2 := 0
			switch oid[2] {
			case 0x03: // commonName
				r2 = 3
			case 0x0b: // organizationalUnitName
				r2 = 2
			case 0x0a: // organizationName
				r2 = 1
			}
			if r2 > rank {
				best, rank = value, r2
			}
		}
	}
	return best
}

// derTime reads a UTCTime (tag 0x17, YYMMDDHHMMSSZ; years 50–99 are
// 1950–1999) or GeneralizedTime (0x18, YYYYMMDDHHMMSSZ).
func derTime(tag byte, b []byte) (time.Time, bool) {
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var year int
	var ok bool
	switch {
	case tag == 0x17 && len(b) == 13 && b[12] == 'Z':
		if year, ok = num(b[:2]); !ok {
			return time.Time{}, false
		}
		year += 1900
		if year < 1950 {
			year += 100
		}
		b = b[2:]
	case tag == 0x18 && len(b) == 15 && b[14] == 'Z':
		if year, ok = num(b[:4]); !ok {
			return time.Time{}, false
		}
		b = b[4:]
	default:
		return time.Time{}, false
	}
	var f [5]int
	for i := range f {
		if f[i], ok = num(b[2*i : 2*i+2]); !ok {
			return time.Time{}, false
		}
	}
	return time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, time.UTC), true
}

// handshake reads one complete handshake message body.
func (s *State) handshake(typ byte, body []byte, transport byte) {
	switch typ {
	case hsClientHello:
		s.clientHello(body, transport)
	case hsServerHello:
		s.serverHello(body)
	}
}

// isGREASE reports whether v is a GREASE value (RFC 8701): 0x?a?a with both
// bytes equal.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// reader reads a TLS message's fields; a read past the end sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) {
		r.bad = true
		v := r.b
		r.b = nil
		return v
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// hello holds the lists of a ClientHello that fingerprints use, in fixed
// arrays (longer lists are cut; no real client comes near).
type hello struct {
	version               uint16
	ciphers, exts, groups [128]uint16
	nc, ne, ng            int
	formats               [32]uint8
	nf                    int
	sigs                  [64]uint16
	ns                    int
	maxVersion            uint16 // highest supported_versions entry, not GREASE
	sni                   bool
	alpn0                 []byte // first ALPN value
	allCiphers, allExts   int    // counts before the arrays cut them
}

// read16 reads r's 16-bit values, GREASE left out, into dst[*n:] as far
// as dst goes, and returns how many there were.
func read16(r reader, dst []uint16, n *int) int {
	all := 0
	for len(r.b) >= 2 {
		v := uint16(r.u16())
		if isGREASE(v) {
			continue
		}
		all++
		if *n < len(dst) {
			dst[*n] = v
			*n++
		}
	}
	return all
}

func (s *State) clientHello(body []byte, transport byte) {
	var h hello
	r := reader{b: body}
	h.version = uint16(r.u16())
	r.bytes(32)
	r.bytes(r.u8()) // session id
	h.allCiphers = read16(reader{b: r.bytes(r.u16())}, h.ciphers[:], &h.nc)
	r.bytes(r.u8()) // compression methods
	if r.bad {
		return
	}
	exts := reader{b: r.bytes(r.u16())}
	for len(exts.b) >= 4 && !exts.bad {
		typ := uint16(exts.u16())
		data := exts.bytes(exts.u16())
		if isGREASE(typ) {
			continue
		}
		h.allExts++
		if h.ne < len(h.exts) {
			h.exts[h.ne] = typ
			h.ne++
		}
		e := reader{b: data}
		switch typ {
		case 0x0000: // server_name
			h.sni = true
			list := reader{b: e.bytes(e.u16())}
			for len(list.b) >= 3 && !list.bad {
				kind := list.u8()
				name := list.bytes(list.u16())
				if kind == 0 && !list.bad {
					s.set(TLSSNI, name)
					break
				}
			}
		case 0x0010: // ALPN
			list := reader{b: e.bytes(e.u16())}
			alpn := s.w.scr[:0]
			for len(list.b) > 0 && !list.bad {
				p := list.bytes(list.u8())
				if h.alpn0 == nil {
					h.alpn0 = p
				}
				if len(alpn) > 0 {
					alpn = append(alpn, ',')
				}
				alpn = append(alpn, p...)
			}
			s.set(TLSALPN, alpn)
			s.w.scr = alpn
		case 0x000a: // supported_groups
			read16(reader{b: e.bytes(e.u16())}, h.groups[:], &h.ng)
		case 0x000b: // ec_point_formats
			for _, f := range e.bytes(e.u8()) {
				if h.nf < len(h.formats) {
					h.formats[h.nf] = f
					h.nf++
				}
			}
		case 0x000d: // signature_algorithms
			read16(reader{b: e.bytes(e.u16())}, h.sigs[:], &h.ns)
		case 0x002b: // supported_versions
			list := reader{b: e.bytes(e.u8())}
			for len(list.b) >= 2 {
				v := uint16(list.u16())
				if !isGREASE(v) && v > h.maxVersion {
					h.maxVersion = v
				}
			}
		}
	}
	s.w.scr = h.ja3(s.w.scr[:0])
	sum := md5.Sum(s.w.scr)
	s.setHex(TLSJA3, sum[:])
	s.w.scr = h.ja4(s.w.scr[:0], transport)
	s.set(TLSJA4, s.w.scr)
}

func (s *State) setHex(f Field, b []byte) {
	var buf [64]byte
	s.setRaw(f, hex.AppendEncode(buf[:0], b))
}

func appendList16(dst []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, uint64(v), 10)
	}
	return dst
}

// ja3 appends the JA3 string: version,ciphers,extensions,groups,formats,
// each list's values in decimal joined by '-', GREASE left out.
func (h *hello) ja3(dst []byte) []byte {
	dst = strconv.AppendUint(dst, uint64(h.version), 10)
	dst = append(dst, ',')
	dst = appendList16(dst, h.ciphers[:h.nc])
	dst = append(dst, ',')
	dst = appendList16(dst, h.exts[:h.ne])
	dst = append(dst, ',')
	dst = appendList16(dst, h.groups[:h.ng])
	dst = append(dst, ',')
	for i, f := range h.formats[:h.nf] {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, uint64(f), 10)
	}
	return dst
}

// ja4Version is JA4's two characters for a TLS version.
func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// ja4ALPN is JA4's two characters for the first ALPN value.
func ja4ALPN(dst, p []byte) []byte {
	if len(p) == 0 {
		return append(dst, '0', '0')
	}
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(dst, first, last)
	}
	const hx = "0123456789abcdef"
	return append(dst, hx[first>>4], hx[last&15])
}

func appendHex16(dst []byte, vs []uint16) []byte {
	const hx = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, hx[v>>12], hx[v>>8&15], hx[v>>4&15], hx[v&15])
	}
	return dst
}

// ja4 appends the JA4 fingerprint (FoxIO's JA4 specification).
func (h *hello) ja4(dst []byte, transport byte) []byte {
	v := h.version
	if h.maxVersion != 0 {
		v = h.maxVersion
	}
	dst = append(dst, transport)
	dst = append(dst, ja4Version(v)...)
	if h.sni {
		dst = append(dst, 'd')
	} else {
		dst = append(dst, 'i')
	}
	nc, ne := min(h.allCiphers, 99), min(h.allExts, 99)
	dst = append(dst, byte('0'+nc/10), byte('0'+nc%10), byte('0'+ne/10), byte('0'+ne%10))
	dst = ja4ALPN(dst, h.alpn0)
	dst = append(dst, '_')
	var list [128]uint16
	var tmp [1024]byte
	const none = "000000000000"
	if h.nc == 0 {
		dst = append(dst, none...)
	} else {
		c := list[:h.nc]
		copy(c, h.ciphers[:h.nc])
		slices.Sort(c)
		sum := sha256.Sum256(appendHex16(tmp[:0], c))
		dst = hex.AppendEncode(dst, sum[:6])
	}
	dst = append(dst, '_')
	e := list[:0]
	for _, x := range h.exts[:h.ne] {
		if x != 0x0000 && x != 0x0010 {
			e = append(e, x)
		}
	}
	if len(e) == 0 {
		return append(dst, none...)
	}
	slices.Sort(e)
	str := appendHex16(tmp[:0], e)
	if h.ns > 0 {
		str = append(str, '_')
		str = appendHex16(str, h.sigs[:h.ns])
	}
	sum := sha256.Sum256(str)
	return hex.AppendEncode(dst, sum[:6])
}

// serverHello reads a ServerHello; it reports whether the server's
// Certificate follows in clear (a version below TLS 1.3).
func (s *State) serverHello(body []byte) bool {
	r := reader{b: body}
	version := uint16(r.u16())
	r.bytes(32)
	r.bytes(r.u8())
	cipher := uint16(r.u16())
	r.u8() // compression
	if r.bad {
		return false
	}
	chosen := version
	ja3s := strconv.AppendUint(s.w.scr[:0], uint64(version), 10)
	ja3s = append(ja3s, ',')
	ja3s = strconv.AppendUint(ja3s, uint64(cipher), 10)
	ja3s = append(ja3s, ',')
	exts := reader{b: r.bytes(r.u16())}
	first := true
	for len(exts.b) >= 4 && !exts.bad {
		typ := uint16(exts.u16())
		data := exts.bytes(exts.u16())
		if !first {
			ja3s = append(ja3s, '-')
		}
		first = false
		ja3s = strconv.AppendUint(ja3s, uint64(typ), 10)
		if typ == 0x002b && len(data) == 2 {
			chosen = binary.BigEndian.Uint16(data)
		}
	}
	s.w.scr = ja3s
	sum := md5.Sum(ja3s)
	s.setHex(TLSJA3S, sum[:])
	s.setRaw(TLSVersion, []byte(tlsVersionName(chosen)))
	var buf [8]byte
	s.setRaw(TLSCipher, append(append(buf[:0], '0', 'x'), hex4(cipher)...))
	return chosen < 0x0304
}

func hex4(v uint16) []byte {
	const hx = "0123456789abcdef"
	return []byte{hx[v>>12], hx[v>>8&15], hx[v>>4&15], hx[v&15]}
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0304:
		return "TLSv1.3"
	case 0x0303:
		return "TLSv1.2"
	case 0x0302:
		return "TLSv1.1"
	case 0x0301:
		return "TLSv1.0"
	case 0x0300:
		return "SSLv3"
	}
	return "0x" + string(hex4(v))
}
