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
	// metaSkip is the number of bytes between a metadata block header and
	// its data: 1 in SquashFS 1.x-3.x images with the CHECK flag (a
	// marker byte), else 0.
	metaSkip int64
	// blockWord is the size of a block list entry: 2 in SquashFS 1.x,
	// else 4.
	blockWord int

	vs variantState // compression variants (variant.go)
}

// Open reads and checks the superblock of the image held by r (size bytes)
// and prepares the decompressor. Errors wrap ErrNotSquashfs when the bytes
// are not a SquashFS superblock and ErrUnsupported for variants not read.
func Open(r io.ReaderAt, size int64) (*Image, error) {
	hdr := make([]byte, MaxSuperblockSize)
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
	img.blockWord = 4
	if sb.Major < 4 {
		if sb.Flags&oldFlagCheck != 0 {
			img.metaSkip = 1
		}
		if sb.Major == 1 {
			img.blockWord = 2
		}
	}
	img.vs.init(sb)
	if sb.Order == binary.BigEndian && sb.Major == 4 {
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
	ixLen, entLen := sb.fragLayout()
	per := metaSize / entLen
	ip := sb.FragTable + ixLen*(uint64(idx)/per)
	if ip+ixLen > sb.BytesUsed {
		return 0, 0, corruptf("fragment index %d outside the image", idx)
	}
	var p [8]byte
	if err := img.readAt(p[:ixLen], int64(ip)); err != nil {
		return 0, 0, err
	}
	var blk uint64
	if ixLen == 4 {
		blk = uint64(sb.Order.Uint32(p[:]))
	} else {
		blk = sb.Order.Uint64(p[:])
	}
	if blk >= sb.FragTable {
		return 0, 0, corruptf("fragment table block at %d not before the fragment index", blk)
	}
	c := cursor{m: m, pos: int64(blk), off: int(uint64(idx) % per * entLen), limit: int64(sb.FragTable)}
	var e [16]byte
	if err := c.read(e[:entLen]); err != nil {
		return 0, 0, err
	}
	var start uint64
	if entLen == 8 { // 2.x: 32-bit start and size
		start, size = uint64(sb.Order.Uint32(e[0:])), sb.Order.Uint32(e[4:])
	} else {
		start, size = sb.Order.Uint64(e[0:]), sb.Order.Uint32(e[8:])
	}
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
