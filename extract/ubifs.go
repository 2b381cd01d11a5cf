package extract

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// ubifsFormat is UBIFS as it lies in a UBI volume (the image mkfs.ubifs
// writes, or a volume the ubi format wrote out). The tree is read through
// the committed index B-tree from the newest master node; the journal of
// uncommitted changes is not replayed.
type ubifsFormat struct{}

func init() { Register(ubifsFormat{}) }

func (ubifsFormat) Name() string { return "ubifs" }
func (ubifsFormat) Kind() Kind   { return Filesystem }
func (ubifsFormat) Magics() []Magic {
	return []Magic{{0, []byte{0x31, 0x18, 0x10, 0x06}}}
}

const (
	ubifsMagic     = 0x06101831
	ubifsChSize    = 24
	ubifsSBSize    = 4096
	ubifsMstSize   = 512
	ubifsInoSize   = 160
	ubifsDentSize  = 56
	ubifsDataSize  = 48
	ubifsIdxSize   = 28
	ubifsBlockSize = 4096
	ubifsRootIno   = 1
	ubifsMaxNodes  = 4 << 20
	ubifsMaxLevels = 64
	ubifsMaxName   = 255

	ubifsInoNode  = 0
	ubifsDataNode = 1
	ubifsDentNode = 2
	ubifsXentNode = 3
	ubifsSBNode   = 6
	ubifsMstNode  = 7
	ubifsIdxNode  = 9
)

type ubifsSB struct {
	minIO, lebSize, lebCnt uint32
	fanout                 uint32
	fmtVersion             uint32
	defCompr               uint16
	hashLen                int // bytes of hash after each index branch key (authenticated UBIFS)
}

func ubifsParseSB(h []byte) (ubifsSB, bool) {
	var s ubifsSB
	if len(h) < ubifsSBSize || binary.LittleEndian.Uint32(h) != ubifsMagic || h[20] != ubifsSBNode {
		return s, false
	}
	le := binary.LittleEndian
	if le.Uint32(h[16:]) != ubifsSBSize {
		return s, false
	}
	if ubiCRC(h[8:ubifsSBSize]) != le.Uint32(h[4:]) {
		return s, false
	}
	s.minIO, s.lebSize, s.lebCnt = le.Uint32(h[32:]), le.Uint32(h[36:]), le.Uint32(h[40:])
	maxLeb := le.Uint32(h[44:])
	s.fanout, s.fmtVersion, s.defCompr = le.Uint32(h[72:]), le.Uint32(h[80:]), le.Uint16(h[84:])
	if s.minIO == 0 || s.minIO&(s.minIO-1) != 0 || s.minIO > 64<<10 {
		return s, false
	}
	if s.lebSize < 15<<10 || s.lebSize > 16<<20 || s.lebSize%8 != 0 {
		return s, false
	}
	if s.lebCnt < 4 || s.lebCnt > maxLeb || maxLeb > 1<<24 {
		return s, false
	}
	if s.fanout < 3 || s.fanout > 1<<12 || s.fmtVersion == 0 || s.fmtVersion > 5 {
		return s, false
	}
	flags := le.Uint32(h[28:])
	if flags&0x10 != 0 { // UBIFS_FLG_AUTHENTICATION
		switch le.Uint16(h[256:]) { // hash_algo (HASH_ALGO_*)
		case 4: // sha256
			s.hashLen = 32
		default:
			s.hashLen = 64
		}
	}
	return s, true
}

func (ubifsFormat) Identify(h []byte) bool {
	_, ok := ubifsParseSB(h)
	return ok
}

func (ubifsFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	sb, ok := ubifsParseSB(readHeader(r, 0, size, ubifsSBSize))
	if !ok {
		return 0, fmt.Errorf("%w: bad superblock", ErrNotFormat)
	}
	return min(int64(sb.lebCnt)*int64(sb.lebSize), size), nil
}

type ubifsIno struct {
	size      uint64
	nlink     uint32
	mode      uint32
	data      []byte // symlink target or device
	compr     uint16
	hasXattrs bool
}

type ubifsDent struct {
	parent uint64
	inum   uint64
	typ    uint8
	name   string
}

type ubifsDataRef struct {
	block      uint32
	lnum, offs uint32
	length     uint32
}

type ubifsReader struct {
	r       io.ReaderAt
	size    int64
	sb      ubifsSB
	w       *Writer
	inodes  map[uint64]*ubifsIno
	inoSeq  map[uint64]uint64
	dents   []ubifsDent
	data    map[uint64][]ubifsDataRef
	seen    map[[2]uint32]bool
	nodes   int
	badCRC  int
	badNode int
	buf     []byte
}

