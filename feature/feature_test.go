package feature_test

import (
	"math"
	"net/netip"
	"testing"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/packet"
)

// A flow built by hand, with every derived value worked out on paper:
//
//	t (s)  dir  payload
//	0.0    fwd  100
//	0.5    fwd  200
//	0.6    fwd  300
//	0.7    fwd  400   ← 4th fwd payload packet within 1 s: one bulk of 1000 bytes over 0.7 s
//	7.7    bwd    0   ← gap 7 s: active period 0.7 s ends, idle 7 s, subflow 2 starts
//	8.2    bwd   50   ← last active period 0.5 s
func TestHandComputedFlow(t *testing.T) {
	s, err := feature.NewSchema(2)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		t   float64
		dir flow.Dir
		pay int
	}{{0, flow.Forward, 100}, {0.5, flow.Forward, 200}, {0.6, flow.Forward, 300}, {0.7, flow.Forward, 400}, {7.7, flow.Backward, 0}, {8.2, flow.Backward, 50}}
	var a feature.Acc
	a.EarlyN = 2
	for i, st := range steps {
		m := packet.Meta{Time: int64(math.Round(st.t * 1e9)), Proto: packet.ProtoTCP, Version: 4, IPLen: 40 + st.pay,
			L4HdrLen: 20, PayloadLen: st.pay, TCPFlags: packet.FlagACK | packet.FlagPSH, Seq: uint32(1 + 1000*i), Window: 100}
		a.Add(&m, st.dir)
	}
	v := make([]float64, s.Len())
	s.Fill(&a, &feature.ContextValues{}, v)
	want := map[string]float64{
		"duration_s": 8.2, "fwd_packets": 4, "bwd_packets": 2, "fwd_bytes": 1160, "bwd_bytes": 130,
		"fwd_payload_bytes": 1000, "bwd_payload_bytes": 50, "fwd_header_bytes": 80, "bwd_header_bytes": 40,
		"pkt_len_mean": 175, "pkt_len_var": 23750, "pkt_len_std": math.Sqrt(23750), "pkt_len_min": 0, "pkt_len_max": 400,
		"fwd_pkt_len_mean": 250, "fwd_pkt_len_std": math.Sqrt(50000.0 / 3), "bwd_pkt_len_mean": 25,
		"ip_len_mean": 215, "ip_len_std": math.Sqrt(23750),
		"flow_iat_mean_s": 1.64, "flow_iat_min_s": 0.1, "flow_iat_max_s": 7, "fwd_iat_total_s": 0.7, "fwd_iat_mean_s": 0.7 / 3,
		"bwd_iat_total_s": 0.5, "bwd_iat_max_s": 0.5,
		"flow_bytes_per_s": 1290 / 8.2, "flow_payload_bytes_per_s": 1050 / 8.2, "flow_packets_per_s": 6 / 8.2,
		"down_up_ratio": 0.5, "fwd_bulk_bytes_avg": 1000, "fwd_bulk_packets_avg": 4, "fwd_bulk_rate_avg": 1000 / 0.7,
		"bwd_bulk_bytes_avg": 0, "subflows": 2, "subflow_fwd_packets": 2, "subflow_fwd_bytes": 500, "subflow_bwd_bytes": 25,
		"active_mean_s": 0.6, "active_std_s": math.Sqrt(0.02), "active_max_s": 0.7, "active_min_s": 0.5,
		"idle_mean_s": 7, "idle_std_s": 0, "psh_count": 6, "fwd_act_data_packets": 4, "bwd_act_data_packets": 1,
		"fwd_init_win": 100, "bwd_init_win": 100, "fwd_header_len_min": 20, "fwd_retrans": 0,
		"early_1_size": 140, "early_2_gap_s": 0.5, "early_2_dir": 0,
		// no handshake: the RTT is the wait for the responder's first packet
		"rtt_s": 7.7, "duration_rtts": 8.2 / 7.7, "flow_iat_mean_rtts": 1.64 / 7.7, "flow_iat_max_rtts": 7 / 7.7,
		"fwd_iat_mean_rtts": 0.7 / 3 / 7.7, "bwd_iat_mean_rtts": 0.5 / 7.7, "active_max_rtts": 0.7 / 7.7,
	}
	for name, w := range want {
		i := s.Index(name)
		if i < 0 {
			t.Errorf("no feature %s", name)
			continue
		}
		if math.Abs(v[i]-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v, want %v", name, v[i], w)
		}
	}
}

