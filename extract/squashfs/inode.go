package squashfs

// Basic inode types (the extended forms are these plus 7).
const (
	typeDir     = 1
	typeFile    = 2
	typeSymlink = 3
	typeBlock   = 4
	typeChar    = 5
	typeFifo    = 6
	typeSocket  = 7
)

// maxTarget bounds a symlink target (PATH_MAX).
const maxTarget = 4096

// noFragment marks a file without a fragment.
const noFragment = 0xffffffff

// Inode is a decoded inode in a version-neutral form.
type Inode struct {
	Ref      uint64 // where it was read from (block<<16 | offset)
	Type     int    // basic type, 1..7
	Extended bool
	Perm     uint16 // permission bits incl. setuid/setgid/sticky
	Number   uint32
	Nlink    uint32

	// Directories: listing position (relative to the directory table) and
	// size (the on-disk size, 3 more than the listing's length).
	DirBlock  uint32
	DirOffset uint32
	DirSize   uint32
	Parent    uint32

	// Regular files.
	BlocksStart uint64
	FileSize    uint64
	Frag        uint32
	FragOffset  uint32
	blockList   cursor // the block size list
	NumBlocks   uint64

	// Symlinks.
	Target string

	// Devices.
	Major, Minor uint32
}

// readInodeV4 decodes the SquashFS 4.0 inode at ref.
func (img *Image) readInodeV4(m *metaReader, ref uint64) (*Inode, error) {
	blk, off := ref>>16, ref&0xffff
	if ref>>48 != 0 || off >= metaSize || blk >= uint64(img.sb.DirTable-img.sb.InodeTable) {
		return nil, corruptf("inode reference %#x outside the inode table", ref)
	}
	c := cursor{m: m, pos: int64(img.sb.InodeTable + blk), off: int(off), limit: int64(img.sb.DirTable)}
	bo := img.sb.Order
	var h [16]byte
	if err := c.read(h[:]); err != nil {
		return nil, err
	}
	t := int(bo.Uint16(h[0:]))
	in := &Inode{Ref: ref, Perm: bo.Uint16(h[2:]) & 0o7777, Number: bo.Uint32(h[12:])}
	if t >= 8 && t <= 14 {
		in.Extended = true
		t -= 7
	}
	if t < 1 || t > 7 {
		return nil, corruptf("inode %#x has type %d", ref, bo.Uint16(h[0:]))
	}
	in.Type = t
	var b [40]byte
	rd := func(n int) ([]byte, error) {
		if err := c.read(b[:n]); err != nil {
			return nil, err
		}
		return b[:n], nil
	}
	switch {
	case t == typeDir && !in.Extended:
		p, err := rd(16)
		if err != nil {
			return nil, err
		}
		in.DirBlock = bo.Uint32(p[0:])
		in.Nlink = bo.Uint32(p[4:])
		in.DirSize = uint32(bo.Uint16(p[8:]))
		in.DirOffset = uint32(bo.Uint16(p[10:]))
		in.Parent = bo.Uint32(p[12:])
	case t == typeDir:
		p, err := rd(24)
		if err != nil {
			return nil, err
		}
		in.Nlink = bo.Uint32(p[0:])
		in.DirSize = bo.Uint32(p[4:])
		in.DirBlock = bo.Uint32(p[8:])
		in.Parent = bo.Uint32(p[12:])
		// index_count at 16 (the index follows; not needed), offset at 18
		in.DirOffset = uint32(bo.Uint16(p[18:]))
	case t == typeFile && !in.Extended:
		p, err := rd(16)
		if err != nil {
			return nil, err
		}
		in.BlocksStart = uint64(bo.Uint32(p[0:]))
		in.Frag = bo.Uint32(p[4:])
		in.FragOffset = bo.Uint32(p[8:])
		in.FileSize = uint64(bo.Uint32(p[12:]))
		in.Nlink = 1
	case t == typeFile:
		p, err := rd(40)
		if err != nil {
			return nil, err
		}
		in.BlocksStart = bo.Uint64(p[0:])
		in.FileSize = bo.Uint64(p[8:])
		// sparse byte count at 16
		in.Nlink = bo.Uint32(p[24:])
		in.Frag = bo.Uint32(p[28:])
		in.FragOffset = bo.Uint32(p[32:])
	case t == typeSymlink:
		p, err := rd(8)
		if err != nil {
			return nil, err
		}
		in.Nlink = bo.Uint32(p[0:])
		n := bo.Uint32(p[4:])
		if n == 0 || n > maxTarget {
			return nil, corruptf("symlink inode %#x has a target of %d bytes", ref, n)
		}
		tb := make([]byte, n)
		if err := c.read(tb); err != nil {
			return nil, err
		}
		in.Target = string(tb)
	case t == typeBlock || t == typeChar:
		p, err := rd(8)
		if err != nil {
			return nil, err
		}
		in.Nlink = bo.Uint32(p[0:])
		in.Major, in.Minor = decodeDev(bo.Uint32(p[4:]))
	default: // fifo, socket
		p, err := rd(4)
		if err != nil {
			return nil, err
		}
		in.Nlink = bo.Uint32(p[0:])
	}
	if t == typeFile {
		if err := img.fileLayout(in); err != nil {
			return nil, err
		}
		in.blockList = c
	}
	return in, nil
}

// fileLayout derives the block count of a regular file and checks it.
func (img *Image) fileLayout(in *Inode) error {
	bs := uint64(img.sb.BlockSize)
	if in.FileSize >= 1<<50 {
		return corruptf("file inode %#x has size %d", in.Ref, in.FileSize)
	}
	if in.Frag == noFragment {
		in.NumBlocks = (in.FileSize + bs - 1) / bs
	} else {
		in.NumBlocks = in.FileSize / bs
		if in.FileSize%bs == 0 {
			return corruptf("file inode %#x has a fragment but no tail", in.Ref)
		}
		if in.FragOffset >= img.sb.BlockSize || in.FileSize%bs+uint64(in.FragOffset) > bs {
			return corruptf("file inode %#x: tail at fragment offset %d does not fit a block", in.Ref, in.FragOffset)
		}
	}
	if in.BlocksStart > img.sb.BytesUsed {
		return corruptf("file inode %#x: data at %d beyond the image", in.Ref, in.BlocksStart)
	}
	return nil
}

// decodeDev splits a Linux new-style device number.
func decodeDev(d uint32) (major, minor uint32) {
	return (d >> 8) & 0xfff, (d & 0xff) | ((d >> 12) & 0xfff00)
}

// readBlockSizes reads up to len(dst) entries of a file's block list. The
// 16-bit entries of SquashFS 1.x (bit 15: stored uncompressed; a size of
// 0 stands for 32 KiB) are converted to the 32-bit form (bit 24).
func (img *Image) readBlockSizes(c *cursor, dst []uint32, raw []byte) error {
	bo := img.sb.Order
	if img.blockWord == 2 {
		raw = raw[:2*len(dst)]
		if err := c.read(raw); err != nil {
			return err
		}
		for i := range dst {
			v := bo.Uint16(raw[2*i:])
			n := uint32(v & 0x7fff)
			if n == 0 {
				n = 0x8000
			}
			if v&0x8000 != 0 {
				n |= 1 << 24
			}
			dst[i] = n
		}
		return nil
	}
	raw = raw[:4*len(dst)]
	if err := c.read(raw); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = bo.Uint32(raw[4*i:])
	}
	return nil
}
