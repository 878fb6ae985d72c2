package meter_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
)

// The application metadata against tshark's dissection: for every flow,
// the application protocol of its first payload packet that tshark names,
// and the first value tshark shows of each field below, must equal ours.

// tsharkFields are the tshark fields compared, with our field.
var tsharkFields = []struct {
	name string
	f    app.Field
}{
	{"tls.handshake.extensions_server_name", app.TLSSNI},
	{"tls.handshake.ja3", app.TLSJA3},
	{"tls.handshake.ja3s", app.TLSJA3S},
	{"dns.qry.name", app.DNSQName},
	{"dns.qry.type", app.DNSQType},
	{"dns.flags.rcode", app.DNSRcode},
	{"http.host", app.HTTPHost},
	{"http.request.method", app.HTTPMethod},
	{"http.request.uri", app.HTTPTarget},
	{"http.response.code", app.HTTPStatus},
	{"ssh.kex.hassh", app.SSHHassh},
	{"ssh.kex.hasshserver", app.SSHHasshServer},
}

// tsharkProtos maps tshark's protocol names (frame.protocols) to ours.
var tsharkProtos = map[string]app.Proto{
	"dns": app.DNS, "mdns": app.MDNS, "llmnr": app.LLMNR, "http": app.HTTP, "http2": app.HTTP2,
	"tls": app.TLS, "quic": app.QUIC, "ssh": app.SSH, "ftp": app.FTP, "smtp": app.SMTP,
	"imap": app.IMAP, "pop": app.POP3, "ntp": app.NTP, "dhcp": app.DHCP, "dhcpv6": app.DHCPv6,
	"smb": app.SMB, "smb2": app.SMB, "nbss": app.NetBIOS, "nbns": app.NetBIOS, "nbdgm": app.NetBIOS,
	"rdp": app.RDP, "mysql": app.MySQL, "pgsql": app.PostgreSQL, "sip": app.SIP, "ssdp": app.SSDP,
	"snmp": app.SNMP, "telnet": app.Telnet,
}

// the protocols the issue lists; agreement is measured on flows tshark
// names one of these
var listedProtos = []app.Proto{app.DNS, app.HTTP, app.HTTP2, app.TLS, app.QUIC, app.SSH, app.FTP, app.SMTP,
	app.IMAP, app.POP3, app.NTP, app.DHCP, app.SMB, app.RDP, app.MySQL, app.PostgreSQL, app.Redis, app.SIP}

type appFlow struct {
	src         netip.AddrPort
	first, last int64
	vals        [app.NumFields]string
	proto       string // tshark's
	tvals       []string
	sshFirst    [2]string // tshark's first ssh.protocol from each side
}

type appSink struct{ flows map[string][]*appFlow }

func flowKey(proto uint8, a, b netip.AddrPort) string {
	if b.Addr().Less(a.Addr()) || b.Addr() == a.Addr() && b.Port() < a.Port() {
		a, b = b, a
	}
	return fmt.Sprintf("%d %s %s", proto, a, b)
}

func (s *appSink) Write(r *feature.Record) error {
	f := &appFlow{src: r.Src, first: r.First, last: r.Last, tvals: make([]string, len(tsharkFields))}
	for i := range f.vals {
		f.vals[i] = string(r.App.AppendField(nil, app.Field(i)))
	}
	k := flowKey(r.Proto, r.Src, r.Dst)
	s.flows[k] = append(s.flows[k], f)
	return nil
}
func (s *appSink) Close() error { return nil }

// epochNS parses tshark's frame.time_epoch exactly.
func epochNS(s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(sec, 10, 64)
	frac = (frac + "000000000")[:9]
	f, _ := strconv.ParseInt(frac, 10, 64)
	return n*1e9 + f
}

type appReport struct {
	flows, named, agree int
	perProto            map[string][2]int // tshark's name → flows, agreeing
	fieldChecked        map[string]int
	fieldCut            map[string]int
	mismatches          []string
	protoMismatches     []string
}

