package extract

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// extFormat is ext2, ext3 and ext4: block maps and extent trees,
// linear and hashed (read linearly) directories, regular files, fast and
// slow symlinks, device nodes, fifos, sockets and hard links. The journal
// is not replayed; inline data and encrypted directories are reported,
// not extracted.
type extFormat struct{}

func init() { Register(extFormat{}) }

func (extFormat) Name() string    { return "ext" }
func (extFormat) Kind() Kind      { return Filesystem }
func (extFormat) Magics() []Magic { return []Magic{{1024 + 56, []byte{0x53, 0xef}}} }

const (
	extSBOff       = 1024
	extRootIno     = 2
	extMaxDepth    = 256
	extMaxExtDepth = 5
	extMaxExtents  = 1 << 20
	extMaxSteps    = 64 << 10 // indirect or extent-tree blocks read for one file
	extMaxDirBytes = 16 << 20

	extFeatFiletype = 0x2
	extFeatMetaBG   = 0x10
	extFeatExtents  = 0x40
	extFeat64bit    = 0x80
	extFeatInline   = 0x8000
	extFeatEncrypt  = 0x10000

	extFlagExtents = 0x80000
	extFlagInline  = 0x10000000
	extFlagEncrypt = 0x800
)

type extSB struct {
	inodes, blocks uint64
	firstData      uint64
	bs             int64
	blocksPerGroup uint64
	inodesPerGroup uint64
	inodeSize      int64
	rev            uint32
	incompat       uint32
	descSize       int64
	groups         uint64
	firstIno       uint64
}

func extParseSB(b []byte) (extSB, bool) {
	var s extSB
	if len(b) < 1024 {
		return s, false
	}
	le := binary.LittleEndian
	if le.Uint16(b[56:]) != 0xef53 {
		return s, false
	}
	logBS := le.Uint32(b[24:])
	if logBS > 6 {
		return s, false
	}
	s.bs = 1024 << logBS
	s.inodes = uint64(le.Uint32(b[0:]))
	s.blocks = uint64(le.Uint32(b[4:]))
	s.firstData = uint64(le.Uint32(b[20:]))
	s.blocksPerGroup = uint64(le.Uint32(b[32:]))
	s.inodesPerGroup = uint64(le.Uint32(b[40:]))
	s.rev = le.Uint32(b[76:])
	s.inodeSize = 128
	s.firstIno = 11
	if s.rev > 1 || le.Uint16(b[58:]) > 7 {
		return s, false
	}
	if s.rev == 1 {
		s.inodeSize = int64(le.Uint16(b[88:]))
		s.firstIno = uint64(le.Uint32(b[84:]))
		s.incompat = le.Uint32(b[96:])
	}
	if s.inodeSize < 128 || s.inodeSize > s.bs || s.inodeSize&(s.inodeSize-1) != 0 {
		return s, false
	}
	s.descSize = 32
	if s.incompat&extFeat64bit != 0 {
		s.blocks |= uint64(le.Uint32(b[0x150:])) << 32
		s.descSize = int64(le.Uint16(b[254:]))
		if s.descSize < 64 || s.descSize > 1024 || s.descSize&(s.descSize-1) != 0 {
			return s, false
		}
	}
	if s.firstData > 1 || (s.bs > 1024 && s.firstData != 0) {
		return s, false
	}
	if s.blocksPerGroup == 0 || s.blocksPerGroup > uint64(8*s.bs) || s.inodesPerGroup == 0 || s.inodesPerGroup > uint64(8*s.bs) {
		return s, false
	}
	if s.blocks <= s.firstData || s.inodes == 0 {
		return s, false
	}
	s.groups = (s.blocks - s.firstData + s.blocksPerGroup - 1) / s.blocksPerGroup
	if s.inodes != s.groups*s.inodesPerGroup || s.firstIno < 3 || s.firstIno > s.inodes {
		return s, false
	}
	return s, true
}

func (extFormat) Identify(h []byte) bool {
	if len(h) < extSBOff+1024 {
		return false
	}
	_, ok := extParseSB(h[extSBOff : extSBOff+1024])
	return ok
}