// The example of docs/features.md: SYN at 0, SYN-ACK at 30 ms, ACK at 31 ms,
// last packet at 155 ms: rtt_s 0.031, duration_rtts 5. A flow the responder
// never answered has no RTT. (Times start at 1 s: 0 means "not seen".)
func TestRTTFeatures(t *testing.T) {
	s, _ := feature.NewSchema(0)
	steps := []struct {
		ms    int64
		dir   flow.Dir
		flags uint8
	}{{0, flow.Forward, packet.FlagSYN}, {30, flow.Backward, packet.FlagSYN | packet.FlagACK}, {31, flow.Forward, packet.FlagACK}, {155, flow.Forward, packet.FlagACK}}
	var a, lone feature.Acc
	for i, st := range steps {
		m := packet.Meta{Time: 1e9 + st.ms*1e6, Proto: packet.ProtoTCP, Version: 4, IPLen: 40, L4HdrLen: 20, TCPFlags: st.flags, Seq: uint32(i)}
		a.Add(&m, st.dir)
		if i == 0 {
			lone.Add(&m, st.dir)
		}
	}
	v := make([]float64, s.Len())
	s.Fill(&a, &feature.ContextValues{}, v)
	if r, d := v[s.Index("rtt_s")], v[s.Index("duration_rtts")]; math.Abs(r-0.031) > 1e-12 || math.Abs(d-5) > 1e-9 {
		t.Errorf("rtt_s %v, duration_rtts %v; want 0.031, 5", r, d)
	}
	s.Fill(&lone, &feature.ContextValues{}, v)
	if r, d := v[s.Index("rtt_s")], v[s.Index("duration_rtts")]; r != 0 || d != -1 {
		t.Errorf("unanswered: rtt_s %v, duration_rtts %v; want 0, -1", r, d)
	}
}

func TestStatMerge(t *testing.T) {
	xs := []float64{3, 1, 4, 1, 5, 9, 2, 6}
	var all, a, b feature.Stat
	for i, x := range xs {
		all.Add(x)
		if i < 3 {
			a.Add(x)
		} else {
			b.Add(x)
		}
	}
	m := feature.Merge(a, b)
	if m.N != all.N || math.Abs(m.Mean-all.Mean) > 1e-12 || math.Abs(m.Var()-all.Var()) > 1e-12 || m.Min != 1 || m.Max != 9 {
		t.Errorf("merge %+v, direct %+v", m, all)
	}
}

func TestSchemaNames(t *testing.T) {
	s, _ := feature.NewSchema(3)
	if s.Names()[0] != "duration_s" || s.Index("early_3_gap_s") != s.Len()-1 || s.Index("nope") != -1 {
		t.Errorf("schema order: %v", s.Names()[:3])
	}
	s8, _ := feature.NewSchema(8)
	if s.Hash() == s8.Hash() {
		t.Error("schemas with different early windows share a hash")
	}
	if _, err := feature.NewSchema(feature.MaxEarly + 1); err == nil {
		t.Error("early window over the maximum accepted")
	}
}

func TestAccNoAllocs(t *testing.T) {
	var a feature.Acc
	a.EarlyN = 8
	m := packet.Meta{Proto: packet.ProtoTCP, Version: 4, IPLen: 60, L4HdrLen: 20, PayloadLen: 20, TCPFlags: packet.FlagACK}
	a.Add(&m, flow.Forward) // sizes the early buffer
	allocs := testing.AllocsPerRun(1000, func() {
		m.Time += 1000
		m.Seq += 20
		a.Add(&m, flow.Backward)
	})
	if allocs != 0 {
		t.Errorf("Add allocates %v times", allocs)
	}
}

func TestContext(t *testing.T) {
	c := feature.NewContext(feature.ContextConfig{Window: 10e9, Flows: 3, MaxHosts: 100})
	att := netip.MustParseAddrPort("10.0.0.66:40000")
	var v feature.ContextValues
	for i := 0; i < 5; i++ { // 5 probes to 5 ports of one host, 1 s apart, all failed
		v = c.Observe(&feature.Flow{Src: att, Dst: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(20+i)), Proto: 6, First: int64(i) * 1e9, Last: int64(i)*1e9 + 5e8, Failed: true})
	}
	// the ring holds 3 earlier flows, plus this one
	if v[feature.CtxSrcFlows] != 4 || v[feature.CtxSrcDstPorts] != 4 || v[feature.CtxSrcDstHosts] != 1 || v[feature.CtxSrcFailed] != 1 || v[feature.CtxSrcRate] != 0.4 {
		t.Errorf("src context %v", v)
	}
	if v[feature.CtxDstFlows] != 4 || v[feature.CtxDstSrcHosts] != 1 || v[feature.CtxSvcFlows] != 1 {
		t.Errorf("dst/svc context %v", v)
	}
	// 1 s apart: the probe at 3 s and this one (at 4 s) are within 1 s;
	// each lasted 0.5 s, so none ran at the same time as another
	if v[feature.CtxSrcBurst] != 2 || v[feature.CtxSvcBurst] != 1 || v[feature.CtxSrcConcurrent] != 0 {
		t.Errorf("burst context %v", v)
	}
	// a flow from 2.2 s to 3.2 s overlaps the probes at 2 s (to 2.5 s) and 3 s
	w := c.Peek(&feature.Flow{Src: att, Dst: netip.MustParseAddrPort("10.0.0.1:99"), Proto: 6, First: 2.2e9, Last: 3.2e9})
	if w[feature.CtxSrcConcurrent] != 2 {
		t.Errorf("concurrent %v, want 2", w[feature.CtxSrcConcurrent])
	}
	// 30 s later the window is empty again
	for i := 0; i < 10; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), 1000)
		v = c.Observe(&feature.Flow{Src: src, Dst: netip.MustParseAddrPort("10.0.0.1:80"), Proto: 6, First: 40e9 + int64(i), Last: 40e9 + int64(i)})
	}
	if v[feature.CtxDstFlows] != 4 || v[feature.CtxDstSrcHosts] != 4 || v[feature.CtxSvcFailed] != 0 || v[feature.CtxSrcFlows] != 1 {
		t.Errorf("after the window: %v", v)
	}
	if v[feature.CtxSvcBurst] != 4 { // the ring's 3 and this one, all within 10 ns
		t.Errorf("service burst %v", v)
	}
}

