// Package app names a flow's application protocol from its payload and
// reads the metadata of its handshake: TLS (version, cipher, server name,
// ALPN, JA3, JA3S, JA4), QUIC (the server name and JA4 of its Initial), DNS
// (query name and type, response code, answers, smallest TTL), HTTP/1.x
// (method, host, path length, status, user agent, content type) and SSH
// (both banners).
//
// The work is bounded per flow: a State looks at the first payload packets
// of each direction (at most MaxPackets in all), reassembles a TCP stream
// only while a handshake message is incomplete (at most MaxBuffer bytes a
// direction), and stops as soon as what it looks for is read. A flow without
// payload never gets a State. Feed does not allocate once a State is made,
// except for a message that spans segments (its buffer) and a field's text.
//
// The package knows packets' payloads and nothing of flows, features or
// outputs.
package app

import (
	"math"
	"strconv"
	"sync"
)

// Proto is an application protocol.
type Proto uint8

// Protocols, by the names written in the app_proto column.
const (
	Unknown Proto = iota
	DNS
	MDNS
	LLMNR
	HTTP
	HTTP2
	TLS
	QUIC
	SSH
	FTP
	SMTP
	IMAP
	POP3
	NTP
	DHCP
	DHCPv6
	SMB
	NetBIOS
	RDP
	MySQL
	PostgreSQL
	Redis
	SIP
	SSDP
	SNMP
	Telnet
	numProtos
)

var protoNames = [numProtos]string{
	Unknown: "unknown", DNS: "dns", MDNS: "mdns", LLMNR: "llmnr", HTTP: "http", HTTP2: "http2",
	TLS: "tls", QUIC: "quic", SSH: "ssh", FTP: "ftp", SMTP: "smtp", IMAP: "imap", POP3: "pop3",
	NTP: "ntp", DHCP: "dhcp", DHCPv6: "dhcpv6", SMB: "smb", NetBIOS: "netbios", RDP: "rdp",
	MySQL: "mysql", PostgreSQL: "postgresql", Redis: "redis", SIP: "sip", SSDP: "ssdp",
	SNMP: "snmp", Telnet: "telnet",
}

func (p Proto) String() string {
	if p < numProtos {
		return protoNames[p]
	}
	return "unknown"
}

// Protos lists every name app_proto can hold.
func Protos() []string { return protoNames[:] }

// Field is one metadata column.
type Field uint8

// Metadata fields, in column order.
const (
	FieldProto Field = iota
	TLSVersion
	TLSCipher
	TLSSNI
	TLSALPN
	TLSJA3
	TLSJA3S
	TLSJA4
	TLSCertSubject
	TLSCertIssuer
	TLSCertSelfSigned
	TLSCertNotBefore
	TLSCertNotAfter
	DNSQName
	DNSQType
	DNSRcode
	DNSAnswers
	DNSTTLMin
	HTTPMethod
	HTTPHost
	HTTPTarget
	HTTPPathLen
	HTTPStatus
	HTTPUserAgent
	HTTPContentType
	SSHClient
	SSHServer
	SSHHassh
	SSHHasshServer
	NumFields
)

// FieldInfo describes a metadata column for the documentation.
type FieldInfo struct {
	Name    string
	Numeric bool // a number when set (written as its decimal digits)
	Meaning string
}

