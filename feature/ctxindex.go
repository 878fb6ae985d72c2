package feature

import (
	"encoding/binary"
	"github.com/flowmeter/flowmeter/internal/hugepage"
	"math"
	"math/bits"
	"math/rand/v2"
)

// ctxIndex holds a Context's rings by key: an open-addressing table of
// 8-byte slots over rings numbered from 0, with each ring's latest first
// time in a dense array, so that dropping stale rings reads 8 bytes per
// ring in order instead of chasing every ring's pointer (a Go map of
// 200 000 rings did that, and a flood of new hosts drops often).
type ctxIndex struct {
	seed  uint64
	slots []cslot
	keys  []ctxKey          // by ring number
	pages []*[ringPage]ring // the rings, by number: a page holds ringPage of them
	lasts []int64           // by ring number: the latest first time of its entries, at least 0 (MaxInt64 when free)
	free  []int32
	n     int
}

// ringPage is how many rings are allocated at once: a flood of new hosts
// would otherwise allocate one per flow.
const ringPage = 1024

// ring returns ring number id.
func (x *ctxIndex) ring(id int32) *ring { return &x.pages[id/ringPage][id%ringPage] }

// cslot is one slot of the table: the ring number plus one (0: empty) and
// 32 bits of its key's hash, so that a probe rarely reads a key.
type cslot struct {
	tag uint32
	id  uint32
}

func newCtxIndex() ctxIndex {
	return ctxIndex{seed: rand.Uint64(), slots: make([]cslot, 1024)}
}

func (x *ctxIndex) hash(k *ctxKey) uint32 {
	const (
		p0 = 0xa0761d6478bd642f
		p1 = 0xe7037ed1a0b428db
		p2 = 0x8ebc6af09c88c6e3
	)
	rest := uint64(k.port) | uint64(k.proto)<<16 | uint64(k.role)<<24
	hi, lo := bits.Mul64(binary.LittleEndian.Uint64(k.addr[:8])^x.seed^p0, binary.LittleEndian.Uint64(k.addr[8:])^p1)
	hi, lo = bits.Mul64(hi^lo^rest^p2, x.seed^p1)
	return uint32(hi ^ lo)
}

// find returns the ring of k and its number, or nil and -1.
func (x *ctxIndex) find(k *ctxKey) (*ring, int32) {
	tag := x.hash(k)
	mask := uint32(len(x.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.id == 0 {
			return nil, -1
		}
		if s.tag == tag && x.keys[s.id-1] == *k {
			return x.ring(int32(s.id - 1)), int32(s.id - 1)
		}
	}
}

// insert adds an empty ring under k (not in the index) and returns it and
// its number.
func (x *ctxIndex) insert(k *ctxKey) (*ring, int32) {
	var id int32
	if n := len(x.free); n > 0 {
		id, x.free = x.free[n-1], x.free[:n-1]
		x.keys[id], x.lasts[id] = *k, 0
	} else {
		id = int32(len(x.keys))
		if int(id) == len(x.pages)*ringPage {
			x.pages = append(x.pages, new([ringPage]ring))
		}
		x.keys, x.lasts = append(x.keys, *k), append(x.lasts, 0)
	}
	r := x.ring(id)
	if r.e == nil {
		r.e = r.one[:0]
	}
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	x.put(cslot{tag: x.hash(k), id: uint32(id) + 1})
	x.n++
	return r, id
}

func (x *ctxIndex) put(s cslot) {
	mask := uint32(len(x.slots) - 1)
	i := s.tag & mask
	for x.slots[i].id != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

func (x *ctxIndex) grow() {
	old := x.slots
	x.slots = make([]cslot, 2*len(old))
	hugepage.Slice(x.slots, 1<<20)
	for _, s := range old {
		if s.id != 0 {
			x.put(s)
		}
	}
}

// remove deletes ring number id from the index and returns the ring, to be
// emptied for its next key.
func (x *ctxIndex) remove(id int32) *ring {
	mask := uint32(len(x.slots) - 1)
	want := uint32(id) + 1
	i := x.hash(&x.keys[id]) & mask
	for x.slots[i].id != want {
		i = (i + 1) & mask
	}
	x.slots[i] = cslot{}
	x.n--
	// Backward shift, as in flow's index.
	for j := (i + 1) & mask; x.slots[j].id != 0; j = (j + 1) & mask {
		h := x.slots[j].tag & mask
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.slots[i], x.slots[j] = x.slots[j], cslot{}
			i = j
		}
	}
	x.lasts[id] = math.MaxInt64
	x.free = append(x.free, id)
	return x.ring(id)
}
