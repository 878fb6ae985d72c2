package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// pcapReader reads classic pcap records straight out of the bufio.Reader's
// buffer: a packet's bytes are returned in place (Peek, then Discard), not
// copied into a packet buffer as pcapgo's reader does, which is the one copy
// of every byte on the packet path. It accepts and refuses what pcapgo's
// Reader does, with the same messages (lower-cased).
type pcapReader struct {
	br      *bufio.Reader
	order   binary.ByteOrder
	swap    bool   // big-endian records: next reads little-endian and swaps (an interface call per field was 1.4 % of a run)
	factor  uint32 // ns per unit of the fraction field: 1000 (µs) or 1 (ns)
	snaplen uint32
	link    uint16
	big     []byte // a packet larger than br's buffer
}

// maxEager is the largest capture length accepted whatever the snap length
// (as pcapgo's Reader).
const maxEager = 262144

func newPcapReader(br *bufio.Reader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	r := &pcapReader{br: br}
	switch magic := binary.LittleEndian.Uint32(h[:4]); {
	case magic == magicPcapNs:
		r.order, r.factor = binary.LittleEndian, 1
	case binary.BigEndian.Uint32(h[:4]) == magicPcapNs:
		r.order, r.factor = binary.BigEndian, 1
	case magic == magicPcapUs:
		r.order, r.factor = binary.LittleEndian, 1000
	case binary.BigEndian.Uint32(h[:4]) == magicPcapUs:
		r.order, r.factor = binary.BigEndian, 1000
	default:
		return nil, fmt.Errorf("unknown magic %x", magic)
	}
	r.swap = r.order == binary.BigEndian
	if v := r.order.Uint16(h[4:6]); v != 2 {
		return nil, fmt.Errorf("unknown major version %d", v)
	}
	if v := r.order.Uint16(h[6:8]); v != 4 {
		return nil, fmt.Errorf("unknown minor version %d", v)
	}
	r.snaplen = r.order.Uint32(h[16:20])
	r.link = uint16(r.order.Uint32(h[20:24]))
	return r, nil
}

// next returns the next packet (valid until the next call) and its time,
// capture and wire lengths; io.EOF at a record boundary, otherwise an error
// wrapping io.ErrUnexpectedEOF for a cut record.
func (r *pcapReader) next() (data []byte, ns int64, capLen, wireLen int, err error) {
	h, err := r.br.Peek(16)
	if len(h) < 16 {
		if len(h) == 0 && err == io.EOF {
			return nil, 0, 0, 0, io.EOF
		}
		return nil, 0, 0, 0, io.ErrUnexpectedEOF
	}
	sec, frac := binary.LittleEndian.Uint32(h[0:4]), binary.LittleEndian.Uint32(h[4:8])
	c, w := binary.LittleEndian.Uint32(h[8:12]), binary.LittleEndian.Uint32(h[12:16])
	if r.swap {
		sec, frac, c, w = bits.ReverseBytes32(sec), bits.ReverseBytes32(frac), bits.ReverseBytes32(c), bits.ReverseBytes32(w)
	}
	ns = int64(sec)*1e9 + int64(frac*r.factor)
	if c > max(r.snaplen, maxEager) {
		return nil, 0, 0, 0, fmt.Errorf("capture length exceeds snap length: %d > %d", c, r.snaplen)
	}
	if c > w {
		return nil, 0, 0, 0, fmt.Errorf("capture length exceeds original packet length: %d > %d", c, w)
	}
	capLen, wireLen = int(c), int(w)
	if n := 16 + capLen; n <= r.br.Size() {
		b, err := r.br.Peek(n)
		if len(b) < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, 0, 0, 0, err
		}
		r.br.Discard(n)
		return b[16:n:n], ns, capLen, wireLen, nil
	}
	r.br.Discard(16)
	if cap(r.big) < capLen {
		r.big = make([]byte, capLen)
	}
	data = r.big[:capLen]
	if _, err := io.ReadFull(r.br, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, 0, 0, err
	}
	return data, ns, capLen, wireLen, nil
}
