//go:build !linux

package capture

import "os"

// mapFile maps nothing outside Linux: captures are read with read(2).
func mapFile(*os.File, int64) []byte { return nil }

func unmapFile([]byte) error { return nil }

var pageSize = 4096

func releaseMapped([]byte) {}
