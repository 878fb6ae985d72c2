package packettest

import (
	"net/netip"
	"time"

	"github.com/flowmeter/flowmeter/packet"
)

// Clock hands out capture times: each Next is Step after the previous one.
type Clock struct {
	T    time.Time
	Step time.Duration
}

// Next advances the clock by Step and returns the new time.
func (c *Clock) Next() time.Time {
	c.T = c.T.Add(c.Step)
	return c.T
}

// Skip advances the clock by d.
func (c *Clock) Skip(d time.Duration) { c.T = c.T.Add(d) }

// TCP builds the packets of one TCP connection with consistent sequence and
// acknowledgement numbers. Template sets the link layer (VLANs, Link).
type TCP struct {
	Client, Server netip.AddrPort
	Clock          *Clock
	Template       Frame
	cseq, sseq     uint32
}

// NewTCP returns a connection builder with fixed initial sequence numbers.
func NewTCP(client, server netip.AddrPort, clock *Clock) *TCP {
	return &TCP{Client: client, Server: server, Clock: clock, cseq: 1000, sseq: 5000}
}

func (c *TCP) frame(fromClient bool, flags uint8, payload int) Packet {
	return c.frameBody(fromClient, flags, payload, nil)
}

func (c *TCP) frameBody(fromClient bool, flags uint8, payload int, body []byte) Packet {
	f := c.Template
	f.Proto = packet.ProtoTCP
	f.Flags = flags
	f.Payload = payload
	f.Body = body
	if body != nil {
		payload = len(body)
	}
	if fromClient {
		f.Src, f.Dst, f.SrcPort, f.DstPort = c.Client.Addr(), c.Server.Addr(), c.Client.Port(), c.Server.Port()
		f.Seq, f.Ack = c.cseq, c.sseq
		f.Window = 64240
	} else {
		f.Src, f.Dst, f.SrcPort, f.DstPort = c.Server.Addr(), c.Client.Addr(), c.Server.Port(), c.Client.Port()
		f.Seq, f.Ack = c.sseq, c.cseq
		f.Window = 65160
	}
	if flags&packet.FlagACK == 0 {
		f.Ack = 0
	}
	adv := uint32(payload)
	if flags&(packet.FlagSYN|packet.FlagFIN) != 0 {
		adv++
	}
	if fromClient {
		c.cseq += adv
	} else {
		c.sseq += adv
	}
	return Packet{Time: c.Clock.Next(), Data: f.Bytes()}
}

// Handshake returns SYN, SYN-ACK, ACK.
func (c *TCP) Handshake() []Packet {
	syn := c.frame(true, packet.FlagSYN, 0)
	synack := c.frame(false, packet.FlagSYN|packet.FlagACK, 0)
	ack := c.frame(true, packet.FlagACK, 0)
	return []Packet{syn, synack, ack}
}

// Data returns a PSH-ACK segment with n payload bytes.
func (c *TCP) Data(fromClient bool, n int) Packet {
	return c.frame(fromClient, packet.FlagPSH|packet.FlagACK, n)
}

// Send returns the segments (at most 1448 bytes each) that carry body from
// one side.
func (c *TCP) Send(fromClient bool, body []byte) []Packet {
	var out []Packet
	for len(body) > 0 {
		n := min(len(body), 1448)
		out = append(out, c.frameBody(fromClient, packet.FlagPSH|packet.FlagACK, 0, body[:n:n]))
		body = body[n:]
	}
	return out
}

// Ack returns a bare ACK.
func (c *TCP) Ack(fromClient bool) Packet { return c.frame(fromClient, packet.FlagACK, 0) }

// Retransmit returns a copy of a data segment sent earlier: same sequence
// number, new time.
func (c *TCP) Retransmit(p Packet) Packet {
	return Packet{Time: c.Clock.Next(), Data: p.Data}
}

// Close returns the teardown initiated by the given side: FIN-ACK, FIN-ACK
// from the other side, and the last ACK.
func (c *TCP) Close(fromClient bool) []Packet {
	a := c.frame(fromClient, packet.FlagFIN|packet.FlagACK, 0)
	b := c.frame(!fromClient, packet.FlagFIN|packet.FlagACK, 0)
	d := c.frame(fromClient, packet.FlagACK, 0)
	return []Packet{a, b, d}
}

// Reset returns a RST-ACK from the given side.
func (c *TCP) Reset(fromClient bool) Packet {
	return c.frame(fromClient, packet.FlagRST|packet.FlagACK, 0)
}

// UDPBody returns a UDP datagram carrying body.
func UDPBody(t time.Time, tmpl Frame, src, dst netip.AddrPort, body []byte) Packet {
	f := tmpl
	f.Proto = packet.ProtoUDP
	f.Src, f.Dst, f.SrcPort, f.DstPort = src.Addr(), dst.Addr(), src.Port(), dst.Port()
	f.Body = body
	return Packet{Time: t, Data: f.Bytes()}
}

// UDP returns a UDP datagram.
func UDP(t time.Time, tmpl Frame, src, dst netip.AddrPort, payload int) Packet {
	f := tmpl
	f.Proto = packet.ProtoUDP
	f.Src, f.Dst, f.SrcPort, f.DstPort = src.Addr(), dst.Addr(), src.Port(), dst.Port()
	f.Payload = payload
	return Packet{Time: t, Data: f.Bytes()}
}

// ICMPEcho returns an echo request (reply when reply is set), IPv4 or IPv6
// after the addresses.
func ICMPEcho(t time.Time, tmpl Frame, src, dst netip.Addr, reply bool, payload int) Packet {
	f := tmpl
	f.Src, f.Dst, f.Payload = src, dst, payload
	if src.Is6() {
		f.Proto = packet.ProtoICMPv6
		f.ICMPType = 128
		if reply {
			f.ICMPType = 129
		}
	} else {
		f.Proto = packet.ProtoICMP
		f.ICMPType = 8
		if reply {
			f.ICMPType = 0
		}
	}
	return Packet{Time: t, Data: f.Bytes()}
}
