package meter_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/flow"
	"github.com/flowmeter/flowmeter/meter"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/sink/csv"
	"io"
	"net/netip"
	"runtime"
	"strconv"

	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
)

// BenchmarkExtract meters a capture end to end into CSV (discarded): the
// file named by $FLOWMETER_BENCH_PCAP (e.g. bench/out/big.pcap from
// bench/run.sh), or the test fixtures.
func BenchmarkExtract(b *testing.B) {
	b.Run("workers=1", func(b *testing.B) { benchmarkMeter(b, false, meter.Config{}) })
	b.Run("workers=2", func(b *testing.B) { benchmarkMeter(b, false, meter.Config{Workers: 2}) })
	b.Run("workers=3", func(b *testing.B) { benchmarkMeter(b, false, meter.Config{Workers: 3}) })
}

func benchmarkMeter(b *testing.B, classify bool, cfg meter.Config) {
	path := os.Getenv("FLOWMETER_BENCH_PCAP")
	if path == "" {
		path = "testdata/tcp_sessions.pcap"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{Scores: classify})
	mdl, err := model.Default()
	if err != nil {
		b.Fatal(err)
	}
	cl, _, err := model.NewClassifier(mdl, -1)
	if err != nil {
		b.Fatal(err)
	}
	var packets int64
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		src, err := capture.NewReader(path, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		w := csv.NewWriter(io.Discard, cols)
		cfg.Flow, cfg.Schema = flow.DefaultConfig, schema
		if classify {
			cfg.Decorate = []func(*feature.Record){cl.Classify}
		}
		m := meter.New(cfg, w)
		if err := m.Run(context.Background(), src, path); err != nil {
			b.Fatal(err)
		}
		w.Close()
		packets = m.Stats().Packets
	}
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkFlowMemory opens 100 000 TCP flows (a SYN and a SYN-ACK each,
// all still open) and reports the live heap per open flow.
func BenchmarkFlowMemory(b *testing.B) {
	// "syn": a SYN and a SYN-ACK (a flood's flows); "http": the same and an
	// HTTP request and response on a connection kept open, so that each
	// open flow also holds what its inspection read
	for _, kind := range []string{"syn", "http"} {
		b.Run(kind, func(b *testing.B) { benchmarkFlowMemory(b, kind == "http") })
	}
}

func benchmarkFlowMemory(b *testing.B, request bool) {
	const n = 100000
	var frames [][]byte
	for i := 0; i < n; i++ {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		tc := packettest.NewTCP(c, server, clock())
		hs := tc.Handshake()
		frames = append(frames, hs[0].Data, hs[1].Data)
		if request {
			frames = append(frames, tc.Send(true, []byte("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench/1.0\r\n\r\n"))[0].Data,
				tc.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok"))[0].Data)
		}
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, App: true}, &collector{})
		var meta packet.Meta
		for i, f := range frames {
			meta.Time = t0.UnixNano() + int64(i)*1000
			m.Packet(&meta, f, capture.Info{Time: meta.Time, CapLen: len(f), WireLen: len(f), Link: uint16(packet.LinkEthernet)})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if m.Stats().MaxActive != n {
			b.Fatalf("%d flows open", m.Stats().MaxActive)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/flow")
		runtime.KeepAlive(m)
	}
}

// BenchmarkClassify is BenchmarkExtract with every flow scored by the
// embedded default model: the cost of classification.
func BenchmarkClassify(b *testing.B) {
	benchmarkMeter(b, true, meter.Config{})
}

// BenchmarkFlood meters a flood of 50 000 single SYNs from as many sources
// (and one established connection) into CSV: the new-flow path, which a
// flood is all of (bench/flood.sh measures the same at a million flows).
func BenchmarkFlood(b *testing.B) {
	pkts := synFlood(50000)
	cols, _ := feature.Columns(feature.SetNative, schema, feature.Options{})
	for _, workers := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := csv.NewWriter(io.Discard, cols)
				m := meter.New(meter.Config{Flow: flow.DefaultConfig, Schema: schema, Workers: workers}, w)
				if err := m.Run(context.Background(), &source{pkts: pkts, link: packet.LinkEthernet}, "flood"); err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
			b.ReportMetric(float64(len(pkts))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
