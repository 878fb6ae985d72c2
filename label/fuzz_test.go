package label_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/label"
)

// FuzzParse: no rule file makes Parse or Label panic; an error is a
// ParseError with a line number inside the file; a flow gets a label.
func FuzzParse(f *testing.F) {
	f.Add(datasetRules)
	f.Add("label,category,src,dst,port,proto,start,end\nmalicious,brute force: ssh,203.0.113.0/24,,22,tcp,2024-01-01T10:00:00Z,2024-01-01T11:00:00Z\nbenign,ssh,,,22,tcp,,\n")
	f.Add("label,host,src_port,proto\nbenign,2001:db8::/32,53,icmpv6\nmalicious,10.0.0.1,,1700000000\n")
	f.Add("label,category\n\"a\nb\",\"c,d\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := label.Parse(strings.NewReader(text))
		if err != nil {
			var pe *label.ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > strings.Count(text, "\n")+2 {
				t.Fatalf("error %v: not a ParseError with a line in the file", err)
			}
			return
		}
		for _, r := range []struct{ capture, src, dst string }{
			{"malicious/x/synscan.pcapng", "172.16.0.8:4000", "172.16.0.1:80"},
			{"a.pcap", "[2001:db8::1]:53", "[2001:db8::2]:5353"},
		} {
			fr := rec(r.capture, r.src, r.dst, 6)
			rs.Label(fr)
			if fr.Label == "" {
				t.Fatalf("no label for %+v", r)
			}
		}
	})
}
