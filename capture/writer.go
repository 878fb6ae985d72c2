package capture

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writerSnapLen is the snapshot length the Writer declares: every frame
// is written whole.
const writerSnapLen = 262144

// Writer writes frames to a capture file: pcapng when the name ends in
// .pcapng (one interface per link type, so frames of several link types
// mix), otherwise pcap with nanosecond timestamps, whose single link type is
// the first frame's: frames of another link type are counted (Skipped) and
// not written. A file with no frame is still a valid, empty capture of link
// type Ethernet. Not safe for concurrent use.
type Writer struct {
	f       *os.File
	bw      *bufio.Writer
	ngWant  bool
	pcap    *pcapgo.Writer
	ng      *pcapgo.NgWriter
	ngIface map[uint16]int
	link    uint16
	skipped int64
}

// Create creates the capture file path.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &Writer{f: f, bw: bufio.NewWriterSize(f, 1<<20), ngWant: strings.HasSuffix(path, ".pcapng"), ngIface: map[uint16]int{}}, nil
}

// Name is the file's name.
func (w *Writer) Name() string { return w.f.Name() }

// Skipped is the number of frames not written to a pcap file because their
// link type was not the file's.
func (w *Writer) Skipped() int64 { return w.skipped }

func ngInterface(link uint16) pcapgo.NgInterface {
	return pcapgo.NgInterface{LinkType: layers.LinkType(link), SnapLength: writerSnapLen, TimestampResolution: 9}
}

// WritePacket writes one frame with its capture information.
func (w *Writer) WritePacket(data []byte, info Info) error {
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, info.Time).UTC(), CaptureLength: len(data), Length: info.WireLen}
	if w.ngWant {
		if w.ng == nil {
			ng, err := pcapgo.NewNgWriterInterface(w.bw, ngInterface(info.Link), pcapgo.DefaultNgWriterOptions)
			if err != nil {
				return err
			}
			w.ng, w.ngIface[info.Link] = ng, 0
		}
		id, ok := w.ngIface[info.Link]
		if !ok {
			var err error
			if id, err = w.ng.AddInterface(ngInterface(info.Link)); err != nil {
				return err
			}
			w.ngIface[info.Link] = id
		}
		ci.InterfaceIndex = id
		return w.ng.WritePacket(ci, data)
	}
	if w.pcap == nil {
		w.pcap = pcapgo.NewWriterNanos(w.bw)
		if err := w.pcap.WriteFileHeader(writerSnapLen, layers.LinkType(info.Link)); err != nil {
			return err
		}
		w.link = info.Link
	}
	if info.Link != w.link {
		w.skipped++
		return nil
	}
	return w.pcap.WritePacket(ci, data)
}

// Close flushes and closes the file, first writing a valid empty capture
// when no frame was written.
func (w *Writer) Close() error {
	var errs []error
	switch {
	case w.ng != nil:
		errs = append(errs, w.ng.Flush())
	case w.pcap == nil && w.ngWant:
		ng, err := pcapgo.NewNgWriterInterface(w.bw, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: writerSnapLen}, pcapgo.DefaultNgWriterOptions)
		errs = append(errs, err)
		if ng != nil {
			errs = append(errs, ng.Flush())
		}
	case w.pcap == nil:
		errs = append(errs, pcapgo.NewWriterNanos(w.bw).WriteFileHeader(writerSnapLen, layers.LinkTypeEthernet))
	}
	errs = append(errs, w.bw.Flush(), w.f.Close())
	return errors.Join(errs...)
}
