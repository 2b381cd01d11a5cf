package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// cramfsFormat is cramfs, the compressed read-only file system of older
// embedded Linux devices: v1 and v2 ("Compressed ROMFS", magic 0x28cd3d45)
// in either byte order, zlib-compressed blocks (4 KiB pages by default;
// other block sizes are detected), holes, symlinks and device nodes.
type cramfsFormat struct{}

func init() { Register(cramfsFormat{}) }

const (
	cramfsMagic    = 0x28cd3d45
	cramfsSig      = "Compressed ROMFS"
	cramfsSuperLen = 76
	cramfsInodeLen = 12

	cramfsFlagV2        = 0x1
	cramfsFlagHoles     = 0x100
	cramfsFlagExtPtrs   = 0x800
	cramfsBlkUncompress = 1 << 31
	cramfsBlkDirect     = 1 << 30
)

func (cramfsFormat) Name() string { return "cramfs" }
func (cramfsFormat) Kind() Kind   { return Filesystem }
func (cramfsFormat) Magics() []Magic {
	return []Magic{
		{0, []byte{0x45, 0x3d, 0xcd, 0x28}},
		{0, []byte{0x28, 0xcd, 0x3d, 0x45}},
	}
}

type cramfsSuper struct {
	bo     binary.ByteOrder
	size   uint32
	flags  uint32
	crc    uint32
	files  uint32
	blocks uint32
	root   cramfsInode
}

type cramfsInode struct {
	mode    uint32
	size    uint32
	namelen int // bytes
	offset  int64
}

func cramfsParseInode(b []byte, bo binary.ByteOrder) cramfsInode {
	var in cramfsInode
	if bo == binary.LittleEndian {
		w0, w1, w2 := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
		in.mode = w0 & 0xffff
		in.size = w1 & 0xffffff
		in.namelen = int(w2&0x3f) * 4
		in.offset = int64(w2>>6) * 4
	} else {
		// big-endian bit fields are allocated from the most significant bit
		w0, w1, w2 := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
		in.mode = w0 >> 16
		in.size = w1 >> 8
		in.namelen = int(w2>>26) * 4
		in.offset = int64(w2&0x3ffffff) * 4
	}
	return in
}

func cramfsParseSuper(h []byte) (*cramfsSuper, bool) {
	if len(h) < cramfsSuperLen {
		return nil, false
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(h) == cramfsMagic:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint32(h) == cramfsMagic:
		bo = binary.BigEndian
	default:
		return nil, false
	}
	if string(h[16:32]) != cramfsSig {
		return nil, false
	}
	s := &cramfsSuper{bo: bo, size: bo.Uint32(h[4:]), flags: bo.Uint32(h[8:]),
		crc: bo.Uint32(h[32:]), blocks: bo.Uint32(h[40:]), files: bo.Uint32(h[44:])}
	s.root = cramfsParseInode(h[64:], bo)
	if s.root.mode&sIFMT != sIFDIR {
		return nil, false
	}
	if s.flags&cramfsFlagV2 != 0 && s.size < cramfsSuperLen {
		return nil, false
	}
	return s, true
}

func (cramfsFormat) Identify(h []byte) bool {
	_, ok := cramfsParseSuper(h)
	return ok
}

func (cramfsFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	s, ok := cramfsParseSuper(readHeader(r, 0, size, cramfsSuperLen))
	if !ok {
		return 0, fmt.Errorf("%w: no cramfs superblock", ErrNotFormat)
	}
	if s.flags&cramfsFlagV2 == 0 || s.size == 0 {
		return -1, nil // v1: the size field is not reliable
	}
	return min(int64(s.size), size), nil
}

type cramfsExtract struct {
	s       *cramfsSuper
	r       io.ReaderAt
	size    int64 // bytes of the image available
	w       *Writer
	ctx     context.Context
	ee      entryErrors
	blksize int64
	zlib    compress.Block
	src     []byte
	dst     []byte
	maxEnd  int64 // end of the furthest byte read (the extent of a v1 image)
}

