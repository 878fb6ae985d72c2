package feature

import (
	"math/rand/v2"
	"testing"
)

// The index finds what a map finds through any order of inserts and
// removes, with rings numbered again after removal.
func TestCtxIndex(t *testing.T) {
	x := newCtxIndex()
	want := map[ctxKey]*ring{}
	ids := map[ctxKey]int32{}
	r := rand.New(rand.NewPCG(1, 2))
	key := func() ctxKey {
		var k ctxKey
		k.addr[15], k.addr[14] = byte(r.IntN(256)), byte(r.IntN(12))
		k.role = uint8(r.IntN(3))
		if k.role == 2 {
			k.port, k.proto = uint16(r.IntN(3)), 6
		}
		return k
	}
	for i := 0; i < 200000; i++ {
		k := key()
		got, id := x.find(&k)
		if got != want[k] || (got != nil && id != ids[k]) {
			t.Fatalf("step %d: find(%v) = %p, %d; want %p, %d", i, k, got, id, want[k], ids[k])
		}
		switch {
		case got == nil && r.IntN(3) > 0:
			want[k], ids[k] = x.insert(&k)
		case got != nil && r.IntN(2) == 0:
			if x.remove(id) != got {
				t.Fatalf("step %d: remove(%d) returned another ring", i, id)
			}
			delete(want, k)
			delete(ids, k)
		}
		if x.len() != len(want) {
			t.Fatalf("step %d: %d rings, want %d", i, x.len(), len(want))
		}
	}
	if len(x.keys) > 3*256*12+1 {
		t.Errorf("%d ring numbers for at most %d keys: freed numbers are not reused", len(x.keys), 3*256*12)
	}
}
