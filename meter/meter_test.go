package meter_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
	"github.com/flowmeter/flowmeter/sink/csv"
)

var (
	t0     = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("192.0.2.80:80")
	c6     = netip.MustParseAddrPort("[2001:db8::1]:40000")
	s6     = netip.MustParseAddrPort("[2001:db8::80]:443")
)

// collector is a Sink that keeps copies of the records.
type collector struct{ recs []feature.Record }

func (c *collector) Write(r *feature.Record) error {
	cp := *r
	cp.Values = append([]float64(nil), r.Values...)
	if r.App != nil { // reused once Write returns
		cp.App = r.App.Clone()
	}
	c.recs = append(c.recs, cp)
	return nil
}
func (c *collector) Close() error { return nil }

var _ meter.Sink = (*collector)(nil)

// source serves packets from memory.
type source struct {
	pkts []packettest.Packet
	link packet.Link
	i    int
}

func (s *source) ReadPacket() ([]byte, capture.Info, error) {
	if s.i >= len(s.pkts) {
		return nil, capture.Info{}, io.EOF
	}
	p := s.pkts[s.i]
	s.i++
	return p.Data, capture.Info{Time: p.Time.UnixNano(), CapLen: len(p.Data), WireLen: max(len(p.Data), p.WireLen), Link: uint16(s.link), Number: s.i}, nil
}

var schema, _ = feature.NewSchema(8)

func meterPackets(t *testing.T, cfg flow.Config, pkts []packettest.Packet) ([]feature.Record, *meter.Stats) {
	t.Helper()
	var c collector
	m := meter.New(meter.Config{Flow: cfg, Schema: schema}, &c)
	if err := m.Run(context.Background(), &source{pkts: pkts, link: packet.LinkEthernet}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.recs {
		checkRecord(t, &r)
	}
	return c.recs, m.Stats()
}

// checkRecord asserts the invariants every record must meet.
func checkRecord(t *testing.T, r *feature.Record) {
	t.Helper()
	for i, v := range r.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("flow %s→%s: %s = %v", r.Src, r.Dst, schema.Features[i].Name, v)
		}
	}
	for _, name := range []string{"duration_s", "flow_iat_min_s", "fwd_iat_min_s", "bwd_iat_min_s", "idle_min_s", "active_min_s"} {
		if v := get(r, name); v < 0 {
			t.Errorf("flow %s→%s: %s = %v < 0", r.Src, r.Dst, name, v)
		}
	}
	if r.Last < r.First {
		t.Errorf("last %d before first %d", r.Last, r.First)
	}
}

func get(r *feature.Record, name string) float64 {
	i := schema.Index(name)
	if i < 0 {
		panic("no feature " + name)
	}
	return r.Values[i]
}

func clock() *packettest.Clock { return &packettest.Clock{T: t0, Step: 10 * time.Millisecond} }

