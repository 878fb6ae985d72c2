package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"github.com/flowmeter/flowmeter/internal/slotindex"
)

// index maps keys to table slots (internal/slotindex: 8-byte slots, at most
// half full, backward-shift deletion, so a flood of short flows leaves no
// tombstones). A probe compares hashes only; the key itself is compared in
// the entry, which the caller reads anyway. It takes about a sixth of the
// memory of a map[Key]int32 and one cache miss per lookup. The hash is
// keyed by a random seed per table, so an attacker who chooses addresses
// and ports cannot aim a flood at one run of slots.
type index struct {
	seed uint64
	slotindex.Index
}

func newIndex() index {
	return index{seed: rand.Uint64(), Index: slotindex.New(1024)}
}

// hash is a keyed hash of k.
func (x *index) hash(k *Key) uint32 { return uint32(mixKey(k, x.seed)) }

// mixKey hashes k with seed by wyhash's multiply-fold mixing: a few
// multiplications where FNV-1a (Key.Hash) takes one per byte.
func mixKey(k *Key, seed uint64) uint64 {
	const (
		p0 = 0xa0761d6478bd642f
		p1 = 0xe7037ed1a0b428db
		p2 = 0x8ebc6af09c88c6e3
		p3 = 0x589965cc75374cc3
	)
	rest := uint64(k.loPort) | uint64(k.hiPort)<<16 | uint64(k.proto)<<32 | uint64(k.version)<<40
	h := mum(binary.LittleEndian.Uint64(k.lo[:8])^seed^p0, binary.LittleEndian.Uint64(k.lo[8:])^p1)
	h = mum(h^binary.LittleEndian.Uint64(k.hi[:8])^p2, binary.LittleEndian.Uint64(k.hi[8:])^p3)
	return mum(h^rest^p1, seed^p0)
}

// ShardHash is a fast hash of k for dealing flows among workers: the same
// for both directions of a flow (a Key is canonical) and for every run, but
// not a stable identifier across versions, as Hash is.
func (k *Key) ShardHash() uint64 { return mixKey(k, 0) }

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// find returns the slot of k, or -1; match reports whether a slot holds k.
func (x *index) find(k *Key, match func(slot int32) bool) int32 {
	return x.Find(x.hash(k), match)
}

// insert adds k (not in the index) at table slot slot.
func (x *index) insert(k *Key, slot int32) { x.Insert(x.hash(k), slot) }

// remove deletes k, which is in the index at table slot slot.
func (x *index) remove(k *Key, slot int32) { x.Remove(x.hash(k), slot) }
