package capture_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func somePackets(n int) []packettest.Packet {
	var ps []packettest.Packet
	for i := 0; i < n; i++ {
		f := packettest.Frame{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
			Proto: packet.ProtoUDP, SrcPort: uint16(1000 + i), DstPort: 53, Payload: i}
		ps = append(ps, packettest.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: f.Bytes()})
	}
	return ps
}

func readAll(t *testing.T, name string, b []byte) ([]capture.Info, error) {
	t.Helper()
	f, err := capture.NewReader(name, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var infos []capture.Info
	for {
		_, info, err := f.ReadPacket()
		if err == io.EOF {
			return infos, nil
		}
		if err != nil {
			return infos, err
		}
		infos = append(infos, info)
	}
}

func TestFormats(t *testing.T) {
	pkts := somePackets(5)
	files := map[string][]byte{
		"pcap-us-le":     packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, pkts),
		"pcap-ns-le":     packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet, Nanos: true}, pkts),
		"pcap-us-be":     packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet, BigEndian: true}, pkts),
		"pcap-ns-be":     packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet, BigEndian: true, Nanos: true}, pkts),
		"pcapng":         packettest.Pcapng([]packet.Link{packet.LinkEthernet}, pkts),
		"pcap-gzip":      packettest.Gzip(packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet, Nanos: true}, pkts)),
		"pcapng-gzip":    packettest.Gzip(packettest.Pcapng([]packet.Link{packet.LinkEthernet}, pkts)),
		"pcap-truncsnap": packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet, Snaplen: 64}, pkts),
	}
	for name, b := range files {
		infos, err := readAll(t, name, b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(infos) != len(pkts) {
			t.Errorf("%s: %d packets, want %d", name, len(infos), len(pkts))
			continue
		}
		for i, in := range infos {
			want := pkts[i].Time.UnixNano()
			if name == "pcap-us-le" || name == "pcap-us-be" || name == "pcap-truncsnap" {
				want = pkts[i].Time.Truncate(time.Microsecond).UnixNano()
			}
			if in.Time != want || in.CapLen != len(pkts[i].Data) || in.WireLen != len(pkts[i].Data) || in.Link != uint16(packet.LinkEthernet) || in.Number != i+1 {
				t.Errorf("%s: packet %d: %+v, want time %d len %d", name, i, in, want, len(pkts[i].Data))
			}
		}
	}
}

func TestPcapngInterfaces(t *testing.T) {
	pkts := somePackets(4)
	raw := packettest.Frame{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: packet.ProtoUDP, Link: packet.LinkRaw}
	pkts[1] = packettest.Packet{Time: pkts[1].Time, Data: raw.Bytes(), Iface: 1}
	b := packettest.Pcapng([]packet.Link{packet.LinkEthernet, packet.LinkRaw}, pkts)
	infos, err := readAll(t, "multi", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{1, 101, 1, 1}
	for i, in := range infos {
		if in.Link != want[i] {
			t.Errorf("packet %d: link %d, want %d", i+1, in.Link, want[i])
		}
	}
}

func TestTruncated(t *testing.T) {
	b := packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, somePackets(3))
	infos, err := readAll(t, "cut.pcap", b[:len(b)-5])
	var re *capture.ReadError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want a ReadError", err)
	}
	if re.File != "cut.pcap" || re.Packet != 3 || len(infos) != 2 {
		t.Errorf("ReadError %+v after %d packets, want cut.pcap packet 3 after 2", re, len(infos))
	}
	if got := err.Error(); got != "cut.pcap: packet 3: truncated capture (unexpected end of file)" {
		t.Errorf("message %q", got)
	}
}

func TestNotCapture(t *testing.T) {
	for _, b := range [][]byte{[]byte("file,label\nx,y\n"), {}, {1, 2}} {
		_, err := capture.NewReader("labels.csv", bytes.NewReader(b))
		if !errors.Is(err, capture.ErrNotCapture) {
			t.Errorf("%q: error %v, want ErrNotCapture", b, err)
		}
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	b := packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, somePackets(1))
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	for _, n := range []string{"b.pcap", "a.cap", "sub/c.pcapng.gz"} {
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("hello"), 0o644)
	paths, skipped, err := capture.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.cap"), filepath.Join(dir, "b.pcap"), filepath.Join(dir, "sub/c.pcapng.gz")}
	if len(paths) != 3 || paths[0] != want[0] || paths[1] != want[1] || paths[2] != want[2] {
		t.Errorf("paths %v, want %v", paths, want)
	}
	if len(skipped) != 1 {
		t.Errorf("skipped %v, want README.md", skipped)
	}
}

func TestReadNoAllocs(t *testing.T) {
	b := packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, somePackets(300))
	f, err := capture.NewReader("x", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	f.ReadPacket() // size the buffer
	allocs := testing.AllocsPerRun(200, func() {
		if _, _, err := f.ReadPacket(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadPacket allocates %v times per packet", allocs)
	}
}

// FuzzReader checks that no input makes the reader panic or loop: it ends
// with io.EOF or an error after a bounded number of packets.
func FuzzReader(f *testing.F) {
	f.Add(packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, somePackets(2)))
	f.Add(packettest.Pcapng([]packet.Link{packet.LinkEthernet, packet.LinkRaw}, somePackets(2)))
	f.Add(packettest.Gzip(packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, somePackets(1))))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := capture.NewReader("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; i <= len(b); i++ {
			data, info, err := r.ReadPacket()
			if err != nil {
				return
			}
			if len(data) != info.CapLen {
				t.Fatalf("data %d bytes, CapLen %d", len(data), info.CapLen)
			}
		}
		t.Fatalf("more packets than input bytes")
	})
}

// A mapped file larger than what is read between releases of the mapping
// gives every packet's bytes, and a packet's bytes kept from before a
// release still read the same afterwards (the pages come back from the
// page cache).
func TestMappedRelease(t *testing.T) {
	var pkts []packettest.Packet
	s := netip.MustParseAddrPort("10.0.0.2:53")
	for i := 0; i < 30000; i++ { // about 43 MB, each packet from its own port
		c := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(1024+i))
		pkts = append(pkts, packettest.UDP(time.Unix(1700000000, int64(i)*1000), packettest.Frame{}, c, s, 1400))
	}
	b := packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, pkts)
	path := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var first []byte
	want := pkts[0].Data
	for i := 0; ; i++ {
		data, _, err := f.ReadPacket()
		if err == io.EOF {
			if i != len(pkts) {
				t.Fatalf("%d packets read, want %d", i, len(pkts))
			}
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if !bytes.Equal(data, pkts[i].Data) {
			t.Fatalf("packet %d differs", i+1)
		}
		if i == 0 {
			first = data
		}
	}
	if !bytes.Equal(first, want) {
		t.Errorf("the first packet's bytes changed after the mapping was released")
	}
}