// node reads the node at (lnum, offs) and checks its header, length and CRC.
func (u *ubifsReader) node(lnum, offs, want uint32) ([]byte, error) {
	if lnum >= u.sb.lebCnt || offs > u.sb.lebSize-ubifsChSize {
		return nil, fmt.Errorf("node position %d:%d outside the volume", lnum, offs)
	}
	base := int64(lnum)*int64(u.sb.lebSize) + int64(offs)
	h := make([]byte, ubifsChSize)
	if n, _ := u.r.ReadAt(h, base); n < ubifsChSize {
		return nil, fmt.Errorf("node at %d:%d: %w", lnum, offs, io.ErrUnexpectedEOF)
	}
	le := binary.LittleEndian
	if le.Uint32(h) != ubifsMagic {
		return nil, fmt.Errorf("no node at %d:%d", lnum, offs)
	}
	l := le.Uint32(h[16:])
	if l < ubifsChSize || l > u.sb.lebSize-offs || (want != 0 && l != want) {
		return nil, fmt.Errorf("node at %d:%d: bad length %d", lnum, offs, l)
	}
	if cap(u.buf) < int(l) {
		u.buf = make([]byte, l)
	}
	b := u.buf[:l]
	if n, _ := u.r.ReadAt(b, base); n < int(l) {
		return nil, fmt.Errorf("node at %d:%d: %w", lnum, offs, io.ErrUnexpectedEOF)
	}
	if ubiCRC(b[8:]) != le.Uint32(b[4:]) {
		u.badCRC++
		return nil, fmt.Errorf("node at %d:%d: CRC mismatch", lnum, offs)
	}
	return b, nil
}

// master returns the newest valid master node from LEBs 1 and 2.
func (u *ubifsReader) master() ([]byte, error) {
	var best []byte
	var bestSq uint64
	for _, lnum := range []uint32{1, 2} {
		for offs := uint32(0); offs+ubifsMstSize <= u.sb.lebSize; offs += max(u.sb.minIO, 8) {
			b, err := u.node(lnum, offs, ubifsMstSize)
			if err != nil {
				if offs == 0 || u.lebErased(lnum, offs) {
					break
				}
				continue
			}
			if b[20] != ubifsMstNode {
				continue
			}
			if sq := binary.LittleEndian.Uint64(b[8:]); best == nil || sq > bestSq {
				best, bestSq = append([]byte(nil), b...), sq
			}
		}
	}
	if best == nil {
		return nil, errors.New("no valid master node")
	}
	return best, nil
}

// lebErased says whether the rest of the LEB from offs (a few bytes of it)
// is erased flash.
func (u *ubifsReader) lebErased(lnum, offs uint32) bool {
	b := make([]byte, 64)
	n, _ := u.r.ReadAt(b, int64(lnum)*int64(u.sb.lebSize)+int64(offs))
	return n == 0 || allFF(b[:n])
}

// walk visits the index node at (lnum, offs) and its subtree.
func (u *ubifsReader) walk(ctx context.Context, lnum, offs, length uint32, level int) error {
	if level > ubifsMaxLevels {
		return errors.New("index deeper than the limit")
	}
	k := [2]uint32{lnum, offs}
	if u.seen[k] {
		u.w.Anomaly(AnomalyLoop, "", fmt.Sprintf("index node %d:%d referenced twice", lnum, offs))
		return nil
	}
	u.seen[k] = true
	u.nodes++
	if u.nodes > ubifsMaxNodes {
		return fmt.Errorf("more than %d nodes", ubifsMaxNodes)
	}
	if u.nodes%4096 == 0 && ctx.Err() != nil {
		return ctx.Err()
	}
	b, err := u.node(lnum, offs, 0)
	if err != nil {
		u.badNode++
		u.w.Anomaly(AnomalyMalformed, "", "index: "+err.Error())
		return nil
	}
	if b[20] != ubifsIdxNode {
		u.badNode++
		u.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("index: node at %d:%d is of type %d, not an index node", lnum, offs, b[20]))
		return nil
	}
	if len(b) < ubifsIdxSize {
		u.badNode++
		return nil
	}
	le := binary.LittleEndian
	cnt := int(le.Uint16(b[24:]))
	lvl := int(le.Uint16(b[26:]))
	bsz := 20 + u.sb.hashLen
	if ubifsIdxSize+cnt*bsz > len(b) {
		u.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("index node at %d:%d: %d branches do not fit", lnum, offs, cnt))
		cnt = (len(b) - ubifsIdxSize) / bsz
	}
	type br struct{ lnum, offs, length uint32 }
	brs := make([]br, 0, cnt)
	for i := 0; i < cnt; i++ {
		p := b[ubifsIdxSize+i*bsz:]
		brs = append(brs, br{le.Uint32(p), le.Uint32(p[4:]), le.Uint32(p[8:])})
	}
	for _, c := range brs {
		if lvl > 0 {
			if err := u.walk(ctx, c.lnum, c.offs, c.length, level+1); err != nil {
				return err
			}
			continue
		}
		if err := u.leaf(c.lnum, c.offs, c.length); err != nil {
			return err
		}
	}
	return nil
}

