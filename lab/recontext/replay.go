package main

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowmeter/flowmeter/feature"
)

type stats struct {
	rows, checked int
	added         []string
}

// replay returns rows (a header and its records) with every context column
// of the schema, in the schema's order, computed anew; the context columns
// rows already has are checked against the replay, except the failure
// shares.
func replay(rows [][]string) ([][]string, stats, error) {
	var st stats
	if len(rows) == 0 {
		return nil, st, fmt.Errorf("no header")
	}
	head := rows[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	need := []string{"capture", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "first_seen", "last_seen", "end_reason", "bwd_payload_bytes"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, st, fmt.Errorf("no %s column", n)
		}
	}
	schema, err := feature.NewSchema(0)
	if err != nil {
		return nil, st, err
	}
	// The schema's context columns, in order: ctx names which of them the
	// table has (checked) and which it lacks (added after the last one it
	// has, in schema order).
	var names []string
	for _, f := range schema.Features {
		if strings.HasPrefix(f.Name, "ctx_") {
			names = append(names, f.Name)
		}
	}
	if len(names) != feature.NumContext {
		return nil, st, fmt.Errorf("schema has %d context columns, want %d", len(names), feature.NumContext)
	}
	have := make([]int, len(names)) // column in rows, or -1
	after := -1
	for i, n := range names {
		c, ok := col[n]
		if !ok {
			have[i] = -1
			st.added = append(st.added, n)
			continue
		}
		have[i] = c
		after = max(after, c)
	}
	if after < 0 {
		return nil, st, fmt.Errorf("no context column to place the new ones after")
	}
	// The new header: the old one with the missing columns after the last
	// context column it has.
	newHead := slices.Clone(head[:after+1])
	newHead = append(newHead, st.added...)
	newHead = append(newHead, head[after+1:]...)
	out := [][]string{newHead}

	ctxs := map[string]*feature.Context{} // each capture has its own timeline
	for ln, rec := range rows[1:] {
		line := ln + 2
		if len(rec) != len(head) {
			return nil, st, fmt.Errorf("line %d: %d fields, header has %d", line, len(rec), len(head))
		}
		f, err := flowOf(rec, col)
		if err != nil {
			return nil, st, fmt.Errorf("line %d: %w", line, err)
		}
		c := ctxs[rec[col["capture"]]]
		if c == nil {
			c = feature.NewContext(feature.DefaultContext)
			ctxs[rec[col["capture"]]] = c
		}
		var v feature.ContextValues
		if rec[col["end_reason"]] == "early" {
			v = c.Peek(&f)
		} else {
			v = c.Observe(&f)
		}
		var add []string
		for i, n := range names {
			if have[i] < 0 {
				add = append(add, string(feature.AppendFloat(nil, v[i])))
				continue
			}
			if strings.HasSuffix(n, "_failed_ratio") {
				continue // the table does not say which flows failed
			}
			got, err := strconv.ParseFloat(rec[have[i]], 64)
			if err != nil {
				return nil, st, fmt.Errorf("line %d: %s: %w", line, n, err)
			}
			if math.Float64bits(got) != math.Float64bits(v[i]) {
				return nil, st, fmt.Errorf("line %d: %s is %s in the table, %s replayed: the table is not a whole extraction in its own order", line, n, rec[have[i]], feature.AppendFloat(nil, v[i]))
			}
			st.checked++
		}
		row := slices.Clone(rec[:after+1])
		row = append(row, add...)
		row = append(row, rec[after+1:]...)
		out = append(out, row)
		st.rows++
	}
	return out, st, nil
}

func flowOf(rec []string, col map[string]int) (feature.Flow, error) {
	var f feature.Flow
	ap := func(ip, port string) (netip.AddrPort, error) {
		a, err := netip.ParseAddr(rec[col[ip]])
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%s: %w", ip, err)
		}
		p, err := strconv.ParseUint(rec[col[port]], 10, 16)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%s: %w", port, err)
		}
		return netip.AddrPortFrom(a, uint16(p)), nil
	}
	var err error
	if f.Src, err = ap("src_ip", "src_port"); err != nil {
		return f, err
	}
	if f.Dst, err = ap("dst_ip", "dst_port"); err != nil {
		return f, err
	}
	p, err := strconv.ParseUint(rec[col["protocol"]], 10, 8)
	if err != nil {
		return f, fmt.Errorf("protocol: %w", err)
	}
	f.Proto = uint8(p)
	for _, t := range []struct {
		name string
		dst  *int64
	}{{"first_seen", &f.First}, {"last_seen", &f.Last}} {
		tm, err := time.Parse(time.RFC3339Nano, rec[col[t.name]])
		if err != nil {
			return f, fmt.Errorf("%s: %w", t.name, err)
		}
		*t.dst = tm.UnixNano()
	}
	b, err := strconv.ParseFloat(rec[col["bwd_payload_bytes"]], 64)
	if err != nil {
		return f, fmt.Errorf("bwd_payload_bytes: %w", err)
	}
	f.Reply = int64(b)
	return f, nil
}