// Fields describes every metadata column, in column order.
var Fields = [NumFields]FieldInfo{
	FieldProto:        {"app_proto", false, "application protocol named from the payload: dns, mdns, llmnr, http, http2, tls, quic, ssh, ftp, smtp, imap, pop3, ntp, dhcp, dhcpv6, smb, netbios, rdp, mysql, postgresql, redis, sip, ssdp, snmp, telnet; unknown when no payload was recognised, empty when the flow carried no payload"},
	TLSVersion:        {"tls_version", false, "TLS version the server chose (ServerHello supported_versions, else its version): TLSv1.3, TLSv1.2, TLSv1.1, TLSv1.0, SSLv3, else 0x and 4 hex digits"},
	TLSCipher:         {"tls_cipher", false, "cipher suite the server chose, 0x and 4 hex digits (0x1301 = TLS_AES_128_GCM_SHA256)"},
	TLSSNI:            {"tls_sni", false, "server name the client asked for (ClientHello server_name; for QUIC, from the decrypted Initial)"},
	TLSALPN:           {"tls_alpn", false, "application protocols the client offered (ClientHello ALPN), comma-separated, in its order"},
	TLSJA3:            {"tls_ja3", false, "JA3 of the ClientHello: MD5 of version,ciphers,extensions,groups,point formats (GREASE left out), lower-case hex"},
	TLSJA3S:           {"tls_ja3s", false, "JA3S of the ServerHello: MD5 of version,cipher,extensions, lower-case hex"},
	TLSJA4:            {"tls_ja4", false, "JA4 of the ClientHello (FoxIO's specification; q for QUIC, t for TCP)"},
	TLSCertSubject:    {"tls_cert_subject", false, "the server certificate's subject common name (else its organizational unit, else its organization), where the certificate is in clear (TLS 1.2 and older)"},
	TLSCertIssuer:     {"tls_cert_issuer", false, "the server certificate's issuer common name (else its organizational unit, else its organization)"},
	TLSCertSelfSigned: {"tls_cert_self_signed", true, "1 when the server certificate's issuer name is its subject name (byte for byte), else 0"},
	TLSCertNotBefore:  {"tls_cert_not_before", false, "start of the server certificate's validity, RFC 3339 UTC"},
	TLSCertNotAfter:   {"tls_cert_not_after", false, "end of the server certificate's validity, RFC 3339 UTC"},
	DNSQName:          {"dns_qname", false, "first question's name, dotted, without the final dot"},
	DNSQType:          {"dns_qtype", true, "first question's type (1 A, 28 AAAA, 12 PTR, 16 TXT, …)"},
	DNSRcode:          {"dns_rcode", true, "response code of the first response (0 no error, 2 server failure, 3 name error = NXDOMAIN, …)"},
	DNSAnswers:        {"dns_answers", true, "answer records in the first response (ANCOUNT)"},
	DNSTTLMin:         {"dns_ttl_min", true, "smallest TTL of the first response's answer records, seconds"},
	HTTPMethod:        {"http_method", false, "method of the first request (GET, POST, …)"},
	HTTPHost:          {"http_host", false, "Host header of the first request"},
	HTTPTarget:        {"http_target", false, "target of the first request (path and query, as sent)"},
	HTTPPathLen:       {"http_path_len", true, "length of the first request's target (path and query), bytes"},
	HTTPStatus:        {"http_status", true, "status code of the first response"},
	HTTPUserAgent:     {"http_user_agent", false, "User-Agent header of the first request"},
	HTTPContentType:   {"http_content_type", false, "Content-Type header of the first response"},
	SSHClient:         {"ssh_client", false, "the client's SSH identification line (SSH-2.0-…), without CR LF"},
	SSHServer:         {"ssh_server", false, "the server's SSH identification line"},
	SSHHassh:          {"ssh_hassh", false, "HASSH of the client's key exchange offer (SSH_MSG_KEXINIT): MD5 of its key exchange;encryption;MAC;compression algorithm lists (client to server), lower-case hex"},
	SSHHasshServer:    {"ssh_hassh_server", false, "HASSHServer of the server's KEXINIT: the same over its server-to-client lists"},
}

// Limits of the work done per flow.
const (
	MaxPackets = 12   // payload packets looked at per flow, both directions
	MaxBuffer  = 8192 // bytes of one direction's stream held while a message is incomplete
	MaxText    = 256  // bytes of one text field, after escaping
)

// Transport protocols.
const (
	TCP = 6
	UDP = 17
)

type span struct{ off, n uint16 }

// State is the inspection of one flow. Make one with New on the flow's
// first payload packet, give it every payload packet with Feed, and read it
// with Proto and AppendField. Release returns it for reuse.
type State struct {
	l4      uint8
	proto   Proto
	done    bool      // nothing more to look for
	pkts    uint8     // payload packets fed
	port    [2]uint16 // fwd source and destination port
	dirDone [2]bool   // this direction has nothing more to give
	str     [2]stream
	tries   [2]uint8 // datagrams of a direction seen while unknown
	maybe   bool     // FTP or SMTP: the banner did not tell which
	tlsSeen [2]bool  // a TLS handshake started after STARTTLS

	spans [NumFields]span
	text  []byte
	delim bool  // a field's text holds a comma, a double quote or a line break
	w     *work // while the inspection goes on
}

// work is what a State needs only while it inspects: it goes back to a
// pool when the inspection ends, so that a flow that stays open keeps only
// what was read.
type work struct {
	scr []byte    // scratch for fingerprints
	hs  []byte    // a TLS handshake message gathered from several records
	buf [2][]byte // per direction: bytes of an incomplete message, from its start
	q   *quicState
}

// stream is one direction of a TCP connection as far as it is read.
type stream struct {
	next    uint32 // next expected sequence number
	started bool
}

var (
	pool     = sync.Pool{New: func() any { return new(State) }}
	workPool = sync.Pool{New: func() any { return new(work) }}
)