func (extFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	s, ok := extParseSB(readHeader(r, extSBOff, size, 1024))
	if !ok {
		return 0, fmt.Errorf("%w: bad superblock", ErrNotFormat)
	}
	if s.blocks > uint64(size/s.bs)+1 {
		return size, nil
	}
	return min(int64(s.blocks)*s.bs, size), nil
}

type extInode struct {
	mode    uint32
	size    uint64
	links   uint16
	flags   uint32
	blocks  uint64 // i_blocks (512-byte units unless huge_file)
	fileACL uint64
	block   [60]byte
}

type extRun struct {
	logical, physical, n uint64
}

type extReader struct {
	r     io.ReaderAt
	size  int64
	sb    extSB
	w     *Writer
	itab  []uint64 // inode table block of each group
	bad   int
	ctx   context.Context
	steps int
}

func (e *extReader) readBlock(dst []byte, blk uint64) error {
	if blk >= e.sb.blocks || blk > uint64(e.size/e.sb.bs) {
		return fmt.Errorf("block %d outside the file system", blk)
	}
	n, _ := e.r.ReadAt(dst, int64(blk)*e.sb.bs)
	if n < len(dst) {
		return fmt.Errorf("block %d: %w", blk, io.ErrUnexpectedEOF)
	}
	return nil
}

func (e *extReader) inode(ino uint64) (*extInode, error) {
	if ino == 0 || ino > e.sb.inodes {
		return nil, fmt.Errorf("inode %d out of range", ino)
	}
	g := (ino - 1) / e.sb.inodesPerGroup
	idx := (ino - 1) % e.sb.inodesPerGroup
	if g >= uint64(len(e.itab)) {
		return nil, fmt.Errorf("inode %d: group %d has no descriptor", ino, g)
	}
	off := int64(e.itab[g])*e.sb.bs + int64(idx)*e.sb.inodeSize
	b := make([]byte, 128)
	if e.itab[g] >= e.sb.blocks || off < 0 {
		return nil, fmt.Errorf("inode %d: table outside the file system", ino)
	}
	if n, _ := e.r.ReadAt(b, off); n < len(b) {
		return nil, fmt.Errorf("inode %d: %w", ino, io.ErrUnexpectedEOF)
	}
	le := binary.LittleEndian
	in := &extInode{
		mode:    uint32(le.Uint16(b[0:])),
		size:    uint64(le.Uint32(b[4:])) | uint64(le.Uint32(b[108:]))<<32,
		links:   le.Uint16(b[26:]),
		blocks:  uint64(le.Uint32(b[28:])) | uint64(le.Uint16(b[116:]))<<32,
		flags:   le.Uint32(b[32:]),
		fileACL: uint64(le.Uint32(b[104:])) | uint64(le.Uint16(b[118:]))<<32,
	}
	copy(in.block[:], b[40:100])
	return in, nil
}

// runs maps an inode's logical blocks to physical ones.
func (e *extReader) runs(in *extInode) ([]extRun, error) {
	nblk := (in.size + uint64(e.sb.bs) - 1) / uint64(e.sb.bs)
	e.steps = 0
	var out []extRun
	var err error
	if in.flags&extFlagExtents != 0 {
		err = e.extents(in.block[:], 0, nblk, &out)
	} else {
		le := binary.LittleEndian
		var ptrs [15]uint64
		for i := range ptrs {
			ptrs[i] = uint64(le.Uint32(in.block[4*i:]))
		}
		logical := uint64(0)
		for i := 0; i < 12 && logical < nblk; i++ {
			e.addRun(&out, logical, ptrs[i])
			logical++
		}
		for lvl := 1; lvl <= 3 && logical < nblk && err == nil; lvl++ {
			err = e.indirect(ptrs[11+lvl], lvl, &logical, nblk, &out)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].logical < out[j].logical })
	return out, err
}

func (e *extReader) addRun(out *[]extRun, logical, phys uint64) {
	if phys == 0 {
		return
	}
	if n := len(*out); n > 0 {
		l := &(*out)[n-1]
		if l.logical+l.n == logical && l.physical+l.n == phys {
			l.n++
			return
		}
	}
	*out = append(*out, extRun{logical, phys, 1})
}