func TestHandshakeDataTeardown(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	pkts := c.Handshake()
	pkts = append(pkts, c.Data(true, 100), c.Ack(false), c.Data(false, 1000), c.Ack(true))
	pkts = append(pkts, c.Close(true)...)
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Src != client || r.Dst != server || r.End != flow.EndFIN {
		t.Errorf("src %v dst %v end %v, want %v %v fin", r.Src, r.Dst, r.End, client, server)
	}
	want := map[string]float64{
		"fwd_packets": 6, "bwd_packets": 4, "fwd_payload_bytes": 100, "bwd_payload_bytes": 1000,
		"fwd_bytes": 6*40 + 100, "bwd_bytes": 4*40 + 1000, "duration_s": 0.09,
		"syn_count": 2, "fin_count": 2, "fwd_fin_count": 1, "bwd_fin_count": 1, "ack_count": 9,
		"fwd_init_win": 64240, "bwd_init_win": 65160, "tcp_handshake": 1, "tcp_synack_s": 0.01, "tcp_ack_s": 0.01,
		"fwd_act_data_packets": 1, "bwd_act_data_packets": 1, "fwd_header_len_min": 20,
		"flow_iat_mean_s": 0.01, "flow_iat_std_s": 0, "fwd_retrans": 0, "early_1_dir": 0, "early_2_dir": 1, "early_2_size": 40,
		"early_1_gap_s": 0, "early_2_gap_s": 0.01,
	}
	for name, w := range want {
		if got := get(&r, name); math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
}

func TestRSTAndTrailingPackets(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	pkts := c.Handshake()
	pkts = append(pkts, c.Data(true, 10), c.Reset(false), c.Ack(true), c.Reset(true))
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 1 || recs[0].End != flow.EndRST || get(&recs[0], "packets") != 7 {
		t.Fatalf("records %d, end %v, packets %v; want 1 rst 7", len(recs), recs[0].End, get(&recs[0], "packets"))
	}
}

func TestTrailingAckAfterFIN(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	pkts := append(c.Handshake(), c.Close(false)...)
	pkts = append(pkts, c.Ack(false)) // a late duplicate ACK
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 1 || recs[0].End != flow.EndFIN || get(&recs[0], "packets") != 7 {
		t.Fatalf("got %d records; want one fin flow of 7 packets (no appendix flow)", len(recs))
	}
}

func TestPortReuseAfterClose(t *testing.T) {
	clk := clock()
	c := packettest.NewTCP(client, server, clk)
	pkts := append(c.Handshake(), c.Data(true, 5))
	pkts = append(pkts, c.Close(true)...)
	c2 := packettest.NewTCP(client, server, clk)
	pkts = append(pkts, c2.Handshake()...)
	pkts = append(pkts, c2.Data(true, 7))
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	if recs[0].End != flow.EndFIN || get(&recs[0], "packets") != 7 || recs[1].End != flow.EndEOF || get(&recs[1], "packets") != 4 {
		t.Errorf("first %v/%v packets, second %v/%v; want fin/7 eof/4", recs[0].End, get(&recs[0], "packets"), recs[1].End, get(&recs[1], "packets"))
	}
	if recs[0].ID == recs[1].ID {
		t.Errorf("both flows have id %x", recs[0].ID)
	}
}

func TestRetransmission(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	pkts := c.Handshake()
	d := c.Data(true, 100)
	pkts = append(pkts, d, c.Retransmit(d), c.Ack(false))
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if got := get(&recs[0], "fwd_retrans"); got != 1 {
		t.Errorf("fwd_retrans = %v, want 1", got)
	}
	if got := get(&recs[0], "bwd_retrans"); got != 0 {
		t.Errorf("bwd_retrans = %v, want 0", got)
	}
}

func TestSynAckFirst(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	hs := c.Handshake()
	recs, _ := meterPackets(t, flow.DefaultConfig, hs[1:]) // the capture missed the SYN
	if recs[0].Src != client || get(&recs[0], "fwd_packets") != 1 || get(&recs[0], "bwd_packets") != 1 {
		t.Errorf("src %v fwd %v bwd %v; want client as initiator", recs[0].Src, get(&recs[0], "fwd_packets"), get(&recs[0], "bwd_packets"))
	}
}

func TestOutOfOrderTimestamps(t *testing.T) {
	var pkts []packettest.Packet
	for i, dt := range []int{0, 50, 20, 60} { // ms; the third packet is older than the second
		src, dst := client, server
		if i%2 == 1 {
			src, dst = server, client
		}
		pkts = append(pkts, packettest.UDP(t0.Add(time.Duration(dt)*time.Millisecond), packettest.Frame{}, src, dst, 10))
	}
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	r := recs[0]
	if get(&r, "out_of_order") != 1 || get(&r, "flow_iat_min_s") != 0 || math.Abs(get(&r, "duration_s")-0.06) > 1e-12 {
		t.Errorf("out_of_order %v iat_min %v duration %v; want 1 0 0.06", get(&r, "out_of_order"), get(&r, "flow_iat_min_s"), get(&r, "duration_s"))
	}
}

func TestOnePacketFlow(t *testing.T) {
	recs, _ := meterPackets(t, flow.DefaultConfig, []packettest.Packet{packettest.UDP(t0, packettest.Frame{}, client, server, 0)})
	r := recs[0]
	for _, name := range []string{"duration_s", "flow_bytes_per_s", "flow_packets_per_s", "flow_iat_mean_s", "pkt_len_std", "down_up_ratio", "bwd_pkt_len_max"} {
		if v := get(&r, name); v != 0 {
			t.Errorf("%s = %v, want 0", name, v)
		}
	}
	if get(&r, "early_2_dir") != -1 || get(&r, "early_1_size") != 28 || get(&r, "fwd_init_win") != -1 || get(&r, "icmp_type") != -1 {
		t.Errorf("early_2_dir %v early_1_size %v fwd_init_win %v icmp_type %v", get(&r, "early_2_dir"), get(&r, "early_1_size"), get(&r, "fwd_init_win"), get(&r, "icmp_type"))
	}
}

func TestIdleTimeoutSplit(t *testing.T) {
	pkts := []packettest.Packet{
		packettest.UDP(t0, packettest.Frame{}, client, server, 1),
		packettest.UDP(t0.Add(time.Second), packettest.Frame{}, server, client, 1),
		packettest.UDP(t0.Add(200*time.Second), packettest.Frame{}, server, client, 1),
	}
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 2 || recs[0].End != flow.EndIdle || recs[1].End != flow.EndEOF {
		t.Fatalf("%d records; want idle then eof", len(recs))
	}
	if recs[1].Src != server {
		t.Errorf("second flow starts with the server's packet; src = %v", recs[1].Src)
	}
}

func TestActiveTimeoutSplit(t *testing.T) {
	var pkts []packettest.Packet
	for i := 0; i < 300; i++ { // one packet every 10 s for 50 minutes, alternating sides
		src, dst := client, server
		if i%2 == 1 {
			src, dst = server, client
		}
		pkts = append(pkts, packettest.UDP(t0.Add(time.Duration(i)*10*time.Second), packettest.Frame{}, src, dst, 1))
	}
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 2 || recs[0].End != flow.EndActive || recs[1].End != flow.EndEOF {
		t.Fatalf("%d records; want active then eof", len(recs))
	}
	if get(&recs[0], "packets") != 180 || get(&recs[1], "packets") != 120 || recs[1].Src != client {
		t.Errorf("packets %v + %v, second src %v; want 180 + 120 from the original initiator", get(&recs[0], "packets"), get(&recs[1], "packets"), recs[1].Src)
	}
	if get(&recs[0], "subflows") != 180 || get(&recs[0], "idle_mean_s") != 10 {
		t.Errorf("subflows %v idle mean %v; want 180 and 10", get(&recs[0], "subflows"), get(&recs[0], "idle_mean_s"))
	}
}

func TestIPv6AndVLAN(t *testing.T) {
	clk := clock()
	c := packettest.NewTCP(c6, s6, clk)
	c.Template.VLANs = []uint16{10, 20}
	pkts := append(c.Handshake(), c.Data(true, 10))
	pkts = append(pkts, packettest.ICMPEcho(clk.Next(), packettest.Frame{}, c6.Addr(), s6.Addr(), false, 8),
		packettest.ICMPEcho(clk.Next(), packettest.Frame{}, s6.Addr(), c6.Addr(), true, 8))
	recs, _ := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, r := range recs {
		switch r.Proto {
		case packet.ProtoTCP:
			if r.Version != 6 || r.VLAN != 10 || get(&r, "packets") != 4 || r.Src != c6 {
				t.Errorf("tcp6 flow: version %d vlan %d packets %v src %v", r.Version, r.VLAN, get(&r, "packets"), r.Src)
			}
		case packet.ProtoICMPv6:
			if get(&r, "icmp_type") != 128 || get(&r, "bwd_packets") != 1 {
				t.Errorf("icmpv6 flow: type %v bwd %v", get(&r, "icmp_type"), get(&r, "bwd_packets"))
			}
		default:
			t.Errorf("unexpected protocol %d", r.Proto)
		}
	}
}

func TestFragments(t *testing.T) {
	first := packettest.Frame{Src: client.Addr(), Dst: server.Addr(), Proto: packet.ProtoUDP, SrcPort: client.Port(), DstPort: 53,
		Payload: 1472, MoreFrags: true, FragID: 9}
	later := packettest.Frame{Src: client.Addr(), Dst: server.Addr(), Proto: packet.ProtoUDP, Payload: 200, FragOffset: 1480, FragID: 9}
	orphan := packettest.Frame{Src: client.Addr(), Dst: server.Addr(), Proto: packet.ProtoUDP, Payload: 200, FragOffset: 1480, FragID: 10}
	pkts := []packettest.Packet{{Time: t0, Data: first.Bytes()}, {Time: t0.Add(time.Millisecond), Data: later.Bytes()},
		{Time: t0.Add(2 * time.Millisecond), Data: orphan.Bytes()}}
	recs, st := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 2 || st.FragAttributed != 1 || st.FragUnattributed != 1 {
		t.Fatalf("%d records, attributed %d, unattributed %d; want 2 1 1", len(recs), st.FragAttributed, st.FragUnattributed)
	}
	for _, r := range recs {
		if r.Dst.Port() == 53 && (get(&r, "fwd_fragments") != 2 || get(&r, "fwd_bytes") != 1500+220) {
			t.Errorf("fragmented datagram flow: fragments %v bytes %v", get(&r, "fwd_fragments"), get(&r, "fwd_bytes"))
		}
	}
}

func TestSkippedCounted(t *testing.T) {
	pkts := []packettest.Packet{{Time: t0, Data: []byte{1, 2, 3}}, packettest.UDP(t0, packettest.Frame{}, client, server, 1)}
	recs, st := meterPackets(t, flow.DefaultConfig, pkts)
	if len(recs) != 1 || st.Skipped[packet.TruncatedLink] != 1 || st.Decoded != 1 || st.Packets != 2 {
		t.Errorf("records %d stats %+v", len(recs), st)
	}
}

// The per-packet path (decode, lookup, accumulate, expiry check) allocates
// nothing once the flow exists.
func TestPacketNoAllocs(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	hs := c.Handshake()
	data := []packettest.Packet{c.Data(true, 100), c.Ack(false), c.Data(false, 1400)}
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema}, &collector{})
	var meta packet.Meta
	feed := func(p packettest.Packet) {
		meta.Time = p.Time.UnixNano()
		m.Packet(&meta, p.Data, capture.Info{Time: meta.Time, CapLen: len(p.Data), WireLen: len(p.Data), Link: uint16(packet.LinkEthernet)})
	}
	for _, p := range append(hs, data...) {
		feed(p)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		p := data[i%3]
		p.Time = t0.Add(time.Duration(i) * time.Millisecond)
		i++
		feed(p)
	})
	if allocs != 0 {
		t.Errorf("Packet allocates %v times per packet, want 0", allocs)
	}
}

