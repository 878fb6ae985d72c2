package packettest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/flowmeter/flowmeter/packet"
)

// AppTraffic returns the application protocol fixture (meter/testdata/
// app.pcap): one or more flows of each protocol the app package names,
// with real handshakes where a library makes them (TLS 1.3 and 1.2 from
// crypto/tls, a QUIC Initial around crypto/tls's QUIC ClientHello) and
// hand-built messages elsewhere (DNS, HTTP, SSH, mail, databases, SMB, RDP,
// SIP, NTP, DHCP, SNMP, HTTP/2, Telnet), plus a browser-like ClientHello
// with GREASE built from the JA4 specification's example lists. TLS keys
// and randoms are fresh on every run, so the file is made once and checked
// in (go test ./meter -run TestAppFixture -update-app).
func AppTraffic() []Packet {
	clk := &Clock{T: fixtureT0, Step: 700 * time.Microsecond}
	var out []Packet
	port := uint16(40000)
	conv := func(client, server string, exchange ...[]byte) {
		port++
		c := NewTCP(netip.AddrPortFrom(netip.MustParseAddr(client), port), ap(server), clk)
		out = append(out, c.Handshake()...)
		for i, b := range exchange {
			out = append(out, c.Send(i%2 == 0, b)...)
			out = append(out, c.Ack(i%2 != 0))
		}
		out = append(out, c.Close(true)...)
		clk.Skip(10 * time.Millisecond)
	}
	// server-first protocols start with an empty client message
	none := []byte{}
	udp := func(client, server string, msgs ...[]byte) {
		port++
		cl := netip.AddrPortFrom(netip.MustParseAddr(client), port)
		sv := ap(server)
		for i, m := range msgs {
			if i%2 == 0 {
				out = append(out, UDPBody(clk.Next(), Frame{}, cl, sv, m))
			} else {
				out = append(out, UDPBody(clk.Next(), Frame{}, sv, cl, m))
			}
		}
		clk.Skip(10 * time.Millisecond)
	}

	// TLS 1.3 and 1.2 from crypto/tls
	for _, v := range []struct {
		sni  string
		alpn []string
		max  uint16
	}{{"www.example.com", []string{"h2", "http/1.1"}, tls.VersionTLS13}, {"legacy.example.org", nil, tls.VersionTLS12}} {
		conv("10.9.0.10", "10.9.0.20:443", tlsExchange(v.sni, v.alpn, v.max)...)
	}
	// a browser-like ClientHello (GREASE, the JA4 example's lists)
	conv("10.9.0.11", "10.9.0.20:443", browserHello(), serverHello())
	// SMTP with STARTTLS
	st := tlsExchange("mail.example.net", nil, tls.VersionTLS13)
	conv("10.9.0.12", "10.9.0.25:25", append([][]byte{none, []byte("220 mail.example.net ESMTP Postfix\r\n"),
		[]byte("EHLO client.example.net\r\n"), []byte("250-mail.example.net\r\n250 STARTTLS\r\n"),
		[]byte("STARTTLS\r\n"), []byte("220 2.0.0 Ready to start TLS\r\n")}, st...)...)
	// HTTP/1.1, the request's head split over two segments
	conv("10.9.0.13", "10.9.0.80:80",
		[]byte("GET /index.html?q=flows HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\n"),
		none,
		[]byte("Accept: */*\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello"))
	conv("10.9.0.13", "10.9.0.80:8080",
		[]byte("POST /api/login HTTP/1.1\r\nHost: api.example.com:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101, \"quoted\"\r\nContent-Length: 2\r\n\r\n{}"),
		[]byte("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
	// HTTP/2 with prior knowledge: the preface and an empty SETTINGS frame
	conv("10.9.0.14", "10.9.0.80:8081", append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0), []byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
	// SSH
	conv("10.9.0.15", "10.9.0.22:22", none, []byte("SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n"), []byte("SSH-2.0-paramiko_3.4.0\r\n"), sshKexInit())
	// FTP (a greeting that does not say which), POP3, IMAP
	conv("10.9.0.16", "10.9.0.21:2121", none, []byte("220 Welcome\r\n"), []byte("USER anonymous\r\n"), []byte("331 Please specify the password.\r\n"))
	conv("10.9.0.16", "10.9.0.21:110", none, []byte("+OK POP3 server ready\r\n"), []byte("USER alice\r\n"), []byte("+OK\r\n"))
	conv("10.9.0.16", "10.9.0.21:143", none, []byte("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"), []byte("a1 LOGIN alice secret\r\n"), []byte("a1 OK Logged in\r\n"))
	// databases and caches
	conv("10.9.0.17", "10.9.0.33:3306", none, mysqlGreeting())
	conv("10.9.0.17", "10.9.0.54:5432", postgresStartup(), []byte("R\x00\x00\x00\x08\x00\x00\x00\x00"))
	conv("10.9.0.17", "10.9.0.63:6379", []byte("*1\r\n$4\r\nPING\r\n"), []byte("+PONG\r\n"))
	// SMB2 negotiate, RDP connection request, Telnet options
	conv("10.9.0.18", "10.9.0.45:445", smb2Negotiate())
	conv("10.9.0.18", "10.9.0.89:3389", []byte{3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0})
	conv("10.9.0.18", "10.9.0.23:23", none, []byte{0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20})
	// DNS over UDP: an answered A query, NXDOMAIN, AAAA; DNS over TCP; mDNS
	udp("10.9.0.19", "10.9.0.53:53", dnsQuery(0x1a2b, "www.example.com", 1), dnsResponse(0x1a2b, "www.example.com", 1, 0, []uint32{300, 60}))
	udp("10.9.0.19", "10.9.0.53:53", dnsQuery(0x1a2c, "nosuch.example.com", 1), dnsResponse(0x1a2c, "nosuch.example.com", 1, 3, nil))
	udp("10.9.0.19", "10.9.0.53:53", dnsQuery(0x1a2d, "ipv6.example.com", 28), dnsResponse(0x1a2d, "ipv6.example.com", 28, 0, []uint32{3600}))
	conv("10.9.0.19", "10.9.0.53:53", withLength(dnsQuery(0x1a2e, "big.example.com", 16)), withLength(dnsResponse(0x1a2e, "big.example.com", 16, 0, []uint32{120})))
	udp("10.9.0.19", "224.0.0.251:5353", dnsQuery(0, "printer.local", 12))
	// QUIC v1: the client's Initial carrying crypto/tls's ClientHello
	udp("10.9.0.24", "10.9.0.20:443", quicInitial("quic.example.com"))
	// SIP, NTP, DHCP, SNMP
	udp("10.9.0.26", "10.9.0.27:5060", []byte("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.0.26:5060\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: 1@10.9.0.26\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
		[]byte("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.9.0.26:5060\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	udp("10.9.0.26", "10.9.0.123:123", ntpPacket(3), ntpPacket(4))
	out = append(out, UDPBody(clk.Next(), Frame{}, ap("0.0.0.0:68"), ap("255.255.255.255:67"), dhcpDiscover()))
	udp("10.9.0.26", "10.9.0.161:161", snmpGet())
	// a flow whose payload no protocol claims
	conv("10.9.0.28", "10.9.0.29:7000", []byte("\x00\x01binary blob\x02\x03"), []byte("\x04\x05"))
	return out
}

// pipeRecorder is a connection that logs what it writes.
type pipeRecorder struct {
	net.Conn
	client bool
	log    *msgLog
}

type msgLog struct {
	mu   sync.Mutex
	msgs []struct {
		client bool
		b      []byte
	}
}

func (p *pipeRecorder) Write(b []byte) (int, error) {
	p.log.mu.Lock()
	p.log.msgs = append(p.log.msgs, struct {
		client bool
		b      []byte
	}{p.client, append([]byte(nil), b...)})
	p.log.mu.Unlock()
	return p.Conn.Write(b)
}

var (
	certOnce sync.Once
	cert     tls.Certificate
)

func testCert() tls.Certificate {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flowmeter test"},
			NotBefore: fixtureT0.Add(-time.Hour), NotAfter: fixtureT0.Add(24 * time.Hour), DNSNames: []string{"*.example.com"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return cert
}

// tlsExchange runs a crypto/tls handshake and one request and answer over
// a loopback TCP connection and returns what each side wrote, in turns
// (client first).
func tlsExchange(sni string, alpn []string, maxVersion uint16) [][]byte {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	log := &msgLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		srv := tls.Server(&pipeRecorder{c, false, log}, &tls.Config{Certificates: []tls.Certificate{testCert()}, NextProtos: alpn,
			MaxVersion: maxVersion, Time: func() time.Time { return fixtureT0 }})
		buf := make([]byte, 64)
		if _, err := srv.Read(buf); err == nil {
			srv.Write([]byte("pong"))
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	cli := tls.Client(&pipeRecorder{c, true, log}, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: alpn,
		MaxVersion: maxVersion, Time: func() time.Time { return fixtureT0 }})
	if err := cli.Handshake(); err != nil {
		panic(err)
	}
	cli.Write([]byte("ping"))
	buf := make([]byte, 64)
	cli.Read(buf)
	<-done
	c.Close()
	// merge consecutive writes of one side; turns alternate from the client
	var turns [][]byte
	for i, m := range log.msgs {
		if i == 0 || m.client != log.msgs[i-1].client {
			if i == 0 && !m.client {
				turns = append(turns, []byte{})
			}
			turns = append(turns, nil)
		}
		turns[len(turns)-1] = append(turns[len(turns)-1], m.b...)
	}
	return turns
}

func u16(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }

// browserHello is a TLS 1.3 ClientHello with the cipher, extension and
// signature algorithm lists of the JA4 specification's example (its JA4_ro),
// GREASE values among them, server name and ALPN h2: its JA4 is the
// example's, t13d1516h2_8daaf6152771_e5627efa2ab1.
func browserHello() []byte {
	ciphers := []int{0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	sigs := []int{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	ext := func(b []byte, typ int, data []byte) []byte {
		b = u16(b, typ)
		b = u16(b, len(data))
		return append(b, data...)
	}
	var exts []byte
	exts = ext(exts, 0x2a2a, nil) // GREASE
	for _, e := range []int{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015} {
		var d []byte
		switch e {
		case 0x0000:
			name := "www.example.com"
			d = u16(nil, len(name)+3)
			d = append(d, 0)
			d = u16(d, len(name))
			d = append(d, name...)
		case 0x0010:
			d = u16(nil, 3)
			d = append(d, 2, 'h', '2')
		case 0x000d:
			d = u16(nil, 2*len(sigs))
			for _, s := range sigs {
				d = u16(d, s)
			}
		case 0x002b:
			d = []byte{6, 0x3a, 0x3a, 3, 4, 3, 3}
		case 0x000a:
			d = u16(nil, 8)
			d = u16(u16(u16(u16(d, 0x4a4a), 0x001d), 0x0017), 0x0018)
		case 0x000b:
			d = []byte{1, 0}
		case 0x0033:
			d = u16(nil, 36)
			d = u16(u16(d, 0x001d), 32)
			d = append(d, make([]byte, 32)...)
		case 0x002d:
			d = []byte{1, 1}
		case 0x0015:
			d = make([]byte, 16)
		}
		exts = ext(exts, e, d)
	}
	var body []byte
	body = u16(body, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = u16(body, 2*len(ciphers))
	for _, c := range ciphers {
		body = u16(body, c)
	}
	body = append(body, 1, 0)
	body = u16(body, len(exts))
	body = append(body, exts...)
	return handshakeRecord(1, body)
}

func handshakeRecord(typ byte, body []byte) []byte {
	msg := append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	rec := []byte{0x16, 3, 1}
	rec = u16(rec, len(msg))
	return append(rec, msg...)
}

// serverHello answers browserHello: TLS 1.3, TLS_AES_128_GCM_SHA256.
func serverHello() []byte {
	var body []byte
	body = u16(body, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = u16(body, 0x1301)
	body = append(body, 0)
	var exts []byte
	exts = u16(u16(exts, 0x002b), 2)
	exts = u16(exts, 0x0304)
	exts = u16(u16(exts, 0x0033), 36)
	exts = u16(u16(exts, 0x001d), 32)
	exts = append(exts, make([]byte, 32)...)
	body = u16(body, len(exts))
	body = append(body, exts...)
	rec := handshakeRecord(2, body)
	rec[2] = 3
	return rec
}

func sshKexInit() []byte {
	payload := append([]byte{20}, make([]byte, 16)...)
	for _, s := range []string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""} {
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(s)))
		payload = append(payload, s...)
	}
	payload = append(payload, 0, 0, 0, 0, 0)
	pad := 8 - (len(payload)+5)%8
	if pad < 4 {
		pad += 8
	}
	pkt := binary.BigEndian.AppendUint32(nil, uint32(len(payload)+pad+1))
	pkt = append(pkt, byte(pad))
	pkt = append(pkt, payload...)
	return append(pkt, make([]byte, pad)...)
}

func mysqlGreeting() []byte {
	p := []byte{10}
	p = append(p, "8.0.36\x00"...)
	p = append(p, 8, 0, 0, 0)
	p = append(p, "abcdefgh\x00"...)
	p = append(p, 0xff, 0xf7, 0xff, 0x02, 0x00, 0xff, 0xdf, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, "ijklmnopqrst\x00"...)
	p = append(p, "caching_sha2_password\x00"...)
	return append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}, p...)
}

func postgresStartup() []byte {
	p := binary.BigEndian.AppendUint32(nil, 196608)
	p = append(p, "user\x00alice\x00database\x00flows\x00\x00"...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p)+4)), p...)
}

func smb2Negotiate() []byte {
	h := []byte("\xfeSMB")
	h = append(h, 64, 0, 0, 0, 0, 0, 0, 0) // structure size, credit charge, status
	h = append(h, 0, 0, 1, 0)              // command NEGOTIATE, credits
	h = append(h, make([]byte, 64-len(h))...)
	body := []byte{36, 0, 2, 0, 1, 0, 0, 0, 0x7f, 0, 0, 0}
	body = append(body, make([]byte, 16+8)...)
	body = append(body, 0x02, 0x02, 0x10, 0x02)
	msg := append(h, body...)
	return append([]byte{0, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func dnsName(b []byte, name string) []byte {
	for len(name) > 0 {
		label := name
		if i := strings.IndexByte(name, '.'); i >= 0 {
			label, name = name[:i], name[i+1:]
		} else {
			name = ""
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

func dnsQuery(id int, name string, qtype int) []byte {
	b := u16(nil, id)
	b = append(b, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	b = dnsName(b, name)
	return u16(u16(b, qtype), 1)
}

func dnsResponse(id int, name string, qtype, rcode int, ttls []uint32) []byte {
	b := u16(nil, id)
	b = append(b, 0x81, 0x80|byte(rcode), 0, 1)
	b = u16(b, len(ttls))
	b = append(b, 0, 0, 0, 0)
	b = dnsName(b, name)
	b = u16(u16(b, qtype), 1)
	for i, ttl := range ttls {
		b = append(b, 0xc0, 12)
		b = u16(u16(b, qtype), 1)
		b = binary.BigEndian.AppendUint32(b, ttl)
		switch qtype {
		case 1:
			b = u16(b, 4)
			b = append(b, 93, 184, 216, byte(34+i))
		case 28:
			b = u16(b, 16)
			b = append(b, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(1+i))
		default:
			b = u16(b, 6)
			b = append(b, 5, 'h', 'e', 'l', 'l', 'o')
		}
	}
	return b
}

func withLength(b []byte) []byte { return append(u16(nil, len(b)), b...) }

func ntpPacket(mode byte) []byte {
	p := make([]byte, 48)
	p[0] = 4<<3 | mode
	return p
}

func dhcpDiscover() []byte {
	p := make([]byte, 240)
	p[0], p[1], p[2] = 1, 1, 6
	binary.BigEndian.PutUint32(p[4:], 0x3903f326)
	copy(p[28:], []byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x02})
	binary.BigEndian.PutUint32(p[236:], 0x63825363)
	return append(p, 53, 1, 1, 255)
}

func snmpGet() []byte {
	oid := []byte{0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0}
	vb := append([]byte{0x30, byte(len(oid) + 2)}, oid...)
	vb = append(vb, 0x05, 0)
	vbl := append([]byte{0x30, byte(len(vb))}, vb...)
	pdu := []byte{0x02, 1, 1, 0x02, 1, 0, 0x02, 1, 0}
	pdu = append(pdu, vbl...)
	pdu = append([]byte{0xa0, byte(len(pdu))}, pdu...)
	msg := []byte{0x02, 1, 1, 0x04, 6}
	msg = append(msg, "public"...)
	msg = append(msg, pdu...)
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

// quicInitial returns a QUIC v1 client Initial packet (padded to 1200
// bytes) whose CRYPTO frame holds crypto/tls's QUIC ClientHello for sni,
// protected as RFC 9001 section 5 says.
func quicInitial(sni string) []byte {
	conn := tls.QUICClient(&tls.QUICConfig{TLSConfig: &tls.Config{ServerName: sni, NextProtos: []string{"h3"}, MinVersion: tls.VersionTLS13}})
	conn.SetTransportParameters([]byte{0x04, 0x04, 0x80, 0x10, 0x00, 0x00}) // initial_max_data
	if err := conn.Start(context.Background()); err != nil {
		panic(err)
	}
	var hello []byte
	for {
		e := conn.NextEvent()
		if e.Kind == tls.QUICNoEvent {
			break
		}
		if e.Kind == tls.QUICWriteData && e.Level == tls.QUICEncryptionLevelInitial {
			hello = append(hello, e.Data...)
		}
	}
	conn.Close()
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	scid := []byte{0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5}
	frames := []byte{0x06, 0x00}
	frames = appendVarint(frames, uint64(len(hello)))
	frames = append(frames, hello...)
	const pnLen = 2
	hdrLen := 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 1 + 2 + pnLen
	if pad := 1200 - hdrLen - len(frames) - 16; pad > 0 {
		frames = append(frames, make([]byte, pad)...)
	}
	hdr := []byte{0xc0 | (pnLen - 1), 0, 0, 0, 1, byte(len(dcid))}
	hdr = append(hdr, dcid...)
	hdr = append(hdr, byte(len(scid)))
	hdr = append(hdr, scid...)
	hdr = append(hdr, 0) // no token
	hdr = u16(hdr, 0x4000|(pnLen+len(frames)+16))
	pnOff := len(hdr)
	hdr = append(hdr, 0, 2) // packet number 2
	salt := []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	initial, _ := hkdf.Extract(sha256.New, dcid, salt)
	secret := expandLabel(initial, "client in", 32)
	key, iv, hp := expandLabel(secret, "quic key", 16), expandLabel(secret, "quic iv", 12), expandLabel(secret, "quic hp", 16)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := append([]byte(nil), iv...)
	nonce[11] ^= 2
	pkt := aead.Seal(append([]byte(nil), hdr...), nonce, frames, hdr)
	hpc, _ := aes.NewCipher(hp)
	mask := make([]byte, 16)
	hpc.Encrypt(mask, pkt[pnOff+4:pnOff+4+16])
	pkt[0] ^= mask[0] & 0x0f
	for i := 0; i < pnLen; i++ {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt
}

func expandLabel(secret []byte, label string, n int) []byte {
	info := u16(nil, n)
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "+label...)
	info = append(info, 0)
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		panic(err)
	}
	return out
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 64:
		return append(b, byte(v))
	case v < 16384:
		return append(b, byte(v>>8)|0x40, byte(v))
	}
	return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
}

// AppLink is the app fixture's link type.
const AppLink = packet.LinkEthernet
