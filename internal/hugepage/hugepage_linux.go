package hugepage

import (
	"syscall"
	"unsafe"
)

// Advise asks the kernel to back the memory of [p, p+size) with
// transparent huge pages where the system allows it on request (the usual
// "madvise" setting). A huge page is only used where a whole aligned 2 MiB
// is advised, and a table may be smaller or unaligned, so the advice covers
// the 2 MiB blocks around it (the rest is Go's heap too, or not mapped).
// It is only advice: an error changes nothing.
func Advise(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	start := uintptr(p) &^ (huge - 1)
	end := (uintptr(p) + size + huge - 1) &^ (huge - 1)
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE)
}

// Slice advises the memory of s when it is at least min bytes.
func Slice[T any](s []T, min uintptr) {
	if size := uintptr(cap(s)) * unsafe.Sizeof(*new(T)); size >= min && size > 0 {
		Advise(unsafe.Pointer(unsafe.SliceData(s)), size)
	}
}
