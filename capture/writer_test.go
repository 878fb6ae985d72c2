package capture_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/packet"
)

// Frames written by a Writer read back the same: data, times (ns), wire
// lengths and link types; pcap keeps one link type and counts the others,
// pcapng keeps them all; an empty file is still a capture.
func TestWriterRoundTrip(t *testing.T) {
	pkts := somePackets(4)
	links := []uint16{uint16(packet.LinkEthernet), uint16(packet.LinkEthernet), uint16(packet.LinkRaw), uint16(packet.LinkEthernet)}
	for _, c := range []struct {
		name    string
		kept    int
		skipped int64
	}{{"out.pcap", 3, 1}, {"out.pcapng", 4, 0}} {
		path := filepath.Join(t.TempDir(), c.name)
		w, err := capture.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pkts {
			data := p.Data
			if links[i] == uint16(packet.LinkRaw) {
				data = data[14:] // the IP packet
			}
			info := capture.Info{Time: p.Time.UnixNano() + 7, CapLen: len(data), WireLen: len(data) + 100, Link: links[i]}
			if err := w.WritePacket(data, info); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil || w.Skipped() != c.skipped {
			t.Fatalf("%s: Close = %v, skipped %d", c.name, err, w.Skipped())
		}
		f, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, p := range pkts {
			if c.skipped > 0 && links[i] != uint16(packet.LinkEthernet) {
				continue
			}
			data, info, err := f.ReadPacket()
			if err != nil {
				t.Fatalf("%s: packet %d: %v", c.name, n+1, err)
			}
			n++
			want := p.Data
			if links[i] == uint16(packet.LinkRaw) {
				want = want[14:]
			}
			if !bytes.Equal(data, want) || info.Time != p.Time.UnixNano()+7 || info.WireLen != len(want)+100 || info.Link != links[i] {
				t.Errorf("%s: packet %d read back as %+v", c.name, n, info)
			}
		}
		f.Close()
		if n != c.kept {
			t.Errorf("%s: %d packets, want %d", c.name, n, c.kept)
		}
	}
	for _, name := range []string{"empty.pcap", "empty.pcapng"} {
		path := filepath.Join(t.TempDir(), name)
		w, _ := capture.Create(path)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !capture.IsCapture(path) {
			b, _ := os.ReadFile(path)
			t.Errorf("%s is not a capture: % x", name, b)
		}
	}
}
