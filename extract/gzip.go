package extract

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// gzipFormat is RFC 1952 gzip.
type gzipFormat struct{}

func init() { Register(gzipFormat{}) }

func (gzipFormat) Name() string { return "gzip" }
func (gzipFormat) Kind() Kind   { return Stream }

var gzipMagics = codecMagics("gzip")

func (gzipFormat) Magics() []Magic { return gzipMagics }

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
	// a gzip file may hold many members (gzip a >> f; gzip b >> f): they
	// are one stream, one layer, not a layer each
	return unpackStream(ctx, "gzip-members", r, size, w, name)
}

// gzipMembers decodes consecutive gzip members as one stream: when a
// member ends and the next bytes start another member, decoding goes on.
// Each member is read exactly (the decoder reads byte-wise from the
// counting reader), so the bytes consumed are those of the members.
type gzipMembers struct {
	cr   *countingReader
	open func(io.Reader) (io.ReadCloser, error)
	cur  io.ReadCloser
}

func newGzipMembers(r io.Reader) (io.ReadCloser, error) {
	c, ok := compress.Get("gzip")
	if !ok || c.Stream == nil {
		return nil, errors.New("no gzip decoder")
	}
	cur, err := c.Stream(r)
	if err != nil {
		return nil, err
	}
	cr, _ := r.(*countingReader)
	return &gzipMembers{cr: cr, open: c.Stream, cur: cur}, nil
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.cur.Read(p)
		if err != io.EOF || g.cr == nil {
			return n, err
		}
		h, _ := g.cr.br.Peek(3)
		if len(h) < 3 || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
			return n, io.EOF
		}
		// reuse the decoder when it can be reset (a new one per member
		// costs its window allocation a million times over)
		if rs, ok := g.cur.(interface {
			Reset(io.Reader) error
			Multistream(bool)
		}); ok {
			if rs.Reset(g.cr) != nil {
				return n, io.EOF // a damaged header after a whole member: the stream ends there
			}
			rs.Multistream(false)
		} else {
			next, oerr := g.open(g.cr)
			if oerr != nil {
				return n, io.EOF
			}
			g.cur.Close()
			g.cur = next
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (g *gzipMembers) Close() error { return g.cur.Close() }
