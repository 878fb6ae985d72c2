package meter

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
)

// VerdictWriter writes one packet's verdict (sink/csv.PacketWriter).
type VerdictWriter interface {
	Write(capture string, packet int, flowID uint64, verdict string) error
	Close() error
}

// PacketOutputs are the per-packet outputs of a classifying run: a packet's
// verdict is its flow record's, known only when the flow ends, so they are
// written for each capture file once it is metered (Config.Packets). The
// capture is then read again to copy the packets of malicious flows and to
// count what they hold.
type PacketOutputs struct {
	Verdicts   VerdictWriter   // each packet's verdict; nil: none
	Suspicious *capture.Writer // the packets of malicious flows; nil: none

	// Totals over the files: packets and bytes read, and those of
	// malicious flows.
	Packets, KeptPackets int64
	Bytes, KeptBytes     int64

	flowOf    []uint64        // by packet number − 1; 0: no flow
	malicious map[uint64]bool // flow ID → malicious
}

// reset starts a new capture file.
func (p *PacketOutputs) reset() {
	if p == nil {
		return
	}
	p.flowOf = p.flowOf[:0]
	if p.malicious == nil {
		p.malicious = map[uint64]bool{}
	}
	clear(p.malicious)
}

// packet notes that packet number n joined the flow record id (0: none).
func (p *PacketOutputs) packet(n int, id uint64) {
	if p == nil {
		return
	}
	for len(p.flowOf) < n {
		p.flowOf = append(p.flowOf, 0)
	}
	p.flowOf[n-1] = id
}

// record notes a written record's verdict.
func (p *PacketOutputs) record(r *feature.Record) {
	if p != nil && r.Verdict == model.VerdictMalicious {
		p.malicious[r.ID] = true
	}
}

// file writes the outputs of the capture at path, just metered.
func (p *PacketOutputs) file(path string) error {
	if p == nil {
		return nil
	}
	if p.Verdicts != nil {
		for i, id := range p.flowOf {
			v := model.VerdictBenign
			if p.malicious[id] {
				v = model.VerdictMalicious
			}
			if err := p.Verdicts.Write(path, i+1, id, v); err != nil {
				return err
			}
		}
	}
	return p.copySuspicious(path)
}

// copySuspicious reads the capture again and writes the packets of
// malicious flows, counting what was kept.
func (p *PacketOutputs) copySuspicious(path string) (rerr error) {
	c, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer c.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true)) // the file may be mapped: see readFrames
	done, read := 0, 0                                       // packets done, packets read
	defer catchFault(path, &done, &rerr)
	for {
		done = read
		data, info, err := c.ReadPacket()
		if err != nil {
			return nil // io.EOF, or the read error the meter reported
		}
		read, done = info.Number, info.Number-1
		p.Packets++
		p.Bytes += int64(info.WireLen)
		n := info.Number - 1
		if n >= len(p.flowOf) || p.flowOf[n] == 0 || !p.malicious[p.flowOf[n]] {
			continue
		}
		p.KeptPackets++
		p.KeptBytes += int64(info.WireLen)
		if p.Suspicious == nil {
			continue
		}
		if err := p.Suspicious.WritePacket(data, info); err != nil {
			return fmt.Errorf("%s: %w", p.Suspicious.Name(), err)
		}
	}
}

// Report writes what the malicious flows hold: the share of the traffic an
// analyst is left with.
func (p *PacketOutputs) Report(w io.Writer) {
	pct := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	fmt.Fprintf(w, "  malicious flows hold %d of %d packets: kept %.1f %% of packets, %.1f %% of bytes\n",
		p.KeptPackets, p.Packets, pct(p.KeptPackets, p.Packets), pct(p.KeptBytes, p.Bytes))
	if p.Suspicious != nil && p.Suspicious.Skipped() > 0 {
		fmt.Fprintf(w, "  %d suspicious packets of another link type were not written to the pcap (write .pcapng to keep them)\n", p.Suspicious.Skipped())
	}
}

// Close closes the outputs.
func (p *PacketOutputs) Close() error {
	var first error
	if p.Verdicts != nil {
		first = p.Verdicts.Close()
	}
	if p.Suspicious != nil {
		if err := p.Suspicious.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
