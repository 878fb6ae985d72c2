package feature

import (
	"fmt"
	"github.com/flowmeter/flowmeter/app"
	"github.com/flowmeter/flowmeter/flow"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Field says what an output column holds.
type Field uint8

// Output fields. FieldFeature is a numeric feature from Record.Values; the
// others are identifiers, labels and verdicts, which are never model inputs.
const (
	FieldFeature Field = iota
	FieldFlowID
	FieldSrcIP
	FieldSrcPort
	FieldDstIP
	FieldDstPort
	FieldProto
	FieldVersion
	FieldVLAN
	FieldFirst
	FieldLast
	FieldEnd
	FieldCapture
	FieldLabel
	FieldCategory
	FieldScore
	FieldVerdict
	FieldCICFlowID    // "src-dst-sport-dport-proto"
	FieldCICTimestamp // first packet time, "2006-01-02 15:04:05.000000" UTC
	FieldSeedTuple    // "src--dst--PROTO--sport--dport"
	FieldSeedProto    // "TCP", "UDP", "ICMP" or the number
	FieldCommunityID  // Community ID v1; Index is icmp_type's (icmp_code follows it)
	FieldNamedLabel   // the label in a dataset's own names; Index is the LabelNames style
	FieldApp          // application metadata (Record.App); Index is the app.Field
	FieldFirstMs      // first packet time, ms since the Unix epoch (whole)
	FieldLastMs       // last packet time, ms since the Unix epoch (whole)
	FieldNFExpiration // NFStream's expiration_id: 0 idle, 1 active, −1 any other end
	FieldServerName   // TLS server name, else DNS query name, else HTTP host (NFStream's requested_server_name)
)

// Column is one output column.
type Column struct {
	Name  string
	Field Field
	Index int     // feature index for FieldFeature
	Scale float64 // multiplier for FieldFeature (unit conversion); 0 means 1
	Count bool    // a FieldFeature whose values are whole numbers (IsCount)
}

// IsString reports whether the column holds text (quoted in JSON).
func (c Column) IsString() bool {
	switch c.Field {
	case FieldFlowID, FieldSrcIP, FieldDstIP, FieldFirst, FieldLast, FieldEnd, FieldCapture,
		FieldLabel, FieldCategory, FieldVerdict, FieldCICFlowID, FieldCICTimestamp, FieldSeedTuple, FieldSeedProto, FieldCommunityID, FieldNamedLabel, FieldApp, FieldServerName:
		return true
	}
	return false
}

// Options select the optional columns.
type Options struct {
	Labels bool // label and category
	Scores bool // score and verdict
	// LabelNames is how the CIC sets' Label column names the labels:
	// LabelsCIC2017 (BENIGN), LabelsCIC2018 (Benign) or LabelsNative
	// (benign, malicious); "" for the set's own.
	LabelNames string
	// App adds the application metadata columns (app_proto, tls_*, dns_*,
	// http_*, ssh_*) after the features of the native set.
	App bool
}

// Label name styles (Options.LabelNames).
const (
	LabelsNative  = "native"
	LabelsCIC2017 = "cic2017"
	LabelsCIC2018 = "cic2018"
)

// labelStyles numbers the styles for Column.Index.
var labelStyles = map[string]int{LabelsNative: 0, LabelsCIC2017: 1, LabelsCIC2018: 2}

// appendNamedLabel writes a label as CIC-IDS2017 (style 1: BENIGN, else
// the attack's category) or CSE-CIC-IDS2018 (style 2: Benign, else the
// category) name them; style 0 writes it as it is.
func appendNamedLabel(dst []byte, r *Record, style int) []byte {
	switch {
	case style == 0 || r.Label == "" || r.Label == "unknown":
		return append(dst, r.Label...)
	case r.Label == "benign" && style == 1:
		return append(dst, "BENIGN"...)
	case r.Label == "benign":
		return append(dst, "Benign"...)
	case r.Category != "":
		return append(dst, r.Category...)
	case style == 1:
		return append(dst, "ATTACK"...)
	}
	return append(dst, "Attack"...)
}

// AppColumns returns the application metadata columns (see app.Fields).
func AppColumns() []Column {
	cols := make([]Column, app.NumFields)
	for i, f := range app.Fields {
		cols[i] = Column{Name: f.Name, Field: FieldApp, Index: i}
	}
	return cols
}

// NeedsApp reports whether cols (over schema s) hold a column made from the
// application metadata: a metadata column, or a feature derived from it.
func NeedsApp(s *Schema, cols []Column) bool {
	for _, c := range cols {
		switch {
		case c.Field == FieldApp, c.Field == FieldServerName:
			return true
		case c.Field == FieldFeature && IsAppFeature(s.Features[c.Index].Name):
			return true
		}
	}
	return false
}

// Column set names.
const (
	SetNative    = "native"
	SetCIC2017   = "cic2017"
	SetCIC2018   = "cic2018"
	SetCIC2017ML = "cic2017-ml" // the MachineLearningCVE CSVs: Destination Port, 77 features, Label
	SetSeed      = "seed"
	SetNFStream  = "nfstream" // NFStream's names where a meaning matches (accounting_mode 1: IP bytes)
)

// ColumnSets lists the accepted set names.
var ColumnSets = []string{SetNative, SetCIC2017, SetCIC2017ML, SetCIC2018, SetSeed, SetNFStream}

// Columns returns the columns of the named set for schema s.
func Columns(set string, s *Schema, o Options) ([]Column, error) {
	var cols []Column
	var err error
	style, ok := labelStyles[o.LabelNames]
	if !ok && o.LabelNames != "" {
		return nil, fmt.Errorf("unknown label names %q (want native, cic2017 or cic2018)", o.LabelNames)
	}
	switch set {
	case SetNative, "":
		cols = nativeColumns(s, o)
	case SetCIC2017:
		if o.LabelNames == "" {
			style = 1
		}
		cols, err = cicColumns(s, true, style)
	case SetCIC2018:
		if o.LabelNames == "" {
			style = 2
		}
		cols, err = cicColumns(s, false, style)
	case SetCIC2017ML:
		if o.LabelNames == "" {
			style = 1
		}
		if cols, err = cicColumns(s, true, style); err == nil {
			cols = cols[4:] // from Destination Port on, without Protocol and Timestamp
			cols = append(cols[:1:1], cols[3:]...)
			cols, err = publishedNames(cols, CIC2017MLHeader)
		}
	case SetSeed:
		cols, err = seedColumns(s)
	case SetNFStream:
		cols, err = nfstreamColumns(s, o)
	default:
		return nil, fmt.Errorf("unknown column set %q (want one of %v)", set, ColumnSets)
	}
	if err != nil {
		return nil, err
	}
	if set != SetNative && set != "" && o.Scores {
		cols = append(cols, Column{Name: "score", Field: FieldScore}, Column{Name: "verdict", Field: FieldVerdict})
	}
	return cols, nil
}

// CIC2017MLHeader is the header line of CIC-IDS2017's MachineLearningCVE
// CSVs as published, leading spaces and all: the cic2017-ml set writes it
// byte for byte, so that code written for those files reads these.
const CIC2017MLHeader = " Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets, Fwd Packet Length Max, Fwd Packet Length Min, Fwd Packet Length Mean, Fwd Packet Length Std,Bwd Packet Length Max, Bwd Packet Length Min, Bwd Packet Length Mean, Bwd Packet Length Std,Flow Bytes/s, Flow Packets/s, Flow IAT Mean, Flow IAT Std, Flow IAT Max, Flow IAT Min,Fwd IAT Total, Fwd IAT Mean, Fwd IAT Std, Fwd IAT Max, Fwd IAT Min,Bwd IAT Total, Bwd IAT Mean, Bwd IAT Std, Bwd IAT Max, Bwd IAT Min,Fwd PSH Flags, Bwd PSH Flags, Fwd URG Flags, Bwd URG Flags, Fwd Header Length, Bwd Header Length,Fwd Packets/s, Bwd Packets/s, Min Packet Length, Max Packet Length, Packet Length Mean, Packet Length Std, Packet Length Variance,FIN Flag Count, SYN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count, CWE Flag Count, ECE Flag Count, Down/Up Ratio, Average Packet Size, Avg Fwd Segment Size, Avg Bwd Segment Size, Fwd Header Length,Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk, Bwd Avg Packets/Bulk,Bwd Avg Bulk Rate,Subflow Fwd Packets, Subflow Fwd Bytes, Subflow Bwd Packets, Subflow Bwd Bytes,Init_Win_bytes_forward, Init_Win_bytes_backward, act_data_pkt_fwd, min_seg_size_forward,Active Mean, Active Std, Active Max, Active Min,Idle Mean, Idle Std, Idle Max, Idle Min, Label"

// publishedNames renames cols to the names of a published header line,
// which must name the same columns (leading and trailing spaces aside).
func publishedNames(cols []Column, header string) ([]Column, error) {
	names := strings.Split(header, ",")
	if len(names) != len(cols) {
		return nil, fmt.Errorf("published header has %d columns, the set %d", len(names), len(cols))
	}
	for i, n := range names {
		if strings.TrimSpace(n) != cols[i].Name {
			return nil, fmt.Errorf("published column %d is %q, the set's %q", i+1, n, cols[i].Name)
		}
		cols[i].Name = n
	}
	return cols, nil
}

// icmpTypeIndex is the position of icmp_type, which icmp_code follows.
func icmpTypeIndex(s *Schema) int {
	i := s.Index("icmp_type")
	if i < 0 || s.Index("icmp_code") != i+1 {
		panic("feature: icmp_code must follow icmp_type in the schema")
	}
	return i
}

func nativeColumns(s *Schema, o Options) []Column {
	cols := append([]Column{{Name: "flow_id", Field: FieldFlowID}, {Name: "capture", Field: FieldCapture}}, endpointColumns()...)
	cols = append(cols, []Column{
		{Name: "first_seen", Field: FieldFirst},
		{Name: "last_seen", Field: FieldLast},
		{Name: "end_reason", Field: FieldEnd},
		{Name: "community_id", Field: FieldCommunityID, Index: icmpTypeIndex(s)},
	}...)
	for i, f := range s.Features {
		cols = append(cols, Column{Name: f.Name, Field: FieldFeature, Index: i, Count: IsCount(f)})
	}
	if o.App {
		cols = append(cols, AppColumns()...)
	}
	return outcomeColumns(cols, o)
}

// cicMap lists CICFlowMeter's feature columns in the published order: the
// CIC-IDS2017 name, the CSE-CIC-IDS2018 name, our feature and the scale from
// our unit to CIC's (seconds → microseconds).
var cicMap = []struct {
	y2017, y2018, native string
	scale                float64
}{
	{"Flow Duration", "Flow Duration", "duration_s", 1e6},
	{"Total Fwd Packets", "Tot Fwd Pkts", "fwd_packets", 1},
	{"Total Backward Packets", "Tot Bwd Pkts", "bwd_packets", 1},
	{"Total Length of Fwd Packets", "TotLen Fwd Pkts", "fwd_payload_bytes", 1},
	{"Total Length of Bwd Packets", "TotLen Bwd Pkts", "bwd_payload_bytes", 1},
	{"Fwd Packet Length Max", "Fwd Pkt Len Max", "fwd_pkt_len_max", 1},
	{"Fwd Packet Length Min", "Fwd Pkt Len Min", "fwd_pkt_len_min", 1},
	{"Fwd Packet Length Mean", "Fwd Pkt Len Mean", "fwd_pkt_len_mean", 1},
	{"Fwd Packet Length Std", "Fwd Pkt Len Std", "fwd_pkt_len_std", 1},
	{"Bwd Packet Length Max", "Bwd Pkt Len Max", "bwd_pkt_len_max", 1},
	{"Bwd Packet Length Min", "Bwd Pkt Len Min", "bwd_pkt_len_min", 1},
	{"Bwd Packet Length Mean", "Bwd Pkt Len Mean", "bwd_pkt_len_mean", 1},
	{"Bwd Packet Length Std", "Bwd Pkt Len Std", "bwd_pkt_len_std", 1},
	{"Flow Bytes/s", "Flow Byts/s", "flow_payload_bytes_per_s", 1},
	{"Flow Packets/s", "Flow Pkts/s", "flow_packets_per_s", 1},
	{"Flow IAT Mean", "Flow IAT Mean", "flow_iat_mean_s", 1e6},
	{"Flow IAT Std", "Flow IAT Std", "flow_iat_std_s", 1e6},
	{"Flow IAT Max", "Flow IAT Max", "flow_iat_max_s", 1e6},
	{"Flow IAT Min", "Flow IAT Min", "flow_iat_min_s", 1e6},
	{"Fwd IAT Total", "Fwd IAT Tot", "fwd_iat_total_s", 1e6},
	{"Fwd IAT Mean", "Fwd IAT Mean", "fwd_iat_mean_s", 1e6},
	{"Fwd IAT Std", "Fwd IAT Std", "fwd_iat_std_s", 1e6},
	{"Fwd IAT Max", "Fwd IAT Max", "fwd_iat_max_s", 1e6},
	{"Fwd IAT Min", "Fwd IAT Min", "fwd_iat_min_s", 1e6},
	{"Bwd IAT Total", "Bwd IAT Tot", "bwd_iat_total_s", 1e6},
	{"Bwd IAT Mean", "Bwd IAT Mean", "bwd_iat_mean_s", 1e6},
	{"Bwd IAT Std", "Bwd IAT Std", "bwd_iat_std_s", 1e6},
	{"Bwd IAT Max", "Bwd IAT Max", "bwd_iat_max_s", 1e6},
	{"Bwd IAT Min", "Bwd IAT Min", "bwd_iat_min_s", 1e6},
	{"Fwd PSH Flags", "Fwd PSH Flags", "fwd_psh_count", 1},
	{"Bwd PSH Flags", "Bwd PSH Flags", "bwd_psh_count", 1},
	{"Fwd URG Flags", "Fwd URG Flags", "fwd_urg_count", 1},
	{"Bwd URG Flags", "Bwd URG Flags", "bwd_urg_count", 1},
	{"Fwd Header Length", "Fwd Header Len", "fwd_header_bytes", 1},
	{"Bwd Header Length", "Bwd Header Len", "bwd_header_bytes", 1},
	{"Fwd Packets/s", "Fwd Pkts/s", "fwd_packets_per_s", 1},
	{"Bwd Packets/s", "Bwd Pkts/s", "bwd_packets_per_s", 1},
	{"Min Packet Length", "Pkt Len Min", "pkt_len_min", 1},
	{"Max Packet Length", "Pkt Len Max", "pkt_len_max", 1},
	{"Packet Length Mean", "Pkt Len Mean", "pkt_len_mean", 1},
	{"Packet Length Std", "Pkt Len Std", "pkt_len_std", 1},
	{"Packet Length Variance", "Pkt Len Var", "pkt_len_var", 1},
	{"FIN Flag Count", "FIN Flag Cnt", "fin_count", 1},
	{"SYN Flag Count", "SYN Flag Cnt", "syn_count", 1},
	{"RST Flag Count", "RST Flag Cnt", "rst_count", 1},
	{"PSH Flag Count", "PSH Flag Cnt", "psh_count", 1},
	{"ACK Flag Count", "ACK Flag Cnt", "ack_count", 1},
	{"URG Flag Count", "URG Flag Cnt", "urg_count", 1},
	{"CWE Flag Count", "CWE Flag Count", "cwr_count", 1},
	{"ECE Flag Count", "ECE Flag Cnt", "ece_count", 1},
	{"Down/Up Ratio", "Down/Up Ratio", "down_up_ratio", 1},
	{"Average Packet Size", "Pkt Size Avg", "pkt_len_mean", 1},
	{"Avg Fwd Segment Size", "Fwd Seg Size Avg", "fwd_pkt_len_mean", 1},
	{"Avg Bwd Segment Size", "Bwd Seg Size Avg", "bwd_pkt_len_mean", 1},
	{"Fwd Header Length", "", "fwd_header_bytes", 1}, // the 2017 duplicate column
	{"Fwd Avg Bytes/Bulk", "Fwd Byts/b Avg", "fwd_bulk_bytes_avg", 1},
	{"Fwd Avg Packets/Bulk", "Fwd Pkts/b Avg", "fwd_bulk_packets_avg", 1},
	{"Fwd Avg Bulk Rate", "Fwd Blk Rate Avg", "fwd_bulk_rate_avg", 1},
	{"Bwd Avg Bytes/Bulk", "Bwd Byts/b Avg", "bwd_bulk_bytes_avg", 1},
	{"Bwd Avg Packets/Bulk", "Bwd Pkts/b Avg", "bwd_bulk_packets_avg", 1},
	{"Bwd Avg Bulk Rate", "Bwd Blk Rate Avg", "bwd_bulk_rate_avg", 1},
	{"Subflow Fwd Packets", "Subflow Fwd Pkts", "subflow_fwd_packets", 1},
	{"Subflow Fwd Bytes", "Subflow Fwd Byts", "subflow_fwd_bytes", 1},
	{"Subflow Bwd Packets", "Subflow Bwd Pkts", "subflow_bwd_packets", 1},
	{"Subflow Bwd Bytes", "Subflow Bwd Byts", "subflow_bwd_bytes", 1},
	{"Init_Win_bytes_forward", "Init Fwd Win Byts", "fwd_init_win", 1},
	{"Init_Win_bytes_backward", "Init Bwd Win Byts", "bwd_init_win", 1},
	{"act_data_pkt_fwd", "Fwd Act Data Pkts", "fwd_act_data_packets", 1},
	{"min_seg_size_forward", "Fwd Seg Size Min", "fwd_header_len_min", 1},
	{"Active Mean", "Active Mean", "active_mean_s", 1e6},
	{"Active Std", "Active Std", "active_std_s", 1e6},
	{"Active Max", "Active Max", "active_max_s", 1e6},
	{"Active Min", "Active Min", "active_min_s", 1e6},
	{"Idle Mean", "Idle Mean", "idle_mean_s", 1e6},
	{"Idle Std", "Idle Std", "idle_std_s", 1e6},
	{"Idle Max", "Idle Max", "idle_max_s", 1e6},
	{"Idle Min", "Idle Min", "idle_min_s", 1e6},
}

func feat(s *Schema, name, native string, scale float64) (Column, error) {
	i := s.Index(native)
	if i < 0 {
		return Column{}, fmt.Errorf("column %q: no feature %q in the schema", name, native)
	}
	return Column{Name: name, Field: FieldFeature, Index: i, Scale: scale, Count: IsCount(s.Features[i]) && (scale == 0 || scale == 1)}, nil
}

// cicColumns returns the CIC-IDS2017 header (85 columns: 7 identifiers, 77
// features including the duplicated Fwd Header Length, Label) or the
// CSE-CIC-IDS2018 one (80 columns: Dst Port, Protocol, Timestamp, 76
// features, Label), with our corrected values in CIC's units.
func cicColumns(s *Schema, y2017 bool, labelStyle int) ([]Column, error) {
	var cols []Column
	if y2017 {
		cols = []Column{
			{Name: "Flow ID", Field: FieldCICFlowID},
			{Name: "Source IP", Field: FieldSrcIP},
			{Name: "Source Port", Field: FieldSrcPort},
			{Name: "Destination IP", Field: FieldDstIP},
			{Name: "Destination Port", Field: FieldDstPort},
			{Name: "Protocol", Field: FieldProto},
			{Name: "Timestamp", Field: FieldCICTimestamp},
		}
	} else {
		cols = []Column{
			{Name: "Dst Port", Field: FieldDstPort},
			{Name: "Protocol", Field: FieldProto},
			{Name: "Timestamp", Field: FieldCICTimestamp},
		}
	}
	for _, m := range cicMap {
		name := m.y2018
		if y2017 {
			name = m.y2017
		}
		if name == "" {
			continue
		}
		c, err := feat(s, name, m.native, m.scale)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return append(cols, Column{Name: "Label", Field: FieldNamedLabel, Index: labelStyle}), nil
}

// NFExpiration is NFStream's expiration_id for an end reason: 0 idle,
// 1 active, −1 any other end (NFStream's custom end).
func NFExpiration(e flow.EndReason) int {
	switch e {
	case flow.EndIdle:
		return 0
	case flow.EndActive:
		return 1
	}
	return -1
}

// endpointColumns are the flow's endpoints, protocol, IP version and VLAN,
// named as the native and NFStream sets both name them.
func endpointColumns() []Column {
	return []Column{
		{Name: "src_ip", Field: FieldSrcIP},
		{Name: "src_port", Field: FieldSrcPort},
		{Name: "dst_ip", Field: FieldDstIP},
		{Name: "dst_port", Field: FieldDstPort},
		{Name: "protocol", Field: FieldProto},
		{Name: "ip_version", Field: FieldVersion},
		{Name: "vlan_id", Field: FieldVLAN},
	}
}

// outcomeColumns appends the label and verdict columns the options ask for.
func outcomeColumns(cols []Column, o Options) []Column {
	if o.Labels {
		cols = append(cols, Column{Name: "label", Field: FieldLabel}, Column{Name: "category", Field: FieldCategory})
	}
	if o.Scores {
		cols = append(cols, Column{Name: "score", Field: FieldScore}, Column{Name: "verdict", Field: FieldVerdict})
	}
	return cols
}

// nfstreamColumns returns NFStream's columns (its documented names, in its
// order) where one of ours has the same meaning, with NFStream's units:
// times in ms, sizes of the IP packet (NFStream's accounting_mode 1),
// sample standard deviations. Left out: MAC addresses and OUIs, tunnel_id,
// per-direction first/last seen, nDPI's category, guess and confidence.
// application_name is app_proto (lower case, no "TLS.Google" sub-names);
// client_fingerprint is JA3 and server_fingerprint JA3S.
func nfstreamColumns(s *Schema, o Options) ([]Column, error) {
	cols := append([]Column{{Name: "id", Field: FieldFlowID}, {Name: "expiration_id", Field: FieldNFExpiration}}, endpointColumns()...)
	cols = append(cols, Column{Name: "bidirectional_first_seen_ms", Field: FieldFirstMs}, Column{Name: "bidirectional_last_seen_ms", Field: FieldLastMs})
	type m struct {
		name, native string
		scale        float64
	}
	maps := []m{{"bidirectional_duration_ms", "duration_s", 1000}, {"bidirectional_packets", "packets", 0}, {"bidirectional_bytes", "bytes", 0},
		{"src2dst_duration_ms", "fwd_iat_total_s", 1000}, {"src2dst_packets", "fwd_packets", 0}, {"src2dst_bytes", "fwd_bytes", 0},
		{"dst2src_duration_ms", "bwd_iat_total_s", 1000}, {"dst2src_packets", "bwd_packets", 0}, {"dst2src_bytes", "bwd_bytes", 0}}
	dirs := [][2]string{{"bidirectional_", ""}, {"src2dst_", "fwd_"}, {"dst2src_", "bwd_"}}
	for _, d := range dirs {
		for _, st := range [][2]string{{"min", "min"}, {"mean", "mean"}, {"stddev", "std"}, {"max", "max"}} {
			maps = append(maps, m{d[0] + st[0] + "_ps", d[1] + "ip_len_" + st[1], 0})
		}
	}
	for _, d := range dirs {
		iat := d[1]
		if iat == "" {
			iat = "flow_"
		}
		for _, st := range [][2]string{{"min", "min"}, {"mean", "mean"}, {"stddev", "std"}, {"max", "max"}} {
			maps = append(maps, m{d[0] + st[0] + "_piat_ms", iat + "iat_" + st[1] + "_s", 1000})
		}
	}
	for _, d := range dirs {
		for _, f := range []string{"syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin"} {
			maps = append(maps, m{d[0] + f + "_packets", d[1] + f + "_count", 0})
		}
	}
	for _, x := range maps {
		c, err := feat(s, x.name, x.native, x.scale)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if o.App {
		cols = append(cols,
			Column{Name: "application_name", Field: FieldApp, Index: int(app.FieldProto)},
			Column{Name: "requested_server_name", Field: FieldServerName},
			Column{Name: "client_fingerprint", Field: FieldApp, Index: int(app.TLSJA3)},
			Column{Name: "server_fingerprint", Field: FieldApp, Index: int(app.TLSJA3S)},
			Column{Name: "user_agent", Field: FieldApp, Index: int(app.HTTPUserAgent)},
			Column{Name: "content_type", Field: FieldApp, Index: int(app.HTTPContentType)})
	}
	return outcomeColumns(cols, o), nil
}

// seedColumns returns the original FlowMeter's 39 columns, in its order and
// units (ns for times), with corrected values: sizes are IP lengths, IAT* are
// true flow inter-arrival times, standard deviations are sample ones, and
// src/dst are the initiator and responder (not swapped).
func seedColumns(s *Schema) ([]Column, error) {
	cols := []Column{
		{Name: "fiveTuple", Field: FieldSeedTuple},
		{Name: "srcIP", Field: FieldSrcIP},
		{Name: "dstIP", Field: FieldDstIP},
		{Name: "protocol", Field: FieldSeedProto},
		{Name: "srcPort", Field: FieldSrcPort},
		{Name: "dstPort", Field: FieldDstPort},
	}
	for _, m := range SeedFeatures {
		c, err := feat(s, m.Seed, m.Native, m.Scale)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// SeedFeatures maps the original FlowMeter's 33 numeric features to ours
// (with the scale from our unit to its nanoseconds). The model trainer uses
// it to reproduce the original's approach.
var SeedFeatures = []struct {
	Seed, Native string
	Scale        float64
}{
	{"flowDuration", "duration_s", 1e9},
	{"flowLength", "packets", 1},
	{"fwdFlowLength", "fwd_packets", 1},
	{"bwdFlowLength", "bwd_packets", 1},
	{"packetSizeTotal", "bytes", 1},
	{"packetSizeMean", "ip_len_mean", 1},
	{"packetSizeStd", "ip_len_std", 1},
	{"packetSizeMin", "ip_len_min", 1},
	{"packetSizeMax", "ip_len_max", 1},
	{"fwdPacketSizeTotal", "fwd_bytes", 1},
	{"bwdPacketSizeTotal", "bwd_bytes", 1},
	{"fwdPacketSizeMean", "fwd_ip_len_mean", 1},
	{"bwdPacketSizeMean", "bwd_ip_len_mean", 1},
	{"fwdPacketSizeStd", "fwd_ip_len_std", 1},
	{"bwdPacketSizeStd", "bwd_ip_len_std", 1},
	{"fwdPacketSizeMin", "fwd_ip_len_min", 1},
	{"bwdPacketSizeMin", "bwd_ip_len_min", 1},
	{"fwdPacketSizeMax", "fwd_ip_len_max", 1},
	{"bwdPacketSizeMax", "bwd_ip_len_max", 1},
	{"IATMean", "flow_iat_mean_s", 1e9},
	{"IATStd", "flow_iat_std_s", 1e9},
	{"IATMin", "flow_iat_min_s", 1e9},
	{"IATMax", "flow_iat_max_s", 1e9},
	{"fwdIATTotal", "fwd_iat_total_s", 1e9},
	{"bwdIATTotal", "bwd_iat_total_s", 1e9},
	{"fwdIATMean", "fwd_iat_mean_s", 1e9},
	{"bwdIATMean", "bwd_iat_mean_s", 1e9},
	{"fwdIATStd", "fwd_iat_std_s", 1e9},
	{"bwdIATStd", "bwd_iat_std_s", 1e9},
	{"fwdIATMin", "fwd_iat_min_s", 1e9},
	{"bwdIATMin", "bwd_iat_min_s", 1e9},
	{"fwdIATMax", "fwd_iat_max_s", 1e9},
	{"bwdIATMax", "bwd_iat_max_s", 1e9},
}

// TimeLayout is the layout of first_seen and last_seen: UTC with ns.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

const cicTimeLayout = "2006-01-02 15:04:05.000000"

func protoName(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "ICMPv6"
	}
	return strconv.Itoa(int(p))
}

// AppendValue appends the text of column c of r to dst: a number in the
// shortest exact decimal form, or the raw (unquoted) text of a string field.
func AppendValue(dst []byte, r *Record, c Column) []byte {
	switch c.Field {
	case FieldFeature:
		v := r.Values[c.Index]
		if c.Scale != 0 && c.Scale != 1 {
			v *= c.Scale
			v = math.Round(v*1e3) / 1e3 // keep ns precision, drop float noise
		}
		return AppendFloat(dst, v)
	case FieldFlowID:
		return AppendFlowID(dst, r.ID)
	case FieldSrcIP:
		return r.Src.Addr().AppendTo(dst)
	case FieldSrcPort:
		return strconv.AppendUint(dst, uint64(r.Src.Port()), 10)
	case FieldDstIP:
		return r.Dst.Addr().AppendTo(dst)
	case FieldDstPort:
		return strconv.AppendUint(dst, uint64(r.Dst.Port()), 10)
	case FieldProto:
		return strconv.AppendUint(dst, uint64(r.Proto), 10)
	case FieldVersion:
		return strconv.AppendUint(dst, uint64(r.Version), 10)
	case FieldVLAN:
		return strconv.AppendUint(dst, uint64(r.VLAN), 10)
	case FieldFirst:
		return AppendTime(dst, r.First)
	case FieldLast:
		return AppendTime(dst, r.Last)
	case FieldEnd:
		return append(dst, r.End.String()...)
	case FieldCommunityID:
		return AppendCommunityID(dst, r, int(r.Values[c.Index]), int(r.Values[c.Index+1]))
	case FieldCapture:
		return append(dst, r.Capture...)
	case FieldLabel:
		return append(dst, r.Label...)
	case FieldNamedLabel:
		return appendNamedLabel(dst, r, c.Index)
	case FieldCategory:
		return append(dst, r.Category...)
	case FieldScore:
		return AppendFloat(dst, math.Round(r.Score*1e6)/1e6)
	case FieldVerdict:
		return append(dst, r.Verdict...)
	case FieldCICFlowID:
		dst = r.Src.Addr().AppendTo(dst)
		dst = append(dst, '-')
		dst = r.Dst.Addr().AppendTo(dst)
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(r.Src.Port()), 10)
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(r.Dst.Port()), 10)
		dst = append(dst, '-')
		return strconv.AppendUint(dst, uint64(r.Proto), 10)
	case FieldCICTimestamp:
		return time.Unix(0, r.First).UTC().AppendFormat(dst, cicTimeLayout)
	case FieldSeedTuple:
		dst = r.Src.Addr().AppendTo(dst)
		dst = append(dst, "--"...)
		dst = r.Dst.Addr().AppendTo(dst)
		dst = append(dst, "--"...)
		dst = append(dst, protoName(r.Proto)...)
		dst = append(dst, "--"...)
		dst = strconv.AppendUint(dst, uint64(r.Src.Port()), 10)
		dst = append(dst, "--"...)
		return strconv.AppendUint(dst, uint64(r.Dst.Port()), 10)
	case FieldSeedProto:
		return append(dst, protoName(r.Proto)...)
	case FieldApp:
		return r.App.AppendField(dst, app.Field(c.Index))
	case FieldFirstMs:
		return strconv.AppendInt(dst, r.First/1e6, 10)
	case FieldLastMs:
		return strconv.AppendInt(dst, r.Last/1e6, 10)
	case FieldNFExpiration:
		return strconv.AppendInt(dst, int64(NFExpiration(r.End)), 10)
	case FieldServerName:
		for _, f := range [...]app.Field{app.TLSSNI, app.DNSQName, app.HTTPHost} {
			if r.App != nil && r.App.Has(f) {
				return r.App.AppendField(dst, f)
			}
		}
	}
	return dst
}

// AppendFloat appends v in the shortest decimal form that reads back exactly,
// without an exponent: what strconv.AppendFloat(dst, v, 'f', -1, 64) gives,
// faster: whole numbers (most values) as integers, fractions from their
// shortest digits (shortestDigits) laid out in place. NaN and ±Inf never
// occur in a record; they are written as 0 should a bug ever produce one,
// and the tests check that none does.
func AppendFloat(dst []byte, v float64) []byte { return appendFloat(dst, v, nil) }

// appendFloat is AppendFloat, remembering the fractions it writes in c
// when c is not nil (FloatCache).
func appendFloat(dst []byte, v float64, c *FloatCache) []byte {
	if !(v > -1e15 && v < 1e15) { // also NaN
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(dst, '0')
		}
		return appendShortest(dst, v)
	}
	// counts, sizes, flags, -1 for "none": most values are whole numbers,
	// whose shortest form is their integer digits
	if i := int64(v); float64(i) == v {
		return appendInt(dst, i)
	}
	var s *floatSlot
	if c != nil {
		s = c.slot(v)
		if s.n != 0 && s.bits == math.Float64bits(v) {
			return append(dst, s.text[:s.n]...)
		}
	}
	from := len(dst)
	dst = appendShortest(dst, v)
	if s != nil {
		s.keep(v, dst[from:])
	}
	return dst
}

// appendShortest appends v (finite, not 0) as strconv.AppendFloat(dst, v,
// 'f', -1, 64) would: its shortest digits come from shortestDigits (the
// algorithm strconv uses) and are laid out here without an exponent,
// written in place at dst's end.
func appendShortest(dst []byte, v float64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	q, e, ok := shortestDigits(v)
	if !ok {
		q, e = strconvDigits(v)
	}
	nd := decimalLen(q)
	dp := nd + e // digits before the point
	switch {
	case dp <= 0: // 0.000ddd
		l := len(dst)
		n := 2 - dp + nd
		dst = slices.Grow(dst, n+24)[:l+n]
		dst[l], dst[l+1] = '0', '.'
		for i := l + 2; i < l+2-dp; i++ {
			dst[i] = '0'
		}
		putDigits((*[24]byte)(dst[l+2-dp:l+2-dp+24]), nd, q)
		return dst
	case dp >= nd: // ddd000
		l := len(dst)
		dst = slices.Grow(dst, dp+24)[:l+dp]
		putDigits((*[24]byte)(dst[l:l+24]), nd, q)
		for i := l + nd; i < l+dp; i++ {
			dst[i] = '0'
		}
		return dst
	}
	return appendDecimal(dst, q, nd-dp) // ddd.ddd
}

// strconvDigits returns the shortest digits of v (finite, > 0, outside
// shortestDigits' table) as q·10^e, from strconv's 'e' form.
func strconvDigits(v float64) (q uint64, e int) {
	var tmp [32]byte
	t := strconv.AppendFloat(tmp[:0], v, 'e', -1, 64) // d[.ddd]e±dd[d]
	x := len(t) - 4                                   // the exponent has two digits or three
	if t[x] != 'e' {
		x--
	}
	exp := int(t[x+2]-'0')*10 + int(t[x+3]-'0')
	if x+4 < len(t) {
		exp = exp*10 + int(t[x+4]-'0')
	}
	if t[x+1] == '-' {
		exp = -exp
	}
	q, nd := uint64(t[0]-'0'), 1 // the first digit, then those after the point (17 at most)
	for _, c := range t[min(2, x):x] {
		q, nd = q*10+uint64(c-'0'), nd+1
	}
	return q, exp + 1 - nd
}

// appendDecimal appends m·10⁻ᵈ (1 ≤ d ≤ 19; at most 24 digits before the
// point) as digits with a point: the integer part (0 if none), then exactly
// d decimals, written in place at dst's end.
func appendDecimal(dst []byte, m uint64, d int) []byte {
	p := pow10u[d]
	ip, fp := m/p, m%p
	ni := max(decimalLen(ip), 1)
	l := len(dst)
	n := ni + 1 + d
	dst = slices.Grow(dst, n+24)[:l+n]
	// the d decimals: m mod 10^d, with its leading zeros
	j := l + ni + 1 + putDigits((*[24]byte)(dst[l+ni+1:l+ni+1+24]), d, fp)
	for i := l + ni + 1; i < j; i++ {
		dst[i] = '0'
	}
	dst[l+ni] = '.'
	if ip == 0 {
		dst[l] = '0'
	} else {
		putDigits((*[24]byte)(dst[l:l+24]), ni, ip)
	}
	return dst
}

// pow10u[d] is 10^d.
var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalLen is the number of decimal digits of u (0 for 0).
func decimalLen(u uint64) int {
	n := bits.Len64(u) * 1233 >> 12 // ⌊log10(2)·bit length⌋: u has n or n+1 digits
	if u >= pow10u[n] {
		n++
	}
	return n
}

// appendInt appends i in decimal, in place at dst's end.
func appendInt(dst []byte, i int64) []byte {
	if i >= 0 && i < 10 {
		return append(dst, byte('0'+i))
	}
	u := uint64(i)
	if i < 0 {
		dst = append(dst, '-')
		u = uint64(-i)
	}
	n := decimalLen(u)
	l := len(dst)
	dst = slices.Grow(dst, 24)[:l+n]
	putDigits((*[24]byte)(dst[l:l+24]), n, u)
	return dst
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// AppendTime appends the time ns (Unix nanoseconds) in TimeLayout, UTC:
// what time.Time.AppendFormat gives, at a fraction of its cost (every
// record has two), by civil-date arithmetic (Hinnant's days_from_civil,
// inverted).
func AppendTime(dst []byte, ns int64) []byte {
	if ns < 0 { // before 1970: the general path
		return time.Unix(0, ns).UTC().AppendFormat(dst, TimeLayout)
	}
	u := uint64(ns) // unsigned from here: divisions by constants are cheaper
	secs, frac := u/1e9, uint32(u%1e9)
	days, rem := secs/86400, uint32(secs%86400)
	z := days + 719468
	era := z / 146097
	doe := uint32(z - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := uint64(yoe) + era*400
	if m <= 2 {
		y++
	}
	n := len(dst)
	dst = append(dst, "0000-00-00T00:00:00.000000000Z"...)
	b := dst[n:]
	put2(b[0:], uint32(y/100)) // int64 nanoseconds end in the year 2262
	put2(b[2:], uint32(y%100))
	put2(b[5:], m)
	put2(b[8:], d)
	put2(b[11:], rem/3600)
	put2(b[14:], rem/60%60)
	put2(b[17:], rem%60)
	f := frac
	for i := 27; i > 20; i -= 2 { // the fraction's last eight digits as pairs
		q := f / 100
		put2(b[i:], f-q*100)
		f = q
	}
	b[20] = byte('0' + f)
	return dst
}

// put2 writes v (< 100) as two digits at b[0:2].
func put2(b []byte, v uint32) {
	b[0], b[1] = digitPairs[v*2], digitPairs[v*2+1]
}

// AppendFlowID appends a flow ID as the 16 hex digits of the flow_id column
// (also the Kafka key and the per-packet verdicts' flow_id).
func AppendFlowID(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		dst = append(dst, digits[(v>>(4*uint(i)))&0xF])
	}
	return dst
}
