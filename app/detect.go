package app

import (
	"bytes"
	"encoding/binary"
)

// Protocols are named from what their first bytes must look like. A port
// number alone never names one; it only chooses between protocols whose
// bytes look alike (DNS, mDNS and LLMNR; FTP and SMTP banners; NTP, SNMP,
// NetBIOS and DHCPv6, whose headers are too short to tell by themselves).

func (s *State) hasPort(ports ...uint16) bool {
	for _, p := range ports {
		if s.port[0] == p || s.port[1] == p {
			return true
		}
	}
	return false
}

var httpMethods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
	"PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ", "UNLOCK ", "SEARCH ", "REPORT "}

var sipMethods = [...]string{"INVITE ", "REGISTER ", "OPTIONS ", "ACK ", "BYE ", "CANCEL ", "SUBSCRIBE ", "NOTIFY ",
	"MESSAGE ", "INFO ", "PRACK ", "UPDATE ", "REFER ", "PUBLISH "}

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// firstLine returns b's first line without its line end, and whether the
// line end was in b.
func firstLine(b []byte) ([]byte, bool) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return bytes.TrimSuffix(b[:i], []byte{'\r'}), true
	}
	return b, false
}

// requestLine reports whether b starts with METHOD SP target SP version,
// the version starting with proto ("HTTP/1." or "SIP/2.0"), for one of
// methods. need says b is too short to tell.
func requestLine(b []byte, methods []string, proto string) (ok, need bool) {
	for _, m := range methods {
		if len(b) < len(m) {
			if bytes.HasPrefix([]byte(m), b) {
				need = true
			}
			continue
		}
		if string(b[:len(m)]) != m {
			continue
		}
		line, full := firstLine(b)
		if !full && len(b) < 2048 {
			return false, true
		}
		sp := bytes.LastIndexByte(line, ' ')
		if sp <= len(m) {
			return false, false
		}
		return bytes.HasPrefix(line[sp+1:], []byte(proto)), false
	}
	return false, need
}

