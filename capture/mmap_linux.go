package capture

import (
	"os"
	"syscall"
)

// mapFile maps a regular file of at least min bytes read-only into memory,
// or returns nil (the file is then read with read(2)). The kernel's copy of
// every byte into a read buffer was 9 % of a real-traffic run; a mapping
// reads the page cache in place. Reads of the mapping fault if the file is
// cut short while it is mapped: the meter turns that fault into an error
// (ErrChanged), not a crash.
func mapFile(f *os.File, min int64) []byte {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < min || st.Size() != int64(int(st.Size())) {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	_ = syscall.Madvise(b, syscall.MADV_SEQUENTIAL) // read-ahead, and pages dropped behind
	return b
}

func unmapFile(b []byte) error { return syscall.Munmap(b) }

// pageSize aligns what releaseMapped is given.
var pageSize = syscall.Getpagesize()

// releaseMapped drops b, page-aligned pages of a mapping, from the process
// (they stay in the page cache, and come back on the next read).
func releaseMapped(b []byte) {
	if len(b) > 0 {
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}
