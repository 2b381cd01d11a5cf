package extract

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/extract/compress"
	"github.com/fwaudit/fwaudit/extract/compress/lzma"
)

// jffs2Format is JFFS2, the log-structured flash file system of NOR (and
// early NAND) Linux devices, in either byte order. An image is a sequence of
// nodes aligned to 4 bytes with erased (0xFF) or zeroed space between them;
// node headers carry CRCs, so the scan finds every valid node whatever the
// erase block size. Files are rebuilt from their data nodes, the newest
// version of each byte range winning; the directory tree comes from the
// newest dirent of each (parent, name).
type jffs2Format struct{}

func init() { Register(jffs2Format{}) }

const (
	jffs2Magic       = 0x1985
	jffs2Accurate    = 0x2000
	jffs2Dirent      = 0xe001
	jffs2Inode       = 0xe002
	jffs2Cleanmarker = 0x2003
	jffs2Padding     = 0x2004
	jffs2Summary     = 0x2006
	jffs2Xattr       = 0xe008
	jffs2Xref        = 0xe009

	jffs2HdrLen    = 12
	jffs2DirentLen = 40
	jffs2InodeLen  = 68

	jffs2ComprNone     = 0
	jffs2ComprZero     = 1
	jffs2ComprRtime    = 2
	jffs2ComprRubin    = 3
	jffs2ComprCopy     = 4
	jffs2ComprDynrubin = 5
	jffs2ComprZlib     = 6
	jffs2ComprLzo      = 7
	jffs2ComprLzma     = 8

	jffs2MaxNodes   = 8 << 20
	jffs2MaxTotlen  = 1 << 21 // one node (a page plus headers in practice)
	jffs2MaxDsize   = 1 << 20 // uncompressed data of one node
	jffs2MaxGarbage = 256 << 10
	jffs2Window     = 1 << 20
)

// jffs2CRC is the kernel's crc32(0, p, n): the reflected CRC-32 register
// without the initial and final inversion.
func jffs2CRC(p []byte) uint32 {
	return ^crc32.Update(0xffffffff, crc32.IEEETable, p)
}

func (jffs2Format) Name() string { return "jffs2" }
func (jffs2Format) Kind() Kind   { return Filesystem }
func (jffs2Format) Magics() []Magic {
	var out []Magic
	for _, t := range []uint16{jffs2Dirent, jffs2Inode, jffs2Cleanmarker} {
		out = append(out,
			Magic{0, binary.LittleEndian.AppendUint16([]byte{0x85, 0x19}, t)},
			Magic{0, binary.BigEndian.AppendUint16([]byte{0x19, 0x85}, t)})
	}
	return out
}

func jffs2Order(h []byte) (binary.ByteOrder, bool) {
	if len(h) < 2 {
		return nil, false
	}
	switch {
	case h[0] == 0x85 && h[1] == 0x19:
		return binary.LittleEndian, true
	case h[0] == 0x19 && h[1] == 0x85:
		return binary.BigEndian, true
	}
	return nil, false
}

// jffs2HeaderOK checks the common node header at b (header CRC, length).
func jffs2HeaderOK(b []byte, bo binary.ByteOrder) (typ uint16, totlen uint32, ok bool) {
	if len(b) < jffs2HdrLen || bo.Uint16(b) != jffs2Magic {
		return 0, 0, false
	}
	typ, totlen = bo.Uint16(b[2:]), bo.Uint32(b[4:])
	if jffs2CRC(b[:8]) != bo.Uint32(b[8:]) || totlen < jffs2HdrLen || totlen > jffs2MaxTotlen {
		return 0, 0, false
	}
	return typ, totlen, true
}

func (jffs2Format) Identify(h []byte) bool {
	bo, ok := jffs2Order(h)
	if !ok {
		return false
	}
	typ, totlen, ok := jffs2HeaderOK(h, bo)
	if !ok {
		return false
	}
	switch typ {
	case jffs2Dirent:
		if totlen < jffs2DirentLen {
			return false
		}
		if len(h) >= jffs2DirentLen && jffs2CRC(h[:32]) != bo.Uint32(h[32:]) {
			return false
		}
	case jffs2Inode:
		if totlen < jffs2InodeLen {
			return false
		}
		if len(h) >= jffs2InodeLen && jffs2CRC(h[:60]) != bo.Uint32(h[64:]) {
			return false
		}
	case jffs2Cleanmarker:
	default:
		return false
	}
	return true
}

// jffs2Window reads r forward through a sliding buffer.
type jffs2Win struct {
	r    io.ReaderAt
	size int64
	base int64
	buf  []byte
}

