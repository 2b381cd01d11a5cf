package extract

import (
	"context"
	"encoding/binary"
	"io"
)

// lzopFormat is an lzop file (the lzop command's format: a header with the
// original name, then LZO1X blocks with checksums), decoded by the "lzop"
// codec of extract/compress. Like gzip it is written under the name its
// header stores.
type lzopFormat struct{}

func init() { Register(lzopFormat{}) }

var lzopMagics = codecMagics("lzop")

func (lzopFormat) Name() string    { return "lzop" }
func (lzopFormat) Kind() Kind      { return Stream }
func (lzopFormat) Magics() []Magic { return lzopMagics }

// lzopHeader parses what Identify and Unpack need of an lzop header: the
// stored name ("" when absent or cut off).
func lzopHeader(h []byte) (name string, ok bool) {
	if len(h) < 16 || len(lzopMagics) == 0 || string(h[:9]) != string(lzopMagics[0].Bytes) {
		return "", false
	}
	be := binary.BigEndian
	version := be.Uint16(h[9:])
	if version < 0x0900 || version >= 0x2000 { // lzop 0.9 .. 1.x
		return "", false
	}
	p := 13 // after version and library version
	if version >= 0x0940 {
		p += 2 // version needed to extract
	}
	if m := h[p]; m != 1 && m != 2 && m != 3 { // LZO1X_1, LZO1X_1_15, LZO1X_999
		return "", false
	}
	p++
	if version >= 0x0940 {
		p++ // level
	}
	if p+4 > len(h) {
		return "", true
	}
	flags := be.Uint32(h[p:])
	p += 4
	if flags&0x0800 != 0 { // filter
		p += 4
	}
	p += 8 // mode, mtime low
	if version >= 0x0940 {
		p += 4 // mtime high
	}
	if p >= len(h) || p+1+int(h[p]) > len(h) {
		return "", true
	}
	return string(h[p+1 : p+1+int(h[p])]), true
}

func (lzopFormat) Identify(h []byte) bool {
	_, ok := lzopHeader(h)
	return ok
}

func (lzopFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (lzopFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	stored, ok := lzopHeader(readHeader(r, 0, size, 512))
	if !ok {
		return 0, ErrNotFormat
	}
	return unpackStream(ctx, "lzop", r, size, w, safeName(stored, "data"))
}
