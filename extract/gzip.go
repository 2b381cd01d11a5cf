package extract

import (
	"bytes"
	"context"
	"io"
)

// gzipFormat is RFC 1952 gzip.
type gzipFormat struct{}

func init() { Register(gzipFormat{}) }

func (gzipFormat) Name() string    { return "gzip" }
func (gzipFormat) Kind() Kind      { return Stream }
func (gzipFormat) Magics() []Magic { return []Magic{{0, []byte{0x1f, 0x8b, 0x08}}} }

func (gzipFormat) Identify(h []byte) bool {
	if len(h) < 18 || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return false
	}
	if h[3]&0xe0 != 0 { // reserved flag bits
		return false
	}
	if xfl := h[8]; xfl != 0 && xfl != 2 && xfl != 4 {
		return false
	}
	return h[9] <= 13 || h[9] == 255
}

func (gzipFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (gzipFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	hdr := readHeader(r, 0, size, 1024)
	name := "data"
	if len(hdr) > 10 && hdr[3]&0x08 != 0 { // FNAME
		p := 10
		if hdr[3]&0x04 != 0 && len(hdr) > 12 { // FEXTRA
			p += 2 + int(hdr[10]) | int(hdr[11])<<8
		}
		if p < len(hdr) {
			if end := bytes.IndexByte(hdr[p:], 0); end > 0 {
				name = safeName(string(hdr[p:p+end]), "data")
			}
		}
	}
	return unpackStream(ctx, "gzip", r, size, w, name)
}