// ctx_pair_svc_same_reply_ratio: of the initiator's flows to one service,
// the share whose responder sent as many payload bytes as this flow's.
func TestContextSameReply(t *testing.T) {
	c := feature.NewContext(feature.ContextConfig{Window: 10e9, Flows: 10, MaxHosts: 100})
	cl := netip.MustParseAddrPort("10.0.0.7:5000")
	web, ssh := netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("10.0.0.1:22")
	obs := func(dst netip.AddrPort, t int64, reply int64) feature.ContextValues {
		return c.Observe(&feature.Flow{Src: cl, Dst: dst, Proto: 6, First: t, Last: t + 1e6, Reply: reply})
	}
	if v := obs(web, 0, 500); v[feature.CtxPairSvcSameReply] != 1 { // a lone flow
		t.Errorf("lone flow: %v", v[feature.CtxPairSvcSameReply])
	}
	obs(web, 1e9, 500)
	obs(web, 2e9, 700)
	obs(ssh, 3e9, 500) // another service: not counted
	v := obs(web, 4e9, 500)
	if v[feature.CtxPairSvcFlows] != 4 || v[feature.CtxPairSvcSameReply] != 0.75 {
		t.Errorf("pair service flows %v, same reply %v; want 4, 0.75", v[feature.CtxPairSvcFlows], v[feature.CtxPairSvcSameReply])
	}
	if v := obs(web, 20e9, 500); v[feature.CtxPairSvcSameReply] != 1 || v[feature.CtxPairSvcFlows] != 1 { // the window moved on
		t.Errorf("after the window: %v", v)
	}
}

func TestContextBounded(t *testing.T) {
	c := feature.NewContext(feature.ContextConfig{Window: 10e9, Flows: 3, MaxHosts: 50})
	for i := 0; i < 5000; i++ { // a spoofed flood: every flow from a new host
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), 1000)
		c.Observe(&feature.Flow{Src: src, Dst: netip.MustParseAddrPort("10.0.0.1:80"), Proto: 6, First: int64(i) * 1e6, Last: int64(i) * 1e6, Failed: true})
		if c.Len() > 50 {
			t.Fatalf("%d hosts and services remembered, bound 50", c.Len())
		}
	}
}

// A group of features is filled by one function where the run is whole
// and by each member's own function where Without splits it: both give
// the same values. The flow has packets both ways, flags, early packets
// and context values.
func TestSchemaGroupsSplit(t *testing.T) {
	full, err := feature.NewSchema(4)
	if err != nil {
		t.Fatal(err)
	}
	var a feature.Acc
	a.EarlyN = 4
	for i, f := range []uint8{packet.FlagSYN, packet.FlagSYN | packet.FlagACK, packet.FlagACK, packet.FlagPSH | packet.FlagACK, packet.FlagFIN | packet.FlagACK} {
		m := packet.Meta{Time: int64(1e9 + i*3_000_000 + i*i*777), Proto: packet.ProtoTCP, Version: 4, IPLen: 40 + 10*i,
			L4HdrLen: 20, PayloadLen: 10 * i, TCPFlags: f, Seq: uint32(1 + 100*i), Ack: uint32(i), Window: uint16(100 + i)}
		a.Add(&m, flow.Dir(i%2))
	}
	var ctx feature.ContextValues
	for i := range ctx {
		ctx[i] = float64(i) + 0.25
	}
	want := make([]float64, full.Len())
	full.Fill(&a, &ctx, want)
	// one member out of every group: every group split
	split := full.Without("fwd_pkt_len_max", "bwd_ip_len_mean", "flow_iat_mean_s", "active_std_s", "idle_min_s",
		"bwd_syn_count", full.Names()[full.Index("early_1_dir")-1], "early_2_size")
	got := make([]float64, split.Len())
	split.Fill(&a, &ctx, got)
	for i, name := range split.Names() {
		if w := want[full.Index(name)]; got[i] != w && !(math.IsNaN(w) && math.IsNaN(got[i])) {
			t.Errorf("%s = %v split, %v whole", name, got[i], w)
		}
	}
	if split.Len() != full.Len()-8 {
		t.Fatalf("%d features, want %d", split.Len(), full.Len()-8)
	}
}
