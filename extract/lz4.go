package extract

import (
	"context"
	"io"
)

// lz4Format is an LZ4 frame (the lz4 command's format).
type lz4Format struct{}

func init() { Register(lz4Format{}) }

func (lz4Format) Name() string    { return "lz4" }
func (lz4Format) Kind() Kind      { return Stream }
func (lz4Format) Magics() []Magic { return []Magic{{0, []byte{0x04, 0x22, 0x4d, 0x18}}} }

func (lz4Format) Identify(h []byte) bool {
	// FLG: version 01 in bits 7-6, reserved bit 1 zero; BD: block max size 4..7
	if len(h) < 7 || h[4]>>6 != 1 || h[4]&0x02 != 0 {
		return false
	}
	bd := h[5]
	return bd&0x8f == 0 && (bd>>4)&0x7 >= 4
}

func (lz4Format) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (lz4Format) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	return unpackStream(ctx, "lz4-frame", r, size, w, "data")
}
