package compress

import (
	"bytes"
	"io"

	"github.com/pierrec/lz4/v4"
)

// lz4: the raw LZ4 block (as SquashFS stores it) and the LZ4 frame (the
// lz4 command's format; the reader also takes the legacy format Linux
// kernels and U-Boot use).
var (
	lz4FrameMagic  = []byte{0x04, 0x22, 0x4d, 0x18}
	lz4LegacyMagic = []byte{0x02, 0x21, 0x4c, 0x18}
)

func init() {
	Register(Codec{Name: "lz4",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			if cap(dst) < maxOut {
				dst = make([]byte, maxOut)
			}
			dst = dst[:maxOut]
			n, err := lz4.UncompressBlock(src, dst)
			if err != nil {
				return nil, err
			}
			return dst[:n], nil
		}})
	Register(Codec{Name: "lz4-frame", Rank: 50,
		Magics: [][]byte{lz4LegacyMagic, lz4FrameMagic},
		Kernel: [][]byte{lz4LegacyMagic},
		UImage: 5, FIT: "lz4",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			return readAllLimited(dst, lz4.NewReader(bytes.NewReader(src)), maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return nopCloser(lz4.NewReader(r)), nil }})
}
