package squashfs

// maxDirEntries bounds the entries of one directory.
const maxDirEntries = 1 << 20

// maxName bounds an entry name (SQUASHFS_NAME_LEN).
const maxName = 256

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name   string
	Ref    uint64 // inode reference
	Type   int    // basic type as the listing states it
	Number uint32
}

// readDirV4 reads the SquashFS 4.0 listing of directory in.
func (img *Image) readDirV4(m *metaReader, in *Inode) ([]DirEntry, error) {
	if in.DirSize < 3 {
		return nil, corruptf("directory inode %#x has size %d", in.Ref, in.DirSize)
	}
	left := int64(in.DirSize) - 3
	if left == 0 {
		return nil, nil
	}
	if in.DirOffset >= metaSize || uint64(in.DirBlock) >= img.sb.BytesUsed-img.sb.DirTable {
		return nil, corruptf("directory inode %#x: listing at %d+%d outside the directory table", in.Ref, in.DirBlock, in.DirOffset)
	}
	bo := img.sb.Order
	c := cursor{m: m, pos: int64(img.sb.DirTable) + int64(in.DirBlock), off: int(in.DirOffset), limit: int64(img.sb.BytesUsed)}
	var out []DirEntry
	var b [12]byte
	name := make([]byte, maxName)
	for left > 0 {
		if left < 12 {
			return out, corruptf("directory inode %#x: %d stray bytes at the end of its listing", in.Ref, left)
		}
		if err := c.read(b[:12]); err != nil {
			return out, err
		}
		left -= 12
		count := int64(bo.Uint32(b[0:])) + 1
		start := bo.Uint32(b[4:])
		base := bo.Uint32(b[8:])
		if count > 256 {
			return out, corruptf("directory inode %#x: header with %d entries", in.Ref, count)
		}
		for i := int64(0); i < count; i++ {
			if left < 8 {
				return out, corruptf("directory inode %#x: listing ends inside an entry", in.Ref)
			}
			if err := c.read(b[:8]); err != nil {
				return out, err
			}
			off := bo.Uint16(b[0:])
			delta := int16(bo.Uint16(b[2:]))
			typ := int(bo.Uint16(b[4:]))
			n := int64(bo.Uint16(b[6:])) + 1
			left -= 8
			if n > maxName || n > left {
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
				Ref:    uint64(start)<<16 | uint64(off),
				Type:   typ,
				Number: uint32(int64(base) + int64(delta)),
			})
		}
	}
	return out, nil
}
