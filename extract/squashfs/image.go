package squashfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// Image is an opened SquashFS image.
type Image struct {
	r    io.ReaderAt
	size int64 // bytes available in r
	end  int64 // min(size, bytes_used)
	sb   *Superblock

	codec compress.Block

	// metaOrder is the byte order of metadata block headers: that of the
	// superblock, except in AVM's big-endian SquashFS 4, whose headers
	// are little-endian.
	metaOrder binary.ByteOrder
}

// Open reads and checks the superblock of the image held by r (size bytes)
// and prepares the decompressor. Errors wrap ErrNotSquashfs when the bytes
// are not a SquashFS superblock and ErrUnsupported for variants not read.
func Open(r io.ReaderAt, size int64) (*Image, error) {
	hdr := make([]byte, SuperblockSize)
	n, _ := r.ReadAt(hdr, 0)
	sb, err := ParseSuperblock(hdr[:n])
	if err != nil {
		return nil, err
	}
	img := &Image{r: r, size: size, sb: sb}
	img.end = min(size, int64(sb.BytesUsed))
	c, ok := compress.Get(codecNames[sb.Compressor])
	if !ok || c.Block == nil {
		return nil, fmt.Errorf("%w: no decoder for %s", ErrUnsupported, sb.CompressorName())
	}
	img.codec = c.Block
	img.metaOrder = sb.Order
	if sb.Order == binary.BigEndian {
		var h [2]byte
		if img.readAt(h[:], int64(sb.InodeTable)) == nil {
			if n := binary.BigEndian.Uint16(h[:]) & 0x7fff; n == 0 || n > metaSize {
				img.metaOrder = binary.LittleEndian
			}
		}
	}
	return img, nil
}

// Superblock returns the decoded superblock.
func (img *Image) Superblock() *Superblock { return img.sb }

// Truncated reports whether the input is shorter than bytes_used.
func (img *Image) Truncated() bool { return img.size < int64(img.sb.BytesUsed) }

// fragEntry returns where fragment block idx is stored.
func (img *Image) fragEntry(m *metaReader, idx uint32) (pos int64, size uint32, err error) {
	sb := img.sb
	if sb.FragTable == noTable || idx >= sb.FragCount {
		return 0, 0, corruptf("fragment %d of %d", idx, sb.FragCount)
	}
	ip := sb.FragTable + 8*uint64(idx/512)
	if ip+8 > sb.BytesUsed {
		return 0, 0, corruptf("fragment index %d outside the image", idx)
	}
	var p [8]byte
	if err := img.readAt(p[:], int64(ip)); err != nil {
		return 0, 0, err
	}
	blk := sb.Order.Uint64(p[:])
	if blk >= sb.FragTable {
		return 0, 0, corruptf("fragment table block at %d not before the fragment index", blk)
	}
	c := cursor{m: m, pos: int64(blk), off: int(idx%512) * 16, limit: int64(sb.FragTable)}
	var e [16]byte
	if err := c.read(e[:]); err != nil {
		return 0, 0, err
	}
	start := sb.Order.Uint64(e[0:])
	size = sb.Order.Uint32(e[8:])
	cs := uint64(size & 0xffffff)
	if size&^(1<<24|0xffffff) != 0 || cs == 0 || cs > uint64(sb.BlockSize) || start+cs > sb.BytesUsed {
		return 0, 0, corruptf("fragment %d: %d bytes at %d", idx, cs, start)
	}
	return int64(start), size, nil
}

// errList keeps the first error and a count.
type errList struct {
	first error
	n     int
}

func (e *errList) add(err error) {
	if err == nil {
		return
	}
	if e.first == nil {
		e.first = err
	}
	e.n++
}

func (e *errList) err() error {
	switch {
	case e.first == nil:
		return nil
	case e.n == 1:
		return e.first
	default:
		return fmt.Errorf("%d entries could not be extracted; first: %w", e.n, e.first)
	}
}

// IsCorrupt reports whether err is about inconsistent image content.
func IsCorrupt(err error) bool { return errors.Is(err, errCorrupt) }
