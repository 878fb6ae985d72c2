package feature

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flowmeter/flowmeter/app"
)

// Feature is one numeric column of a flow record: its snake_case name, unit,
// and the formula in words (the text of docs/features.md).
type Feature struct {
	Name    string
	Unit    string
	Formula string
	value   func(a *Acc, v *view) float64
	group   *group // when one of a group: its place in it is slot
	slot    int
}

// A group is a run of features whose values one function fills at once (a
// Stat's four numbers, the flag counts, the context, the early packets):
// Fill calls it once where the run is whole, instead of a function per
// value. Each member's own value function fills the group and picks its
// slot, for a schema that splits the run (Without).
type group struct {
	n    int
	fill func(a *Acc, v *view, dst []float64) // len(dst) == n
}

// grouped returns the features named by specs (name, unit, formula each),
// in order, as one group filled by fill.
func grouped(specs [][3]string, fill func(a *Acc, v *view, dst []float64)) []Feature {
	g := &group{n: len(specs), fill: fill}
	fs := make([]Feature, len(specs))
	for i, sp := range specs {
		fs[i] = Feature{Name: sp[0], Unit: sp[1], Formula: sp[2], group: g, slot: i, value: func(a *Acc, v *view) float64 {
			var t [maxGroup]float64
			g.fill(a, v, t[:g.n])
			return t[i]
		}}
	}
	return fs
}

// maxGroup bounds a group's size: the early features of MaxEarly packets.
const maxGroup = 3 * MaxEarly

// view holds values derived once per record and shared by several features.
type view struct {
	dur    float64 // seconds
	rtt    float64 // seconds (rtt_s)
	active Stat    // active periods including the last, open one
	payLen [3]Stat // fwd, bwd, all
	ipLen  [3]Stat
	ctx    ContextValues
}

// views are Fill's scratch: a view passed to the feature functions escapes
// (they are not known at compile time), and allocating one per record cost
// as much as the record's other allocations together.
var views = sync.Pool{New: func() any { return new(view) }}

func sec(ns int64) float64 { return float64(ns) / 1e9 }

func ratio(x, y float64) float64 {
	if y == 0 {
		return 0
	}
	return x / y
}

func rate(x float64, v *view) float64 { return ratio(x, v.dur) }

// dirNames for generating per-direction features.
var dirNames = [2]string{"fwd", "bwd"}

var flagNames = [8]string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"}

// fixed lists the features every record has, in column order. Early-flow
// features follow them (see Schema).
var fixed = buildFixed()