// at returns the n bytes at off (fewer at the end of r).
func (w *jffs2Win) at(off int64, n int) []byte {
	if off < 0 || off >= w.size || n <= 0 {
		return nil
	}
	if off+int64(n) > w.size {
		n = int(w.size - off)
	}
	if off >= w.base && off+int64(n) <= w.base+int64(len(w.buf)) {
		return w.buf[off-w.base : off-w.base+int64(n)]
	}
	m := max(n, jffs2Window)
	if off+int64(m) > w.size {
		m = int(w.size - off)
	}
	if cap(w.buf) < m {
		w.buf = make([]byte, m)
	}
	w.buf = w.buf[:m]
	k, _ := w.r.ReadAt(w.buf, off)
	w.buf = w.buf[:k]
	w.base = off
	if k < n {
		return w.buf[:k]
	}
	return w.buf[:n]
}

type jffs2DataNode struct {
	version       uint32
	offset, dsize uint32
	csize         uint32
	compr         uint8
	dataOff       int64 // in the image
	nodeOff       int64
}

type jffs2Ino struct {
	version uint32 // of the newest inode node (metadata)
	mode    uint32
	isize   uint32
	seen    bool
	data    []jffs2DataNode
}

type jffs2DirentKey struct {
	pino uint32
	name string
}

type jffs2DirentVal struct {
	version uint32
	ino     uint32
	typ     uint8
	off     int64
}

// jffs2Scan is the result of scanning the nodes of an image.
type jffs2Scan struct {
	bo       binary.ByteOrder
	end      int64 // end of the last valid node
	nodes    int
	inodes   map[uint32]*jffs2Ino
	dirents  map[jffs2DirentKey]jffs2DirentVal
	badHdr   []int64 // offsets of magics with a bad header CRC
	badNode  skipped
	badData  skipped
	badName  skipped
	trunc    skipped
	tooLarge skipped
	stopped  string // why the scan ended early, if it did
}

// jffs2DoScan walks the nodes of r. With collect it records dirents and
// data nodes and checks data CRCs; without it only the extent is found.
func jffs2DoScan(ctx context.Context, r io.ReaderAt, size int64, collect bool) (*jffs2Scan, error) {
	s := &jffs2Scan{inodes: map[uint32]*jffs2Ino{}, dirents: map[jffs2DirentKey]jffs2DirentVal{}}
	win := &jffs2Win{r: r, size: size, base: 0}
	garbage := int64(0)
	for off := int64(0); off+jffs2HdrLen <= size; {
		if s.nodes >= jffs2MaxNodes {
			s.stopped = fmt.Sprintf("more than %d nodes", jffs2MaxNodes)
			break
		}
		if garbage > jffs2MaxGarbage {
			break
		}
		if off&0xffff == 0 && ctx.Err() != nil {
			return s, ctx.Err()
		}
		b := win.at(off, jffs2HdrLen)
		if len(b) < jffs2HdrLen {
			break
		}
		bo := s.bo
		if bo == nil {
			bo, _ = jffs2Order(b)
		}
		if bo == nil || bo.Uint16(b) != jffs2Magic {
			// erased (0xff) or zeroed space, or something else: skip a
			// whole run of the same word at once
			w := binary.LittleEndian.Uint32(b)
			skip := int64(4)
			if w == 0xffffffff || w == 0 {
				run := win.at(off, jffs2Window)
				n := 4
				for n+4 <= len(run) && binary.LittleEndian.Uint32(run[n:]) == w {
					n += 4
				}
				skip = int64(n)
			} else {
				garbage += 4
			}
			off += skip
			continue
		}
		typ, totlen, ok := jffs2HeaderOK(b, bo)
		if !ok {
			s.badHdr = append(s.badHdr, off)
			if len(s.badHdr) > 1<<16 {
				s.badHdr = s.badHdr[:1<<16]
			}
			garbage += 4
			off += 4
			continue
		}
		if off+int64(totlen) > size {
			s.trunc.add(off)
			garbage += 4
			off += 4
			continue
		}
		if s.bo == nil {
			s.bo = bo
		}
		node := win.at(off, int(totlen))
		valid := true
		if typ&jffs2Accurate != 0 {
			switch typ {
			case jffs2Dirent:
				valid = s.dirent(node, off, collect)
			case jffs2Inode:
				valid = s.inode(node, off, collect)
			}
		}
		if !valid {
			garbage += 4
			off += 4
			continue
		}
		s.nodes++
		garbage = 0
		s.end = off + int64(totlen)
		off = roundUp(s.end, 4)
	}
	// magics with a bad CRC after the end are not part of the image
	n := 0
	for _, o := range s.badHdr {
		if o < s.end {
			s.badHdr[n] = o
			n++
		}
	}
	s.badHdr = s.badHdr[:n]
	return s, nil
}

