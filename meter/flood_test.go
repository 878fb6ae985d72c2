package meter_test

import (
	"context"
	"errors"
	"github.com/flowmeter/flowmeter/capture"
	"net/netip"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
)

// synFlood is an established connection that goes on through a flood of n
// single SYNs from as many spoofed sources.
func synFlood(n int) []packettest.Packet {
	clk := &packettest.Clock{T: t0, Step: 10 * time.Microsecond}
	tc := packettest.NewTCP(client, server, clk)
	pkts := append(tc.Handshake(), tc.Data(true, 100), tc.Data(false, 1000))
	for i := 0; i < n; i++ {
		src := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		f := packettest.Frame{Src: src, Dst: server.Addr(), Proto: packet.ProtoTCP, SrcPort: uint16(1024 + i%50000), DstPort: 80, Flags: packet.FlagSYN}
		pkts = append(pkts, packettest.Packet{Time: clk.Next(), Data: f.Bytes()})
		if i%1000 == 999 {
			pkts = append(pkts, tc.Data(true, 100), tc.Data(false, 1000))
		}
	}
	return pkts
}

// Under a flood, a bounded table holds at most MaxFlows flows, writes a
// record for every flow (none disappears), counts what it evicted, and
// keeps the established connection whole.
func TestFloodBounded(t *testing.T) {
	cfg := flow.DefaultConfig
	cfg.MaxFlows = 100
	const n = 5000
	recs, st := meterPackets(t, cfg, synFlood(n))
	if len(recs) != n+1 || st.Flows != n+1 {
		t.Fatalf("%d records for %d flows", len(recs), n+1)
	}
	if st.MaxActive != cfg.MaxFlows || st.Evicted != n+1-int64(cfg.MaxFlows) || st.ByEnd[flow.EndEvicted] != st.Evicted {
		t.Errorf("at most %d open, %d evicted (%d by end reason)", st.MaxActive, st.Evicted, st.ByEnd[flow.EndEvicted])
	}
	conn := 0
	for _, r := range recs {
		if r.Src == client {
			conn++
			if r.End != flow.EndEOF || get(&r, "packets") != 5+2*n/1000 {
				t.Errorf("the established connection ended %v with %v packets", r.End, get(&r, "packets"))
			}
		}
	}
	if conn != 1 {
		t.Errorf("the established connection is in %d records", conn)
	}
}

// With several workers the bound is shared out over their tables: every
// flow still gets one record.
func TestFloodBoundedSharded(t *testing.T) {
	cfg := flow.DefaultConfig
	cfg.MaxFlows = 100
	const n = 5000
	var c collector
	m := meter.New(meter.Config{Flow: cfg, Schema: schema, Workers: 3}, &c)
	if err := m.Run(context.Background(), &source{pkts: synFlood(n), link: packet.LinkEthernet}, "test"); err != nil {
		t.Fatal(err)
	}
	st := m.Stats()
	if len(c.recs) != n+1 || st.MaxActive > 102 || st.Evicted < n-102 || st.ByEnd[flow.EndEvicted] != st.Evicted {
		t.Errorf("%d records, at most %d open, %d evicted (%d by end reason)", len(c.recs), st.MaxActive, st.Evicted, st.ByEnd[flow.EndEvicted])
	}
}

// cancelling is a source that cancels the run after k frames (a SIGINT at
// an arbitrary point).
type cancelling struct {
	source
	k      int
	cancel func()
}

func (c *cancelling) ReadPacket() ([]byte, capture.Info, error) {
	if c.i == c.k {
		c.cancel()
	}
	return c.source.ReadPacket()
}

// An interrupted run, wherever it is interrupted, loses nothing it counts:
// every frame read and decoded is in exactly one record, every record
// counted was written, the open flows end as shutdown, and the run says it
// was interrupted.
func TestInterruptAnywhere(t *testing.T) {
	pkts := synFlood(150000)
	for _, k := range []int{0, 1, 4095, 4096, 65536, 70000, 99999, 149000} {
		for _, workers := range []int{1, 2} {
			ctx, cancel := context.WithCancel(context.Background())
			var c collector
			m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Workers: workers}, &c)
			err := m.Run(ctx, &cancelling{source{pkts: pkts, link: packet.LinkEthernet}, k, cancel}, "test")
			cancel()
			st := m.Stats()
			var packets int64
			shutdown := 0
			for i := range c.recs {
				packets += int64(get(&c.recs[i], "packets"))
				if c.recs[i].End == flow.EndShutdown {
					shutdown++
				}
			}
			interrupted := errors.Is(err, context.Canceled)
			if int64(len(c.recs)) != st.Flows || packets != st.Decoded || st.Decoded != st.Packets ||
				interrupted != (st.Packets < int64(len(pkts))) || interrupted != (shutdown > 0) {
				t.Errorf("cancel after %d frames, %d workers: %v; %d of %d frames read, %d decoded, %d in %d records (%d counted), %d shutdown",
					k, workers, err, st.Packets, len(pkts), st.Decoded, packets, len(c.recs), st.Flows, shutdown)
			}
		}
	}
}
