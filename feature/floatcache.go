package feature

import "math"

// FloatCache remembers the text of recent fractions that AppendFloat writes
// (times, means, standard deviations, rates: their shortest digits are the
// costliest part of a real-traffic record). Such values repeat a lot across
// flows (a rate of n/60 per second, the mean of a handshake's sizes): on a
// lab capture, 40 % of the long ones were among the last few thousand
// written. The zero value is ready to use; not safe for
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
func (c *FloatCache) AppendFloat(dst []byte, v float64) []byte { return appendFloat(dst, v, c) }

// slot is where v is remembered.
func (c *FloatCache) slot(v float64) *floatSlot {
	return &c.slots[mix64(math.Float64bits(v))&(floatCacheSlots-1)]
}

// keep remembers text as v's, when it fits.
func (s *floatSlot) keep(v float64, text []byte) {
	if len(text) <= floatCacheText {
		s.bits, s.n = math.Float64bits(v), uint8(len(text))
		copy(s.text[:], text)
	}
}
