package squashfs

import (
	"encoding/binary"
	"fmt"
)

// SquashFS 1.x-3.x.
//
// Their superblock, inodes and directory entries are packed C bitfield
// structures written in the byte order of the machine that made the image:
// GCC allocates bitfields from the least significant bit of the first byte
// on a little-endian machine and from the most significant bit on a
// big-endian one. field() reads them in both orders; the bit positions
// below are those of squashfs-tools' SQUASHFS_SWAP_* macros.
//
// Layout differences handled here: 1.x has 3-byte base inodes, 4-bit uid
// indexes folded into the inode type, 16-bit block sizes and no fragments;
// 2.x has 4-byte base inodes without inode numbers or link counts, 32-bit
// table positions and 8-byte fragment entries; 3.x has 12-byte base inodes,
// 64-bit positions, 16-byte fragment entries and large files (type 9).
// Directory sizes of 3.x count 3 bytes more than the listing (as in 4.0),
// those of 1.x and 2.x do not. When the CHECK flag is set, every metadata
// block header is followed by a marker byte.

// Superblock flags of SquashFS 1.x-3.x (one byte at offset 36).
const (
	oldFlagCheck  = 0x04
	oldFlagExport = 0x80
)

// oldSuperSize is the on-disk superblock size per major version.
var oldSuperSize = [4]int{0, 51, 63, 119}

// parseOld decodes a SquashFS 1.x-3.x superblock (the version at offset 28
// is 1, 2 or 3 in byte order bo).
func parseOld(b []byte, bo binary.ByteOrder) (*Superblock, error) {
	major := bo.Uint16(b[28:])
	size := oldSuperSize[major]
	if len(b) < size {
		return nil, fmt.Errorf("%w: too short", ErrNotSquashfs)
	}
	s := &Superblock{
		Order:       bo,
		Major:       major,
		Minor:       bo.Uint16(b[30:]),
		InodeCount:  bo.Uint32(b[4:]),
		BlockLog:    bo.Uint16(b[34:]),
		Flags:       uint16(b[36]),
		IDCount:     uint16(b[37]),
		ModTime:     bo.Uint32(b[39:]),
		RootInode:   bo.Uint64(b[43:]),
		Compressor:  CompGzip,
		FragTable:   noTable,
		ExportTable: noTable,
		XattrTable:  noTable,
		Size:        size,
		Magic:       string(b[:4]),
	}
	if s.Magic == "shsq" || s.Magic == "qshs" {
		s.Compressor = CompLZMA // the sqlzma magic
	}
	switch major {
	case 1:
		s.BlockSize = uint32(bo.Uint16(b[32:]))
	default:
		s.BlockSize = bo.Uint32(b[51:])
	}
	if major < 3 {
		s.BytesUsed = uint64(bo.Uint32(b[8:]))
		s.IDTable = uint64(bo.Uint32(b[12:]))
		s.InodeTable = uint64(bo.Uint32(b[20:]))
		s.DirTable = uint64(bo.Uint32(b[24:]))
	}
	switch major {
	case 2:
		s.FragCount = bo.Uint32(b[55:])
		s.FragTable = uint64(bo.Uint32(b[59:]))
	case 3:
		s.FragCount = bo.Uint32(b[55:])
		s.BytesUsed = bo.Uint64(b[63:])
		s.IDTable = bo.Uint64(b[71:])
		s.InodeTable = bo.Uint64(b[87:])
		s.DirTable = bo.Uint64(b[95:])
		s.FragTable = bo.Uint64(b[103:])
		if s.Flags&oldFlagExport != 0 {
			s.ExportTable = bo.Uint64(b[111:])
		}
	}
	if s.FragCount == 0 {
		s.FragTable = noTable
	}
	// The minor version is not checked: vendor tools write odd ones (2.76,
	// 3.76).
	switch {
	case s.BlockLog < 12 || s.BlockLog > 20 || s.BlockSize != 1<<s.BlockLog:
		return nil, fmt.Errorf("%w: squashfs %d: block size %d, log %d", ErrNotSquashfs, major, s.BlockSize, s.BlockLog)
	case s.InodeCount == 0:
		return nil, fmt.Errorf("%w: inode count 0", ErrNotSquashfs)
	case s.BytesUsed < uint64(size) || s.BytesUsed >= 1<<40:
		return nil, fmt.Errorf("%w: bytes_used %d", ErrNotSquashfs, s.BytesUsed)
	}
	if err := s.validateOldTables(); err != nil {
		return s, corruptf("superblock: %v", err)
	}
	return s, nil
}

