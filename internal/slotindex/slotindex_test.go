package slotindex

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The index finds what a map finds through any mix of inserts and
// removes, across growth, with many hashes alike (runs of slots that the
// backward shift must keep whole) and items that share a hash.
func TestIndex(t *testing.T) {
	x := New(16)
	want := map[int32]uint32{} // item → tag
	byTag := map[uint32][]int32{}
	r := rand.New(rand.NewPCG(1, 2))
	next := int32(0)
	for step := 0; step < 300000; step++ {
		tag := uint32(r.IntN(5000)) * 1024 // home slots crowd together
		if r.IntN(4) == 0 {
			tag = uint32(r.IntN(64)) // and some tags are shared
		}
		items := byTag[tag]
		if len(items) > 0 && r.IntN(2) == 0 {
			it := items[r.IntN(len(items))]
			if got := x.Find(tag, func(i int32) bool { return i == it }); got != it {
				t.Fatalf("step %d: Find(%d) for %d = %d", step, tag, it, got)
			}
			x.Remove(tag, it)
			delete(want, it)
			byTag[tag] = slices.DeleteFunc(items, func(i int32) bool { return i == it })
			if got := x.Find(tag, func(i int32) bool { return i == it }); got != -1 {
				t.Fatalf("step %d: %d found after its removal", step, it)
			}
		} else if len(want) < 20000 {
			x.Insert(tag, next)
			want[next] = tag
			byTag[tag] = append(items, next)
			next++
		}
		if x.Len() != len(want) {
			t.Fatalf("step %d: %d items, want %d", step, x.Len(), len(want))
		}
	}
	for it, tag := range want {
		if got := x.Find(tag, func(i int32) bool { return i == it }); got != it {
			t.Fatalf("%d under %d: found %d", it, tag, got)
		}
	}
	x.Clear()
	if x.Len() != 0 || x.Find(want[0], func(int32) bool { return true }) != -1 {
		t.Fatal("Clear left items")
	}
}
