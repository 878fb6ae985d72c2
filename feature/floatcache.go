package feature

import "math"

// FloatCache remembers the text of recent values that AppendFloat writes
// with all their digits (means, standard deviations, rates: strconv's
// shortest form, the costliest part of a real-traffic record). Such values
// repeat a lot across flows (a rate of n/60 per second, the mean of a
// handshake's sizes): on a lab capture, 40 % of them were among the last
// few thousand written. The zero value is ready to use; not safe for
// concurrent use (each encoder keeps its own).
type FloatCache struct {
	slots [floatCacheSlots]floatSlot
}

const (
	floatCacheSlots = 2048
	floatCacheText  = 31
)

type floatSlot struct {
	bits uint64
	n    uint8 // text length; 0: empty
	text [floatCacheText]byte
}

// AppendFloat appends v as AppendFloat does.
func (c *FloatCache) AppendFloat(dst []byte, v float64) []byte {
	if !(v > -1e15 && v < 1e15) {
		return AppendFloat(dst, v)
	}
	if i := int64(v); float64(i) == v {
		return appendInt(dst, i)
	}
	// A remembered value skips shortDecimal's tries too (divisions: a
	// value with all its digits fails every one of them).
	bits := math.Float64bits(v)
	s := &c.slots[mix64(bits)&(floatCacheSlots-1)]
	if s.n != 0 && s.bits == bits {
		return append(dst, s.text[:s.n]...)
	}
	if a := math.Abs(v); a < 1e6 {
		if m, d, ok := shortDecimal(a); ok {
			if v < 0 {
				dst = append(dst, '-')
			}
			return appendDecimal(dst, m, d)
		}
	}
	from := len(dst)
	dst = appendShortest(dst, v)
	if n := len(dst) - from; n <= floatCacheText {
		s.bits, s.n = bits, uint8(n)
		copy(s.text[:], dst[from:])
	}
	return dst
}