func buildFixed() []Feature {
	var fs []Feature
	add := func(name, unit, formula string, f func(a *Acc, v *view) float64) {
		fs = append(fs, Feature{Name: name, Unit: unit, Formula: formula, value: f})
	}
	add("duration_s", "s", "last packet time − first packet time", func(a *Acc, v *view) float64 { return v.dur })
	for d, dn := range dirNames {
		add(dn+"_packets", "packets", "packets sent by the "+dirWord(d), func(a *Acc, v *view) float64 { return float64(a.n[d]) })
	}
	add("packets", "packets", "fwd_packets + bwd_packets", func(a *Acc, v *view) float64 { return float64(a.n[0] + a.n[1]) })
	for d, dn := range dirNames {
		add(dn+"_bytes", "bytes", "Σ IP length (IP header + payload, from the IP header) of "+dn+" packets", func(a *Acc, v *view) float64 { return float64(a.ipBytes[d]) })
	}
	add("bytes", "bytes", "fwd_bytes + bwd_bytes", func(a *Acc, v *view) float64 { return float64(a.ipBytes[0] + a.ipBytes[1]) })
	for d, dn := range dirNames {
		add(dn+"_payload_bytes", "bytes", "Σ transport payload length of "+dn+" packets (IP length − IP headers − transport header)", func(a *Acc, v *view) float64 { return float64(a.payload[d]) })
	}
	add("payload_bytes", "bytes", "fwd_payload_bytes + bwd_payload_bytes", func(a *Acc, v *view) float64 { return float64(a.payload[0] + a.payload[1]) })
	for d, dn := range dirNames {
		add(dn+"_header_bytes", "bytes", "Σ transport header length of "+dn+" packets (TCP incl. options, UDP 8, ICMP 8, other 0)", func(a *Acc, v *view) float64 { return float64(a.hdrBytes[d]) })
	}
	statFeatures(&fs, "pkt_len", "bytes", "transport payload length", func(a *Acc, v *view, i int) *Stat { return &v.payLen[i] }, true)
	statFeatures(&fs, "ip_len", "bytes", "IP length", func(a *Acc, v *view, i int) *Stat { return &v.ipLen[i] }, false)
	statFeatures(&fs, "iat", "s", "gap between consecutive packets (flow: any direction; fwd/bwd: same direction)", func(a *Acc, v *view, i int) *Stat { return &a.iat[i] }, false)
	for d, dn := range dirNames {
		add(dn+"_iat_total_s", "s", "Σ "+dn+" gaps = time of last "+dn+" packet − time of first "+dn+" packet", func(a *Acc, v *view) float64 { return a.iat[d].Sum() })
	}
	add("flow_bytes_per_s", "bytes/s", "bytes / duration_s (0 when duration_s = 0)", func(a *Acc, v *view) float64 { return rate(float64(a.ipBytes[0]+a.ipBytes[1]), v) })
	add("flow_payload_bytes_per_s", "bytes/s", "payload_bytes / duration_s (0 when duration_s = 0); CIC's Flow Bytes/s", func(a *Acc, v *view) float64 { return rate(float64(a.payload[0]+a.payload[1]), v) })
	add("flow_packets_per_s", "packets/s", "packets / duration_s (0 when duration_s = 0)", func(a *Acc, v *view) float64 { return rate(float64(a.n[0]+a.n[1]), v) })
	for d, dn := range dirNames {
		add(dn+"_bytes_per_s", "bytes/s", dn+"_bytes / duration_s (0 when duration_s = 0)", func(a *Acc, v *view) float64 { return rate(float64(a.ipBytes[d]), v) })
		add(dn+"_packets_per_s", "packets/s", dn+"_packets / duration_s (0 when duration_s = 0)", func(a *Acc, v *view) float64 { return rate(float64(a.n[d]), v) })
	}
	var flagSpecs [][3]string
	for _, dn := range dirNames {
		for _, fn := range flagNames {
			flagSpecs = append(flagSpecs, [3]string{dn + "_" + fn + "_count", "packets", dn + " TCP packets with the " + strings.ToUpper(fn) + " flag set"})
		}
	}
	for _, fn := range flagNames {
		flagSpecs = append(flagSpecs, [3]string{fn + "_count", "packets", "fwd_" + fn + "_count + bwd_" + fn + "_count"})
	}
	fs = append(fs, grouped(flagSpecs, func(a *Acc, v *view, dst []float64) {
		dst = dst[:24]
		for i := range 8 {
			f, b := a.flags[0][i], a.flags[1][i]
			dst[i], dst[8+i], dst[16+i] = float64(f), float64(b), float64(f+b)
		}
	})...)
	add("down_up_ratio", "1", "bwd_packets / fwd_packets (0 when fwd_packets = 0); a real ratio, not CIC's integer division", func(a *Acc, v *view) float64 { return ratio(float64(a.n[1]), float64(a.n[0])) })
	for d, dn := range dirNames {
		add(dn+"_bulk_bytes_avg", "bytes", "Σ payload bytes in "+dn+" bulks / number of "+dn+" bulks (0 when none); a bulk is ≥ 4 consecutive "+dn+" payload packets, each ≤ 1 s after the previous, with no payload packet of the other direction in between", func(a *Acc, v *view) float64 {
			return ratio(float64(a.bulk[d].totBytes), float64(a.bulk[d].count))
		})
		add(dn+"_bulk_packets_avg", "packets", "Σ packets in "+dn+" bulks / number of "+dn+" bulks (0 when none)", func(a *Acc, v *view) float64 {
			return ratio(float64(a.bulk[d].totPkts), float64(a.bulk[d].count))
		})
		add(dn+"_bulk_rate_avg", "bytes/s", "Σ payload bytes in "+dn+" bulks / Σ duration of "+dn+" bulks (0 when that duration is 0)", func(a *Acc, v *view) float64 {
			return ratio(float64(a.bulk[d].totBytes), sec(a.bulk[d].dur))
		})
	}
	add("subflows", "1", "1 + number of gaps > 1 s between consecutive packets", func(a *Acc, v *view) float64 { return float64(a.subflows) })
	for d, dn := range dirNames {
		add("subflow_"+dn+"_packets", "packets", dn+"_packets / subflows", func(a *Acc, v *view) float64 { return ratio(float64(a.n[d]), float64(a.subflows)) })
		add("subflow_"+dn+"_bytes", "bytes", dn+"_payload_bytes / subflows", func(a *Acc, v *view) float64 { return ratio(float64(a.payload[d]), float64(a.subflows)) })
	}
	for d, dn := range dirNames {
		add(dn+"_init_win", "bytes", "TCP window field (unscaled) of the first "+dn+" TCP packet; −1 when there is none", func(a *Acc, v *view) float64 { return float64(a.initWin[d]) })
	}
	for d, dn := range dirNames {
		add(dn+"_act_data_packets", "packets", dn+" packets with at least 1 byte of transport payload", func(a *Acc, v *view) float64 { return float64(a.actData[d]) })
	}
	for d, dn := range dirNames {
		add(dn+"_header_len_min", "bytes", "smallest transport header length of a "+dn+" packet (CIC's min_seg_size_forward); 0 when there is none", func(a *Acc, v *view) float64 { return float64(max(a.hdrMin[d], 0)) })
	}
	periodFeatures(&fs, "active", "active period: a run of packets with gaps ≤ 5 s, from its first to its last packet (periods of length 0 are not counted)", func(a *Acc, v *view) *Stat { return &v.active })
	periodFeatures(&fs, "idle", "idle period: a gap > 5 s between two active periods", func(a *Acc, v *view) *Stat { return &a.idle })
	for d, dn := range dirNames {
		add(dn+"_retrans", "packets", dn+" TCP segments whose sequence space (payload, SYN, FIN) lies at or below what "+dn+" had already sent", func(a *Acc, v *view) float64 { return float64(a.retrans[d]) })
	}
	for d, dn := range dirNames {
		add(dn+"_fragments", "packets", dn+" packets that are IP fragments (first or later)", func(a *Acc, v *view) float64 { return float64(a.frags[d]) })
	}
	add("out_of_order", "packets", "packets whose timestamp was earlier than the flow's latest; their time is taken as the latest (so no gap is negative)", func(a *Acc, v *view) float64 { return float64(a.ooo) })
	add("icmp_type", "1", "ICMP/ICMPv6 type of the first ICMP packet; −1 for other protocols", func(a *Acc, v *view) float64 { return float64(a.icmpType) })
	add("icmp_code", "1", "ICMP/ICMPv6 code of the first ICMP packet; −1 for other protocols", func(a *Acc, v *view) float64 { return float64(a.icmpCode) })
	add("icmp_unreachable", "flag", "1 when an ICMP error (destination unreachable, time exceeded, parameter problem; ICMPv6 errors) quoted a packet of this flow, else 0", func(a *Acc, v *view) float64 {
		if a.unreachable {
			return 1
		}
		return 0
	})
	add("tcp_synack_s", "s", "time from the first SYN to the first SYN-ACK after it; 0 when either is missing", func(a *Acc, v *view) float64 {
		if a.synAckT == 0 {
			return 0
		}
		return sec(a.synAckT - a.synT)
	})
	add("tcp_ack_s", "s", "time from that SYN-ACK to the initiator's first plain ACK after it; 0 when either is missing", func(a *Acc, v *view) float64 {
		if a.ackT == 0 {
			return 0
		}
		return sec(a.ackT - a.synAckT)
	})
	add("tcp_handshake", "flag", "1 when SYN, SYN-ACK and ACK were seen in that order, else 0", func(a *Acc, v *view) float64 {
		if a.ackT != 0 {
			return 1
		}
		return 0
	})
	rttFeatures(add)
	appFeatures(add)
	return fs
}

