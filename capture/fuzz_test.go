package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmeter/flowmeter/capture"
	"github.com/flowmeter/flowmeter/internal/packettest"
	"github.com/flowmeter/flowmeter/packet"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngBlock is a pcapng block of type typ: body, then the options area opts
// (padded to 4 bytes), framed by the total length.
func ngBlock(typ uint32, body, opts []byte) []byte {
	opts = append(opts[:len(opts):len(opts)], make([]byte, (4-len(opts)%4)%4)...)
	n := 12 + len(body) + len(opts)
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(append(b, body...), opts...)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// ngWithOptions is a pcapng capture of one Ethernet frame whose section
// header, interface and packet blocks carry the given raw options areas.
func ngWithOptions(shb, idb, epb, frame []byte) []byte {
	sh := binary.LittleEndian.AppendUint32(nil, 0x1A2B3C4D)
	sh = binary.LittleEndian.AppendUint16(sh, 1)
	sh = binary.LittleEndian.AppendUint16(sh, 0)
	sh = binary.LittleEndian.AppendUint64(sh, ^uint64(0))
	id := binary.LittleEndian.AppendUint16(nil, 1) // Ethernet
	id = binary.LittleEndian.AppendUint16(id, 0)
	id = binary.LittleEndian.AppendUint32(id, 65535)
	ep := binary.LittleEndian.AppendUint32(nil, 0)
	ep = binary.LittleEndian.AppendUint32(ep, 0x5_0000)
	ep = binary.LittleEndian.AppendUint32(ep, 7)
	ep = binary.LittleEndian.AppendUint32(ep, uint32(len(frame)))
	ep = binary.LittleEndian.AppendUint32(ep, uint32(len(frame)))
	ep = append(ep, frame...)
	ep = append(ep, make([]byte, (4-len(frame)%4)%4)...)
	var b []byte
	b = append(b, ngBlock(0x0A0D0D0A, sh, shb)...)
	b = append(b, ngBlock(1, id, idb)...)
	return append(b, ngBlock(6, ep, epb)...)
}

// opt is one pcapng option TLV.
func opt(code uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(append(b, v...), make([]byte, (4-len(v)%4)%4)...)
}

// FuzzPcapngOptions: whatever options the blocks of a pcapng carry
// (timestamp resolution and offset, comments, flags, hashes, garbage),
// the reader neither panics nor loops, and the one packet it returns, if
// any, is the frame.
func FuzzPcapngOptions(f *testing.F) {
	frame := somePackets(1)[0].Data
	end := opt(0, nil)
	f.Add([]byte(nil), []byte(nil), []byte(nil))
	f.Add(append(opt(1, []byte("a comment")), end...), append(opt(9, []byte{9}), end...), append(opt(2, []byte{1, 0, 0, 0}), end...))
	f.Add([]byte(nil), append(opt(9, []byte{0x86}), append(opt(14, make([]byte, 8)), end...)...), append(opt(3, []byte{2, 1, 2, 3}), end...))
	f.Add(append(opt(2, []byte("hw")), end...), append(opt(9, []byte{64}), end...), opt(0xFFFF, make([]byte, 3)))
	f.Fuzz(func(t *testing.T, shb, idb, epb []byte) {
		b := ngWithOptions(shb, idb, epb, frame)
		r, err := capture.NewReader("fuzz.pcapng", bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; i < 3; i++ {
			data, info, err := r.ReadPacket()
			if err != nil {
				return
			}
			if i > 0 || !bytes.Equal(data, frame) || info.CapLen != len(frame) {
				t.Fatalf("packet %d: %d bytes, %+v", i+1, len(data), info)
			}
		}
		t.Fatal("more packets than the capture holds")
	})
}

// The fuzzer's hand-built pcapng is a capture the reader reads.
func TestNgWithOptions(t *testing.T) {
	frame := somePackets(1)[0].Data
	end := opt(0, nil)
	for _, opts := range [][3][]byte{{}, {append(opt(1, []byte("x")), end...), append(opt(9, []byte{6}), end...), append(opt(2, []byte{1, 0, 0, 0}), end...)}} {
		r, err := capture.NewReader("t.pcapng", bytes.NewReader(ngWithOptions(opts[0], opts[1], opts[2], frame)))
		if err != nil {
			t.Fatal(err)
		}
		data, info, err := r.ReadPacket()
		if err != nil || !bytes.Equal(data, frame) || info.Link != 1 {
			t.Fatalf("%v, %+v", err, info)
		}
	}
}

// sameMapped checks that a file read from its mapping (capture.Open of an
// uncompressed pcap file) gives what reading b gives: the same packets,
// times and lengths, and the same error at the same packet.
func sameMapped(t *testing.T, b []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	mapped, err1 := capture.Open(path)
	read, err2 := capture.NewReader(path, bytes.NewReader(b))
	if fmt.Sprint(err1) != fmt.Sprint(err2) {
		t.Fatalf("header: mapped %v, read %v", err1, err2)
	}
	if err1 != nil {
		return
	}
	defer mapped.Close()
	for i := 1; ; i++ {
		d1, i1, err1 := mapped.ReadPacket()
		d2, i2, err2 := read.ReadPacket()
		if fmt.Sprint(err1) != fmt.Sprint(err2) || !bytes.Equal(d1, d2) || i1 != i2 {
			t.Fatalf("packet %d: mapped %d bytes %+v %v, read %d bytes %+v %v", i, len(d1), i1, err1, len(d2), i2, err2)
		}
		if err1 != nil {
			return
		}
	}
}

// FuzzPcapLikePcapgo: flowmeter's own pcap reader (which returns packets in
// place, without copying) reads every input as gopacket's pcapgo.Reader
// does: the same packets with the same times and lengths, and an error at
// the same packet (or, where pcapgo takes a cut record for the end, a
// truncation error), whatever the bytes (a cut record, a length past the snap
// length or the buffer, a bad header), and from a mapping of the file as
// from reads (sameMapped).
func FuzzPcapLikePcapgo(f *testing.F) {
	pkts := somePackets(4)
	for _, o := range []packettest.PcapOptions{{Link: packet.LinkEthernet}, {Link: packet.LinkEthernet, Nanos: true, BigEndian: true}, {Link: packet.LinkEthernet, Snaplen: 64}} {
		b := packettest.Pcap(o, pkts)
		f.Add(b)
		f.Add(b[:len(b)-7])
	}
	big := packettest.Pcap(packettest.PcapOptions{Link: packet.LinkEthernet, Snaplen: 1 << 22}, nil)
	rec := binary.LittleEndian.AppendUint32(nil, 1)
	rec = binary.LittleEndian.AppendUint32(rec, 2)
	rec = binary.LittleEndian.AppendUint32(rec, 1<<21) // larger than the reader's buffer
	rec = binary.LittleEndian.AppendUint32(rec, 1<<21)
	f.Add(append(append(big, rec...), make([]byte, 1<<21)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 || binary.LittleEndian.Uint32(b) == 0x0A0D0D0A || b[0] == 0x1F {
			return // pcap only: not pcapng, not gzip
		}
		sameMapped(t, b)
		ours, err1 := capture.NewReader("f.pcap", bytes.NewReader(b))
		theirs, err2 := pcapgo.NewReader(bytes.NewReader(b))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("header: ours %v, pcapgo's %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		for i := 1; ; i++ {
			d1, info, err1 := ours.ReadPacket()
			d2, ci, err2 := theirs.ZeroCopyReadPacketData()
			if err2 == io.EOF && errors.Is(err1, io.ErrUnexpectedEOF) {
				// pcapgo reads a packet over 256 KiB with io.CopyN and
				// reports its truncation as a clean end of file; ours
				// says the capture was cut.
				return
			}
			if (err1 == nil) != (err2 == nil) || (err1 == io.EOF) != (err2 == io.EOF) {
				t.Fatalf("packet %d: ours %v, pcapgo's %v", i, err1, err2)
			}
			if err1 != nil {
				return
			}
			if !bytes.Equal(d1, d2) || info.Time != ci.Timestamp.UnixNano() || info.CapLen != ci.CaptureLength || info.WireLen != max(ci.Length, ci.CaptureLength) {
				t.Fatalf("packet %d: ours %d bytes %+v, pcapgo's %d bytes %+v", i, len(d1), info, len(d2), ci)
			}
		}
	})
}
