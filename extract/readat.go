package extract

import (
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// Reading and sizing helpers every format uses.

// readHeader reads up to n bytes at off (compress.ReadHeader).
func readHeader(r io.ReaderAt, off, size int64, n int) []byte {
	return compress.ReadHeader(r, off, size, n)
}

// readAtMost reads up to n bytes at off (fewer at the end of r).
func readAtMost(r io.ReaderAt, off, size, n int64) []byte {
	if off < 0 || off >= size || n <= 0 {
		return nil
	}
	if size-off < n {
		n = size - off
	}
	buf := make([]byte, n)
	m, _ := r.ReadAt(buf, off)
	return buf[:m]
}

// roundUp rounds n up to a multiple of to (block and entry alignment).
func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// allBytes reports whether every byte of b is v (erased flash is 0xff).
func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}