func compareWithTshark(t *testing.T, path string, rep *appReport) {
	t.Helper()
	sink := &appSink{flows: map[string][]*appFlow{}}
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, App: true}, sink)
	if err := m.RunFiles(context.Background(), []string{path}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	args := []string{"-r", path, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
		"-o", "tcp.desegment_tcp_streams:TRUE",
		"-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst", "-e", "ipv6.dst",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport",
		"-e", "tcp.len", "-e", "udp.length", "-e", "frame.protocols", "-e", "ssh.protocol", "-e", "_ws.expert", "-e", "ip.frag_offset"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f.name)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 15+len(tsharkFields) {
			continue
		}
		ts := epochNS(c[0])
		src, dst := c[1]+c[2], c[3]+c[4]
		var proto uint8
		sp, dp, plen := c[5], c[6], c[9]
		switch {
		case sp != "":
			proto = 6
		case c[7] != "":
			proto, sp, dp = 17, c[7], c[8]
			if n, _ := strconv.Atoi(c[10]); n > 8 {
				plen = strconv.Itoa(n - 8)
			} else {
				plen = "0"
			}
		default:
			continue
		}
		sa, err1 := netip.ParseAddr(src)
		da, err2 := netip.ParseAddr(dst)
		spn, _ := strconv.Atoi(sp)
		dpn, _ := strconv.Atoi(dp)
		if err1 != nil || err2 != nil {
			continue
		}
		s, d := netip.AddrPortFrom(sa.Unmap(), uint16(spn)), netip.AddrPortFrom(da.Unmap(), uint16(dpn))
		var f *appFlow
		for _, x := range sink.flows[flowKey(proto, s, d)] {
			if ts >= x.first && ts <= x.last {
				f = x
				break
			}
		}
		if f == nil {
			continue
		}
		if n, _ := strconv.Atoi(plen); n > 0 && f.proto == "" && !strings.Contains(c[13], "Malformed") {
			for _, p := range strings.Split(c[11], ":") {
				if ap, ok := tsharkProtos[p]; ok {
					f.proto = ap.String()
					break
				}
			}
		}
		if v := c[12]; v != "" {
			dir := 0
			if s != f.src {
				dir = 1
			}
			if f.sshFirst[dir] == "" {
				f.sshFirst[dir] = v
			}
		}
		for i := range tsharkFields {
			if v := c[15+i]; v != "" && f.tvals[i] == "" {
				f.tvals[i] = v
			}
		}
	}
	name := filepath.Base(path)
	for _, fl := range sink.flows {
		for _, f := range fl {
			rep.flows++
			if f.proto != "" && slices.ContainsFunc(listedProtos, func(p app.Proto) bool { return p.String() == f.proto }) {
				rep.named++
				pp := rep.perProto[f.proto]
				pp[0]++
				if f.vals[app.FieldProto] == f.proto {
					rep.agree++
					pp[1]++
				} else {
					rep.protoMismatches = append(rep.protoMismatches, fmt.Sprintf("%s: flow %s first %d: tshark %s, ours %q", name, f.src, f.first, f.proto, f.vals[app.FieldProto]))
				}
				rep.perProto[f.proto] = pp
			}
			for i, tf := range tsharkFields {
				want := f.tvals[i]
				if want == "" {
					continue
				}
				rep.fieldChecked[tf.name]++
				got := f.vals[tf.f]
				if len(got) > app.MaxText-4 && strings.HasPrefix(want, got) {
					rep.fieldCut[tf.name]++ // the bound: text is cut at app.MaxText bytes
					continue
				}
				if got != want {
					rep.mismatches = append(rep.mismatches, fmt.Sprintf("%s: flow %s first %d: %s tshark %q, ours %q", name, f.src, f.first, tf.name, want, got))
				}
			}
			for dir, fld := range []app.Field{app.SSHClient, app.SSHServer} {
				if want := f.sshFirst[dir]; want != "" {
					rep.fieldChecked["ssh.protocol"]++
					if got := f.vals[fld]; got != want {
						rep.mismatches = append(rep.mismatches, fmt.Sprintf("%s: flow %s: ssh.protocol side %d tshark %q, ours %q", name, f.src, dir, want, got))
					}
				}
			}
		}
	}
}

// TestAppAgainstTshark compares the application metadata with tshark's on
// the project's fixtures, the lab's captures and the public datasets (when
// present). It skips without tshark.
func TestAppAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	var paths []string
	// the other fixtures' payloads are a byte pattern, named by tshark
	// from their ports alone
	for _, pat := range []string{"testdata/app.pcap*", "../lab/testdata/*/*.pcap.gz"} {
		ps, _ := filepath.Glob(pat)
		paths = append(paths, ps...)
	}
	if dir := datasetsDir(); dir != "" {
		ps, _, err := capture.Expand([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, ps...)
	}
	if extra := os.Getenv("FLOWMETER_APP_CAPTURES"); extra != "" {
		ps, _, err := capture.Expand(strings.Split(extra, ","))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, ps...)
	}
	rep := &appReport{perProto: map[string][2]int{}, fieldChecked: map[string]int{}, fieldCut: map[string]int{}}
	for _, p := range paths {
		compareWithTshark(t, p, rep)
	}
	var names []string
	for n := range rep.perProto {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d captures, %d flows; tshark names a listed protocol for %d, app_proto agrees on %d", len(paths), rep.flows, rep.named, rep.agree)
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %-10s %6d flows, %6d agree", n, rep.perProto[n][0], rep.perProto[n][1])
	}
	for _, n := range slices.Sorted(maps.Keys(rep.fieldChecked)) {
		fmt.Fprintf(&b, "\n  field %-40s %6d flows checked, %d of them cut at %d bytes", n, rep.fieldChecked[n], rep.fieldCut[n], app.MaxText)
	}
	t.Log(b.String())
	for i, m := range rep.protoMismatches {
		if i == 400 {
			t.Logf("… %d more", len(rep.protoMismatches)-i)
			break
		}
		t.Log(m)
	}
	if rep.named > 0 && float64(rep.agree) < 0.99*float64(rep.named) {
		t.Errorf("app_proto agrees with tshark on %d of %d flows (< 99 %%)", rep.agree, rep.named)
	}
	for i, m := range rep.mismatches {
		if i == 40 {
			t.Errorf("… %d more", len(rep.mismatches)-i)
			break
		}
		t.Error(m)
	}
}