// AppFeaturePrefix starts the names of the features derived from the
// application metadata (appFeatures). Flow tables written before they
// existed lack them; model/train treats them as absent there.
const AppFeaturePrefix = "app_"

// IsAppFeature reports whether the feature name is one derived from the
// application metadata.
func IsAppFeature(name string) bool { return strings.HasPrefix(name, AppFeaturePrefix) }

// appFeatures adds the model inputs derived from the application metadata
// (the app package): numbers that describe what the handshake said, not
// the strings themselves, each −1 when it does not apply.
func appFeatures(add func(name, unit, formula string, f func(a *Acc, v *view) float64)) {
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	add("app_known", "flag", "1 when app_proto names a protocol, 0 when the flow carried payload that none matched (unknown), −1 without payload", func(a *Acc, v *view) float64 {
		switch {
		case a.app == nil:
			return -1
		case a.app.Proto() == app.Unknown:
			return 0
		}
		return 1
	})
	add("app_tls_no_sni", "flag", "1 when a TLS or QUIC ClientHello had no server name, 0 when it had one, −1 without a ClientHello", func(a *Acc, v *view) float64 {
		if a.app == nil || !a.app.Has(app.TLSJA3) {
			return -1
		}
		return flag(!a.app.Has(app.TLSSNI))
	})
	add("app_tls_old", "flag", "1 when the server chose SSL 3.0, TLS 1.0 or TLS 1.1, 0 for a newer version, −1 without a ServerHello", func(a *Acc, v *view) float64 {
		t := a.app.Text(app.TLSVersion)
		if len(t) == 0 {
			return -1
		}
		s := string(t)
		return flag(s == "SSLv3" || s == "TLSv1.0" || s == "TLSv1.1")
	})
	add("app_tls_cert_self_signed", "flag", "tls_cert_self_signed: 1 when the server's certificate (in clear up to TLS 1.2) signs itself, 0 when not, −1 without one", func(a *Acc, v *view) float64 {
		return float64(a.app.Num(app.TLSCertSelfSigned))
	})
	add("app_tls_cert_expired", "flag", "1 when the flow's first packet is outside the server certificate's validity (tls_cert_not_before … tls_cert_not_after), 0 inside, −1 without a certificate", func(a *Acc, v *view) float64 {
		tb, ta := a.app.Text(app.TLSCertNotBefore), a.app.Text(app.TLSCertNotAfter)
		if len(tb) == 0 || len(ta) == 0 { // most flows: no certificate (parsing "" costs an error value)
			return -1
		}
		nb, err1 := time.Parse(time.RFC3339, string(tb))
		na, err2 := time.Parse(time.RFC3339, string(ta))
		if err1 != nil || err2 != nil {
			return -1
		}
		return flag(a.first < nb.UnixNano() || a.first > na.UnixNano())
	})
	add("app_dns_name_len", "bytes", "length of dns_qname; −1 without a DNS question", func(a *Acc, v *view) float64 {
		if t := a.app.Text(app.DNSQName); len(t) > 0 {
			return float64(len(t))
		}
		return -1
	})
	add("app_dns_name_labels", "labels", "number of labels (dot-separated parts) of dns_qname; −1 without a DNS question", func(a *Acc, v *view) float64 {
		t := a.app.Text(app.DNSQName)
		if len(t) == 0 {
			return -1
		}
		n := 1
		for _, c := range t {
			if c == '.' {
				n++
			}
		}
		return float64(n)
	})
	add("app_dns_name_entropy", "bits/byte", "Shannon entropy of the bytes of dns_qname's first label (−Σ p·log2 p over its byte frequencies); −1 without a DNS question", func(a *Acc, v *view) float64 {
		t := a.app.Text(app.DNSQName)
		if len(t) == 0 {
			return -1
		}
		for i, c := range t {
			if c == '.' {
				t = t[:i]
				break
			}
		}
		return app.Entropy(t)
	})
	add("app_dns_nxdomain", "flag", "1 when the first DNS response said the name does not exist (dns_rcode 3), 0 for another code, −1 without a response", func(a *Acc, v *view) float64 {
		rc := a.app.Num(app.DNSRcode)
		if rc < 0 {
			return -1
		}
		return flag(rc == 3)
	})
	add("app_http_status_class", "1", "http_status / 100, whole (2 success, 3 redirect, 4 client error, 5 server error); −1 without an HTTP response", func(a *Acc, v *view) float64 {
		st := a.app.Num(app.HTTPStatus)
		if st < 0 {
			return -1
		}
		return float64(st / 100)
	})
	add("app_http_no_ua", "flag", "1 when the first HTTP request had no User-Agent header, 0 when it had one, −1 without an HTTP request", func(a *Acc, v *view) float64 {
		if a.app == nil || !a.app.Has(app.HTTPMethod) {
			return -1
		}
		return flag(!a.app.Has(app.HTTPUserAgent))
	})
	add("app_http_target_len", "bytes", "http_path_len: length of the first request's target; −1 without an HTTP request", func(a *Acc, v *view) float64 {
		return float64(a.app.Num(app.HTTPPathLen))
	})
	add("app_http_target_odd", "kinds", "how many kinds of web-attack markers http_target holds once percent-decoded (twice) and in lower case: path traversal (../ or ..\\), a system file (/etc/passwd, /etc/shadow, /etc/hosts, win.ini, boot.ini, /proc/self), a shell metacharacter (; | ` $( ), a line break or NUL, SQL (union select, ' or , or 1=1, sleep(, benchmark(, waitfor delay, --, /*), script (<script, javascript:, onerror=); 0 to 6, −1 without an HTTP request", func(a *Acc, v *view) float64 {
		if a.app == nil || !a.app.Has(app.HTTPMethod) {
			return -1
		}
		return float64(app.TargetMarkers(a.app.Text(app.HTTPTarget)))
	})
}