// indirect walks a block-map indirect block of the given level.
func (e *extReader) indirect(blk uint64, lvl int, logical *uint64, nblk uint64, out *[]extRun) error {
	per := uint64(e.sb.bs / 4)
	span := uint64(1)
	for i := 1; i < lvl; i++ {
		span *= per
	}
	if blk == 0 {
		*logical += span * per // a hole
		return nil
	}
	e.steps++
	if e.steps > extMaxSteps || len(*out) >= extMaxExtents {
		return errors.New("block map too large")
	}
	if e.steps%1024 == 0 && e.ctx.Err() != nil {
		return e.ctx.Err()
	}
	buf := make([]byte, e.sb.bs)
	if err := e.readBlock(buf, blk); err != nil {
		*logical += span * per
		return err
	}
	for i := uint64(0); i < per && *logical < nblk; i++ {
		p := uint64(binary.LittleEndian.Uint32(buf[4*i:]))
		if lvl == 1 {
			e.addRun(out, *logical, p)
			*logical++
			continue
		}
		if err := e.indirect(p, lvl-1, logical, nblk, out); err != nil {
			return err
		}
	}
	return nil
}

// extents walks an extent tree node (the 60 bytes in the inode or a block).
func (e *extReader) extents(node []byte, depth int, nblk uint64, out *[]extRun) error {
	le := binary.LittleEndian
	if len(node) < 12 || le.Uint16(node) != 0xf30a {
		return errors.New("bad extent header")
	}
	n := int(le.Uint16(node[2:]))
	d := int(le.Uint16(node[6:]))
	if depth > extMaxExtDepth || d > extMaxExtDepth {
		return errors.New("extent tree too deep")
	}
	if 12+12*n > len(node) {
		return errors.New("extent node overflows")
	}
	for i := 0; i < n; i++ {
		p := node[12+12*i:]
		if d == 0 {
			lb := uint64(le.Uint32(p))
			ln := uint64(le.Uint16(p[4:]))
			if ln > 32768 {
				continue // uninitialized: reads as zeros
			}
			start := uint64(le.Uint16(p[6:]))<<32 | uint64(le.Uint32(p[8:]))
			if lb >= nblk {
				continue
			}
			ln = min(ln, nblk-lb)
			if len(*out) >= extMaxExtents {
				return errors.New("too many extents")
			}
			*out = append(*out, extRun{lb, start, ln})
			continue
		}
		child := uint64(le.Uint16(p[8:]))<<32 | uint64(le.Uint32(p[4:]))
		e.steps++
		if e.steps > extMaxSteps {
			return errors.New("too many extent nodes")
		}
		buf := make([]byte, e.sb.bs)
		if err := e.readBlock(buf, child); err != nil {
			return err
		}
		if err := e.extents(buf, depth+1, nblk, out); err != nil {
			return err
		}
	}
	return nil
}

