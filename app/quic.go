package app

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
)

// QUIC Initial packets are encrypted with keys derived from the client's
// first Destination Connection ID (RFC 9001 section 5.2; RFC 9369 for
// version 2), so anyone can read them: the ClientHello in the client's
// CRYPTO frames gives the server name and JA4 (with q), the ServerHello in
// the server's the version, cipher and JA3S.

var (
	saltV1 = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	saltV2 = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
)

const versionV2 = 0x6b3343cf

// quicCrypto is one direction's CRYPTO stream as far as it is gathered.
type quicCrypto struct {
	buf    []byte     // stream bytes from offset 0
	have   [16][2]int // covered ranges
	nhave  int
	parsed bool
}

// quicState is what a QUIC flow keeps while it reads the Initials.
type quicState struct {
	dcid   [20]byte
	ndcid  int
	dcidOK bool
	crypto [2]quicCrypto
}

// hkdfLabel is HKDF-Expand-Label (RFC 8446 section 7.1) with an empty
// context.
func hkdfLabel(secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 4+6+len(label))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		return nil
	}
	return out
}

// varint reads a QUIC variable-length integer.
func varint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n
}

// quic reads the Initial packets of one datagram.
func (s *State) quic(b []byte, dir int) {
	if s.w.q == nil {
		s.w.q = new(quicState)
	}
	for len(b) >= 7 && b[0]&0xc0 == 0xc0 {
		version := binary.BigEndian.Uint32(b[1:5])
		if !quicVersion(version) {
			return
		}
		typ := b[0] >> 4 & 3
		initial := typ == 0
		if version == versionV2 {
			initial = typ == 1
		}
		off := 5
		dl := int(b[off])
		if dl > 20 || off+1+dl >= len(b) {
			return
		}
		dcid := b[off+1 : off+1+dl]
		off += 1 + dl
		sl := int(b[off])
		if sl > 20 || off+1+sl > len(b) {
			return
		}
		off += 1 + sl
		if initial {
			tl, n := varint(b[off:])
			if n == 0 || uint64(len(b)-off-n) < tl {
				return
			}
			off += n + int(tl)
		}
		length, n := varint(b[off:])
		if n == 0 || uint64(len(b)-off-n) < length {
			return
		}
		off += n
		end := off + int(length)
		if initial {
			if dir == 0 && !s.w.q.dcidOK {
				s.w.q.ndcid = copy(s.w.q.dcid[:], dcid)
				s.w.q.dcidOK = true
			}
			if s.w.q.dcidOK {
				s.quicInitial(b[:end], off, dir, version)
				if s.done {
					return
				}
			}
		}
		b = b[end:]
	}
}

// quicInitial decrypts one Initial packet (pkt: its header and payload; pn:
// the packet number's offset) and gathers its CRYPTO frames.
func (s *State) quicInitial(pkt []byte, pn int, dir int, version uint32) {
	c := &s.w.q.crypto[dir]
	if c.parsed || pn+4+16 > len(pkt) {
		return
	}
	salt, kl, il, hl := saltV1, "quic key", "quic iv", "quic hp"
	if version == versionV2 {
		salt, kl, il, hl = saltV2, "quicv2 key", "quicv2 iv", "quicv2 hp"
	}
	initial, err := hkdf.Extract(sha256.New, s.w.q.dcid[:s.w.q.ndcid], salt)
	if err != nil {
		return
	}
	label := "client in"
	if dir == 1 {
		label = "server in"
	}
	secret := hkdfLabel(initial, label, 32)
	key, iv, hp := hkdfLabel(secret, kl, 16), hkdfLabel(secret, il, 12), hkdfLabel(secret, hl, 16)
	if key == nil || iv == nil || hp == nil {
		return
	}
	hpc, err := aes.NewCipher(hp)
	if err != nil {
		return
	}
	var mask [16]byte
	hpc.Encrypt(mask[:], pkt[pn+4:pn+4+16])
	p := append(s.w.scr[:0], pkt...)
	s.w.scr = p
	p[0] ^= mask[0] & 0x0f
	pnLen := int(p[0]&3) + 1
	var pnum uint64
	for i := 0; i < pnLen; i++ {
		p[pn+i] ^= mask[1+i]
		pnum = pnum<<8 | uint64(p[pn+i])
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return
	}
	var nonce [12]byte
	copy(nonce[:], iv)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pnum >> (8 * i))
	}
	hdr := p[:pn+pnLen]
	plain, err := aead.Open(p[pn+pnLen:pn+pnLen], nonce[:], p[pn+pnLen:], hdr)
	if err != nil {
		return
	}
	s.quicFrames(plain, dir)
}

// quicFrames gathers the CRYPTO frames of a decrypted Initial payload and
// reads the handshake message once its bytes are all there.
func (s *State) quicFrames(b []byte, dir int) {
	c := &s.w.q.crypto[dir]
	for len(b) > 0 {
		switch t := b[0]; {
		case t == 0x00 || t == 0x01: // PADDING, PING
			b = b[1:]
		case t == 0x02 || t == 0x03: // ACK: largest, delay, range count, first range, ranges, ECN counts
			rest := b[1:]
			var vals [4]uint64
			for i := range vals {
				v, n := varint(rest)
				if n == 0 {
					return
				}
				vals[i], rest = v, rest[n:]
			}
			skip := 2 * vals[2]
			if t == 0x03 {
				skip += 3
			}
			if skip > uint64(len(rest)) {
				return
			}
			var ok bool
			if rest, ok = skipVarints(rest, int(skip)); !ok {
				return
			}
			b = rest
		case t == 0x06: // CRYPTO
			off, n1 := varint(b[1:])
			if n1 == 0 {
				return
			}
			l, n2 := varint(b[1+n1:])
			if n2 == 0 || uint64(len(b)-1-n1-n2) < l {
				return
			}
			data := b[1+n1+n2 : 1+n1+n2+int(l)]
			c.add(int(off), data)
			b = b[1+n1+n2+int(l):]
		default:
			b = nil // other frames do not come before the CRYPTO ones that matter
		}
	}
	if c.parsed || len(c.buf) < 4 || !c.covered(4) {
		return
	}
	hl := int(c.buf[1])<<16 | int(c.buf[2])<<8 | int(c.buf[3])
	if 4+hl > len(c.buf) || !c.covered(4+hl) {
		return
	}
	c.parsed = true
	s.handshake(c.buf[0], c.buf[4:4+hl], 'q')
	if s.w.q.crypto[0].parsed && s.w.q.crypto[1].parsed {
		s.finish()
	}
}

func skipVarints(b []byte, n int) ([]byte, bool) {
	for i := 0; i < n; i++ {
		_, k := varint(b)
		if k == 0 {
			return nil, false
		}
		b = b[k:]
	}
	return b, true
}

// add copies CRYPTO bytes at stream offset off (within MaxBuffer).
func (c *quicCrypto) add(off int, data []byte) {
	end := off + len(data)
	if off < 0 || end > MaxBuffer || c.nhave == len(c.have) {
		return
	}
	if end > len(c.buf) {
		c.buf = append(c.buf, make([]byte, end-len(c.buf))...)
	}
	copy(c.buf[off:], data)
	c.have[c.nhave] = [2]int{off, end}
	c.nhave++
}

// covered reports whether bytes [0, n) were all added.
func (c *quicCrypto) covered(n int) bool {
	at := 0
	for at < n {
		next := at
		for _, r := range c.have[:c.nhave] {
			if r[0] <= at && r[1] > next {
				next = r[1]
			}
		}
		if next == at {
			return false
		}
		at = next
	}
	return true
}
