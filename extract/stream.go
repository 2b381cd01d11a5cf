package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/fwaudit/fwaudit/extract/compress"
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
// file called name. It returns the compressed bytes consumed (exact for
// codecs that read byte-wise, an upper bound otherwise).
func unpackStream(ctx context.Context, codec string, r io.ReaderAt, size int64, w *Writer, name string) (int64, error) {
	c, ok := compress.Get(codec)
	if !ok || c.Stream == nil {
		return 0, fmt.Errorf("no stream decoder for %s", codec)
	}
	cr := newCountingReader(io.NewSectionReader(r, 0, size))
	dr, err := c.Stream(cr)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNotFormat, err)
	}
	defer dr.Close()
	f, err := w.Create(name, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyBuffer(f, ctxReader{ctx, dr}, make([]byte, 256<<10))
	cerr := f.Close()
	if err == nil {
		err = cerr
	}
	if err != nil {
		if n == 0 && !IsLimit(err) && !errors.Is(err, context.Canceled) {
			return cr.n, fmt.Errorf("%w: %v", ErrNotFormat, err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = fmt.Errorf("truncated stream after %d bytes of output: %w", n, err)
		}
		return cr.n, err
	}
	return cr.n, nil
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