// detectTCP names the protocol of a TCP stream from the start of one
// direction (dir 0: the initiator's). need says b is too short to tell.
func (s *State) detectTCP(b []byte, dir int) (p Proto, need bool) {
	if len(b) < 4 {
		return Unknown, true
	}
	switch {
	case b[0] == 0x16 && b[1] == 3 && b[2] <= 4 && len(b) >= 6 && (b[5] == 1 || b[5] == 2):
		return TLS, false
	case b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4 && len(b) >= 5 && binary.BigEndian.Uint16(b[3:5]) <= 18432:
		// a record of a connection seen from its middle (change cipher
		// spec, alert, handshake, application data)
		return TLS, false
	case bytes.HasPrefix(b, []byte("SSH-")):
		return SSH, false
	case bytes.HasPrefix(b, []byte("PRI ")):
		if len(b) < len(h2Preface) {
			return Unknown, bytes.HasPrefix([]byte(h2Preface), b)
		}
		if string(b[:len(h2Preface)]) == h2Preface {
			return HTTP2, false
		}
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		if len(b) >= 12 && b[8] == ' ' && isDigits(b[9:12]) {
			return HTTP, false
		}
	case bytes.HasPrefix(b, []byte("SIP/2.0 ")):
		return SIP, false
	case bytes.HasPrefix(b, []byte("220 ")) || bytes.HasPrefix(b, []byte("220-")):
		return s.banner220(b), false
	case bytes.HasPrefix(b, []byte("+OK")) || bytes.HasPrefix(b, []byte("-ERR ")):
		if s.hasPort(6379) || dir == 1 && s.str[0].started && !s.hasPort(110, 995) {
			return Redis, false // a reply to a command
		}
		return POP3, false
	case bytes.HasPrefix(b, []byte("* OK")) || bytes.HasPrefix(b, []byte("* PREAUTH")):
		return IMAP, false
	case b[0] == 0xff && b[1] >= 0xfb && b[1] <= 0xfe:
		return Telnet, false
	}
	if ok, n := requestLine(b, httpMethods[:], "HTTP/1."); ok {
		return HTTP, false
	} else if n {
		need = true
	}
	if ok, n := requestLine(b, sipMethods[:], "SIP/2.0"); ok {
		return SIP, false
	} else if n {
		need = true
	}
	if p := binaryTCP(b, dir, s.hasPort(3306)); p != Unknown {
		return p, false
	}
	if p := s.midText(b); p != Unknown {
		return p, false
	}
	if s.hasPort(53) && len(b) >= 14 {
		if n := int(binary.BigEndian.Uint16(b)); n >= 12 && dnsHeaderOK(b[2:]) {
			return DNS, false
		}
	}
	if need && len(b) < 256 {
		return Unknown, true
	}
	return Unknown, false
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// binaryTCP names the binary protocols of TCP from their first message.
func binaryTCP(b []byte, dir int, port3306 bool) Proto {
	n := len(b)
	switch {
	case n >= 8 && b[0] == 0 && (string(b[4:8]) == "\xffSMB" || string(b[4:8]) == "\xfeSMB" || string(b[4:8]) == "\xfdSMB"):
		return SMB
	case n >= 4 && b[0] == 0x81 && b[1] == 0 && int(binary.BigEndian.Uint16(b[2:4])) == n-4 && n == 72:
		return NetBIOS // session request: two 34-byte encoded names
	case n >= 11 && b[0] == 3 && b[1] == 0 && int(binary.BigEndian.Uint16(b[2:4])) == n && int(b[4]) == n-5 &&
		(b[5] == 0xe0 || b[5] == 0xd0):
		return RDP // TPKT + X.224 connection request or confirm
	case dir == 1 && n >= 16 && int(b[0])|int(b[1])<<8|int(b[2])<<16 == n-4 && b[3] == 0 && b[4] == 10:
		// MySQL server greeting: 3-byte length, sequence 0, protocol 10,
		// a NUL-terminated version string
		if i := bytes.IndexByte(b[5:], 0); i > 0 && i < 64 && b[5] >= '0' && b[5] <= '9' {
			return MySQL
		}
	case dir == 1 && n >= 9 && int(b[0])|int(b[1])<<8|int(b[2])<<16 == n-4 && b[3] == 0 && b[4] == 0xff && port3306:
		return MySQL // the server's refusal instead of a greeting
	case dir == 0 && n >= 8 && binary.BigEndian.Uint32(b) == uint32(n):
		switch v := binary.BigEndian.Uint32(b[4:8]); {
		case v == 196608 && n > 8: // protocol 3.0 startup with parameters
			return PostgreSQL
		case v == 80877103 && n == 8: // SSLRequest
			return PostgreSQL
		}
	case dir == 0 && n >= 4 && b[0] == '*' && b[1] >= '1' && b[1] <= '9':
		// Redis RESP: *<count>\r\n$<len>\r\n
		i := 2
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i+2 < n && b[i] == '\r' && b[i+1] == '\n' && b[i+2] == '$' {
			return Redis
		}
	}
	return Unknown
}

// midText names a text protocol seen from the middle of its connection
// (a command or a numbered reply line), where the port says which one.
func (s *State) midText(b []byte) Proto {
	line, full := firstLine(b)
	if !full || len(line) < 3 {
		return Unknown
	}
	for _, c := range line {
		if c < 0x20 || c >= 0x7f {
			return Unknown
		}
	}
	reply := isDigits(line[:3]) && (len(line) == 3 || line[3] == ' ' || line[3] == '-')
	cmd := 0
	for cmd < len(line) && line[cmd] >= 'A' && line[cmd] <= 'Z' {
		cmd++
	}
	command := cmd >= 3 && cmd <= 4 && (cmd == len(line) || line[cmd] == ' ')
	switch {
	case (reply || command) && s.hasPort(21):
		return FTP
	case (reply || command) && s.hasPort(25, 587):
		return SMTP
	case command && s.hasPort(110):
		return POP3
	case s.hasPort(143) && bytes.IndexByte(line, ' ') > 0:
		return IMAP // tagged commands and replies
	}
	return Unknown
}

// banner220 tells FTP from SMTP by a 220 greeting; when the text does not
// say, the client's first command will (refine220).
func (s *State) banner220(b []byte) Proto {
	line, _ := firstLine(b)
	up := bytes.ToUpper(line)
	switch {
	case bytes.Contains(up, []byte("SMTP")) || bytes.Contains(up, []byte("MAIL")) || bytes.Contains(up, []byte("POSTFIX")) || bytes.Contains(up, []byte("EXIM")):
		return SMTP
	case bytes.Contains(up, []byte("FTP")):
		return FTP
	}
	s.maybe = true
	if s.hasPort(25, 587, 465, 2525) {
		return SMTP
	}
	return FTP
}

// refine220 reads the client's first command after an unclear 220.
func (s *State) refine220(b []byte) {
	if !s.maybe {
		return
	}
	s.maybe = false
	up := bytes.ToUpper(b[:min(len(b), 5)])
	switch {
	case bytes.HasPrefix(up, []byte("EHLO")) || bytes.HasPrefix(up, []byte("HELO")):
		s.proto = SMTP
	case bytes.HasPrefix(up, []byte("USER")) || bytes.HasPrefix(up, []byte("AUTH")) || bytes.HasPrefix(up, []byte("FEAT")) ||
		bytes.HasPrefix(up, []byte("SYST")) || bytes.HasPrefix(up, []byte("OPTS")):
		s.proto = FTP
	}
}

// detectUDP names the protocol of a UDP flow from one datagram.
func (s *State) detectUDP(b []byte, dir int) Proto {
	n := len(b)
	switch {
	case s.hasPort(53, 5353, 5355) && dnsHeaderOK(b):
		switch {
		case s.hasPort(5353):
			return MDNS
		case s.hasPort(5355):
			return LLMNR
		}
		return DNS
	case n >= 7 && b[0]&0xc0 == 0xc0 && quicVersion(binary.BigEndian.Uint32(b[1:5])) && int(b[5]) <= 20:
		return QUIC
	case n >= 240 && (b[0] == 1 || b[0] == 2) && b[1] == 1 && b[2] == 6 && binary.BigEndian.Uint32(b[236:240]) == 0x63825363:
		return DHCP
	case n >= 48 && s.hasPort(123) && (b[0]>>3)&7 >= 1 && (b[0]>>3)&7 <= 4 && b[0]&7 >= 1 && b[0]&7 <= 5:
		return NTP
	case n >= 4 && s.hasPort(546, 547) && b[0] >= 1 && b[0] <= 13:
		return DHCPv6
	case bytes.HasPrefix(b, []byte("SIP/2.0 ")):
		return SIP
	case n >= 8 && b[0] == 0x30 && s.hasPort(161, 162) && snmpOK(b):
		return SNMP
	case s.hasPort(137) && dnsHeaderOK(b), n >= 14 && s.hasPort(138) && b[0] >= 0x10 && b[0] <= 0x16:
		return NetBIOS // name service (DNS-like), datagram service
	}
	if ok, _ := requestLine(b, sipMethods[:], "SIP/2.0"); ok {
		return SIP
	}
	if s.hasPort(1900) {
		if bytes.HasPrefix(b, []byte("M-SEARCH * HTTP/1.")) || bytes.HasPrefix(b, []byte("NOTIFY * HTTP/1.")) || bytes.HasPrefix(b, []byte("HTTP/1.")) {
			return SSDP
		}
	}
	return Unknown
}

// snmpOK checks an SNMP message's start: SEQUENCE, INTEGER version 0, 1
// or 3.
func snmpOK(b []byte) bool {
	i := 1
	if b[i]&0x80 != 0 {
		i += int(b[i] & 0x7f)
	}
	i++
	return i+3 <= len(b) && b[i] == 2 && b[i+1] == 1 && (b[i+2] == 0 || b[i+2] == 1 || b[i+2] == 3)
}

// quicVersion reports whether v is QUIC version 1 or 2.
func quicVersion(v uint32) bool { return v == 1 || v == 0x6b3343cf }