// rttFeatures adds the flow's round-trip time and its times in units of it.
// A time in RTTs describes what the endpoints did (how many exchanges, how
// long a pause) rather than how far apart they were: the same download is
// about the same number of RTTs on loopback and across a continent, while
// its seconds differ a thousandfold.
func rttFeatures(add func(name, unit, formula string, f func(a *Acc, v *view) float64)) {
	add("rtt_s", "s", "round-trip time: tcp_synack_s + tcp_ack_s when the handshake was seen, else the time from the first packet to the responder's first packet; 0 when the responder sent nothing", func(a *Acc, v *view) float64 {
		return v.rtt
	})
	rel := func(name, of string, x func(a *Acc, v *view) float64) {
		add(name, "RTTs", of+" / rtt_s; −1 when rtt_s = 0", func(a *Acc, v *view) float64 {
			if v.rtt <= 0 {
				return -1
			}
			return x(a, v) / v.rtt
		})
	}
	rel("duration_rtts", "duration_s", func(a *Acc, v *view) float64 { return v.dur })
	rel("flow_iat_mean_rtts", "flow_iat_mean_s", func(a *Acc, v *view) float64 { return a.iat[all].Mean })
	rel("flow_iat_max_rtts", "flow_iat_max_s", func(a *Acc, v *view) float64 { return a.iat[all].Max })
	for d, dn := range dirNames {
		rel(dn+"_iat_mean_rtts", dn+"_iat_mean_s", func(a *Acc, v *view) float64 { return a.iat[d].Mean })
	}
	rel("active_max_rtts", "active_max_s", func(a *Acc, v *view) float64 { return v.active.Max })
}