// copyData writes the inode's content (size bytes; holes as zeros) to f.
func (e *extReader) copyData(in *extInode, f io.Writer, limit uint64) error {
	runs, err := e.runs(in)
	if err != nil {
		return err
	}
	size := min(in.size, limit)
	bs := uint64(e.sb.bs)
	buf := make([]byte, max(e.sb.bs, 256<<10))
	zero := make([]byte, len(buf))
	pos := uint64(0)
	var firstErr error
	write := func(b []byte) error {
		_, err := f.Write(b)
		pos += uint64(len(b))
		return err
	}
	zeros := func(upto uint64) error {
		for pos < upto {
			if err := write(zero[:min(upto-pos, uint64(len(zero)))]); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range runs {
		start := r.logical * bs
		if start >= size {
			break
		}
		if start < pos {
			continue // overlapping extents: the first wins
		}
		if err := zeros(start); err != nil {
			return err
		}
		end := min((r.logical+r.n)*bs, size)
		phys := r.physical
		for pos < end {
			n := min(end-pos, uint64(len(buf)))
			if phys+(n+bs-1)/bs > e.sb.blocks || int64(phys*bs) < 0 {
				if firstErr == nil {
					firstErr = fmt.Errorf("block %d outside the file system", phys)
				}
				if err := zeros(end); err != nil {
					return err
				}
				break
			}
			m, _ := e.r.ReadAt(buf[:n], int64(phys*bs))
			if uint64(m) < n {
				clear(buf[m:n])
				if firstErr == nil {
					firstErr = fmt.Errorf("block %d: %w", phys, io.ErrUnexpectedEOF)
				}
			}
			if err := write(buf[:n]); err != nil {
				return err
			}
			phys += (n + bs - 1) / bs
			if e.ctx.Err() != nil {
				return e.ctx.Err()
			}
		}
	}
	if err := zeros(size); err != nil {
		return err
	}
	return firstErr
}

type extDirent struct {
	ino  uint64
	typ  uint8
	name string
}

func (e *extReader) readDir(in *extInode) ([]extDirent, error) {
	if in.size > extMaxDirBytes {
		return nil, fmt.Errorf("directory of %d bytes", in.size)
	}
	var buf sliceWriter
	err := e.copyData(in, &buf, in.size)
	data := buf.b
	var out []extDirent
	ft := e.sb.incompat&extFeatFiletype != 0
	le := binary.LittleEndian
	for blk := 0; blk < len(data); blk += int(e.sb.bs) {
		b := data[blk:min(blk+int(e.sb.bs), len(data))]
		for p := 0; p+8 <= len(b); {
			ino := uint64(le.Uint32(b[p:]))
			rl := int(le.Uint16(b[p+4:]))
			nl := int(b[p+6])
			if !ft {
				nl = int(le.Uint16(b[p+6:]))
			}
			if rl < 8 || rl%4 != 0 || p+rl > len(b) || 8+nl > rl {
				e.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("bad directory entry (rec_len %d) in block %d", rl, blk/int(e.sb.bs)))
				break
			}
			if ino != 0 && nl > 0 {
				out = append(out, extDirent{ino, b[p+7], string(b[p+8 : p+8+nl])})
			}
			p += rl
		}
	}
	return out, err
}

type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

func (extFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	sb, ok := extParseSB(readHeader(r, extSBOff, size, 1024))
	if !ok {
		return 0, fmt.Errorf("%w: bad superblock", ErrNotFormat)
	}
	end := size
	if sb.blocks <= uint64(size/sb.bs) {
		end = int64(sb.blocks) * sb.bs
	} else {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("file system of %d blocks truncated to %d bytes", sb.blocks, size))
	}
	if sb.incompat&extFeatMetaBG != 0 {
		return end, errors.New("meta_bg group descriptors are not supported")
	}
	e := &extReader{r: r, size: size, sb: sb, w: w, ctx: ctx}
	// group descriptors follow the superblock's block
	gdt := int64(sb.firstData+1) * sb.bs
	if sb.groups > uint64(size/sb.descSize) {
		return 0, fmt.Errorf("%w: %d groups cannot fit", ErrNotFormat, sb.groups)
	}
	desc := make([]byte, int64(sb.groups)*sb.descSize)
	if n, _ := r.ReadAt(desc, gdt); n < len(desc) {
		return 0, fmt.Errorf("%w: group descriptors truncated", ErrNotFormat)
	}
	le := binary.LittleEndian
	for g := uint64(0); g < sb.groups; g++ {
		d := desc[int64(g)*sb.descSize:]
		t := uint64(le.Uint32(d[8:]))
		if sb.descSize >= 64 {
			t |= uint64(le.Uint32(d[0x28:])) << 32
		}
		e.itab = append(e.itab, t)
	}
	root, err := e.inode(extRootIno)
	if err != nil {
		return 0, fmt.Errorf("%w: root inode: %v", ErrNotFormat, err)
	}
	if root.mode&sIFMT != sIFDIR {
		return 0, fmt.Errorf("%w: root inode is not a directory", ErrNotFormat)
	}
	return end, e.walk(root)
}

