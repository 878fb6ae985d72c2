package meter_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/sink/csv"
)

var updateApp = flag.Bool("update-app", false, "remake testdata/app.pcap (new TLS keys) and its golden output (-update rewrites only the golden output)")

// appColumns are the app fixture's golden columns: the flow's identity and
// its application metadata.
func appColumns() []feature.Column {
	return append([]feature.Column{
		{Name: "src_ip", Field: feature.FieldSrcIP}, {Name: "src_port", Field: feature.FieldSrcPort},
		{Name: "dst_ip", Field: feature.FieldDstIP}, {Name: "dst_port", Field: feature.FieldDstPort},
		{Name: "protocol", Field: feature.FieldProto},
	}, feature.AppColumns()...)
}

func extractApp(t *testing.T, path string, workers int) []byte {
	t.Helper()
	var buf bytes.Buffer
	runInto(t, meter.Config{App: true, Workers: workers}, []string{path}, csv.NewWriter(&buf, appColumns()))
	return buf.Bytes()
}

// TestAppFixture checks the application metadata of testdata/app.pcap
// (packettest.AppTraffic: one flow or more of every protocol) against its
// golden output, the same with two workers, and a few values known
// independently: the JA4 of the specification's example, the server names
// given to crypto/tls (also inside a QUIC Initial and after STARTTLS).
func TestAppFixture(t *testing.T) {
	path := filepath.Join("testdata", "app.pcap")
	golden := filepath.Join("testdata", "app.golden.csv")
	if *updateApp {
		if err := os.WriteFile(path, packettest.Pcap(packettest.PcapOptions{Link: packettest.AppLink}, packettest.AppTraffic()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := extractApp(t, path, 1)
	if *updateApp || *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("app.pcap: output differs from %s:\n%s", golden, got)
	}
	if two := extractApp(t, path, 2); !bytes.Equal(two, got) {
		t.Errorf("app.pcap: two workers give other metadata than one:\n%s", two)
	}
	out := string(got)
	for _, s := range []string{
		",t13d1516h2_8daaf6152771_e5627efa2ab1,", // the JA4 specification's example
		",tls,TLSv1.3,0x1301,www.example.com,\"h2,http/1.1\",",
		",tls,TLSv1.2,", "legacy.example.org", ",flowmeter test,flowmeter test,1,2024-03-14T14:09:26Z,2024-03-15T15:09:26Z,", // crypto/tls's TLS 1.2 Certificate
		",quic,,,quic.example.com,h3,", ",q13d",
		",smtp,TLSv1.3,", "mail.example.net",
		",http,", ",GET,www.example.com,/index.html?q=flows,19,200,curl/8.5.0,text/html; charset=utf-8,",
		",dns,", ",www.example.com,1,0,2,60,", ",nosuch.example.com,1,3,0,,",
		",mdns,", ",http2,", ",ssh,", "SSH-2.0-paramiko_3.4.0,SSH-2.0-OpenSSH_9.6p1 Debian-4",
		",ftp,", ",pop3,", ",imap,", ",mysql,", ",postgresql,", ",redis,", ",smb,", ",rdp,", ",telnet,",
		",sip,", ",ntp,", ",dhcp,", ",snmp,", ",unknown,",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("app.pcap: no %q in\n%s", s, out)
		}
	}
}