func dirWord(d int) string {
	if d == 0 {
		return "initiator (forward direction)"
	}
	return "responder (backward direction)"
}

// statFeatures adds min/max/mean/std for fwd, bwd and the whole flow, and the
// variance for the whole flow when withVar.
func statFeatures(fs *[]Feature, base, unit, what string, get func(a *Acc, v *view, i int) *Stat, withVar bool) {
	scopes := []struct {
		prefix string
		idx    int
		words  string
	}{{"fwd_", fwd, "fwd packets"}, {"bwd_", bwd, "bwd packets"}, {"", all, "all packets"}}
	if base == "iat" {
		scopes[2].prefix = "flow_"
	}
	suffix := ""
	if unit == "s" {
		suffix = "_s"
	}
	var specs [][3]string
	for _, sc := range scopes {
		specs = append(specs,
			[3]string{sc.prefix + base + "_min" + suffix, unit, "minimum " + what + " over " + sc.words + " (0 when none)"},
			[3]string{sc.prefix + base + "_max" + suffix, unit, "maximum " + what + " over " + sc.words + " (0 when none)"},
			[3]string{sc.prefix + base + "_mean" + suffix, unit, "mean " + what + " over " + sc.words + " (0 when none)"},
			[3]string{sc.prefix + base + "_std" + suffix, unit, "sample standard deviation √(Σ(x−mean)²/(n−1)) of " + what + " over " + sc.words + " (0 when n < 2)"},
		)
		if withVar && sc.idx == all {
			specs = append(specs, [3]string{sc.prefix + base + "_var", unit + "²", "sample variance Σ(x−mean)²/(n−1) of " + what + " over " + sc.words + " (0 when n < 2)"})
		}
	}
	*fs = append(*fs, grouped(specs, func(a *Acc, v *view, dst []float64) {
		j := 0
		for _, sc := range scopes {
			st := get(a, v, sc.idx)
			dst[j], dst[j+1], dst[j+2], dst[j+3] = st.Min, st.Max, st.Mean, st.Std()
			j += 4
			if withVar && sc.idx == all {
				dst[j] = st.Var()
				j++
			}
		}
	})...)
}

