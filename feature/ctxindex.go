package feature

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/flowmeter/flowmeter/internal/slotindex"
)

// ctxIndex holds a Context's rings by key: ring numbers from 0 in an
// internal/slotindex by the key's hash, with each ring's latest first time
// in a dense array, so that dropping stale rings reads 8 bytes per ring in
// order instead of chasing every ring's pointer (a Go map of 200 000
// rings did that, and a flood of new hosts drops often).
type ctxIndex struct {
	seed  uint64
	slots slotindex.Index
	keys  []ctxKey          // by ring number
	pages []*[ringPage]ring // the rings, by number: a page holds ringPage of them
	lasts []int64           // by ring number: the latest first time of its entries, at least 0 (MaxInt64 when free)
	free  []int32
}

// ringPage is how many rings are allocated at once: a flood of new hosts
// would otherwise allocate one per flow.
const ringPage = 1024

// ring returns ring number id.
func (x *ctxIndex) ring(id int32) *ring { return &x.pages[id/ringPage][id%ringPage] }

func newCtxIndex() ctxIndex {
	return ctxIndex{seed: rand.Uint64(), slots: slotindex.New(1024)}
}

// len is the number of rings held.
func (x *ctxIndex) len() int { return x.slots.Len() }

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
	id := x.slots.Find(x.hash(k), func(id int32) bool { return x.keys[id] == *k })
	if id < 0 {
		return nil, -1
	}
	return x.ring(id), id
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
	x.slots.Insert(x.hash(k), id)
	return r, id
}

// remove deletes ring number id from the index and returns the ring, to be
// emptied for its next key.
func (x *ctxIndex) remove(id int32) *ring {
	x.slots.Remove(x.hash(&x.keys[id]), id)
	x.lasts[id] = math.MaxInt64
	x.free = append(x.free, id)
	return x.ring(id)
}