func (cramfsFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	s, ok := cramfsParseSuper(readHeader(r, 0, size, cramfsSuperLen))
	if !ok {
		return 0, fmt.Errorf("%w: no cramfs superblock", ErrNotFormat)
	}
	end := size
	if s.flags&cramfsFlagV2 != 0 && s.size > 0 {
		if int64(s.size) > size {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("cramfs: superblock size %d but only %d bytes present (truncated)", s.size, size))
		} else {
			end = int64(s.size)
		}
		if end == int64(s.size) {
			cramfsCheckCRC(r, end, s, w)
		}
	}
	if s.flags&^0xfff != 0 {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("cramfs: unknown superblock flags %#x", s.flags))
	}
	zl, _ := compress.Get("zlib")
	x := &cramfsExtract{s: s, r: r, size: end, w: w, ctx: ctx, ee: entryErrors{w: w}, blksize: 4096, zlib: zl.Block}
	if x.s.root.offset != 0 && (x.s.root.offset < cramfsSuperLen || x.s.root.offset >= end) {
		return 0, fmt.Errorf("%w: root directory at %d outside the image", ErrNotFormat, x.s.root.offset)
	}
	x.detectBlockSize()
	err := x.tree()
	if s.flags&cramfsFlagV2 == 0 {
		return roundUp(max(x.maxEnd, cramfsSuperLen), 4), err
	}
	return end, err
}

// cramfsCheckCRC checks the v2 CRC: CRC-32 of the image with the CRC
// field zeroed.
func cramfsCheckCRC(r io.ReaderAt, size int64, s *cramfsSuper, w *Writer) {
	h := crc32.NewIEEE()
	buf := make([]byte, 64<<10)
	for off := int64(0); off < size; {
		n := int(min(int64(len(buf)), size-off))
		k, _ := r.ReadAt(buf[:n], off)
		if k < n {
			return
		}
		if off == 0 {
			for i := 32; i < 36 && i < n; i++ {
				buf[i] = 0
			}
		}
		h.Write(buf[:n])
		off += int64(n)
	}
	if h.Sum32() != s.crc {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("cramfs: image CRC %08x, superblock says %08x", h.Sum32(), s.crc))
	}
}

func (x *cramfsExtract) read(off int64, n int) []byte {
	if off < 0 || n < 0 || off+int64(n) > x.size {
		return nil
	}
	b := make([]byte, n)
	if k, _ := x.r.ReadAt(b, off); k < n {
		return nil
	}
	x.maxEnd = max(x.maxEnd, off+int64(n))
	return b
}

// detectBlockSize finds the block size from the first file larger than a
// page: the one whose block pointers are consistent and whose first block
// inflates to exactly one block.
func (x *cramfsExtract) detectBlockSize() {
	var probe *cramfsInode
	var walk func(dir cramfsInode, depth int)
	seen := 0
	walk = func(dir cramfsInode, depth int) {
		if probe != nil || depth > 8 {
			return
		}
		x.entries(dir, func(in cramfsInode, _ string) bool {
			seen++
			if seen > 4096 {
				return false
			}
			switch in.mode & sIFMT {
			case sIFREG:
				if in.size > 4096 {
					c := in
					probe = &c
					return false
				}
			case sIFDIR:
				walk(in, depth+1)
			}
			return probe == nil
		})
	}
	walk(x.s.root, 0)
	if probe == nil {
		return
	}
	for _, bs := range []int64{4096, 8192, 16384, 32768, 65536, 131072} {
		nblk := (int64(probe.size) + bs - 1) / bs
		ptrs := x.read(probe.offset, int(nblk*4))
		if ptrs == nil {
			continue
		}
		start := probe.offset + nblk*4
		p0 := int64(x.s.bo.Uint32(ptrs) &^ (cramfsBlkUncompress | cramfsBlkDirect))
		if p0 <= start || p0 > x.size || p0-start > 2*bs {
			continue
		}
		out, err := x.zlib(nil, x.read(start, int(p0-start)), int(bs))
		if err == nil && int64(len(out)) == min(bs, int64(probe.size)) {
			x.blksize = bs
			if bs != 4096 {
				x.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("cramfs: block size %d (not 4096)", bs))
			}
			return
		}
	}
}