func periodFeatures(fs *[]Feature, base, what string, get func(a *Acc, v *view) *Stat) {
	*fs = append(*fs, grouped([][3]string{
		{base + "_mean_s", "s", "mean length of an " + what + " (0 when none)"},
		{base + "_std_s", "s", "sample standard deviation of those lengths (0 when fewer than 2)"},
		{base + "_max_s", "s", "longest " + base + " period (0 when none)"},
		{base + "_min_s", "s", "shortest " + base + " period (0 when none)"},
	}, func(a *Acc, v *view, dst []float64) {
		st := get(a, v)
		dst[0], dst[1], dst[2], dst[3] = st.Mean, st.Std(), st.Max, st.Min
	})...)
}

// Schema is the ordered list of a record's numeric features: the per-flow
// ones, the context ones, then the early-flow features of the first EarlyN
// packets. The same Schema
// drives the CSV header, the JSON keys and the model input.
type Schema struct {
	EarlyN   int
	Features []Feature
	index    map[string]int
	steps    []fillStep // how Fill fills the features, in order
}

// fillStep fills one feature (value) or a whole group (g) at dst[at:].
type fillStep struct {
	at    int
	value func(a *Acc, v *view) float64
	g     *group
}

// MaxEarly bounds the early-flow window.
const MaxEarly = 64

// NewSchema returns the schema with an early-flow window of earlyN packets.
func NewSchema(earlyN int) (*Schema, error) {
	if earlyN < 0 || earlyN > MaxEarly {
		return nil, fmt.Errorf("early-flow window %d out of range 0..%d", earlyN, MaxEarly)
	}
	s := &Schema{EarlyN: earlyN, Features: append([]Feature(nil), fixed...)}
	var ctxSpecs [][3]string
	for _, c := range contextFeatures {
		ctxSpecs = append(ctxSpecs, [3]string{c.name, c.unit, c.formula})
	}
	s.Features = append(s.Features, grouped(ctxSpecs, func(a *Acc, v *view, dst []float64) { copy(dst, v.ctx[:]) })...)
	if earlyN > 0 {
		var specs [][3]string
		for i := 1; i <= earlyN; i++ {
			p := fmt.Sprintf("early_%d_", i)
			specs = append(specs,
				[3]string{p + "dir", "1", fmt.Sprintf("direction of packet %d: 0 fwd, 1 bwd; −1 when the flow has fewer packets", i)},
				[3]string{p + "size", "bytes", fmt.Sprintf("IP length of packet %d; −1 when the flow has fewer packets", i)},
				[3]string{p + "gap_s", "s", fmt.Sprintf("time from the previous packet to packet %d (0 for packet 1); −1 when the flow has fewer packets", i)},
			)
		}
		s.Features = append(s.Features, grouped(specs, func(a *Acc, v *view, dst []float64) {
			n := min(a.earlyCount(), earlyN)
			for i := range earlyN {
				if i >= n {
					dst[3*i], dst[3*i+1], dst[3*i+2] = -1, -1, -1
					continue
				}
				e := a.earlyAt(i)
				dst[3*i], dst[3*i+1], dst[3*i+2] = float64(e.dir()), float64(e.size()), sec(e.gap())
			}
		})...)
	}
	s.build()
	return s, nil
}

