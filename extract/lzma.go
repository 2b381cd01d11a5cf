package extract

import (
	"context"
	"encoding/binary"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// lzmaFormat is an LZMA-alone stream (the lzma command's .lzma format, also
// what U-Boot, TP-Link and many vendor kernels use): a 13-byte header
// (properties byte, dictionary size, uncompressed size) and range-coded
// data. It has no magic of its own, so Identify is strict.
type lzmaFormat struct{}

func init() { Register(lzmaFormat{}) }

func (lzmaFormat) Name() string { return "lzma" }
func (lzmaFormat) Kind() Kind   { return Stream }

// lzmaMagics are the properties byte 0x5D (lc=3 lp=0 pb=2, what every
// common encoder writes) followed by the usual dictionary sizes: 2^n and
// 2^n+2^(n-1) from 64 KiB to 2 GiB (a dictionary above the decoder's bound
// is clamped, see clampWindow: declaring one must not hide a stream).
var lzmaMagics = func() []Magic {
	var out []Magic
	for n := 16; n <= 31; n++ {
		for _, d := range []uint32{1 << n, 1<<n | 1<<(n-1)} {
			if d > 1<<31 {
				continue
			}
			b := []byte{0x5d, 0, 0, 0, 0}
			binary.LittleEndian.PutUint32(b[1:], d)
			out = append(out, Magic{0, b})
		}
	}
	return out
}()

func (lzmaFormat) Magics() []Magic { return lzmaMagics }

func (lzmaFormat) Identify(h []byte) bool { return compress.LZMAHeaderOK(h) }

func (lzmaFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (lzmaFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	if !compress.LZMAHeaderOK(readAtMost(r, 0, size, 14)) {
		return 0, ErrNotFormat
	}
	_, consumed, err := writeDecoded(ctx, "lzma", io.NewSectionReader(clampWindow("lzma", r, size, w), 0, size), w, "data")
	return consumed, err
}
