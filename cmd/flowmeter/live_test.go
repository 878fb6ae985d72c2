//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/internal/packettest"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// inNetns runs fn with the calling thread in network namespace ns.
func inNetns(t *testing.T, ns string, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	defer unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET)
	fn()
}

// liveNetns makes a network namespace joined to this one by a veth pair
// (10.199.0.1 here, 10.199.0.2 there), removed when the test ends. It skips
// unless FLOWMETER_LIVE_TESTS=1, as root, where namespaces can be made.
func liveNetns(t *testing.T) (ns, veth string) {
	t.Helper()
	if os.Getenv("FLOWMETER_LIVE_TESTS") != "1" {
		t.Skip("set FLOWMETER_LIVE_TESTS=1 (as root) to run the live capture tests")
	}
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	ns = fmt.Sprintf("fmt%d%s", os.Getpid()%100000, t.Name()[len(t.Name())-3:])
	veth, peer := "fv"+ns[3:], "fp"+ns[3:]
	if len(veth) > 15 {
		veth, peer = veth[:15], peer[:15]
	}
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", veth).Run(); exec.Command("ip", "netns", "del", ns).Run() })
	sh(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
	sh(t, "ip", "link", "set", peer, "netns", ns)
	sh(t, "ip", "addr", "add", "10.199.0.1/30", "dev", veth)
	sh(t, "ip", "link", "set", veth, "up")
	sh(t, "ip", "-n", ns, "addr", "add", "10.199.0.2/30", "dev", peer)
	sh(t, "ip", "-n", ns, "link", "set", peer, "up")
	sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	return ns, veth
}

// sendRaw sends frames out of interface ifname in namespace ns through a
// packet socket, as they are.
func sendRaw(t *testing.T, ns, ifname string, frames [][]byte) {
	t.Helper()
	inNetns(t, ns, func() {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		for _, f := range frames {
			if err := unix.Sendto(fd, f, 0, to); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestLiveVLANFilter sends UDP frames tagged with VLAN 10, VLAN 20, QinQ
// 100+10 and untagged from the namespace, and captures them on this end
// through vlan filters. Receiving them, the kernel moves the outer tag into
// the packet's metadata (no 802.1Q module needed), so only the ancillary
// test can tell the outer tags apart, and the inner tag of QinQ is the
// only one left in the frame; the records carry the VLAN ID that the
// capture put back.
func TestLiveVLANFilter(t *testing.T) {
	ns, veth := liveNetns(t)
	peer := "fp" + veth[2:]
	var frames [][]byte
	for i, tags := range [][]uint16{{10}, {20}, {100, 10}, nil} {
		f := packettest.Frame{VLANs: tags, Proto: 17, SrcPort: uint16(5000 + i), DstPort: 7000, Payload: 20,
			Src: netip.AddrFrom4([4]byte{10, 199, byte(i), 1}), Dst: netip.AddrFrom4([4]byte{10, 199, byte(i), 2})}
		for n := 0; n < 3; n++ {
			frames = append(frames, f.Bytes())
		}
	}
	for _, tc := range []struct{ filter, want string }{
		{"vlan 10 and udp", "10.199.0.1>10.199.0.2/17 vlan 10 packets 3"},
		{"vlan 100 and vlan 10 and udp port 7000", "10.199.2.1>10.199.2.2/17 vlan 100 packets 3"},
		{"vlan and vlan and src host 10.199.2.1", "10.199.2.1>10.199.2.2/17 vlan 100 packets 3"},
		{"not vlan", "10.199.3.1>10.199.3.2/17 vlan 0 packets 3"},
	} {
		out := t.TempDir() + "/flows.jsonl"
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var stderr bytes.Buffer
		go func() {
			done <- run(ctx, []string{"live", "-i", veth, "--workers", "1", "--filter", tc.filter, "-o", out}, &bytes.Buffer{}, &stderr)
		}()
		time.Sleep(500 * time.Millisecond)
		sendRaw(t, ns, peer, frames)
		time.Sleep(300 * time.Millisecond)
		stop()
		if err := <-done; err != nil {
			t.Fatalf("live: %v\n%s", err, stderr.String())
		}
		b, _ := os.ReadFile(out)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r map[string]any
			if json.Unmarshal([]byte(l), &r) != nil {
				t.Fatalf("bad line %q", l)
			}
			if r["protocol"] == float64(17) { // the kernel may send IPv6 noise on the veth for "not vlan"
				got = append(got, fmt.Sprintf("%v>%v/%v vlan %v packets %v", r["src_ip"], r["dst_ip"], r["protocol"], r["vlan_id"], r["packets"]))
			}
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%q: flows %q, want %q\n%s", tc.filter, got, tc.want, stderr.String())
		}
	}
}

// TestLiveCapture creates a network namespace joined to this one by a veth
// pair, captures on this end with `flowmeter live`, sends TCP (handshake,
// data, FIN), UDP and ICMP across, stops it as SIGINT would, and checks each
// flow. It needs root and runs when FLOWMETER_LIVE_TESTS=1 (.ci/run sets it).
func TestLiveCapture(t *testing.T) {
	ns, veth := liveNetns(t)

	// A TCP server and a UDP socket inside the namespace.
	var ln net.Listener
	var uc net.PacketConn
	inNetns(t, ns, func() {
		var err error
		if ln, err = net.Listen("tcp4", "10.199.0.2:8080"); err != nil {
			t.Fatal(err)
		}
		if uc, err = net.ListenPacket("udp4", "10.199.0.2:5353"); err != nil {
			t.Fatal(err)
		}
	})
	defer ln.Close()
	defer uc.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1000)
			n, _ := c.Read(buf)
			c.Write(bytes.Repeat([]byte("x"), 3000+n))
			c.Close()
		}
	}()
	go func() {
		buf := make([]byte, 2000)
		for {
			n, a, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			uc.WriteTo(buf[:n], a)
		}
	}()

	out := t.TempDir() + "/flows.jsonl"
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	// The filter keeps all of the test's traffic and rejects a UDP stream
	// to another port, sent below.
	args := []string{"classify", "-i", veth, "--workers", "2", "--early-verdict", "4", "-o", out, "--filter", "host 10.199.0.2 and not udp port 9"}
	go func() { done <- run(ctx, args, &bytes.Buffer{}, &stderr) }()
	time.Sleep(500 * time.Millisecond) // the ring is up

	c, err := net.DialTimeout("tcp4", "10.199.0.2:8080", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello over veth"))
	got := make([]byte, 10000)
	total := 0
	for {
		n, err := c.Read(got)
		total += n
		if err != nil {
			break
		}
	}
	c.Close()
	u, err := net.Dial("udp4", "10.199.0.2:5353")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		u.Write([]byte("query"))
		u.SetReadDeadline(time.Now().Add(time.Second))
		u.Read(got)
	}
	u.Close()
	pc, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		t.Fatal(err)
	}
	for seq := 1; seq <= 2; seq++ {
		msg, _ := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 77, Seq: seq, Data: []byte("ping")}}).Marshal(nil)
		pc.WriteTo(msg, &net.IPAddr{IP: net.ParseIP("10.199.0.2")})
		pc.SetReadDeadline(time.Now().Add(time.Second))
		pc.ReadFrom(got)
	}
	pc.Close()
	// Filtered out (the port-unreachable answer joins the ICMP flow).
	if u9, err := net.Dial("udp4", "10.199.0.2:9"); err == nil {
		u9.Write([]byte("filtered out"))
		u9.Close()
	}
	time.Sleep(1500 * time.Millisecond) // the FIN flow is reported by the 1 s tick
	stopAt := time.Now()
	stop()
	if err := <-done; err != nil {
		t.Fatalf("live: %v\n%s", err, stderr.String())
	}
	if d := time.Since(stopAt); d > time.Second {
		t.Errorf("stopping took %v", d)
	}
	b, _ := os.ReadFile(out)
	seen, early := map[string]map[string]any{}, map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(l), &r) != nil {
			t.Fatalf("bad line %q", l)
		}
		key := fmt.Sprintf("%v/%v", r["protocol"], r["dst_port"])
		if r["verdict"] != "benign" && r["verdict"] != "malicious" {
			t.Errorf("%s: verdict %v", key, r["verdict"])
		}
		if r["end_reason"] == "early" {
			early[key] = r
			continue
		}
		seen[key] = r
	}
	if e := early["6/8080"]; e == nil || e["packets"].(float64) != 4 || e["flow_id"] != seen["6/8080"]["flow_id"] {
		t.Errorf("no early record after 4 packets of the TCP flow: %v", e)
	}
	if seen["17/9"] != nil {
		t.Errorf("the filter let udp port 9 through: %v", seen["17/9"])
	}
	tcp, udp, ic := seen["6/8080"], seen["17/5353"], seen["1/0"]
	if tcp == nil || udp == nil || ic == nil {
		t.Fatalf("flows %v\n%s", seen, stderr.String())
	}
	if tcp["end_reason"] != "fin" || tcp["src_ip"] != "10.199.0.1" || tcp["bwd_payload_bytes"].(float64) != float64(total) ||
		tcp["fwd_payload_bytes"].(float64) != 15 || tcp["tcp_handshake"].(float64) != 1 {
		t.Errorf("tcp flow: %v %v fwd %v bwd %v (read %d)", tcp["end_reason"], tcp["src_ip"], tcp["fwd_payload_bytes"], tcp["bwd_payload_bytes"], total)
	}
	if udp["end_reason"] != "shutdown" || udp["fwd_packets"].(float64) != 3 || udp["bwd_packets"].(float64) != 3 || udp["fwd_payload_bytes"].(float64) != 15 {
		t.Errorf("udp flow: %v fwd %v bwd %v", udp["end_reason"], udp["fwd_packets"], udp["bwd_packets"])
	}
	if ic["fwd_packets"].(float64) != 2 || ic["bwd_packets"].(float64) < 2 || ic["icmp_type"].(float64) != 8 {
		t.Errorf("icmp flow: fwd %v bwd %v type %v", ic["fwd_packets"], ic["bwd_packets"], ic["icmp_type"])
	}
	if !strings.Contains(stderr.String(), "kernel:") || !strings.Contains(stderr.String(), "dropped") {
		t.Errorf("summary without drop counters:\n%s", stderr.String())
	}
}