// With EarlyAfter, a flow gets an early record once it has that many
// packets, then its final record; the early one does not enter the context.
func TestEarlyRecords(t *testing.T) {
	c := packettest.NewTCP(client, server, clock())
	pkts := append(c.Handshake(), c.Data(true, 10), c.Data(false, 20), c.Ack(true))
	pkts = append(pkts, c.Close(true)...)
	var col collector
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, EarlyAfter: 4}, &col)
	if err := m.Run(context.Background(), &source{pkts: pkts, link: packet.LinkEthernet}, "test"); err != nil {
		t.Fatal(err)
	}
	if len(col.recs) != 2 || col.recs[0].End != flow.Early || col.recs[1].End != flow.EndFIN || col.recs[0].ID != col.recs[1].ID {
		t.Fatalf("records %d: %v", len(col.recs), col.recs)
	}
	if get(&col.recs[0], "packets") != 4 || get(&col.recs[1], "packets") != 9 || get(&col.recs[1], "ctx_src_flows") != 1 {
		t.Errorf("early %v packets, final %v packets, final ctx_src_flows %v", get(&col.recs[0], "packets"), get(&col.recs[1], "packets"), get(&col.recs[1], "ctx_src_flows"))
	}
	if st := m.Stats(); st.Flows != 1 || st.EarlyRecords != 1 {
		t.Errorf("stats: %d flows, %d early records", st.Flows, st.EarlyRecords)
	}
}