// build indexes the features by name and plans Fill: a step per whole group,
// one per other feature.
func (s *Schema) build() {
	s.index = make(map[string]int, len(s.Features))
	s.steps = s.steps[:0]
	for i := 0; i < len(s.Features); {
		if g := s.Features[i].group; g != nil && s.whole(i, g) {
			s.steps = append(s.steps, fillStep{at: i, g: g})
			i += g.n
			continue
		}
		s.steps = append(s.steps, fillStep{at: i, value: s.Features[i].value})
		i++
	}
	for i, f := range s.Features {
		if _, dup := s.index[f.Name]; dup {
			panic("feature: duplicate name " + f.Name)
		}
		s.index[f.Name] = i
	}
}

// whole reports whether the features from i on are all of group g, in
// order.
func (s *Schema) whole(i int, g *group) bool {
	if i+g.n > len(s.Features) {
		return false
	}
	for k := range g.n {
		if f := &s.Features[i+k]; f.group != g || f.slot != k {
			return false
		}
	}
	return true
}

// Without returns a copy of s without the named features: the schema as
// it was before they were added, or an ablation.
func (s *Schema) Without(names ...string) *Schema {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	w := &Schema{EarlyN: s.EarlyN}
	for _, f := range s.Features {
		if !drop[f.Name] {
			w.Features = append(w.Features, f)
		}
	}
	w.build()
	return w
}

// Len is the number of features.
func (s *Schema) Len() int { return len(s.Features) }

// Names returns the feature names in order.
func (s *Schema) Names() []string {
	n := make([]string, len(s.Features))
	for i, f := range s.Features {
		n[i] = f.Name
	}
	return n
}

// Indices returns the positions of the named features, or an error naming
// the first the schema lacks.
func (s *Schema) Indices(names []string) ([]int, error) {
	idx := make([]int, len(names))
	for k, n := range names {
		if idx[k] = s.Index(n); idx[k] < 0 {
			return nil, fmt.Errorf("the schema has no %s", n)
		}
	}
	return idx, nil
}

// Index returns the position of the named feature, or -1.
func (s *Schema) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// Hash identifies the schema: a SHA-256 over the names in order. A model
// records the hash of the schema it was trained on.
func (s *Schema) Hash() string { return HashNames(s.Names()) }

// IsCount reports whether a feature is a count: its values are whole
// numbers (packets, bytes, flags, flows, hosts, ports; not their means,
// deviations or per-subflow averages), written as integers where a format
// has them (Parquet INT64).
func IsCount(f Feature) bool {
	switch f.Unit {
	case "packets", "bytes", "flag", "flows", "hosts", "ports":
	default:
		return false
	}
	for _, part := range []string{"_mean", "_std", "_avg", "subflow_"} {
		if strings.Contains(f.Name, part) {
			return false
		}
	}
	return true
}

// Meaning fingerprints what the feature at position i is: a hash of its
// name, unit and formula, the definition docs/features.md documents. A
// model records the meaning of each input it reads and refuses data where
// one has changed: change a formula's text only when what it computes
// changes.
func (s *Schema) Meaning(i int) string {
	f := &s.Features[i]
	return HashNames([]string{f.Name, f.Unit, f.Formula})[:16]
}

