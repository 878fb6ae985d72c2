package meter_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/packet"
)

var errIdle = errors.New("idle")

// liveSource serves its frames once start is closed, then is idle (as a
// socket that got nothing within its poll interval).
type liveSource struct {
	source
	start <-chan struct{}
}

func (s *liveSource) ReadPacket() ([]byte, capture.Info, error) {
	<-s.start
	if s.i >= len(s.pkts) {
		time.Sleep(5 * time.Millisecond)
		return nil, capture.Info{}, errIdle
	}
	return s.source.ReadPacket()
}

// udpFlows are n one-packet UDP flows from client port base on.
func udpFlows(n, base int) []packettest.Packet {
	var ps []packettest.Packet
	for i := 0; i < n; i++ {
		f := packettest.Frame{Src: client.Addr(), Dst: server.Addr(), Proto: packet.ProtoUDP,
			SrcPort: uint16(base + i), DstPort: 53, Payload: 10}
		ps = append(ps, packettest.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: f.Bytes()})
	}
	return ps
}

// Parallel live meters report the most flows open at once in all of them,
// not the sum of each meter's most: here one meter's 3 flows end (idle,
// at its first clock tick) before the other's 3 begin.
func TestLivePeakOpen(t *testing.T) {
	now, later := make(chan struct{}), make(chan struct{})
	close(now)
	a := &liveSource{source{pkts: udpFlows(3, 1000), link: packet.LinkEthernet}, now}
	b := &liveSource{source{pkts: udpFlows(3, 2000), link: packet.LinkEthernet}, later}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(2500 * time.Millisecond) // a's flows ended at its tick after 1 s
		close(later)
		time.Sleep(500 * time.Millisecond)
		cancel()
	}()
	var col collector
	cfg := meter.Config{Flow: flow.DefaultConfig, Schema: schema}
	st, err := meter.RunLive(ctx, cfg, meter.Live{Sources: []capture.Source{a, b}, Name: "test0", Idle: errIdle}, &col)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.Flows != 6 || len(col.recs) != 6 || st.MaxActive != 3 {
		t.Errorf("%d flows (%d records), at most %d open; want 6, at most 3", st.Flows, len(col.recs), st.MaxActive)
	}
	for _, r := range col.recs {
		if r.Src.Port() < 2000 && r.End != flow.EndIdle {
			t.Errorf("flow from %v ended %v", r.Src, r.End)
		}
	}
}