// A live sensor stopped at arbitrary moments while traffic flows: it exits
// cleanly every time, every line it wrote is a whole record, the flows
// still open end as shutdown, and the summary counts what was written.
func TestLiveStopAnywhere(t *testing.T) {
	ns, veth := liveNetns(t)
	var uc net.PacketConn
	inNetns(t, ns, func() {
		var err error
		if uc, err = net.ListenPacket("udp4", "10.199.0.2:7777"); err != nil {
			t.Fatal(err)
		}
	})
	defer uc.Close()
	for i, after := range []time.Duration{150 * time.Millisecond, 700 * time.Millisecond, 1300 * time.Millisecond} {
		out := filepath.Join(t.TempDir(), "flows.jsonl")
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var stderr bytes.Buffer
		go func() {
			done <- run(ctx, []string{"live", "-i", veth, "--workers", "2", "-o", out, "--filter", "udp port 7777"}, &bytes.Buffer{}, &stderr)
		}()
		c, err := net.Dial("udp4", "10.199.0.2:7777")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(300*time.Millisecond + after)
		for p := 0; time.Now().Before(deadline) && p < 100000; p++ { // bounded
			c.Write([]byte("ping"))
			if p%50 == 0 {
				c.Close()
				c, _ = net.Dial("udp4", "10.199.0.2:7777") // a new flow now and then
			}
			time.Sleep(time.Millisecond)
		}
		stop() // SIGINT/SIGTERM, mid-traffic
		c.Close()
		if err := <-done; err != nil {
			t.Fatalf("stop %d: %v\n%s", i, err, stderr.String())
		}
		b, _ := os.ReadFile(out)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		shutdown := 0
		for _, l := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("stop %d: a broken line %q: %v", i, l, err)
			}
			if rec["end_reason"] == "shutdown" {
				shutdown++
			}
		}
		if shutdown == 0 || !strings.Contains(stderr.String(), fmt.Sprintf("flows written %d", len(lines))) {
			t.Errorf("stop %d: %d records, %d shutdown; summary:\n%s", i, len(lines), shutdown, stderr.String())
		}
	}
}
