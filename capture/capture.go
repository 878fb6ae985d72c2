// Package capture reads packet capture files: pcap (microsecond or
// nanosecond timestamps, either byte order) and pcapng (several interfaces,
// each with its own link type and timestamp resolution), plain or
// gzip-compressed, from a path or standard input.
//
// The data returned by ReadPacket is owned by the File and is valid only until
// the next call, as with pcapgo's ZeroCopyReadPacketData. A File is not safe
// for concurrent use.
package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Info describes one captured frame.
type Info struct {
	Time    int64  // timestamp, ns since the Unix epoch
	CapLen  int    // bytes captured
	WireLen int    // bytes on the wire
	Link    uint16 // link-layer header type (LINKTYPE_*) of the frame's interface
	Number  int    // 1-based packet number in its file
}

// Source is anything that yields frames.
type Source interface {
	// ReadPacket returns the next frame, or io.EOF at the end. data is
	// owned by the Source and valid only until the next call.
	ReadPacket() (data []byte, info Info, err error)
}

// ErrNotCapture is returned by Open for a file that is neither pcap nor
// pcapng (nor a gzip-compressed one).
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// ReadError is a failure to read a packet from a capture: a truncated or
// corrupt record. Packet is the 1-based number of the packet that could not be
// read (one more than the packets read successfully).
type ReadError struct {
	File   string
	Packet int
	Err    error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("%s: packet %d: %v", e.File, e.Packet, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// errTruncated is a capture cut in the middle of a record; it wraps
// io.ErrUnexpectedEOF.
var errTruncated error = truncated{}

type truncated struct{}

func (truncated) Error() string { return "truncated capture (unexpected end of file)" }
func (truncated) Unwrap() error { return io.ErrUnexpectedEOF }

// ErrChanged is the error of a capture file cut short while it was read
// from a mapping of it (Open maps uncompressed pcap files): reading the
// vanished pages faults, and readers that run with debug.SetPanicOnFault
// report that as this error instead of crashing (meter does).
var ErrChanged = errors.New("the file was cut short while it was read")

// File is a capture being read.
type File struct {
	name   string
	closer io.Closer
	pcap   *pcapReader
	ng     *pcapgo.NgReader
	n      int
}

// Format magics.
const (
	magicPcapUs   = 0xA1B2C3D4
	magicPcapNs   = 0xA1B23C4D
	magicPcapng   = 0x0A0D0D0A
	magicGzipByte = 0x1F
)

// The formats a file's first bytes announce.
const (
	formatNone = iota
	formatGzip
	formatPcap
	formatPcapng
)

// sniff tells the format from a file's first 4 bytes (2 suffice for gzip).
func sniff(head []byte) int {
	if len(head) >= 2 && head[0] == magicGzipByte && head[1] == 0x8B {
		return formatGzip
	}
	if len(head) < 4 {
		return formatNone
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapUs || be == magicPcapUs || le == magicPcapNs || be == magicPcapNs:
		return formatPcap
	case le == magicPcapng:
		return formatPcapng
	}
	return formatNone
}

// Open opens a capture file; "-" is standard input.
func Open(path string) (*File, error) {
	var rc io.ReadCloser
	if path == "-" {
		rc = io.NopCloser(os.Stdin)
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		if c, err := openMapped(path, f); c != nil || err != nil {
			if err != nil {
				f.Close()
			}
			return c, err
		}
		rc = f
	}
	c, err := NewReader(path, rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	c.closer = rc
	return c, nil
}

// openMapped reads an uncompressed pcap file from a mapping of it (mapFile),
// or returns nil, nil when f is not one or cannot be mapped.
func openMapped(path string, f *os.File) (*File, error) {
	b := mapFile(f, 24)
	if b == nil {
		return nil, nil
	}
	if sniff(b[:4]) != formatPcap {
		unmapFile(b)
		return nil, nil
	}
	r, err := newMappedPcapReader(b)
	if err != nil {
		unmapFile(b)
		return nil, fmt.Errorf("%s: bad capture header: %w", path, err)
	}
	return &File{name: path, pcap: r, closer: mapping{f, b}}, nil
}

// mapping closes a mapped file: the mapping, then the file.
type mapping struct {
	f *os.File
	b []byte
}

func (m mapping) Close() error {
	return errors.Join(unmapFile(m.b), m.f.Close())
}

// NewReader reads a capture from r; name is used in errors.
func NewReader(name string, r io.Reader) (*File, error) {
	c := &File{name: name}
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(4)
	if sniff(head) == formatGzip {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, 1<<20)
		head, _ = br.Peek(4)
	}
	if len(head) < 4 {
		return nil, fmt.Errorf("%s: %w (file is %d bytes)", name, ErrNotCapture, len(head))
	}
	var err error
	switch sniff(head) {
	case formatPcap:
		c.pcap, err = newPcapReader(br)
	case formatPcapng:
		// Without WantMixedLinkType, pcapgo silently skips the packets of
		// interfaces whose link type differs from the first one's.
		opt := pcapgo.NgReaderOptions{WantMixedLinkType: true}
		c.ng, err = pcapgo.NewNgReader(br, opt)
	default:
		return nil, fmt.Errorf("%s: %w (starts with % x)", name, ErrNotCapture, head)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: bad capture header: %w", name, err)
	}
	return c, nil
}

// Name is the path the file was opened with.
func (c *File) Name() string { return c.name }

// Packets is the number of packets read so far.
func (c *File) Packets() int { return c.n }

// Link is the link type of the file (of its first interface for pcapng).
func (c *File) Link() uint16 {
	if c.pcap != nil {
		return c.pcap.link
	}
	return uint16(c.ng.LinkType())
}

// ReadPacket implements Source. A truncated or corrupt record is reported as
// a *ReadError naming the file and packet number.
func (c *File) ReadPacket() ([]byte, Info, error) {
	var (
		data []byte
		err  error
		info Info
	)
	if c.pcap != nil {
		data, info.Time, info.CapLen, info.WireLen, err = c.pcap.next()
		info.Link = c.pcap.link
	} else {
		d, ci, e := c.ng.ZeroCopyReadPacketData()
		data, err = d, e
		info.Time, info.CapLen, info.WireLen = ci.Timestamp.UnixNano(), ci.CaptureLength, ci.Length
		if err == nil && len(ci.AncillaryData) > 0 {
			if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				info.Link = uint16(l)
			}
		}
	}
	if err != nil {
		if err == io.EOF {
			return nil, info, io.EOF
		}
		if err == io.ErrUnexpectedEOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errTruncated
		}
		return nil, info, &ReadError{File: c.name, Packet: c.n + 1, Err: err}
	}
	c.n++
	info.Number = c.n
	if info.WireLen < info.CapLen {
		info.WireLen = info.CapLen
	}
	return data, info, nil
}

// Close closes the underlying file.
func (c *File) Close() error {
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

// Expand turns the command line's inputs into capture paths: a directory
// becomes the capture files below it, in lexical path order (files that are
// not captures are skipped and returned in skipped); "-" and plain files are
// kept as they are, and a plain file that does not open as a capture is an
// error here, before anything else is done.
func Expand(inputs []string) (paths, skipped []string, err error) {
	for _, in := range inputs {
		if in == "-" {
			paths = append(paths, in)
			continue
		}
		st, err := os.Stat(in)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			// a named file must be a capture: said now, before any
			// output is opened
			c, err := Open(in)
			if err != nil {
				return nil, nil, err
			}
			c.Close()
			paths = append(paths, in)
			continue
		}
		var found []string
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				if IsCapture(p) {
					found = append(found, p)
				} else {
					skipped = append(skipped, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		sort.Strings(found)
		paths = append(paths, found...)
	}
	return paths, skipped, nil
}

// IsCapture reports whether the file at path starts like a capture (pcap,
// pcapng or gzip).
func IsCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false
	}
	return sniff(b[:]) != formatNone
}
