// Package packet decodes the link, network and transport headers of one
// captured frame into a caller-owned Meta value, without allocating.
//
// Decode never keeps a reference to the frame: addresses are copied into
// fixed arrays, so the capture reader may reuse its buffer at once. A frame
// that cannot be decoded is not an error: Decode returns a Reason saying why,
// and the caller counts it. Lengths are taken from the IP header where it has
// them, so a capture truncated by its snap length still reports the sizes the
// packet had on the wire.
//
// The package knows nothing about flows or captures.
package packet

// Link is a capture's link-layer header type (the pcap LINKTYPE_ value).
type Link uint16

// The link types Decode understands.
const (
	LinkNull     Link = 0   // BSD loopback: 4-byte address family, host byte order
	LinkEthernet Link = 1   // Ethernet II, with 802.1Q / QinQ tags
	LinkRaw12    Link = 12  // raw IP (OpenBSD's DLT_RAW value)
	LinkRaw14    Link = 14  // raw IP (another historical DLT_RAW value)
	LinkRaw      Link = 101 // raw IP, version from the first nibble
	LinkLoop     Link = 108 // OpenBSD loopback: 4-byte address family, network byte order
	LinkLinuxSLL Link = 113 // Linux cooked capture v1
	LinkIPv4     Link = 228 // raw IPv4
	LinkIPv6     Link = 229 // raw IPv6
	LinkSLL2     Link = 276 // Linux cooked capture v2
)

// Supported reports whether Decode understands frames of link type l.
func (l Link) Supported() bool {
	switch l {
	case LinkNull, LinkEthernet, LinkRaw12, LinkRaw14, LinkRaw, LinkLoop,
		LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkSLL2:
		return true
	}
	return false
}

// IP protocol numbers used by the decoder.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits as they appear in the 13th byte of the TCP header.
const (
	FlagFIN = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Reason says why a frame was not decoded into a flow packet. The zero value
// means it was.
type Reason uint8

// Reasons, counted by the meter. NotIP is not an error: ARP, LLDP and the like
// simply have no flow.
const (
	OK Reason = iota
	NotIP
	TruncatedLink
	TruncatedIP
	BadIPHeader
	TruncatedL4
	BadL4Header
	UnsupportedLink
	numReasons
)

// NumReasons is the number of Reason values, for arrays of counters.
const NumReasons = int(numReasons)

var reasonNames = [...]string{
	OK:              "ok",
	NotIP:           "not_ip",
	TruncatedLink:   "truncated_link",
	TruncatedIP:     "truncated_ip",
	BadIPHeader:     "bad_ip_header",
	TruncatedL4:     "truncated_l4",
	BadL4Header:     "bad_l4_header",
	UnsupportedLink: "unsupported_link",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Meta holds what the flow meter needs from one packet. It is a plain value
// (no pointers), filled by Decode; all lengths are in bytes.
type Meta struct {
	Time int64 // capture timestamp, ns since the Unix epoch (set by the caller)

	Src, Dst [16]byte // addresses; IPv4 uses the first 4 bytes
	SrcPort  uint16   // TCP/UDP port; 0 for other protocols
	DstPort  uint16
	Proto    uint8 // IP protocol of the transport header (after IPv6 extension headers)
	Version  uint8 // 4 or 6
	TTL      uint8 // IPv4 TTL or IPv6 hop limit
	VLAN     uint16

	WireLen    int // frame length on the wire (from the capture record)
	IPLen      int // IP header + IP payload, from the IP header's length field
	L4HdrLen   int // transport header length (TCP incl. options, UDP 8, ICMP 8); 0 for fragments and other protocols
	PayloadLen int // transport payload: IPLen - IP headers - L4HdrLen

	// The captured bytes of a TCP or UDP payload (for a first fragment,
	// the part in it): frame[PayloadOff:PayloadOff+PayloadCap]. PayloadCap
	// is 0 when none was captured, and less than PayloadLen when the snap
	// length cut it.
	PayloadOff, PayloadCap int

	TCPFlags uint8
	Window   uint16 // TCP window field, unscaled
	Seq, Ack uint32

	ICMPType, ICMPCode uint8

	// An ICMP error (destination unreachable, time exceeded, packet too
	// big, parameter problem) quotes the header of the packet that caused
	// it. Inner holds that packet's 5-tuple, so the meter can mark the flow
	// it belongs to as failed.
	ICMPError bool
	Inner     Tuple

	// Fragments. A first fragment (offset 0, more fragments) has its
	// transport header; later fragments have none and Frag is set with
	// FragOffset > 0.
	Frag       bool
	FragFirst  bool
	FragID     uint32
	FragOffset uint16
}

// Payload returns the captured transport payload of frame, the frame m was
// decoded from (empty for later fragments and protocols other than TCP and
// UDP).
func (m *Meta) Payload(frame []byte) []byte {
	if m.PayloadCap == 0 || m.PayloadOff+m.PayloadCap > len(frame) {
		return nil
	}
	return frame[m.PayloadOff : m.PayloadOff+m.PayloadCap]
}

// Tuple is a 5-tuple quoted inside an ICMP error.
type Tuple struct {
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
	Proto, Version   uint8
}
