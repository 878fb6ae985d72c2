package packettest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flowmeter/flowmeter/packet"
)

// Packet is a frame with its capture time and interface.
type Packet struct {
	Time  time.Time
	Data  []byte
	Iface int // pcapng interface index
	// WireLen, when larger than len(Data), marks the frame as truncated by
	// the snap length.
	WireLen int
}

// PcapOptions choose the variant of the pcap format.
type PcapOptions struct {
	Link      packet.Link
	Nanos     bool // nanosecond timestamps (magic a1b23c4d)
	BigEndian bool
	Snaplen   uint32 // 0: 262144
}

// Pcap returns a classic pcap file holding pkts.
func Pcap(o PcapOptions, pkts []Packet) []byte {
	var bo binary.ByteOrder = binary.LittleEndian
	if o.BigEndian {
		bo = binary.BigEndian
	}
	magic := uint32(0xA1B2C3D4)
	if o.Nanos {
		magic = 0xA1B23C4D
	}
	snap := o.Snaplen
	if snap == 0 {
		snap = 262144
	}
	link := o.Link // the zero value is LinkNull (BSD loopback)
	h := make([]byte, 24)
	bo.PutUint32(h[0:], magic)
	bo.PutUint16(h[4:], 2)
	bo.PutUint16(h[6:], 4)
	bo.PutUint32(h[16:], snap)
	bo.PutUint32(h[20:], uint32(link))
	var b bytes.Buffer
	b.Write(h)
	for _, p := range pkts {
		r := make([]byte, 16)
		sub := uint32(p.Time.Nanosecond() / 1000)
		if o.Nanos {
			sub = uint32(p.Time.Nanosecond())
		}
		bo.PutUint32(r[0:], uint32(p.Time.Unix()))
		bo.PutUint32(r[4:], sub)
		bo.PutUint32(r[8:], uint32(len(p.Data)))
		bo.PutUint32(r[12:], uint32(max(p.WireLen, len(p.Data))))
		b.Write(r)
		b.Write(p.Data)
	}
	return b.Bytes()
}

// Pcapng returns a pcapng file with one interface per link type in links;
// each packet goes to interface p.Iface.
func Pcapng(links []packet.Link, pkts []Packet) []byte {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{
		LinkType: layers.LinkType(links[0]), SnapLength: 262144, TimestampResolution: 9,
	}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		panic(err)
	}
	for _, l := range links[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkType(l), SnapLength: 262144, TimestampResolution: 9}); err != nil {
			panic(err)
		}
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data),
			Length: max(p.WireLen, len(p.Data)), InterfaceIndex: p.Iface}
		if err := w.WritePacket(ci, p.Data); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}