// New returns a State for a flow of transport protocol l4 (TCP or UDP)
// whose initiator sends from port sport to port dport.
func New(l4 uint8, sport, dport uint16) *State {
	s := pool.Get().(*State)
	s.l4, s.port = l4, [2]uint16{sport, dport}
	s.w = workPool.Get().(*work)
	return s
}

// Release makes s reusable; s must not be used after it.
func (s *State) Release() {
	if s == nil {
		return
	}
	s.putWork()
	text := s.text[:0]
	*s = State{text: text}
	pool.Put(s)
}

// putWork returns the inspection's buffers to their pool.
func (s *State) putWork() {
	if w := s.w; w != nil {
		s.w = nil
		w.scr, w.hs, w.buf[0], w.buf[1], w.q = w.scr[:0], w.hs[:0], w.buf[0][:0], w.buf[1][:0], nil
		workPool.Put(w)
	}
}

// Clone returns a copy of what s has read (not of its buffers), for a record
// written while the flow goes on.
func (s *State) Clone() *State {
	c := &State{l4: s.l4, proto: s.proto, done: true, pkts: s.pkts, port: s.port, spans: s.spans, delim: s.delim}
	c.text = append([]byte(nil), s.text...)
	return c
}

// Proto returns the flow's application protocol as far as it is known
// (Unknown for a nil State).
func (s *State) Proto() Proto {
	if s == nil {
		return Unknown
	}
	return s.proto
}

// Done reports whether s looks at no more packets.
func (s *State) Done() bool { return s.done }

// Has reports whether field f was read.
func (s *State) Has(f Field) bool { return f == FieldProto || s.spans[f].n > 0 }

// AppendField appends the text of field f (empty when it was not read).
func (s *State) AppendField(dst []byte, f Field) []byte {
	if f == FieldProto {
		if s == nil {
			return dst
		}
		return append(dst, s.proto.String()...)
	}
	if s == nil {
		return dst
	}
	sp := s.spans[f]
	return append(dst, s.text[sp.off:sp.off+sp.n]...)
}

// Plain reports whether no field's text holds a comma, a double quote or a
// line break: a delimited format (CSV) can then write every field as it is,
// without looking for what it would have to quote.
func (s *State) Plain() bool { return !s.delim }

// noteDelims notes whether the text from off on, a field just set, holds a
// comma, a double quote or a line break.
func (s *State) noteDelims(off int) {
	for _, c := range s.text[off:] {
		if c == ',' || c == '"' || c == '\r' || c == '\n' {
			s.delim = true
			return
		}
	}
}

// Field returns the text of field f.
func (s *State) Field(f Field) string { return string(s.AppendField(nil, f)) }

