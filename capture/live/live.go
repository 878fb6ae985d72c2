//go:build linux

// Package live captures packets from a network interface with Linux
// AF_PACKET (TPACKET_V3 ring buffer, gopacket's afpacket, no cgo). It is the
// only package that needs privileges: opening a socket needs CAP_NET_RAW.
//
// The data returned by ReadPacket is owned by the Source and valid until the
// next call. Not safe for concurrent use.
package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture"
)

// ErrTimeout is returned by ReadPacket when no packet came within the poll
// interval, so that the caller can expire flows against the clock.
var ErrTimeout = errors.New("no packet within the poll interval")

// ErrPermission says that capturing needs CAP_NET_RAW.
var ErrPermission = errors.New("live capture needs CAP_NET_RAW (run as root, or: setcap cap_net_raw+ep flowmeter)")

// Source reads packets from one interface.
type Source struct {
	tp    *afpacket.TPacket
	iface string
	n     int
	buf   []byte // a frame with its VLAN tag put back
}

// Open starts capturing on iface with a full snap length (64 KiB frames in a
// 64 MiB ring), in promiscuous mode when promisc is set (for as long as the
// socket is open). filter, when not empty, is a classic BPF program (as
// `tcpdump -dd` prints it) attached to the socket, so the kernel drops what
// it rejects.
func Open(iface string, poll time.Duration, filter []bpf.RawInstruction, promisc bool) (*Source, error) {
	return OpenFanout(iface, poll, filter, promisc, -1)
}

// OpenFanout is Open for one of several sockets in fanout group group (≥ 0):
// the kernel spreads packets over the group's sockets by a symmetric flow
// hash, so both directions of a flow reach the same socket.
func OpenFanout(iface string, poll time.Duration, filter []bpf.RawInstruction, promisc bool, group int) (*Source, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("interface %q: %w", iface, err)
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(1<<20),
		afpacket.OptNumBlocks(64),
		afpacket.OptPollTimeout(poll),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
	)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("interface %s: %w", iface, ErrPermission)
		}
		return nil, fmt.Errorf("interface %s: %w", iface, err)
	}
	if group >= 0 {
		if err := tp.SetFanout(afpacket.FanoutHash, uint16(group)); err != nil {
			tp.Close()
			return nil, fmt.Errorf("interface %s: fanout: %w", iface, err)
		}
	}
	if promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("interface %s: promiscuous mode: %w", iface, err)
		}
	}
	prog := filter
	if ifc.Flags&net.FlagLoopback != 0 {
		// On loopback every packet is seen twice, going out and coming in:
		// keep only the incoming copy. The check runs before the user's
		// program, whose jumps are relative and so unaffected.
		prog = append(append([]bpf.RawInstruction{}, dropOutgoing[:3]...), filter...)
		if len(filter) == 0 {
			prog = dropOutgoing
		}
	}
	if len(prog) > 0 {
		if err := tp.SetBPF(prog); err != nil {
			tp.Close()
			return nil, fmt.Errorf("interface %s: filter: %w", iface, err)
		}
	}
	return &Source{tp: tp, iface: iface}, nil
}

// dropOutgoing is a classic BPF program that rejects packets of type
// PACKET_OUTGOING (the kernel's packet-type ancillary load).
var dropOutgoing = []bpf.RawInstruction{
	{Op: 0x20, K: 0xfffff004},      // ld [SKF_AD_OFF + SKF_AD_PKTTYPE]
	{Op: 0x15, Jt: 0, Jf: 1, K: 4}, // jeq #PACKET_OUTGOING
	{Op: 0x06, K: 0},               // ret #0: drop
	{Op: 0x06, K: 0x40000},         // ret #262144: keep
}

// ReadPacket implements capture.Source; it returns ErrTimeout when the poll
// interval passed without a packet.
func (s *Source) ReadPacket() ([]byte, capture.Info, error) {
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return nil, capture.Info{}, ErrTimeout
		}
		return nil, capture.Info{}, fmt.Errorf("%s: %w", s.iface, err)
	}
	s.n++
	info := capture.Info{Time: ci.Timestamp.UnixNano(), CapLen: ci.CaptureLength, WireLen: max(ci.Length, ci.CaptureLength),
		Link: 1, Number: s.n}
	// The kernel took the outer 802.1Q tag out of the frame into the
	// packet's metadata; put it back (TPID 0x8100, VLAN ID; the priority
	// bits are not kept), so the frame is the one on the wire.
	for _, a := range ci.AncillaryData {
		if v, ok := a.(afpacket.AncillaryVLAN); ok && len(data) >= 12 {
			s.buf = append(append(append(s.buf[:0], data[:12]...), 0x81, 0x00, byte(v.VLAN>>8), byte(v.VLAN)), data[12:]...)
			data = s.buf
			info.CapLen += 4
			info.WireLen += 4
		}
	}
	return data, info, nil
}

// Stats are the kernel's counters for the ring.
type Stats struct {
	Packets uint64 // seen by the socket
	Drops   uint64 // dropped by the kernel: the ring was full
	Freezes uint64 // times the ring's queue was frozen
}

// Stats returns the counters so far.
func (s *Source) Stats() Stats {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return Stats{}
	}
	return Stats{Packets: uint64(v3.Packets()), Drops: uint64(v3.Drops()), Freezes: uint64(v3.QueueFreezes())}
}

// Close stops the capture.
func (s *Source) Close() { s.tp.Close() }
