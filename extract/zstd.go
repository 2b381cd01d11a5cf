package extract

import (
	"context"
	"io"
)

// zstdFormat is a Zstandard frame.
type zstdFormat struct{}

func init() { Register(zstdFormat{}) }

func (zstdFormat) Name() string { return "zstd" }
func (zstdFormat) Kind() Kind   { return Stream }

var zstdMagics = codecMagics("zstd")

func (zstdFormat) Magics() []Magic { return zstdMagics }

func (zstdFormat) Identify(h []byte) bool {
	// frame header descriptor: reserved bit 3 must be zero
	return len(h) >= 6 && h[4]&0x08 == 0
}

func (zstdFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (zstdFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	return unpackStream(ctx, "zstd", clampWindow("zstd", r, size, w), size, w, "data")
}
