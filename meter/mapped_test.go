package meter_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
)

// cutting reads a capture file and cuts it to nothing after packet at.
type cutting struct {
	*capture.File
	path string
	at   int
}

func (c *cutting) ReadPacket() ([]byte, capture.Info, error) {
	data, info, err := c.File.ReadPacket()
	if err == nil && info.Number == c.at {
		if terr := os.Truncate(c.path, 0); terr != nil {
			panic(terr)
		}
	}
	return data, info, err
}

// TestMappedFileCutShort: an uncompressed pcap file is read from a mapping
// (capture.Open); when the file is cut short while it is read, the pages
// that vanished fault. The meter reports that as capture.ErrChanged at the
// packet it was metering (the cut comes once packet 1 000 is read, and its
// own bytes are gone), writes the flows it held, and does not crash, with
// one worker and with two.
func TestMappedFileCutShort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("captures are mapped on Linux only")
	}
	var pkts []packettest.Packet
	for i := 0; i < 5000; i++ { // 5 000 UDP flows, about 500 KB
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5000)
		pkts = append(pkts, packettest.UDP(t0.Add(time.Duration(i)*time.Millisecond), packettest.Frame{}, c, server, 50))
	}
	b := packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet}, pkts)
	for _, workers := range []int{1, 2} {
		path := filepath.Join(t.TempDir(), "cut.pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var col collector
		m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Workers: workers}, &col)
		err = m.Run(context.Background(), &cutting{File: f, path: path, at: 1000}, path)
		f.Close()
		var re *capture.ReadError
		if !errors.As(err, &re) || !errors.Is(err, capture.ErrChanged) || re.Packet != 1000 || re.File != path {
			t.Fatalf("workers %d: Run = %v; want %s's packet 1000: %v", workers, err, path, capture.ErrChanged)
		}
		if n := len(col.recs); n != 999 {
			t.Fatalf("workers %d: %d flows written, want the 999 metered before the cut", workers, n)
		}
	}
}
