//go:build !linux

package hugepage

import "unsafe"

// Advise does nothing where transparent huge pages are not asked for by
// madvise.
func Advise(p unsafe.Pointer, size uintptr) {}

// Slice does nothing where transparent huge pages are not asked for by
// madvise.
func Slice[T any](s []T, min uintptr) {}
