package filter

import (
	"os/exec"
	"strings"
	"testing"
)

// FuzzCompile: no expression makes Compile panic; a program it compiles
// runs on every test frame, and, where Debian's tcpdump is installed,
// libpcap compiles the same expression and accepts exactly the same frames
// (vlan aside: ours reads the tag from the kernel's metadata, which the
// test VM does not have).
func FuzzCompile(f *testing.F) {
	for _, e := range []string{"tcp port 80", "host 10.0.0.1 and not udp", "src net 192.0.2.0/24 or (ip6 and dst port 53)",
		"portrange 1000-2000", "icmp or arp", "vlan 10 and tcp", "not (tcp or udp) and ip", "dst host 2001:db8::1", "port 0x50", "portrange 010-20"} {
		f.Add(e)
	}
	_, err := exec.LookPath("tcpdump")
	haveTcpdump := err == nil
	fr := frames()
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := Compile(expr)
		if err != nil || strings.Contains(expr, "vlan") {
			return
		}
		var ref []bool
		if haveTcpdump && !strings.ContainsAny(expr, "\x00\n") {
			var stderr strings.Builder
			cmd := exec.Command("tcpdump", "-dd", "-y", "EN10MB", "--", expr)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil && strings.Contains(stderr.String(), "rejects all packets") {
				// libpcap's optimizer refuses a filter that can never match;
				// ours must then match nothing
				for i, frame := range fr {
					if run(t, prog, frame) {
						t.Fatalf("%q: libpcap finds it matches nothing, here it accepts frame %d", expr, i)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("%q compiles here but not with libpcap: %v (%s)", expr, err, stderr.String())
			}
			lp, err := ParseRaw(string(out))
			if err != nil {
				t.Fatal(err)
			}
			for _, frame := range fr {
				ref = append(ref, run(t, lp, frame))
			}
		}
		for i, frame := range fr {
			got := run(t, prog, frame)
			if ref != nil && got != ref[i] {
				t.Fatalf("%q: frame %d accepted %v here, %v by libpcap", expr, i, got, ref[i])
			}
		}
	})
}

// A Matcher accepts what the compiled program accepts, on Ethernet frames
// only, and refuses vlan (a live-capture filter).
func TestMatcher(t *testing.T) {
	m, err := NewMatcher("tcp port 80 or udp")
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := Compile("tcp port 80 or udp")
	for i, f := range frames() {
		if want := run(t, prog, f); m.Match(f, 1) != want {
			t.Errorf("frame %d: Match %v, program %v", i, !want, want)
		}
		if m.Match(f, 101) {
			t.Errorf("frame %d matched as raw IP", i)
		}
	}
	if _, err := NewMatcher("vlan 10 and tcp"); err == nil {
		t.Error("vlan accepted for files")
	}
}