func (s *jffs2Scan) dirent(b []byte, off int64, collect bool) bool {
	bo := s.bo
	if len(b) < jffs2DirentLen || jffs2CRC(b[:32]) != bo.Uint32(b[32:]) {
		s.badNode.add(off)
		return false
	}
	nsize := int(b[28])
	if jffs2DirentLen+nsize > len(b) {
		s.badNode.add(off)
		return false
	}
	name := b[jffs2DirentLen : jffs2DirentLen+nsize]
	if jffs2CRC(name) != bo.Uint32(b[36:]) {
		s.badNode.add(off)
		return false
	}
	if !collect {
		return true
	}
	nm := string(name)
	if nm == "" || nm == "." || nm == ".." || strings.ContainsAny(nm, "/\x00") {
		s.badName.add(off)
		return true
	}
	k := jffs2DirentKey{bo.Uint32(b[12:]), nm}
	v := jffs2DirentVal{version: bo.Uint32(b[16:]), ino: bo.Uint32(b[20:]), typ: b[29], off: off}
	if old, ok := s.dirents[k]; !ok || v.version >= old.version {
		s.dirents[k] = v
	}
	return true
}

func (s *jffs2Scan) inode(b []byte, off int64, collect bool) bool {
	bo := s.bo
	if len(b) < jffs2InodeLen || jffs2CRC(b[:60]) != bo.Uint32(b[64:]) {
		s.badNode.add(off)
		return false
	}
	csize := bo.Uint32(b[48:])
	if int64(csize) > int64(len(b)-jffs2InodeLen) {
		s.badNode.add(off)
		return false
	}
	if !collect {
		return true
	}
	d := jffs2DataNode{
		version: bo.Uint32(b[16:]), offset: bo.Uint32(b[44:]), csize: csize,
		dsize: bo.Uint32(b[52:]), compr: b[56], dataOff: off + jffs2InodeLen, nodeOff: off,
	}
	if jffs2CRC(b[jffs2InodeLen:jffs2InodeLen+csize]) != bo.Uint32(b[60:]) {
		// the node itself is sound (its CRCs match): only its data is not
		s.badData.add(off)
		return true
	}
	ino := bo.Uint32(b[12:])
	in := s.inodes[ino]
	if in == nil {
		in = &jffs2Ino{}
		s.inodes[ino] = in
	}
	if !in.seen || d.version >= in.version {
		in.seen = true
		in.version = d.version
		in.mode = bo.Uint32(b[20:])
		in.isize = bo.Uint32(b[28:])
	}
	if d.dsize > jffs2MaxDsize {
		s.tooLarge.add(off)
		return true
	}
	if d.dsize > 0 {
		in.data = append(in.data, d)
	}
	return true
}

func (jffs2Format) Bound(r io.ReaderAt, size int64) (int64, error) {
	s, err := jffs2DoScan(context.Background(), r, size, false)
	if err != nil {
		return 0, err
	}
	if s.nodes == 0 {
		return 0, fmt.Errorf("%w: no valid jffs2 node", ErrNotFormat)
	}
	return s.end, nil
}

func (jffs2Format) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	s, err := jffs2DoScan(ctx, r, size, true)
	if err != nil {
		return s.end, err
	}
	if s.nodes == 0 {
		return 0, fmt.Errorf("%w: no valid jffs2 node", ErrNotFormat)
	}
	report := func(b skipped, what string) {
		if b.n > 0 {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("jffs2: %d %s skipped (first at offset %#x)", b.n, what, b.first))
		}
	}
	if len(s.badHdr) > 0 {
		report(skipped{n: len(s.badHdr), first: s.badHdr[0]}, "nodes with a bad header CRC")
	}
	report(s.badNode, "nodes with a bad node or name CRC")
	report(s.badData, "data nodes with a bad data CRC")
	report(s.badName, "dirents with an invalid name")
	report(s.trunc, "nodes running past the end of the image")
	report(s.tooLarge, fmt.Sprintf("data nodes larger than %d bytes", jffs2MaxDsize))
	if s.stopped != "" {
		w.Anomaly(AnomalyLimit, "", "jffs2: scan stopped: "+s.stopped)
	}
	x := &jffs2Extract{s: s, r: r, w: w, ctx: ctx, ee: entryErrors{w: w}}
	return s.end, x.tree()
}