func (e *extReader) walk(root *extInode) error {
	ee := entryErrors{w: e.w}
	linked := map[uint64]string{}
	visited := map[uint64]bool{extRootIno: true}
	type item struct {
		in    *extInode
		path  string
		depth int
	}
	stack := []item{{root, "", 0}}
	count := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.in.flags&extFlagInline != 0 {
			e.w.Anomaly(AnomalyMalformed, it.path, "directory with inline data not extracted")
			continue
		}
		if it.in.flags&extFlagEncrypt != 0 {
			e.w.Anomaly(AnomalyMalformed, it.path, "encrypted directory not extracted")
			continue
		}
		ents, err := e.readDir(it.in)
		if err != nil {
			e.w.Anomaly(AnomalyMalformed, it.path, "directory: "+err.Error())
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
		var sub []item
		for _, d := range ents {
			if d.name == "." || d.name == ".." {
				continue
			}
			count++
			if count%256 == 1 { // the first entry, then every 256th
				if err := e.ctx.Err(); err != nil {
					return err
				}
			}
			p := d.name
			if it.path != "" {
				p = it.path + "/" + d.name
			}
			if strings.ContainsAny(d.name, "/\x00") {
				e.w.Anomaly(AnomalyBadName, p, "bad directory entry name")
				continue
			}
			in, err := e.inode(d.ino)
			if err != nil {
				e.w.Anomaly(AnomalyMalformed, p, err.Error())
				continue
			}
			mode := unixToFileMode(in.mode)
			switch in.mode & sIFMT {
			case sIFDIR:
				if visited[d.ino] {
					e.w.Anomaly(AnomalyLoop, p, "directory reached twice")
					continue
				}
				visited[d.ino] = true
				if stop, err := ee.check(p, e.w.Mkdir(p, mode)); stop {
					return err
				}
				if it.depth+1 > extMaxDepth {
					e.w.Anomaly(AnomalyDepth, p, "directory nesting too deep")
					continue
				}
				sub = append(sub, item{in, p, it.depth + 1})
			case sIFREG:
				if prev, ok := linked[d.ino]; ok {
					if stop, err := ee.check(p, e.w.Link(p, prev)); stop {
						return err
					}
					continue
				}
				if in.flags&extFlagInline != 0 {
					e.w.Anomaly(AnomalyMalformed, p, "file with inline data not extracted")
					continue
				}
				f, err := e.w.Create(p, mode)
				if err != nil {
					if stop, err := ee.check(p, err); stop {
						return err
					}
					continue
				}
				err = e.copyData(in, f, in.size)
				cerr := f.Close()
				if err == nil {
					err = cerr
				}
				if err != nil {
					if IsLimit(err) {
						return err
					}
					if cerr := e.ctx.Err(); cerr != nil {
						return cerr // a deadline, not a malformed file
					}
					if !IsEntryLimit(err) {
						e.w.Anomaly(AnomalyMalformed, p, err.Error())
					}
				}
				linked[d.ino] = p
			case sIFLNK:
				target, err := e.symlink(in)
				if err != nil || target == "" {
					e.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("symlink target unreadable: %v", err))
					continue
				}
				if stop, err := ee.check(p, e.w.Symlink(p, target)); stop {
					return err
				}
			case sIFCHR, sIFBLK, sIFIFO, sIFSOCK:
				kind := map[uint32]string{sIFCHR: "char", sIFBLK: "block", sIFIFO: "fifo", sIFSOCK: "socket"}[in.mode&sIFMT]
				var major, minor uint32
				if kind == "char" || kind == "block" {
					le := binary.LittleEndian
					if old := le.Uint32(in.block[0:]); old != 0 {
						major, minor = (old>>8)&0xff, old&0xff
					} else {
						n := le.Uint32(in.block[4:])
						major, minor = (n&0xfff00)>>8, (n&0xff)|((n>>12)&0xfff00)
					}
				}
				if stop, err := ee.check(p, e.w.Special(p, kind, in.mode&0o7777, major, minor)); stop {
					return err
				}
			default:
				e.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("unknown file type in mode %o; not extracted", in.mode))
			}
		}
		for i := len(sub) - 1; i >= 0; i-- {
			stack = append(stack, sub[i])
		}
	}
	return nil
}

func (e *extReader) symlink(in *extInode) (string, error) {
	if in.size == 0 || in.size > 4096 {
		return "", fmt.Errorf("target of %d bytes", in.size)
	}
	aclBlocks := uint64(0)
	if in.fileACL != 0 {
		aclBlocks = uint64(e.sb.bs / 512)
	}
	if in.flags&extFlagInline != 0 || (in.flags&extFlagExtents == 0 && in.size < 60 && in.blocks <= aclBlocks) {
		if in.size > 60 {
			return "", errors.New("inline target too long")
		}
		return string(in.block[:in.size]), nil
	}
	var buf sliceWriter
	if err := e.copyData(in, &buf, in.size); err != nil {
		return "", err
	}
	return strings.TrimRight(string(buf.b), "\x00"), nil
}
