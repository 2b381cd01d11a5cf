package squashfs

import (
	"errors"
	"fmt"
	"io"
)

// metaSize is the largest uncompressed size of a metadata block.
const metaSize = 8192

// maxMetaCache bounds the number of decoded metadata blocks kept (8 KiB
// each).
const maxMetaCache = 2048

// errCorrupt is wrapped by errors about inconsistent image content.
var errCorrupt = errors.New("corrupt squashfs")

func corruptf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, a...))
}

// metaBlock is one decoded metadata block.
type metaBlock struct {
	data []byte
	next int64 // position of the following block
}

// metaReader reads and caches metadata blocks. It is used by one goroutine
// (the directory walker) only.
type metaReader struct {
	img   *Image
	dec   decoder
	cache map[int64]*metaBlock
	bad   map[int64]error // blocks that failed to decode
}

func newMetaReader(img *Image) *metaReader {
	return &metaReader{img: img, dec: img.newDecoder(), cache: make(map[int64]*metaBlock), bad: make(map[int64]error)}
}

// block returns the metadata block at absolute position pos, which must lie
// below limit.
func (m *metaReader) block(pos, limit int64) (*metaBlock, error) {
	if b, ok := m.cache[pos]; ok {
		return b, nil
	}
	if err, ok := m.bad[pos]; ok {
		return nil, err
	}
	b, err := m.load(pos, limit)
	if err != nil {
		if len(m.bad) < maxMetaCache {
			m.bad[pos] = err
		}
		return nil, err
	}
	if len(m.cache) >= maxMetaCache {
		clear(m.cache)
	}
	m.cache[pos] = b
	return b, nil
}

func (m *metaReader) load(pos, limit int64) (*metaBlock, error) {
	if pos < 0 || pos+2 > limit {
		return nil, corruptf("metadata block at %d outside its table (ends at %d)", pos, limit)
	}
	var hdr [2]byte
	if err := m.img.readAt(hdr[:], pos); err != nil {
		return nil, err
	}
	h := m.img.metaOrder.Uint16(hdr[:])
	n := int64(h & 0x7fff)
	compressed := h&0x8000 == 0
	if n == 0 || n > metaSize {
		return nil, corruptf("metadata block at %d has length %d", pos, n)
	}
	skip := m.img.metaSkip // the CHECK marker byte of 1.x-3.x
	if pos+2+skip+n > limit {
		return nil, corruptf("metadata block at %d (%d bytes) runs past its table (ends at %d)", pos, n, limit)
	}
	src := make([]byte, n)
	if err := m.img.readAt(src, pos+2+skip); err != nil {
		return nil, err
	}
	data := src
	if compressed {
		out, err := safeDecode(m.dec, make([]byte, 0, metaSize+1), src, metaSize, -1)
		if err != nil {
			return nil, corruptf("metadata block at %d: %s: %v", pos, m.img.sb.CompressorName(), err)
		}
		data = out
	}
	return &metaBlock{data: data, next: pos + 2 + skip + n}, nil
}

// cursor reads a byte stream made of consecutive metadata blocks.
type cursor struct {
	m     *metaReader
	pos   int64 // absolute position of the current block
	off   int   // offset inside the decoded block
	limit int64 // blocks must start below limit
}

// read fills p, crossing block boundaries as needed.
func (c *cursor) read(p []byte) error {
	for len(p) > 0 {
		b, err := c.m.block(c.pos, c.limit)
		if err != nil {
			return err
		}
		if c.off > len(b.data) {
			return corruptf("offset %d beyond metadata block at %d (%d bytes)", c.off, c.pos, len(b.data))
		}
		n := copy(p, b.data[c.off:])
		p = p[n:]
		c.off += n
		if c.off == len(b.data) && len(p) > 0 {
			c.pos, c.off = b.next, 0
		}
	}
	return nil
}

// skip advances n bytes.
func (c *cursor) skip(n int64) error {
	for n > 0 {
		b, err := c.m.block(c.pos, c.limit)
		if err != nil {
			return err
		}
		avail := int64(len(b.data) - c.off)
		if avail < 0 {
			return corruptf("offset %d beyond metadata block at %d", c.off, c.pos)
		}
		if n <= avail {
			c.off += int(n)
			return nil
		}
		n -= avail
		c.pos, c.off = b.next, 0
	}
	return nil
}

// readAt reads len(p) bytes at off, reporting reads past the end of the
// input as truncation.
func (img *Image) readAt(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > img.end {
		if off+int64(len(p)) > img.size && off+int64(len(p)) <= int64(img.sb.BytesUsed) {
			return fmt.Errorf("%w: image truncated: need bytes %d-%d, input has %d (bytes_used %d)",
				io.ErrUnexpectedEOF, off, off+int64(len(p)), img.size, img.sb.BytesUsed)
		}
		return corruptf("read of %d bytes at %d outside the image (%d bytes)", len(p), off, img.sb.BytesUsed)
	}
	n, err := img.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %d bytes at %d: %w", len(p), off, err)
}