// entries calls fn for each entry of the directory dir, until it returns
// false.
func (x *cramfsExtract) entries(dir cramfsInode, fn func(in cramfsInode, name string) bool) {
	if dir.size == 0 {
		return
	}
	data := x.read(dir.offset, int(dir.size))
	if data == nil {
		x.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("cramfs: directory at %d (%d bytes) runs past the image", dir.offset, dir.size))
		return
	}
	for p := 0; p+cramfsInodeLen <= len(data); {
		in := cramfsParseInode(data[p:], x.s.bo)
		p += cramfsInodeLen
		if in.namelen == 0 || p+in.namelen > len(data) {
			x.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("cramfs: bad directory entry at %d", dir.offset+int64(p)))
			return
		}
		name := string(bytes.TrimRight(data[p:p+in.namelen], "\x00"))
		p += in.namelen
		if !fn(in, name) {
			return
		}
	}
}

// tree writes the file system through the shared inode-tree writer: a
// cramfs directory entry holds its inode, whose offset identifies a
// non-empty directory.
func (x *cramfsExtract) tree() error {
	id := func(in cramfsInode) uint64 {
		if in.mode&sIFMT == sIFDIR && in.size == 0 {
			return 0 // empty directories all point at offset 0
		}
		return uint64(in.offset)
	}
	t := &fsTree[cramfsInode]{fs: "cramfs", idWord: "at offset", w: x.w, ee: &x.ee,
		root: fsDirent[cramfsInode]{key: x.s.root, id: id(x.s.root)},
		children: func(dir cramfsInode) []fsDirent[cramfsInode] {
			var out []fsDirent[cramfsInode]
			x.entries(dir, func(in cramfsInode, name string) bool {
				out = append(out, fsDirent[cramfsInode]{name, in, id(in)})
				return true
			})
			return out
		},
		inode: func(p string, d fsDirent[cramfsInode]) (fsInode, bool) {
			in := d.key
			return fsInode{mode: in.mode, size: int64(in.size),
				data: func(out io.Writer) error { return x.content(p, in, out) },
				// a device's size field holds its number (old_decode_dev)
				major: (in.size >> 8) & 0xff, minor: in.size & 0xff}, true
		}}
	_, err := t.write(x.ctx)
	return err
}

// content writes the blocks of a file: a table of block end pointers,
// then the zlib blocks.
func (x *cramfsExtract) content(p string, in cramfsInode, out io.Writer) error {
	if in.size == 0 {
		return nil
	}
	bs := x.blksize
	nblk := (int64(in.size) + bs - 1) / bs
	ptrs := x.read(in.offset, int(nblk*4))
	if ptrs == nil {
		return fmt.Errorf("cramfs: block table at %d runs past the image", in.offset)
	}
	ext := x.s.flags&cramfsFlagExtPtrs != 0
	start := in.offset + nblk*4
	left := int64(in.size)
	var zeros []byte
	for i := int64(0); i < nblk; i++ {
		if i%64 == 0 {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		want := min(bs, left)
		ptr := x.s.bo.Uint32(ptrs[4*i:])
		uncompressed := false
		if ext {
			if ptr&cramfsBlkDirect != 0 {
				return fmt.Errorf("cramfs: direct block pointers are not supported")
			}
			uncompressed = ptr&cramfsBlkUncompress != 0
			ptr &^= cramfsBlkUncompress | cramfsBlkDirect
		}
		end := int64(ptr)
		var blk []byte
		switch {
		case end == start:
			// a hole (explicit holes, or an all-zero block)
			if zeros == nil {
				zeros = make([]byte, bs)
			}
			blk = zeros[:want]
		case end < start || end > x.size || end-start > 2*bs+64:
			return fmt.Errorf("cramfs: block %d pointer %d out of range (block starts at %d)", i, end, start)
		default:
			src := x.read(start, int(end-start))
			if uncompressed {
				blk = src
			} else {
				var err error
				x.dst, err = x.zlib(x.dst, src, int(bs))
				if err != nil {
					return fmt.Errorf("cramfs: block %d at %d: %w", i, start, err)
				}
				blk = x.dst
			}
			if int64(len(blk)) != want {
				x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("cramfs: block %d gives %d bytes, want %d", i, len(blk), want))
				if int64(len(blk)) > want {
					blk = blk[:want]
				}
			}
		}
		if _, err := out.Write(blk); err != nil {
			return err
		}
		start = end
		left -= want
	}
	return nil
}
