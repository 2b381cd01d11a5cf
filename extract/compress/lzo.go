package compress

import (
	"fmt"

	lzo "github.com/anchore/go-lzo"
)

// lzo: a raw LZO1X block (SquashFS, JFFS2, UBIFS). The lzop file format,
// which carries such blocks, is the codec "lzop" (lzop.go).
func init() {
	Register(Codec{Name: "lzo", Block: lzoBlock})
}

func lzoBlock(dst, src []byte, maxOut int) ([]byte, error) {
	if cap(dst) < maxOut {
		dst = make([]byte, maxOut)
	}
	dst = dst[:maxOut]
	n, err := lzoDecompress(src, dst)
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}

// lzoDecompress wraps the LZO1X decoder, turning its panics on hostile
// input into errors.
func lzoDecompress(src, dst []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("lzo: corrupt block (%v)", r)
		}
	}()
	return lzo.Decompress(src, dst)
}
