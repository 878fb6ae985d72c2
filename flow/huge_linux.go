package flow

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back the memory of [p, p+size) with
// transparent huge pages where the system allows it on request (the usual
// "madvise" setting): a table page is written entry by entry as flows
// arrive, and a flood of new flows otherwise pays a page fault or two per
// 4 KiB, about an eighth of its time. A huge page is only used where a
// whole aligned 2 MiB is advised, and a table page is smaller, so the
// advice covers the 2 MiB around it (the rest is Go's heap too, or not
// mapped). It is only advice: an error changes nothing.
func adviseHuge(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	start := uintptr(p) &^ (huge - 1)
	end := (uintptr(p) + size + huge - 1) &^ (huge - 1)
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE)
}
