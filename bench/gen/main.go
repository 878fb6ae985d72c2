// Command gen writes a large, realistic capture for benchmarks,
// reproducibly from a seed: interleaved TCP sessions (handshake, request,
// response, teardown), DNS-like UDP exchanges, UDP streams, ICMP echoes and
// SYN-scan probes, over IPv4 and IPv6, some of them VLAN-tagged.
//
//	go run ./bench/gen -flows 60000 -o bench/out/big.pcap
package main

import (
	"bufio"
	"container/heap"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

func main() {
	var (
		flows = flag.Int("flows", 60000, "number of flows")
		seed  = flag.Uint64("seed", 1, "random seed")
		span  = flag.Duration("span", 10*time.Minute, "time over which flows start")
		out   = flag.String("o", "bench/out/big.pcap", "output pcap")
		flood = flag.Bool("flood", false, "a SYN flood instead: one SYN from each of -flows spoofed sources, evenly over -span")
	)
	flag.Parse()
	gen := generate
	if *flood {
		gen = generateFlood
	}
	if err := gen(*out, *flows, *seed, *span); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// step is one packet of a flow, not yet rendered.
type step struct {
	at    time.Duration // since the flow's start
	frame packettest.Frame
}

type flowGen struct {
	start time.Time
	steps []step
	next  int
}

type queue []*flowGen

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	return q[i].start.Add(q[i].steps[q[i].next].at).Before(q[j].start.Add(q[j].steps[q[j].next].at))
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*flowGen)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// timeline is a generator's random source, start time and mean gap
// between flow starts.
func timeline(seed uint64, nflows int, span time.Duration) (*rand.Rand, time.Time, time.Duration) {
	return rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15)), time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC), span / time.Duration(nflows)
}

// create starts an Ethernet pcap file with nanosecond timestamps.
func create(path string) (*os.File, *bufio.Writer, *pcapgo.Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, bw, w, nil
}

func generate(path string, nflows int, seed uint64, span time.Duration) error {
	f, bw, w, err := create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rng, t0, gap := timeline(seed, nflows, span)
	q := &queue{}
	var packets, started int
	start := t0
	for started < nflows || q.Len() > 0 {
		// Start flows whose start time has come before the next packet.
		for started < nflows && (q.Len() == 0 || !(*q)[0].start.Add((*q)[0].steps[(*q)[0].next].at).Before(start)) {
			g := &flowGen{start: start, steps: makeFlow(rng, started)}
			heap.Push(q, g)
			started++
			start = start.Add(time.Duration(rng.ExpFloat64() * float64(gap)))
		}
		g := (*q)[0]
		s := g.steps[g.next]
		data := s.frame.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: g.start.Add(s.at), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			return err
		}
		packets++
		g.next++
		if g.next == len(g.steps) {
			heap.Pop(q)
		} else {
			heap.Fix(q, 0)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %s: %d packets, %d flows\n", path, packets, nflows)
	return nil
}

// generateFlood writes a SYN flood: nflows single SYNs to one server, each
// from its own source address and port (spoofed, as a flood's are).
func generateFlood(path string, nflows int, seed uint64, span time.Duration) error {
	f, bw, w, err := create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rng, t0, gap := timeline(seed, nflows, span)
	fr := packettest.Frame{Dst: netip.AddrFrom4([4]byte{192, 0, 2, 80}), Proto: packet.ProtoTCP, DstPort: 80, Flags: packet.FlagSYN}
	for i := 0; i < nflows; i++ {
		// sources 10.0.0.0/8 in a shuffled order: no two flows share a key
		x := uint32(i)*2654435761 + uint32(seed)
		fr.Src = netip.AddrFrom4([4]byte{10, byte(x >> 16), byte(x >> 8), byte(x)})
		fr.SrcPort = uint16(1024 + rng.IntN(60000))
		data := fr.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * gap), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %s: %d SYNs from as many sources\n", path, nflows)
	return nil
}

func addrs(rng *rand.Rand, v6 bool) (netip.Addr, netip.Addr) {
	if v6 {
		c := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(rng.IntN(256)), 15: byte(rng.IntN(256))})
		s := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 15: byte(1 + rng.IntN(50))})
		return c, s
	}
	return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}),
		netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + rng.IntN(50))})
}

func jitter(rng *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(rng.ExpFloat64()*float64(mean)) + time.Microsecond
}

// makeFlow returns the packets of flow i.
func makeFlow(rng *rand.Rand, i int) []step {
	v6 := rng.IntN(5) == 0
	var tmpl packettest.Frame
	if rng.IntN(10) == 0 {
		tmpl.VLANs = []uint16{uint16(10 + rng.IntN(5))}
	}
	c, s := addrs(rng, v6)
	cport := uint16(1024 + rng.IntN(60000))
	switch k := rng.IntN(100); {
	case k < 45:
		return tcpSession(rng, tmpl, c, s, cport)
	case k < 70:
		return dns(rng, tmpl, c, s, cport)
	case k < 78:
		return udpStream(rng, tmpl, c, s, cport)
	case k < 88:
		return icmp(rng, tmpl, c, s)
	default:
		return probe(rng, tmpl, c, s, cport)
	}
}

