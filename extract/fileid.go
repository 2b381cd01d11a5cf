package extract

import (
	"os"
	"syscall"
)

// fileID returns the device and inode of a file with more than one link
// (hard links share them); ok is false for a file with one name.
func fileID(fi os.FileInfo) ([2]uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink < 2 {
		return [2]uint64{}, false
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, true
}
