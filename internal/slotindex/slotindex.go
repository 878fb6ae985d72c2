// Package slotindex maps 32-bit hashes to item numbers, for tables whose
// callers keep the keys themselves (the flow table's open flows, the
// context's hosts): open addressing with linear probing over 8-byte slots
// (the hash and the item number), at most half full, with backward-shift
// deletion, so that no tombstones pile up under a flood of short-lived
// keys. A probe compares hashes; the caller compares keys only for an
// item whose hash matches. Slot arrays from 1 MiB on are advised for huge
// pages (internal/hugepage): a lookup is then one cache miss and rarely a
// TLB miss.
package slotindex

import "github.com/flowmeter/flowmeter/internal/hugepage"

// Index is the map. The zero value is not ready: use New.
type Index struct {
	slots []slot
	n     int
}

type slot struct {
	tag  uint32 // the hash; the home slot is tag & mask
	item uint32 // item + 1; 0: empty
}

// New returns an empty index of size slots (a power of two) to start with.
func New(size int) Index { return Index{slots: make([]slot, size)} }

// Len is the number of items.
func (x *Index) Len() int { return x.n }

// Find returns the first item with hash tag that match accepts, or -1.
func (x *Index) Find(tag uint32, match func(item int32) bool) int32 {
	mask := uint32(len(x.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.item == 0 {
			return -1
		}
		if s.tag == tag && match(int32(s.item-1)) {
			return int32(s.item - 1)
		}
	}
}

// Insert adds item under hash tag; the caller knows its key is not there.
func (x *Index) Insert(tag uint32, item int32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	x.put(slot{tag: tag, item: uint32(item) + 1})
	x.n++
}

func (x *Index) put(s slot) {
	mask := uint32(len(x.slots) - 1)
	i := s.tag & mask
	for x.slots[i].item != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

func (x *Index) grow() {
	old := x.slots
	x.slots = make([]slot, 2*len(old))
	hugepage.Slice(x.slots, 1<<20)
	for _, s := range old {
		if s.item != 0 {
			x.put(s)
		}
	}
}

// Remove deletes item, which is in the index under hash tag.
func (x *Index) Remove(tag uint32, item int32) {
	mask := uint32(len(x.slots) - 1)
	want := uint32(item) + 1
	i := tag & mask
	for x.slots[i].item != want {
		i = (i + 1) & mask
	}
	x.slots[i] = slot{}
	x.n--
	// Backward shift: move later slots of the run into the hole unless
	// their home lies cyclically in (hole, where they are].
	for j := (i + 1) & mask; x.slots[j].item != 0; j = (j + 1) & mask {
		h := x.slots[j].tag & mask
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.slots[i], x.slots[j] = x.slots[j], slot{}
			i = j
		}
	}
}

// Clear removes every item, keeping the slots' memory.
func (x *Index) Clear() {
	clear(x.slots)
	x.n = 0
}