// fragLayout returns the sizes of a fragment index entry and of a
// fragment entry.
func (s *Superblock) fragLayout() (index, entry uint64) {
	switch s.Major {
	case 2:
		return 4, 8
	default: // 3.x and 4.0
		return 8, 16
	}
}

func (s *Superblock) validateOldTables() error {
	end := s.BytesUsed
	if s.InodeTable < uint64(s.Size) || s.InodeTable >= end {
		return fmt.Errorf("inode table at %d outside the image (%d bytes)", s.InodeTable, end)
	}
	if s.DirTable <= s.InodeTable || s.DirTable >= end {
		return fmt.Errorf("directory table at %d not after the inode table", s.DirTable)
	}
	if s.FragCount > 0 {
		ix, ent := s.fragLayout()
		n := (uint64(s.FragCount)*ent + metaSize - 1) / metaSize
		if s.FragTable <= s.DirTable || s.FragTable+n*ix > end {
			return fmt.Errorf("fragment table at %d outside the image", s.FragTable)
		}
	}
	rootBlock, rootOff := s.RootInode>>16, s.RootInode&0xffff
	if s.RootInode>>48 != 0 || rootOff >= metaSize || s.InodeTable+rootBlock >= s.DirTable {
		return fmt.Errorf("root inode reference %#x outside the inode table", s.RootInode)
	}
	return nil
}

// field reads the bitfield of width bits at bit position pos of a packed
// structure (width <= 57 unless byte-aligned, <= 64).
func field(b []byte, be bool, pos, width int) uint64 {
	first, last := pos/8, (pos+width-1)/8
	var v uint64
	if be {
		for i := first; i <= last; i++ {
			v = v<<8 | uint64(b[i])
		}
		v >>= uint((last+1)*8 - pos - width)
	} else {
		for i := last; i >= first; i-- {
			v = v<<8 | uint64(b[i])
		}
		v >>= uint(pos % 8)
	}
	if width < 64 {
		v &= 1<<uint(width) - 1
	}
	return v
}

// readInode decodes the inode at ref, whatever the version.
func (img *Image) readInode(m *metaReader, ref uint64) (*Inode, error) {
	if img.sb.Major == 4 {
		return img.readInodeV4(m, ref)
	}
	return img.readInodeOld(m, ref)
}

// readDir reads the listing of directory in, whatever the version.
func (img *Image) readDir(m *metaReader, in *Inode) ([]DirEntry, error) {
	if img.sb.Major == 4 {
		return img.readDirV4(m, in)
	}
	return img.readDirOld(m, in)
}

