// Package label attaches ground-truth labels to flow records from a CSV of
// rules (docs/labels.md).
//
// A rule names conditions (capture file, addresses, port, protocol, time
// window) and a label with its category. The first rule whose conditions all
// hold labels the flow; a flow no rule matches is "unknown". A rule with a
// key_ip and a label other than benign labels the flows of its capture that
// involve the key host, and makes the other flows of that capture "unknown"
// (incidental background, left out of training): the format of
// ../shared/datasets/labels.csv.
package label

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowmeter/flowmeter/feature"
)

// Labels every rule set can produce besides its own.
const (
	Unknown   = "unknown"
	Benign    = "benign"
	Malicious = "malicious"
)

type rule struct {
	line           int
	file           string
	key            netip.Prefix // key_ip: the host the attack is about
	src, dst, host netip.Prefix // initiator, responder, either endpoint
	port, srcPort  int          // responder / initiator port; -1: any
	proto          int          // -1: any
	start, end     int64        // first_seen window, ns; 0: open
	label, cat     string
}

// Rules is a parsed rule set. Label is safe for concurrent use.
type Rules struct {
	rules []rule
	mu    sync.Mutex // guards cache: Label is called from several goroutines
	cache map[string][]*rule
}

// Load reads one or more rule files; their rules apply in the order given
// (the first rule that matches a flow labels it).
func Load(paths ...string) (*Rules, error) {
	all := &Rules{cache: map[string][]*rule{}}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		r, err := Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		all.rules = append(all.rules, r.rules...)
	}
	return all, nil
}

// ParseError is a bad line in a rule file.
type ParseError struct {
	Line int
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

var known = map[string]bool{"file": true, "label": true, "category": true, "key_ip": true, "key_role": true, "key_basis": true,
	"src": true, "dst": true, "host": true, "port": true, "src_port": true, "proto": true, "start": true, "end": true,
	"packets": true, "format": true, "linktype": true, "source": true, "licence": true, "license": true, "note": true}

// Parse reads rules from CSV with a header row. Columns (any order, all but
// label optional): file, label, category, key_ip, src, dst, host, port,
// src_port, proto, start, end. Other documentation columns of
// labels.csv (key_role, source, …) are accepted and ignored.
func Parse(r io.Reader) (*Rules, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, &ParseError{1, fmt.Errorf("no header: %w", err)}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !known[h] {
			return nil, &ParseError{1, fmt.Errorf("unknown column %q", h)}
		}
		col[h] = i
	}
	if _, ok := col["label"]; !ok {
		return nil, &ParseError{1, errors.New("no label column")}
	}
	rs := &Rules{cache: map[string][]*rule{}}
	seen := map[rule]int{} // a rule's conditions → the first rule with them
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, &ParseError{line, err}
		}
		line, _ := cr.FieldPos(0)
		if len(rec) > len(header) {
			return nil, &ParseError{line, fmt.Errorf("%d fields, but the header names %d columns", len(rec), len(header))}
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		ru, err := parseRule(get)
		if err != nil {
			return nil, &ParseError{line, err}
		}
		cond := ru
		cond.label, cond.cat = "", ""
		if first, ok := seen[cond]; ok && rs.rules[first].label != ru.label {
			return nil, &ParseError{line, fmt.Errorf("the same conditions as line %d with another label: the first rule wins, so this one would never apply", rs.rules[first].line)}
		} else if !ok {
			seen[cond] = len(rs.rules)
		}
		ru.line = line
		rs.rules = append(rs.rules, ru)
	}
	return rs, nil
}

func parseRule(get func(string) string) (rule, error) {
	ru := rule{file: filepath.ToSlash(get("file")), label: get("label"), cat: get("category"), port: -1, srcPort: -1, proto: -1}
	if ru.label == "" {
		return ru, errors.New("empty label")
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *netip.Prefix
	}{{"key_ip", &ru.key}, {"src", &ru.src}, {"dst", &ru.dst}, {"host", &ru.host}} {
		if *p.dst, err = prefix(get(p.name)); err != nil {
			return ru, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	if ru.port, err = intOr(get("port"), 65535); err != nil {
		return ru, fmt.Errorf("port: %w", err)
	}
	if ru.srcPort, err = intOr(get("src_port"), 65535); err != nil {
		return ru, fmt.Errorf("src_port: %w", err)
	}
	if ru.proto, err = protoOf(get("proto")); err != nil {
		return ru, err
	}
	if ru.start, err = timeOf(get("start")); err != nil {
		return ru, fmt.Errorf("start: %w", err)
	}
	if ru.end, err = timeOf(get("end")); err != nil {
		return ru, fmt.Errorf("end: %w", err)
	}
	if ru.start != 0 && ru.end != 0 && ru.start > ru.end {
		return ru, fmt.Errorf("start %s is after end %s", get("start"), get("end"))
	}
	return ru, nil
}

func prefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func intOr(s string, max int) (int, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Errorf("%q is not a number in 0..%d", s, max)
	}
	return n, nil
}

func protoOf(s string) (int, error) {
	switch strings.ToLower(s) {
	case "":
		return -1, nil
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		return 1, nil
	case "icmpv6", "icmp6":
		return 58, nil
	}
	n, err := intOr(s, 255)
	if err != nil {
		return 0, fmt.Errorf("proto: %q is not tcp, udp, icmp, icmpv6 or a number", s)
	}
	return n, nil
}

// timeOf accepts RFC 3339 (UTC unless it says otherwise) or Unix seconds.
func timeOf(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(f * 1e9), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
}

// matchFile reports whether the capture path names the rule's file: the same
// path, or a path ending in /file.
func matchFile(capture, file string) bool {
	if file == "" {
		return true
	}
	c := filepath.ToSlash(capture)
	return c == file || strings.HasSuffix(c, "/"+file)
}

func (ru *rule) matches(r *feature.Record) bool {
	s, d := r.Src.Addr(), r.Dst.Addr()
	switch {
	case ru.src.IsValid() && !ru.src.Contains(s),
		ru.dst.IsValid() && !ru.dst.Contains(d),
		ru.host.IsValid() && !ru.host.Contains(s) && !ru.host.Contains(d),
		ru.port >= 0 && int(r.Dst.Port()) != ru.port,
		ru.srcPort >= 0 && int(r.Src.Port()) != ru.srcPort,
		ru.proto >= 0 && int(r.Proto) != ru.proto,
		ru.start != 0 && r.First < ru.start,
		ru.end != 0 && r.First > ru.end:
		return false
	}
	return true
}

// Label sets r.Label and r.Category from the first matching rule.
func (rs *Rules) Label(r *feature.Record) {
	rs.mu.Lock()
	cand, ok := rs.cache[r.Capture]
	if !ok {
		for i := range rs.rules {
			if matchFile(r.Capture, rs.rules[i].file) {
				cand = append(cand, &rs.rules[i])
			}
		}
		rs.cache[r.Capture] = cand
	}
	rs.mu.Unlock()
	r.Label, r.Category = Unknown, ""
	for _, ru := range cand {
		if !ru.matches(r) {
			continue
		}
		if ru.key.IsValid() && ru.label != Benign && !ru.key.Contains(r.Src.Addr()) && !ru.key.Contains(r.Dst.Addr()) {
			return // background of a malicious capture
		}
		r.Label, r.Category = ru.label, ru.cat
		return
	}
}

// Len is the number of rules.
func (rs *Rules) Len() int { return len(rs.rules) }