// Meanings returns the meanings of the named features ("" for a name not
// in the schema).
func (s *Schema) Meanings(names []string) []string {
	out := make([]string, len(names))
	for k, n := range names {
		if i := s.Index(n); i >= 0 {
			out[k] = s.Meaning(i)
		}
	}
	return out
}

// HashNames is Hash for a list of names.
func HashNames(names []string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// FillRecord writes a's features, with its context ctx, into r.Values, as
// Fill does. It remembers the last flow of a single packet it filled into r:
// a flood's records are single packets that differ only in their time, and
// for such a flow, the same as the one before up to a shift in time, it
// copies the remembered features and writes only the context (Fill costs
// about 4 000 instructions a record, mostly one call per feature). r must
// not be filled by two goroutines at once.
func (s *Schema) FillRecord(a *Acc, ctx *ContextValues, r *Record) {
	m := r.memo
	if m == nil {
		m = &fillMemo{}
		r.memo = m
	}
	if !m.keyOf(a) {
		s.Fill(a, ctx, r.Values)
		return
	}
	if m.ok && m.s == s && m.next == m.key {
		copy(r.Values, m.vals)
		copy(r.Values[len(fixed):len(fixed)+NumContext], ctx[:])
		return
	}
	s.Fill(a, ctx, r.Values)
	m.s, m.key, m.ok = s, m.next, true
	m.vals = append(m.vals[:0], r.Values...)
}

// fillMemo is FillRecord's memory: the features of the last single-packet
// flow (vals, of schema s) and its accumulator with every time relative to
// its first packet (key).
type fillMemo struct {
	s         *Schema
	key, next Acc
	vals      []float64
	ok        bool
}

// keyOf sets m.next to a with each packet time t made t − first + 1 (0 stays
// 0: not seen) and reports whether a can be remembered: one packet, no
// payload inspected, a first time after the epoch (so that no time seen is
// 0). Two such accumulators that are equal (==) have the same features but
// for the context: no feature reads an absolute time, and a single packet's
// floating-point fields (its sizes' means, zero spreads) are never NaN or
// −0, where == and "the same bits" differ.
func (m *fillMemo) keyOf(a *Acc) bool {
	if a.n[fwd]+a.n[bwd] != 1 || a.app != nil || a.early.more != nil || a.first <= 0 {
		return false
	}
	k := &m.next
	*k = *a
	rel := func(t *int64) {
		if *t != 0 {
			*t = *t - a.first + 1
		}
	}
	rel(&k.first)
	rel(&k.last)
	rel(&k.lastDir[fwd])
	rel(&k.lastDir[bwd])
	rel(&k.activeStart)
	rel(&k.activeEnd)
	rel(&k.synT)
	rel(&k.synAckT)
	rel(&k.ackT)
	for d := range k.bulk {
		rel(&k.bulk[d].start)
		rel(&k.bulk[d].last)
	}
	return true
}

// Fill writes a's features, with its context ctx, into dst (which must have
// length s.Len()).
func (s *Schema) Fill(a *Acc, ctx *ContextValues, dst []float64) {
	v := views.Get().(*view)
	defer views.Put(v)
	*v = view{dur: sec(a.last - a.first), rtt: sec(a.rtt()), active: a.active, ctx: *ctx}
	for d := range 2 {
		v.payLen[d] = a.payLen[d].stat(a.n[d])
		v.ipLen[d] = a.ipLen[d].stat(a.n[d])
	}
	v.payLen[all] = Merge(v.payLen[fwd], v.payLen[bwd])
	v.ipLen[all] = Merge(v.ipLen[fwd], v.ipLen[bwd])
	if a.activeEnd > a.activeStart {
		v.active.Add(sec(a.activeEnd - a.activeStart))
	}
	dst = dst[:len(s.Features)]
	for _, st := range s.steps {
		if st.g != nil {
			st.g.fill(a, v, dst[st.at:st.at+st.g.n])
		} else {
			dst[st.at] = st.value(a, v)
		}
	}
}
