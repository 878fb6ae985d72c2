package flow

import (
	"encoding/binary"
	"github.com/flowmeter/flowmeter/internal/hugepage"
	"math/bits"
	"math/rand/v2"
)

// index maps keys to table slots: open addressing with linear probing over
// 8-byte slots (32 bits of the key's hash and the slot number), at most
// half full, with backward-shift deletion (no tombstones, so a flood of
// short flows does not slow it down). A probe compares hashes only; the
// key itself is compared in the entry, which the caller reads anyway. It
// takes about a sixth of the memory of a map[Key]int32 and one cache miss
// per lookup. The hash is keyed by a random seed per table, so an attacker
// who chooses addresses and ports cannot aim a flood at one run of slots.
type index struct {
	seed  uint64
	slots []islot
	n     int
}

type islot struct {
	tag  uint32 // low 32 bits of the key's hash; the home slot is tag & mask
	slot uint32 // table slot + 1; 0: empty
}

func newIndex() index {
	return index{seed: rand.Uint64(), slots: make([]islot, 1024)}
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
	tag := x.hash(k)
	mask := uint32(len(x.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.slot == 0 {
			return -1
		}
		if s.tag == tag && match(int32(s.slot-1)) {
			return int32(s.slot - 1)
		}
	}
}

// insert adds k (not in the index) at table slot slot.
func (x *index) insert(k *Key, slot int32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	x.put(islot{tag: x.hash(k), slot: uint32(slot) + 1})
	x.n++
}

func (x *index) put(s islot) {
	mask := uint32(len(x.slots) - 1)
	i := s.tag & mask
	for x.slots[i].slot != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

func (x *index) grow() {
	old := x.slots
	x.slots = make([]islot, 2*len(old))
	hugepage.Slice(x.slots, 1<<20)
	for _, s := range old {
		if s.slot != 0 {
			x.put(s)
		}
	}
}

// clear removes every key.
func (x *index) clear() {
	clear(x.slots)
	x.n = 0
}

// remove deletes k, which is in the index at table slot slot.
func (x *index) remove(k *Key, slot int32) {
	mask := uint32(len(x.slots) - 1)
	want := uint32(slot) + 1
	i := x.hash(k) & mask
	for x.slots[i].slot != want {
		i = (i + 1) & mask
	}
	x.slots[i] = islot{}
	x.n--
	// Backward shift: move later slots of the run into the hole unless
	// their home lies cyclically in (hole, where they are].
	for j := (i + 1) & mask; x.slots[j].slot != 0; j = (j + 1) & mask {
		h := x.slots[j].tag & mask
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.slots[i], x.slots[j] = x.slots[j], islot{}
			i = j
		}
	}
}