// leaf records the inode, directory entry or data node at (lnum, offs).
func (u *ubifsReader) leaf(lnum, offs, length uint32) error {
	u.nodes++
	if u.nodes > ubifsMaxNodes {
		return fmt.Errorf("more than %d nodes", ubifsMaxNodes)
	}
	k := [2]uint32{lnum, offs}
	if u.seen[k] {
		u.badNode++
		return nil // a leaf referenced twice
	}
	u.seen[k] = true
	b, err := u.node(lnum, offs, 0)
	if err != nil {
		u.badNode++
		if u.badNode < 100 {
			u.w.Anomaly(AnomalyMalformed, "", "leaf: "+err.Error())
		}
		return nil
	}
	le := binary.LittleEndian
	sq := le.Uint64(b[8:])
	switch b[20] {
	case ubifsInoNode:
		if len(b) < ubifsInoSize {
			u.badNode++
			return nil
		}
		inum := uint64(le.Uint32(b[24:]))
		if old, ok := u.inoSeq[inum]; ok && old > sq {
			return nil
		}
		dl := le.Uint32(b[112:])
		if int(dl) > len(b)-ubifsInoSize {
			u.badNode++
			return nil
		}
		u.inoSeq[inum] = sq
		u.inodes[inum] = &ubifsIno{
			size:      le.Uint64(b[48:]),
			nlink:     le.Uint32(b[92:]),
			mode:      le.Uint32(b[104:]),
			data:      append([]byte(nil), b[ubifsInoSize:ubifsInoSize+int(dl)]...),
			compr:     le.Uint16(b[132:]),
			hasXattrs: le.Uint32(b[116:]) > 0,
		}
	case ubifsDentNode:
		if len(b) < ubifsDentSize {
			u.badNode++
			return nil
		}
		nl := int(le.Uint16(b[50:]))
		if nl == 0 || nl > ubifsMaxName || ubifsDentSize+nl > len(b) {
			u.badNode++
			return nil
		}
		u.dents = append(u.dents, ubifsDent{
			parent: uint64(le.Uint32(b[24:])),
			inum:   le.Uint64(b[40:]),
			typ:    b[49],
			name:   string(b[ubifsDentSize : ubifsDentSize+nl]),
		})
	case ubifsDataNode:
		if len(b) < ubifsDataSize {
			u.badNode++
			return nil
		}
		inum := uint64(le.Uint32(b[24:]))
		blk := le.Uint32(b[28:]) & (1<<29 - 1)
		u.data[inum] = append(u.data[inum], ubifsDataRef{block: blk, lnum: lnum, offs: offs, length: uint32(len(b))})
	case ubifsXentNode:
		// extended attributes are not extracted
	default:
		u.badNode++
		u.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("leaf at %d:%d has node type %d", lnum, offs, b[20]))
	}
	return nil
}

func ubifsCodec(t uint16) (string, bool) {
	switch t {
	case 0:
		return "", true
	case 1:
		return "lzo", true
	case 2:
		return "deflate", true
	case 3:
		return "zstd", true
	}
	return "", false
}

func (ubifsFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	sb, ok := ubifsParseSB(readHeader(r, 0, size, ubifsSBSize))
	if !ok {
		return 0, fmt.Errorf("%w: bad superblock", ErrNotFormat)
	}
	end := min(int64(sb.lebCnt)*int64(sb.lebSize), size)
	u := &ubifsReader{r: r, size: size, sb: sb, w: w, inodes: map[uint64]*ubifsIno{}, inoSeq: map[uint64]uint64{},
		data: map[uint64][]ubifsDataRef{}, seen: map[[2]uint32]bool{}}
	mst, err := u.master()
	if err != nil {
		return end, err
	}
	le := binary.LittleEndian
	if le.Uint32(mst[40:])&1 != 0 { // UBIFS_MST_DIRTY
		w.Anomaly(AnomalyMalformed, "", "master node flags say the file system was not cleanly unmounted; the journal is not replayed")
	}
	rootL, rootO, rootLen := le.Uint32(mst[48:]), le.Uint32(mst[52:]), le.Uint32(mst[56:])
	if err := u.walk(ctx, rootL, rootO, rootLen, 0); err != nil {
		if ctx.Err() != nil {
			return end, err
		}
		w.Anomaly(AnomalyMalformed, "", err.Error())
	}
	if u.badCRC > 0 {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("%d nodes with a bad CRC skipped", u.badCRC))
	}
	if len(u.inodes) == 0 {
		return end, errors.New("index holds no inodes")
	}
	return end, u.extract(ctx)
}