type jffs2Child struct {
	name string
	ino  uint32
	typ  uint8
}

type jffs2Extract struct {
	s     *jffs2Scan
	r     io.ReaderAt
	w     *Writer
	ctx   context.Context
	ee    entryErrors
	cache [4]jffs2Decoded
	next  int
	buf   []byte
}

type jffs2Decoded struct {
	node *jffs2DataNode
	data []byte
}

// tree writes the file system through the shared inode-tree writer, from
// the newest dirent of each name (jffs2DoScan) and the inodes they name.
func (x *jffs2Extract) tree() error {
	children := map[uint32][]fsDirent[uint32]{}
	for k, v := range x.s.dirents {
		if v.ino == 0 { // a deletion dirent
			continue
		}
		children[k.pino] = append(children[k.pino], fsDirent[uint32]{k.name, v.ino, uint64(v.ino)})
	}
	for _, c := range children {
		sort.Slice(c, func(i, j int) bool { return c[i].name < c[j].name })
	}
	t := &fsTree[uint32]{fs: "jffs2", idWord: "inode", w: x.w, ee: &x.ee,
		root:     fsDirent[uint32]{key: 1, id: 1},
		children: func(dir uint32) []fsDirent[uint32] { return children[dir] },
		inode: func(p string, d fsDirent[uint32]) (fsInode, bool) {
			in := x.s.inodes[d.key]
			if in == nil {
				return fsInode{}, false
			}
			return x.inode(p, d.key, in), true
		}}
	_, err := t.write(x.ctx)
	return err
}

// inode describes one inode for the tree writer.
func (x *jffs2Extract) inode(p string, ino uint32, in *jffs2Ino) fsInode {
	fi := fsInode{mode: in.mode, size: int64(in.isize), link: uint64(ino),
		data: func(out io.Writer) error { return x.content(p, in, int64(in.isize), true, out) }}
	if t := in.mode & sIFMT; t == sIFCHR || t == sIFBLK {
		var b bytes.Buffer
		// mkfs.jffs2 gives device nodes isize 0 and 2 or 4 bytes of data
		if err := x.content(p, in, 4, false, &b); err != nil {
			fi.err = err
			return fi
		}
		switch d := b.Bytes(); len(d) {
		case 2: // old_encode_dev in 16 bits
			v := uint32(x.s.bo.Uint16(d))
			fi.major, fi.minor = v>>8, v&0xff
		case 4: // new_encode_dev
			fi.major, fi.minor = newDevice(x.s.bo.Uint32(d))
		default:
			x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("jffs2: device node with %d bytes of data", len(d)))
		}
	}
	return fi
}

// jffs2Seg is a byte range of a file and the node that holds it (-1: hole).
type jffs2Seg struct {
	start, end int64
	node       int
}

type jffs2Heap struct {
	idx   []int
	nodes []jffs2DataNode
}

func (h *jffs2Heap) Len() int { return len(h.idx) }
func (h *jffs2Heap) Less(i, j int) bool {
	a, b := h.nodes[h.idx[i]], h.nodes[h.idx[j]]
	if a.version != b.version {
		return a.version > b.version
	}
	return a.nodeOff > b.nodeOff // same version: the later node
}
func (h *jffs2Heap) Swap(i, j int) { h.idx[i], h.idx[j] = h.idx[j], h.idx[i] }
func (h *jffs2Heap) Push(v any)    { h.idx = append(h.idx, v.(int)) }
func (h *jffs2Heap) Pop() any {
	v := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return v
}

// jffs2Segments splits [0,size) into ranges each taken from the newest node
// covering it.
func jffs2Segments(nodes []jffs2DataNode, size int64) []jffs2Seg {
	var pts []int64
	pts = append(pts, 0, size)
	order := make([]int, 0, len(nodes))
	for i, d := range nodes {
		s, e := int64(d.offset), int64(d.offset)+int64(d.dsize)
		if s >= size || e <= s {
			continue
		}
		pts = append(pts, s, min(e, size))
		order = append(order, i)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i] < pts[j] })
	sort.Slice(order, func(i, j int) bool { return nodes[order[i]].offset < nodes[order[j]].offset })
	h := &jffs2Heap{nodes: nodes}
	var segs []jffs2Seg
	k := 0
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		if a == b {
			continue
		}
		for k < len(order) && int64(nodes[order[k]].offset) <= a {
			heap.Push(h, order[k])
			k++
		}
		for h.Len() > 0 {
			d := nodes[h.idx[0]]
			if int64(d.offset)+int64(d.dsize) > a {
				break
			}
			heap.Pop(h)
		}
		win := -1
		if h.Len() > 0 {
			win = h.idx[0]
		}
		if n := len(segs); n > 0 && segs[n-1].node == win && segs[n-1].end == a {
			segs[n-1].end = b
			continue
		}
		segs = append(segs, jffs2Seg{a, b, win})
	}
	return segs
}

