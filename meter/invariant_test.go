package meter_test

import (
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
)

// tuple is an unordered 5-tuple, as the oracle sees it.
type tuple struct {
	a, b  netip.AddrPort
	proto uint8
}

func canon(src, dst netip.AddrPort, proto uint8) tuple {
	if dst.Compare(src) < 0 {
		src, dst = dst, src
	}
	return tuple{src, dst, proto}
}

type synSeen struct {
	time int64
	src  netip.AddrPort
}

// oracle decodes a capture with gopacket and counts, per 5-tuple, the
// packets that are not fragments, and notes every SYN (without ACK).
func oracle(t *testing.T, path string) (counts map[tuple]int, syns map[tuple][]synSeen) {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts, syns = map[tuple]int{}, map[tuple][]synSeen{}
	for {
		data, info, err := f.ReadPacket()
		if err == io.EOF {
			return
		}
		if err != nil {
			return // a truncated capture: both sides stop at the same packet
		}
		var dec gopacket.Decoder
		switch packet.Link(info.Link) {
		case packet.LinkEthernet:
			dec = layers.LayerTypeEthernet
		case packet.LinkLinuxSLL:
			dec = layers.LayerTypeLinuxSLL
		case packet.LinkSLL2:
			dec = layers.LayerTypeLinuxSLL2
		case packet.LinkNull:
			dec = layers.LayerTypeLoopback
		case packet.LinkRaw:
			dec = layers.LinkTypeRaw
		default:
			continue
		}
		p := gopacket.NewPacket(data, dec, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
		if p.Layer(layers.LayerTypeGRE) != nil {
			continue // gopacket decodes through the tunnel; we meter the outer header
		}
		var src, dst netip.Addr
		var proto uint8
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				continue
			}
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
			proto = uint8(ip.Protocol)
		case *layers.IPv6:
			if p.Layer(layers.LayerTypeIPv6Fragment) != nil {
				continue
			}
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
			proto = uint8(ip.NextHeader)
		default:
			continue
		}
		var sp, dp uint16
		switch l4 := p.TransportLayer().(type) {
		case *layers.TCP:
			sp, dp, proto = uint16(l4.SrcPort), uint16(l4.DstPort), packet.ProtoTCP
			if l4.SYN && !l4.ACK {
				k := canon(netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp), proto)
				syns[k] = append(syns[k], synSeen{info.Time, netip.AddrPortFrom(src, sp)})
			}
		case *layers.UDP:
			sp, dp, proto = uint16(l4.SrcPort), uint16(l4.DstPort), packet.ProtoUDP
		default:
			if p.Layer(layers.LayerTypeICMPv4) != nil {
				proto = packet.ProtoICMP
			} else if p.Layer(layers.LayerTypeICMPv6) != nil {
				proto = packet.ProtoICMPv6
			} else if proto == packet.ProtoTCP || proto == packet.ProtoUDP || (proto != packet.ProtoICMP && proto != packet.ProtoICMPv6 && ip6ext(proto)) {
				continue // transport not decoded by gopacket (truncated, or behind extension headers it stops at)
			}
		}
		counts[canon(netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp), proto)]++
	}
}

func ip6ext(p uint8) bool {
	switch p {
	case 0, 43, 44, 50, 51, 60, 135, 139, 140:
		return true
	}
	return false
}

// checkInvariants meters path and checks, against the gopacket oracle: for
// every 5-tuple the packets of its flows add up to the packets in the
// capture; the initiator of a flow that holds a SYN is the SYN's sender; and
// no feature is NaN, Inf or a negative duration or gap.
func checkInvariants(t *testing.T, path string) {
	var c collector
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, &c)
	m.RunFiles(context.Background(), []string{path})
	st := m.Stats()
	var total int64
	ours := map[tuple]int{}
	for i := range c.recs {
		r := &c.recs[i]
		checkRecord(t, r)
		n := int64(get(r, "packets"))
		total += n
		ours[canon(r.Src, r.Dst, r.Proto)] += int(n) - int(get(r, "fwd_fragments")+get(r, "bwd_fragments"))
	}
	if total != st.Decoded || st.Decoded+st.SkippedTotal() != st.Packets {
		t.Errorf("%s: flows hold %d packets, decoded %d, skipped %d, read %d", path, total, st.Decoded, st.SkippedTotal(), st.Packets)
	}
	want, syns := oracle(t, path)
	bad := 0
	for k, n := range want {
		if ours[k] != n && bad < 5 {
			bad++
			t.Errorf("%s: %v ↔ %v proto %d: flows hold %d packets, capture has %d", path, k.a, k.b, k.proto, ours[k], n)
		}
	}
	for i := range c.recs {
		r := &c.recs[i]
		for _, s := range syns[canon(r.Src, r.Dst, r.Proto)] {
			if s.time >= r.First && s.time <= r.Last && s.src != r.Src && bad < 10 {
				bad++
				t.Errorf("%s: flow %v→%v holds a SYN sent by %v", path, r.Src, r.Dst, s.src)
			}
		}
	}
}

func TestInvariantsFixtures(t *testing.T) {
	paths, _, err := capture.Expand([]string{"testdata"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		checkInvariants(t, p)
	}
}

// TestInvariantsDatasets runs the same checks on the public captures in
// ../shared/datasets (or $FLOWMETER_DATASETS) when they are present.
func TestInvariantsDatasets(t *testing.T) {
	dir := datasetsDir()
	if dir == "" {
		t.Skip("no datasets at ../../shared/datasets (set FLOWMETER_DATASETS)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	paths, _, err := capture.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		checkInvariants(t, p)
	}
}

// datasetsDir is $FLOWMETER_DATASETS or ../../shared/datasets, or "" when
// it does not exist.
func datasetsDir() string {
	dir := os.Getenv("FLOWMETER_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "datasets")
	}
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}
