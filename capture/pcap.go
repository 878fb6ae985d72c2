package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// pcapReader reads classic pcap records straight out of its own read-ahead
// buffer: a packet's bytes are returned in place, not copied into a packet
// buffer as pcapgo's reader does, which is the one copy of every byte on the
// packet path. It accepts and refuses what pcapgo's Reader does, with the
// same messages (lower-cased).
type pcapReader struct {
	src      io.Reader // the input after the file header
	buf      []byte    // records read ahead: buf[pos:end]
	pos, end int
	mapped   bool   // buf is the whole file, mapped (mapFile): nothing more to read
	released int    // mapped: buf[:released] has been released (releaseMapped)
	err      error  // what ended src (io.EOF or another error), once buf[pos:end] runs short
	swap     bool   // big-endian records: next reads little-endian and swaps (an interface call per field was 1.4 % of a run)
	factor   uint32 // ns per unit of the fraction field: 1000 (µs) or 1 (ns)
	snaplen  uint32
	link     uint16
}

// readAhead is the size of pcapReader's buffer. src is a bufio.Reader of
// 1 MiB (NewReader): reads of at least its size into an empty one go
// straight to the file, so the buffer is twice that.
const readAhead = 2 << 20

// fill makes n bytes available at buf[pos:] if the input has that many; it
// reports whether it did.
func (r *pcapReader) fill(n int) bool {
	if r.end-r.pos >= n || r.mapped {
		return r.end-r.pos >= n
	}
	if n > len(r.buf)-readAhead/2 { // a packet larger than the buffer
		r.buf = append(r.buf[:cap(r.buf)], make([]byte, n+readAhead/2-len(r.buf))...)
	}
	r.end = copy(r.buf, r.buf[r.pos:r.end])
	r.pos = 0
	for r.end < n && r.err == nil {
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			r.err = err
		}
	}
	return r.end >= n
}

// maxEager is the largest capture length accepted whatever the snap length
// (as pcapgo's Reader).
const maxEager = 262144

func newPcapReader(br *bufio.Reader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	r := &pcapReader{src: br, buf: make([]byte, readAhead)}
	return r, r.header(h[:])
}

// newMappedPcapReader reads the records of a whole pcap file in memory (a
// mapping: mapFile) in place; b holds at least the file header.
func newMappedPcapReader(b []byte) (*pcapReader, error) {
	r := &pcapReader{buf: b, pos: 24, end: len(b), mapped: true, err: io.EOF}
	return r, r.header(b[:24])
}

// releaseEvery is how much of a mapped file is read between releases.
const releaseEvery = 4 << 20

// release gives back the pages of the mapping read so far (up to the page
// of the record at pos), so that the process's memory does not grow with
// the file: a 760 MB capture otherwise counts whole in the peak RSS. They
// stay in the page cache, and the file is read-only: a slice into a
// released page that is read again faults it back in with the same bytes.
func (r *pcapReader) release() {
	end := r.pos &^ (pageSize - 1)
	releaseMapped(r.buf[r.released:end])
	r.released = end
}

// header reads the file header h (24 bytes).
func (r *pcapReader) header(h []byte) error {
	var order binary.ByteOrder // the file header's; next reads records by swap
	switch magic := binary.LittleEndian.Uint32(h[:4]); {
	case magic == magicPcapNs:
		order, r.factor = binary.LittleEndian, 1
	case binary.BigEndian.Uint32(h[:4]) == magicPcapNs:
		order, r.factor = binary.BigEndian, 1
	case magic == magicPcapUs:
		order, r.factor = binary.LittleEndian, 1000
	case binary.BigEndian.Uint32(h[:4]) == magicPcapUs:
		order, r.factor = binary.BigEndian, 1000
	default:
		return fmt.Errorf("unknown magic %x", magic)
	}
	r.swap = order == binary.BigEndian
	if v := order.Uint16(h[4:6]); v != 2 {
		return fmt.Errorf("unknown major version %d", v)
	}
	if v := order.Uint16(h[6:8]); v != 4 {
		return fmt.Errorf("unknown minor version %d", v)
	}
	r.snaplen = order.Uint32(h[16:20])
	r.link = uint16(order.Uint32(h[20:24]))
	return nil
}

// next returns the next packet (valid until the next call) and its time,
// capture and wire lengths; io.EOF at a record boundary, otherwise an error
// wrapping io.ErrUnexpectedEOF for a cut record.
func (r *pcapReader) next() (data []byte, ns int64, capLen, wireLen int, err error) {
	if r.mapped && r.pos-r.released >= releaseEvery {
		r.release()
	}
	if !r.fill(16) {
		if r.end == r.pos && r.err == io.EOF {
			return nil, 0, 0, 0, io.EOF
		}
		return nil, 0, 0, 0, r.cut()
	}
	h := r.buf[r.pos : r.pos+16]
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
	n := 16 + capLen
	if !r.fill(n) {
		return nil, 0, 0, 0, r.cut()
	}
	data = r.buf[r.pos+16 : r.pos+n : r.pos+n]
	r.pos += n
	return data, ns, capLen, wireLen, nil
}

// cut is the error of a record the input ends inside: io.ErrUnexpectedEOF,
// or what stopped the input.
func (r *pcapReader) cut() error {
	if r.err == nil || r.err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return r.err
}