// readInodeOld decodes a SquashFS 1.x-3.x inode.
func (img *Image) readInodeOld(m *metaReader, ref uint64) (*Inode, error) {
	sb := img.sb
	blk, off := ref>>16, ref&0xffff
	if ref>>48 != 0 || off >= metaSize || blk >= sb.DirTable-sb.InodeTable {
		return nil, corruptf("inode reference %#x outside the inode table", ref)
	}
	c := cursor{m: m, pos: int64(sb.InodeTable + blk), off: int(off), limit: int64(sb.DirTable)}
	be := sb.Order == binary.BigEndian
	var b [48]byte
	have := 0
	need := func(n int) error {
		if n > have {
			if err := c.read(b[have:n]); err != nil {
				return err
			}
			have = n
		}
		return nil
	}
	f := func(pos, width int) uint64 { return field(b[:have], be, pos, width) }
	major := sb.Major
	if err := need([4]int{0, 3, 4, 12}[major]); err != nil {
		return nil, err
	}
	raw := int(f(0, 4))
	in := &Inode{Ref: ref, Perm: uint16(f(4, 12)) & 0o7777, Nlink: 1, Frag: noFragment}
	t := raw
	switch major {
	case 1:
		// Types above 5 carry the high bits of the uid index; 0 is a
		// fifo or socket, told apart by the next field.
		if t == 0 {
			if err := need(4); err != nil {
				return nil, err
			}
			t = typeFifo
			if f(24, 4) == typeSocket {
				t = typeSocket
			}
		} else {
			t = (t-1)%5 + 1
		}
	case 2:
		if t == 8 {
			t, in.Extended = typeDir, true
		}
	case 3:
		in.Number = uint32(f(64, 32))
		switch t {
		case 8:
			t, in.Extended = typeDir, true
		case 9:
			t, in.Extended = typeFile, true
		}
	}
	if t < 1 || t > 7 {
		return nil, corruptf("inode %#x has type %d", ref, raw)
	}
	in.Type = t
	type layout struct {
		size int
		// bit positions (a width of 0: absent)
		nlink, dsize, dsizeW, doff, dblock, dblockW, parent int
	}
	var err error
	switch {
	case t == typeDir:
		var l layout
		switch {
		case major == 1:
			l = layout{size: 14, dsize: 24, dsizeW: 19, doff: 43, dblock: 88, dblockW: 24}
		case major == 2 && !in.Extended:
			l = layout{size: 15, dsize: 32, dsizeW: 19, doff: 51, dblock: 96, dblockW: 24}
		case major == 2:
			l = layout{size: 18, dsize: 32, dsizeW: 27, doff: 59, dblock: 104, dblockW: 24}
		case !in.Extended:
			l = layout{size: 28, nlink: 96, dsize: 128, dsizeW: 19, doff: 147, dblock: 160, dblockW: 32, parent: 192}
		default:
			l = layout{size: 31, nlink: 96, dsize: 128, dsizeW: 27, doff: 155, dblock: 168, dblockW: 32, parent: 216}
		}
		if err = need(l.size); err != nil {
			return nil, err
		}
		in.DirSize = uint32(f(l.dsize, l.dsizeW))
		if major < 3 {
			in.DirSize += 3 // as in 3.x and 4.0: "." and ".." counted
		}
		in.DirOffset = uint32(f(l.doff, 13))
		in.DirBlock = uint32(f(l.dblock, l.dblockW))
		if l.nlink > 0 {
			in.Nlink = uint32(f(l.nlink, 32))
			in.Parent = uint32(f(l.parent, 32))
		}
	case t == typeFile:
		switch {
		case major == 1:
			if err = need(15); err == nil {
				in.BlocksStart, in.FileSize = f(56, 32), f(88, 32)
			}
		case major == 2:
			if err = need(24); err == nil {
				in.BlocksStart, in.Frag, in.FragOffset, in.FileSize = f(64, 32), uint32(f(96, 32)), uint32(f(128, 32)), f(160, 32)
			}
		case !in.Extended:
			if err = need(32); err == nil {
				in.BlocksStart, in.Frag, in.FragOffset, in.FileSize = f(96, 64), uint32(f(160, 32)), uint32(f(192, 32)), f(224, 32)
			}
		default:
			if err = need(40); err == nil {
				in.Nlink = uint32(f(96, 32))
				in.BlocksStart, in.Frag, in.FragOffset, in.FileSize = f(128, 64), uint32(f(192, 32)), uint32(f(224, 32)), f(256, 64)
			}
		}
		if err != nil {
			return nil, err
		}
		if sb.FragCount == 0 && in.Frag != noFragment {
			return nil, corruptf("file inode %#x has fragment %d in an image without fragments", ref, in.Frag)
		}
		if err := img.fileLayout(in); err != nil {
			return nil, err
		}
		in.blockList = c
	default: // symlink, devices, fifo, socket
		pos := [4]int{0, 24, 32, 128}[major]
		if major == 3 {
			if err = need(16); err != nil {
				return nil, err
			}
			in.Nlink = uint32(f(96, 32))
		}
		if t == typeFifo || t == typeSocket {
			break
		}
		if err = need(pos/8 + 2); err != nil {
			return nil, err
		}
		v := uint32(f(pos, 16))
		if t == typeSymlink {
			if v == 0 || v > maxTarget {
				return nil, corruptf("symlink inode %#x has a target of %d bytes", ref, v)
			}
			tb := make([]byte, v)
			if err := c.read(tb); err != nil {
				return nil, err
			}
			in.Target = string(tb)
		} else {
			in.Major, in.Minor = v>>8&0xff, v&0xff
		}
	}
	return in, nil
}