// extract builds paths from the directory entries and writes the tree
// through the shared inode-tree writer.
func (u *ubifsReader) extract(ctx context.Context) error {
	children := map[uint64][]fsDirent[uint64]{}
	for _, d := range u.dents {
		children[d.parent] = append(children[d.parent], fsDirent[uint64]{d.name, d.inum, d.inum})
	}
	for _, c := range children {
		sort.Slice(c, func(i, j int) bool { return c[i].name < c[j].name })
	}
	t := &fsTree[uint64]{fs: "ubifs", idWord: "inode", w: u.w, ee: &entryErrors{w: u.w},
		root:     fsDirent[uint64]{key: ubifsRootIno, id: ubifsRootIno},
		children: func(dir uint64) []fsDirent[uint64] { return children[dir] },
		inode: func(p string, d fsDirent[uint64]) (fsInode, bool) {
			ino := u.inodes[d.key]
			if ino == nil {
				return fsInode{}, false
			}
			return u.inode(p, d.key, ino), true
		}}
	_, err := t.write(ctx)
	return err
}

// inode describes one inode for the tree writer: a symlink's target and a
// device's number are the inode node's data.
func (u *ubifsReader) inode(p string, inum uint64, ino *ubifsIno) fsInode {
	fi := fsInode{mode: ino.mode, link: inum, size: int64(len(ino.data))}
	switch ino.mode & sIFMT {
	case sIFREG:
		fi.data = func(out io.Writer) error { return u.writeData(p, inum, ino, out) }
	case sIFLNK:
		fi.data = func(out io.Writer) error { _, err := out.Write(ino.data); return err }
	case sIFCHR, sIFBLK:
		switch len(ino.data) {
		case 4:
			fi.major, fi.minor = newDevice(binary.LittleEndian.Uint32(ino.data))
		case 8: // huge_encode_dev: new_encode_dev widened
			fi.major, fi.minor = newDevice(uint32(binary.LittleEndian.Uint64(ino.data)))
		}
	}
	return fi
}

// writeData writes a file's 4 KiB data blocks; missing blocks are holes.
func (u *ubifsReader) writeData(p string, inum uint64, ino *ubifsIno, f io.Writer) error {
	refs := u.data[inum]
	sort.Slice(refs, func(i, j int) bool { return refs[i].block < refs[j].block })
	zero := make([]byte, ubifsBlockSize)
	var out []byte
	pos := uint64(0)
	bad := 0
	for i, ref := range refs {
		if i > 0 && refs[i-1].block == ref.block {
			continue
		}
		start := uint64(ref.block) * ubifsBlockSize
		if start >= ino.size {
			break
		}
		for pos < start {
			n := min(start-pos, ubifsBlockSize)
			if _, err := f.Write(zero[:n]); err != nil {
				return err
			}
			pos += n
		}
		b, err := u.node(ref.lnum, ref.offs, ref.length)
		if err != nil || len(b) < ubifsDataSize {
			bad++
			continue
		}
		le := binary.LittleEndian
		dsize := le.Uint32(b[40:])
		ctype := le.Uint16(b[44:])
		if dsize > ubifsBlockSize {
			bad++
			continue
		}
		src := b[ubifsDataSize:]
		codec, ok := ubifsCodec(ctype)
		switch {
		case !ok:
			u.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("unknown compression type %d", ctype))
			bad++
			continue
		case codec == "":
			if len(src) < int(dsize) {
				bad++
				continue
			}
			out = append(out[:0], src[:dsize]...)
		default:
			c, _ := compress.Get(codec)
			out, err = c.Block(out[:0], src, ubifsBlockSize)
			if err != nil || len(out) != int(dsize) {
				bad++
				continue
			}
		}
		n := min(uint64(len(out)), ino.size-pos)
		if _, err := f.Write(out[:n]); err != nil {
			return err
		}
		pos += n
	}
	for pos < ino.size {
		n := min(ino.size-pos, ubifsBlockSize)
		if _, err := f.Write(zero[:n]); err != nil {
			return err
		}
		pos += n
	}
	if bad > 0 {
		u.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("%d data blocks unreadable (written as zeros)", bad))
	}
	return nil
}
