package extract

import (
	"bufio"
	"context"
	"io"
	"path"
	"strings"
)

// countingReader counts bytes handed to a decoder. It implements
// io.ByteReader so decoders that use it (flate) consume exactly their stream.
type countingReader struct {
	br *bufio.Reader
	n  int64
}

func newCountingReader(r io.Reader) *countingReader {
	return &countingReader{br: bufio.NewReaderSize(r, 64<<10)}
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// ctxReader stops reading when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// unpackStream decompresses one stream with the named codec into a single
// file called name. Nothing is created when the stream does not decode at
// all (the candidate is then not this format). It returns the compressed
// bytes consumed (exact for codecs that read byte-wise, an upper bound
// otherwise).
func unpackStream(ctx context.Context, codec string, r io.ReaderAt, size int64, w *Writer, name string) (int64, error) {
	_, consumed, err := writeDecoded(ctx, codec, io.NewSectionReader(r, 0, size), w, name)
	return consumed, err
}

// safeName keeps the base name of a name stored in a header (gzip FNAME),
// or returns def when it is empty or odd.
func safeName(s, def string) string {
	s = path.Base(strings.ReplaceAll(s, "\\", "/"))
	if s == "." || s == "/" || s == ".." || s == "" || len(s) > 200 || strings.ContainsAny(s, "\x00") {
		return def
	}
	return s
}