// content writes the first size bytes of the file, clipped to its isize
// (with clip) or to the end of its data.
func (x *jffs2Extract) content(p string, in *jffs2Ino, size int64, clip bool, out io.Writer) error {
	limit := int64(in.isize)
	if !clip {
		limit = 0
		for _, d := range in.data {
			limit = max(limit, int64(d.offset)+int64(d.dsize))
		}
	}
	size = min(size, limit)
	var zeros []byte
	for i, sg := range jffs2Segments(in.data, size) {
		if i%64 == 0 {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		if sg.node < 0 {
			if zeros == nil {
				zeros = make([]byte, 32<<10)
			}
			for n := sg.end - sg.start; n > 0; {
				k := min(n, int64(len(zeros)))
				if _, err := out.Write(zeros[:k]); err != nil {
					return err
				}
				n -= k
			}
			continue
		}
		d := &in.data[sg.node]
		data := x.decode(p, d)
		lo, hi := sg.start-int64(d.offset), sg.end-int64(d.offset)
		if _, err := out.Write(data[lo:hi]); err != nil {
			return err
		}
	}
	return nil
}

// decode returns the dsize bytes of a data node (zeros where it cannot be
// decoded, which is recorded).
func (x *jffs2Extract) decode(p string, d *jffs2DataNode) []byte {
	for _, c := range x.cache {
		if c.node == d {
			return c.data
		}
	}
	src := make([]byte, d.csize)
	if n, _ := x.r.ReadAt(src, d.dataOff); n < len(src) {
		src = src[:n]
	}
	max := int(d.dsize)
	var out []byte
	var err error
	switch d.compr {
	case jffs2ComprNone:
		out = src
		if len(out) > max {
			out = out[:max]
		}
	case jffs2ComprZero:
	case jffs2ComprRtime:
		out, err = jffs2Rtime(src, max)
	case jffs2ComprZlib:
		codec := "deflate"
		if len(src) >= 2 && src[0]&0x0f == 8 && (uint16(src[0])<<8|uint16(src[1]))%31 == 0 {
			codec = "zlib"
		}
		c, _ := compress.Get(codec)
		out, err = c.Block(nil, src, max)
	case jffs2ComprLzo:
		c, _ := compress.Get("lzo")
		out, err = c.Block(nil, src, max)
	case jffs2ComprLzma:
		// OpenWrt's jffs2 LZMA: raw LZMA, lc=0 lp=0 pb=0, 8 KiB dictionary
		out, _, err = lzma.Decode(nil, src, lzma.Props{LC: 0, LP: 0, PB: 0, DictSize: 0x2000}, int64(max), int64(max))
	default:
		err = fmt.Errorf("unsupported compression %d", d.compr)
	}
	if err != nil {
		x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("jffs2: data node at offset %#x (file offset %d): %v", d.nodeOff, d.offset, err))
	} else if len(out) < max && d.compr != jffs2ComprZero {
		x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("jffs2: data node at offset %#x gives %d of %d bytes", d.nodeOff, len(out), max))
	}
	full := make([]byte, max)
	copy(full, out)
	x.cache[x.next] = jffs2Decoded{d, full}
	x.next = (x.next + 1) % len(x.cache)
	return full
}

// jffs2Rtime decodes the kernel's "rtime" compression into max bytes.
func jffs2Rtime(src []byte, max int) ([]byte, error) {
	out := make([]byte, 0, max)
	var positions [256]int
	pos := 0
	for len(out) < max {
		if pos+2 > len(src) {
			return out, fmt.Errorf("rtime: input ends after %d of %d bytes: %w", len(out), max, io.ErrUnexpectedEOF)
		}
		value, repeat := src[pos], int(src[pos+1])
		pos += 2
		out = append(out, value)
		back := positions[value]
		positions[value] = len(out)
		if len(out)+repeat > max {
			return out, fmt.Errorf("rtime: run of %d bytes past the end (%d)", repeat, max)
		}
		for ; repeat > 0; repeat-- {
			out = append(out, out[back])
			back++
		}
	}
	return out, nil
}
