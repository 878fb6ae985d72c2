package flow

import (
	"math/rand/v2"
	"testing"
)

// The index finds exactly the keys a map holds through any mix of inserts
// and removes, across growth, with keys that differ in one byte or field.
func TestIndex(t *testing.T) {
	x := newIndex()
	keys := map[Key]int32{}
	var slots []Key // slot → key
	r := rand.New(rand.NewPCG(3, 4))
	key := func() Key {
		var k Key
		k.lo[15], k.hi[15] = byte(r.IntN(256)), byte(r.IntN(4))
		k.loPort, k.hiPort = uint16(r.IntN(64)), uint16(r.IntN(3))
		k.proto = uint8(6 + 11*r.IntN(2))
		return k
	}
	match := func(k Key) func(int32) bool {
		return func(i int32) bool { return slots[i] == k }
	}
	for step := 0; step < 300000; step++ {
		k := key()
		got := x.find(&k, match(k))
		want, ok := keys[k]
		if !ok {
			want = -1
		}
		if got != want {
			t.Fatalf("step %d: find = %d, want %d", step, got, want)
		}
		switch {
		case !ok && len(keys) < 20000 && r.IntN(3) > 0:
			slot := int32(len(slots))
			slots = append(slots, k)
			x.insert(&k, slot)
			keys[k] = slot
		case ok && r.IntN(2) == 0:
			x.remove(&k, want)
			delete(keys, k)
		}
		if x.Len() != len(keys) {
			t.Fatalf("step %d: %d keys, want %d", step, x.Len(), len(keys))
		}
	}
	for k, slot := range keys {
		if got := x.find(&k, match(k)); got != slot {
			t.Fatalf("find = %d, want %d", got, slot)
		}
	}
}