// failing fails every write after the first n.
type failing struct{ n int }

func (f *failing) Write(*feature.Record) error {
	if f.n == 0 {
		return errors.New("disk full")
	}
	f.n--
	return nil
}
func (f *failing) Close() error { return nil }

// The sharded path stops reading when a sink fails and returns its error,
// and ends the open flows with end_reason shutdown when cancelled.
// failingWriter accepts left bytes, then fails.
type failingWriter struct{ left int }

func (f *failingWriter) Write(b []byte) (int, error) {
	if f.left < len(b) {
		return 0, errors.New("disk full")
	}
	f.left -= len(b)
	return len(b), nil
}

func TestShardedErrorsAndCancel(t *testing.T) {
	var pkts []packettest.Packet
	for i := 0; i < 20000; i++ { // 5 batches of UDP flows, none ending before the input does
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5000)
		pkts = append(pkts, packettest.UDP(t0.Add(time.Duration(i)*time.Millisecond), packettest.Frame{}, c, server, 10))
	}
	m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Workers: 2}, &failing{n: 10})
	err := m.Run(context.Background(), &source{pkts: pkts, link: packet.LinkEthernet}, "test")
	if err != nil || m.Err() == nil || m.Err().Error() != "disk full" {
		t.Fatalf("Run = %v, Err = %v; want the sink's error from Err", err, m.Err())
	}

	// the same through the encoders (a CSV sink writes rows)
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	w := csv.NewWriter(&failingWriter{left: 100000}, cols)
	m = meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Workers: 2}, w)
	err = m.Run(context.Background(), &source{pkts: pkts, link: packet.LinkEthernet}, "test")
	if err != nil || m.Err() == nil || m.Err().Error() != "disk full" {
		t.Fatalf("CSV: Run = %v, Err = %v; want the sink's error from Err", err, m.Err())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var col collector
	m = meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Workers: 2}, &col)
	if err := m.Run(ctx, &source{pkts: pkts, link: packet.LinkEthernet}, "test"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if len(col.recs) == 0 || len(col.recs) >= len(pkts) {
		t.Fatalf("%d records after a cancel at the first batch", len(col.recs))
	}
	for _, r := range col.recs {
		if r.End != flow.EndShutdown {
			t.Fatalf("end reason %v, want shutdown", r.End)
		}
	}
}