func tcpSession(rng *rand.Rand, tmpl packettest.Frame, c, s netip.Addr, cport uint16) []step {
	ports := []uint16{80, 443, 443, 443, 22, 25, 8080}
	sp := ports[rng.IntN(len(ports))]
	rtt := time.Duration(1+rng.IntN(40)) * time.Millisecond
	var steps []step
	var t time.Duration
	cseq, sseq := rng.Uint32(), rng.Uint32()
	add := func(fromClient bool, flags uint8, payload int, after time.Duration) {
		f := tmpl
		f.Proto, f.Flags, f.Payload, f.TCPOptions = packet.ProtoTCP, flags, payload, 12
		if fromClient {
			f.Src, f.Dst, f.SrcPort, f.DstPort, f.Seq, f.Ack, f.Window = c, s, cport, sp, cseq, sseq, 502
		} else {
			f.Src, f.Dst, f.SrcPort, f.DstPort, f.Seq, f.Ack, f.Window = s, c, sp, cport, sseq, cseq, 509
		}
		adv := uint32(payload)
		if flags&(packet.FlagSYN|packet.FlagFIN) != 0 {
			adv++
		}
		if fromClient {
			cseq += adv
		} else {
			sseq += adv
		}
		t += after
		steps = append(steps, step{t, f})
	}
	add(true, packet.FlagSYN, 0, 0)
	add(false, packet.FlagSYN|packet.FlagACK, 0, rtt/2)
	add(true, packet.FlagACK, 0, rtt/2)
	for r := 1 + rng.IntN(4); r > 0; r-- {
		add(true, packet.FlagPSH|packet.FlagACK, 100+rng.IntN(700), jitter(rng, 20*time.Millisecond))
		segs := 1 + rng.IntN(12)
		for j := 0; j < segs; j++ {
			size := 1448
			if j == segs-1 {
				size = 1 + rng.IntN(1448)
			}
			add(false, packet.FlagACK, size, jitter(rng, rtt/8))
			if j%2 == 1 {
				add(true, packet.FlagACK, 0, time.Microsecond*50)
			}
		}
	}
	if rng.IntN(10) == 0 {
		add(true, packet.FlagRST|packet.FlagACK, 0, jitter(rng, 50*time.Millisecond))
		return steps
	}
	add(true, packet.FlagFIN|packet.FlagACK, 0, jitter(rng, 50*time.Millisecond))
	add(false, packet.FlagFIN|packet.FlagACK, 0, rtt/2)
	add(true, packet.FlagACK, 0, rtt/2)
	return steps
}

func dns(rng *rand.Rand, tmpl packettest.Frame, c, s netip.Addr, cport uint16) []step {
	q, r := tmpl, tmpl
	q.Proto, q.Src, q.Dst, q.SrcPort, q.DstPort, q.Payload = packet.ProtoUDP, c, s, cport, 53, 30+rng.IntN(40)
	r.Proto, r.Src, r.Dst, r.SrcPort, r.DstPort, r.Payload = packet.ProtoUDP, s, c, 53, cport, 60+rng.IntN(400)
	steps := []step{{0, q}}
	if rng.IntN(20) != 0 {
		steps = append(steps, step{jitter(rng, 5*time.Millisecond), r})
	}
	return steps
}

func udpStream(rng *rand.Rand, tmpl packettest.Frame, c, s netip.Addr, cport uint16) []step {
	var steps []step
	var t time.Duration
	sp := uint16(3478 + rng.IntN(100))
	for j := 20 + rng.IntN(80); j > 0; j-- {
		f := tmpl
		f.Proto, f.Payload = packet.ProtoUDP, 160+rng.IntN(1000)
		if rng.IntN(2) == 0 {
			f.Src, f.Dst, f.SrcPort, f.DstPort = c, s, cport, sp
		} else {
			f.Src, f.Dst, f.SrcPort, f.DstPort = s, c, sp, cport
		}
		t += jitter(rng, 20*time.Millisecond)
		steps = append(steps, step{t, f})
	}
	return steps
}

func icmp(rng *rand.Rand, tmpl packettest.Frame, c, s netip.Addr) []step {
	var steps []step
	var t time.Duration
	proto, req, rep := uint8(packet.ProtoICMP), uint8(8), uint8(0)
	if c.Is6() {
		proto, req, rep = packet.ProtoICMPv6, 128, 129
	}
	for j := 1 + rng.IntN(5); j > 0; j-- {
		a, b := tmpl, tmpl
		a.Proto, a.Src, a.Dst, a.ICMPType, a.Payload = proto, c, s, req, 56
		b.Proto, b.Src, b.Dst, b.ICMPType, b.Payload = proto, s, c, rep, 56
		steps = append(steps, step{t, a}, step{t + time.Duration(1+rng.IntN(20))*time.Millisecond, b})
		t += time.Second
	}
	return steps
}

func probe(rng *rand.Rand, tmpl packettest.Frame, c, s netip.Addr, cport uint16) []step {
	f := tmpl
	f.Proto, f.Src, f.Dst, f.SrcPort, f.DstPort, f.Flags, f.Window = packet.ProtoTCP, c, s, cport, uint16(1+rng.IntN(1024)), packet.FlagSYN, 1024
	steps := []step{{0, f}}
	if rng.IntN(3) != 0 {
		r := tmpl
		r.Proto, r.Src, r.Dst, r.SrcPort, r.DstPort, r.Flags = packet.ProtoTCP, s, c, f.DstPort, cport, packet.FlagRST|packet.FlagACK
		steps = append(steps, step{jitter(rng, time.Millisecond), r})
	}
	return steps
}
