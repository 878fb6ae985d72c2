package model

import (
	"math"
	"sync"
)

// scoreCache remembers the scores of the last input vectors seen, so that
// a flow whose inputs are bit for bit those of a recent one is not scored
// again: a flood's flows are nearly all alike (a 100 000-SYN flood has 101
// distinct vectors), and in the lab's real traffic a fifth of the flows
// repeat one of the last 128 (scans, refused connections, probes). It is
// direct mapped, 128 slots keyed by a hash of the inputs' bits, a hit
// checked on every input, so a score it gives is the one Score would.
type scoreCache struct {
	mu     sync.Mutex
	b      *Bound    // the model scored; b.idx: the inputs' positions in a record
	keys   []uint64  // per slot, its inputs' bits
	hash   []uint64  // per slot; 0 when empty
	scores []float64 // per slot
}

const cacheSlots = 128

func newScoreCache(b *Bound) *scoreCache {
	return &scoreCache{b: b, keys: make([]uint64, cacheSlots*len(b.idx)), hash: make([]uint64, cacheSlots), scores: make([]float64, cacheSlots)}
}

// score returns the model's score for a record's values, from the cache or
// scored and remembered.
func (c *scoreCache) score(values []float64) float64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, p := range c.b.idx {
		h ^= math.Float64bits(values[p])
		h *= 0xff51afd7ed558ccd
		h ^= h >> 29
	}
	h |= 1
	slot := int(h % cacheSlots)
	n := len(c.b.idx)
	c.mu.Lock()
	if c.hash[slot] == h && c.same(c.keys[slot*n:slot*n+n], values) {
		s := c.scores[slot]
		c.mu.Unlock()
		return s
	}
	c.mu.Unlock()
	s := c.b.Score(values)
	c.mu.Lock()
	key := c.keys[slot*n : slot*n+n]
	for i, p := range c.b.idx {
		key[i] = math.Float64bits(values[p])
	}
	c.hash[slot], c.scores[slot] = h, s
	c.mu.Unlock()
	return s
}

// same reports whether values hold the inputs key.
func (c *scoreCache) same(key []uint64, values []float64) bool {
	for i, p := range c.b.idx {
		if key[i] != math.Float64bits(values[p]) {
			return false
		}
	}
	return true
}