// readDirOld reads a SquashFS 1.x-3.x directory listing.
func (img *Image) readDirOld(m *metaReader, in *Inode) ([]DirEntry, error) {
	sb := img.sb
	if in.DirSize < 3 {
		return nil, corruptf("directory inode %#x has size %d", in.Ref, in.DirSize)
	}
	left := int64(in.DirSize) - 3
	if left == 0 {
		return nil, nil
	}
	if in.DirOffset >= metaSize || uint64(in.DirBlock) >= sb.BytesUsed-sb.DirTable {
		return nil, corruptf("directory inode %#x: listing at %d+%d outside the directory table", in.Ref, in.DirBlock, in.DirOffset)
	}
	be := sb.Order == binary.BigEndian
	v3 := sb.Major == 3
	hdrLen, entLen := int64(4), int64(3)
	if v3 {
		hdrLen, entLen = 9, 5
	}
	c := cursor{m: m, pos: int64(sb.DirTable) + int64(in.DirBlock), off: int(in.DirOffset), limit: int64(sb.BytesUsed)}
	var out []DirEntry
	var b [9]byte
	name := make([]byte, maxName)
	for left > 0 {
		if left < hdrLen {
			return out, corruptf("directory inode %#x: %d stray bytes at the end of its listing", in.Ref, left)
		}
		if err := c.read(b[:hdrLen]); err != nil {
			return out, err
		}
		left -= hdrLen
		count := int64(field(b[:hdrLen], be, 0, 8)) + 1
		var start, base uint64
		if v3 {
			start, base = field(b[:hdrLen], be, 8, 32), field(b[:hdrLen], be, 40, 32)
		} else {
			start = field(b[:hdrLen], be, 8, 24)
		}
		for i := int64(0); i < count; i++ {
			if left < entLen {
				return out, corruptf("directory inode %#x: listing ends inside an entry", in.Ref)
			}
			if err := c.read(b[:entLen]); err != nil {
				return out, err
			}
			e := b[:entLen]
			off := field(e, be, 0, 13)
			typ := int(field(e, be, 13, 3))
			n := int64(field(e, be, 16, 8)) + 1
			var delta int64
			if v3 {
				delta = int64(int16(field(e, be, 24, 16)))
			}
			left -= entLen
			if n > left {
				return out, corruptf("directory inode %#x: entry name of %d bytes", in.Ref, n)
			}
			if err := c.read(name[:n]); err != nil {
				return out, err
			}
			left -= n
			if len(out) >= maxDirEntries {
				return out, corruptf("directory inode %#x has more than %d entries", in.Ref, maxDirEntries)
			}
			out = append(out, DirEntry{
				Name:   string(name[:n]),
				Ref:    start<<16 | off,
				Type:   typ,
				Number: uint32(int64(base) + delta),
			})
		}
	}
	return out, nil
}
