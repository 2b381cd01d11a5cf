package extract

import (
	"context"
	"io"
)

// bzip2Format is a bzip2 stream ("BZh" + block size + block magic).
type bzip2Format struct{}

func init() { Register(bzip2Format{}) }

func (bzip2Format) Name() string { return "bzip2" }
func (bzip2Format) Kind() Kind   { return Stream }

var bzip2Magics = codecMagics("bzip2")

func (bzip2Format) Magics() []Magic { return bzip2Magics }

func (bzip2Format) Identify(h []byte) bool {
	if len(h) < 10 || h[3] < '1' || h[3] > '9' {
		return false
	}
	// first block magic (pi) or end-of-stream magic (sqrt(pi)) for empty input
	return string(h[4:10]) == "\x31\x41\x59\x26\x53\x59" || string(h[4:10]) == "\x17\x72\x45\x38\x50\x90"
}

func (bzip2Format) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (bzip2Format) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	return unpackStream(ctx, "bzip2", r, size, w, "data")
}