// set records the text of field f, once: the first value read wins. Bytes
// that are not printable ASCII are written as \xNN (backslash as \\), and
// the text is cut at MaxText bytes.
func (s *State) set(f Field, v []byte) {
	if s.spans[f].n > 0 || len(v) == 0 {
		return
	}
	off := len(s.text)
	if off > 60000 {
		return
	}
	if w := v[:min(len(v), MaxText-3)]; printable(w) { // the usual case: copied whole
		s.text = append(s.text, w...)
		s.spans[f] = span{uint16(off), uint16(len(w))}
		s.noteDelims(off)
		return
	}
	const hex = "0123456789abcdef"
	for _, c := range v {
		if len(s.text)-off+4 > MaxText {
			break
		}
		switch {
		case c == '\\':
			s.text = append(s.text, '\\', '\\')
		case c < 0x20 || c >= 0x7f:
			s.text = append(s.text, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			s.text = append(s.text, c)
		}
	}
	s.spans[f] = span{uint16(off), uint16(len(s.text) - off)}
	s.noteDelims(off)
}

// printable reports whether set writes every byte of w as it is: printable
// ASCII other than the backslash. (set writes at most MaxText−3 such bytes:
// it stops once the text could not take a 4-byte escape.)
func printable(w []byte) bool {
	for _, c := range w {
		if c == '\\' || c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// setRaw records text known to be printable (digits, hex, names).
func (s *State) setRaw(f Field, v []byte) {
	if s.spans[f].n > 0 || len(v) == 0 {
		return
	}
	off := len(s.text)
	s.text = append(s.text, v...)
	s.spans[f] = span{uint16(off), uint16(len(s.text) - off)}
	s.noteDelims(off)
}

func (s *State) setUint(f Field, v uint64) {
	if s.spans[f].n > 0 {
		return
	}
	off := len(s.text)
	s.text = strconv.AppendUint(s.text, v, 10)
	s.spans[f] = span{uint16(off), uint16(len(s.text) - off)}
}

// Feed gives s one payload packet of the flow: its captured payload, its
// direction (0 from the initiator, 1 from the responder), and for TCP its
// sequence number. cut says the capture holds less of the payload than the
// packet had.
func (s *State) Feed(payload []byte, dir int, seq uint32, cut bool) {
	if s.done || len(payload) == 0 || s.dirDone[dir] {
		return
	}
	s.pkts++
	if s.pkts > MaxPackets {
		s.finish()
		return
	}
	if s.l4 == UDP {
		s.datagram(payload, dir)
		return
	}
	st := &s.str[dir]
	buf := &s.w.buf[dir]
	if !st.started {
		st.started, st.next = true, seq
	}
	if d := int32(seq - st.next); d != 0 {
		if d > 0 { // a gap: what follows cannot be read in order
			s.dirDone[dir] = true
			s.checkDone()
			return
		}
		if int(-d) >= len(payload) {
			return // a retransmission of what was read
		}
		payload = payload[-d:]
	}
	st.next += uint32(len(payload))
	data := payload
	if len(*buf) > 0 {
		if len(*buf)+len(payload) > MaxBuffer {
			payload = payload[:max(MaxBuffer-len(*buf), 0)]
			cut = true
		}
		*buf = append(*buf, payload...)
		data = *buf
	}
	want := s.segment(data, dir, cut)
	if s.done { // the parser ended the inspection (its buffers are gone)
		return
	}
	switch {
	case want == segMore && !cut && len(data) < MaxBuffer:
		if len(*buf) == 0 {
			*buf = append(*buf, data...)
		}
	case want == segNext && !cut:
		*buf = (*buf)[:0]
	default:
		*buf = (*buf)[:0]
		s.dirDone[dir] = true
	}
	s.checkDone()
}

// finish stops the inspection and lets go of the buffers.
func (s *State) finish() {
	s.done = true
	s.putWork()
}

func (s *State) checkDone() {
	if s.dirDone[0] && s.dirDone[1] {
		s.finish()
	}
}

// What segment wants next of a direction.
const (
	segDone = iota // nothing: the direction is not looked at again
	segMore        // the rest of an incomplete message (kept from its start)
	segNext        // the next segment, from its own start (STARTTLS watch)
)

// segment reads the start of one direction's TCP stream: data holds
// everything from its first payload byte, or from the start of a segment
// when the last call asked for segNext.
func (s *State) segment(data []byte, dir int, cut bool) int {
	if s.proto == Unknown {
		p, need := s.detectTCP(data, dir)
		if p == Unknown {
			if need {
				return segMore
			}
			return segDone
		}
		s.proto = p
	}
	more := false
	switch s.proto {
	case TLS:
		more = s.tls(data, dir, cut)
	case HTTP:
		more = s.http(data, dir)
	case SSH:
		more = s.ssh(data, dir)
	case DNS:
		more = s.dnsTCP(data, dir)
	case FTP, SMTP, IMAP, POP3:
		if dir == 0 {
			s.refine220(data)
		}
		// STARTTLS: a TLS handshake may start at a later segment
		if s.tlsSeen[dir] || len(data) >= 6 && data[0] == 0x16 && data[1] == 3 && (data[5] == 1 || data[5] == 2) {
			s.tlsSeen[dir] = true
			more = s.tls(data, dir, cut)
			break
		}
		return segNext
	}
	if more {
		return segMore
	}
	return segDone
}

// datagram reads one UDP payload.
func (s *State) datagram(b []byte, dir int) {
	if s.proto == Unknown {
		s.proto = s.detectUDP(b, dir)
		if s.proto == Unknown {
			s.tries[dir]++
			if s.tries[0]+s.tries[1] >= 3 {
				s.finish()
			}
			return
		}
	}
	switch s.proto {
	case DNS, MDNS, LLMNR:
		s.dns(b, dir)
	case QUIC:
		s.quic(b, dir)
	case SSDP:
		s.http(b, dir) // HTTP heads over UDP (tshark shows them as HTTP)
	default:
		s.finish()
	}
}

// Num returns the number in field f, or −1 when f was not read or is not a
// number.
func (s *State) Num(f Field) int64 {
	if s == nil || f == FieldProto || s.spans[f].n == 0 {
		return -1
	}
	sp := s.spans[f]
	var n int64
	for _, c := range s.text[sp.off : sp.off+sp.n] {
		if c < '0' || c > '9' || n > 1<<40 {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// Text returns the bytes of field f (nil when it was not read); they must
// not be kept or changed.
func (s *State) Text(f Field) []byte {
	if s == nil || f == FieldProto {
		return nil
	}
	sp := s.spans[f]
	return s.text[sp.off : sp.off+sp.n]
}

// Entropy returns the Shannon entropy of b's bytes, bits per byte (0 for
// fewer than two bytes).
func Entropy(b []byte) float64 {
	if len(b) < 2 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
