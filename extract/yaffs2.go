package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// yaffs2Format is YAFFS2, the log-structured NAND flash file system of many
// Android and embedded Linux devices, as a raw dump of pages each followed by
// its spare (OOB) area. The image is a sequence of chunks: object headers
// (chunk id 0) and data chunks; the packed tags in the spare area say which
// object and chunk a page holds and its block's sequence number, the newest
// sequence number winning for each (object, chunk). YAFFS2 has no magic and
// no superblock: the geometry (page/spare size, where the tags sit in the
// spare, byte order) is found by trying the common ones on the first chunk,
// which must be a plausible object header whose tags agree with it.
type yaffs2Format struct{}

func init() { Register(yaffs2Format{}) }

const (
	yaffs2HdrLen = 512 // struct yaffs_obj_hdr
	yaffs2TagLen = 16  // struct yaffs_packed_tags2_tags_only

	yaffs2TypeFile     = 1
	yaffs2TypeSymlink  = 2
	yaffs2TypeDir      = 3
	yaffs2TypeHardlink = 4
	yaffs2TypeSpecial  = 5

	yaffs2ObjRoot     = 1
	yaffs2ObjUnlinked = 3
	yaffs2ObjDeleted  = 4

	yaffs2SeqLowest  = 0x00001000
	yaffs2SeqHighest = 0xefffff00

	yaffs2ExtraHeader = 0x80000000 // chunk id: the tags carry header info
	yaffs2ExtraFlags  = 0xf0000000
	yaffs2ExtraShift  = 28

	yaffs2MaxObjects  = 1 << 19
	yaffs2MaxChunks   = 8 << 20 // data chunks recorded
	yaffs2MaxBadRun   = 256     // consecutive chunks with invalid tags end the image
	yaffs2ScoreChunks = 128     // chunks looked at to rank candidate geometries
	yaffs2WinChunks   = 64
)

// yaffs2Geom is one flash layout: page (chunk data) and spare sizes, the
// offset of the packed tags in the spare area (0, or 2 behind a bad block
// marker) and the byte order.
type yaffs2Geom struct {
	page, spare, tagOff int
	bo                  binary.ByteOrder
}

func (g yaffs2Geom) chunk() int { return g.page + g.spare }

func (g yaffs2Geom) String() string {
	o := "le"
	if g.bo == binary.BigEndian {
		o = "be"
	}
	return fmt.Sprintf("%d+%d, tags at spare offset %d, %s", g.page, g.spare, g.tagOff, o)
}

// yaffs2Sizes are the page/spare sizes tried, most common first.
var yaffs2Sizes = [][2]int{{2048, 64}, {4096, 128}, {512, 16}, {1024, 32}}

func (yaffs2Format) Name() string { return "yaffs2" }
func (yaffs2Format) Kind() Kind   { return Filesystem }

// Magics: the first object header (type file/symlink/dir/hardlink/special,
// parent id 1: the root) in either byte order. Identify rejects the many
// coincidences.
func (yaffs2Format) Magics() []Magic {
	var out []Magic
	for t := uint32(1); t <= 5; t++ {
		le := binary.LittleEndian.AppendUint32(nil, t)
		be := binary.BigEndian.AppendUint32(nil, t)
		out = append(out,
			Magic{0, binary.LittleEndian.AppendUint32(le, yaffs2ObjRoot)},
			Magic{0, binary.BigEndian.AppendUint32(be, yaffs2ObjRoot)})
	}
	return out
}

// yaffs2Order tells the byte order from the type field of a header.
func yaffs2Order(h []byte) binary.ByteOrder {
	if len(h) < 4 {
		return nil
	}
	switch {
	case h[0] >= 1 && h[0] <= 5 && h[1] == 0 && h[2] == 0 && h[3] == 0:
		return binary.LittleEndian
	case h[3] >= 1 && h[3] <= 5 && h[0] == 0 && h[1] == 0 && h[2] == 0:
		return binary.BigEndian
	}
	return nil
}

type yaffs2Tags struct {
	seq, obj, chunk, nbytes uint32
	header                  bool
	extra                   bool   // the header tags carry type and parent
	xtype, xparent          uint32 // with extra
}

const (
	yaffs2Erased = iota // unwritten (or a bad block): skipped
	yaffs2Valid
	yaffs2Invalid
)

// yaffs2ParseTags decodes the packed tags of the spare area sp.
func yaffs2ParseTags(sp []byte, g yaffs2Geom) (yaffs2Tags, int) {
	var t yaffs2Tags
	if len(sp) < g.tagOff+yaffs2TagLen {
		return t, yaffs2Invalid
	}
	b := sp[g.tagOff : g.tagOff+yaffs2TagLen]
	if allBytes(b, 0xff) {
		return t, yaffs2Erased
	}
	bo := g.bo
	t.seq, t.obj, t.chunk, t.nbytes = bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:]), bo.Uint32(b[12:])
	if t.seq < yaffs2SeqLowest || t.seq > yaffs2SeqHighest {
		return t, yaffs2Invalid
	}
	if t.chunk&yaffs2ExtraHeader != 0 {
		t.header, t.extra = true, true
		t.xtype = t.obj >> yaffs2ExtraShift
		t.xparent = t.chunk &^ yaffs2ExtraFlags
		t.obj &^= yaffs2ExtraFlags
		t.chunk = 0
	} else if t.chunk == 0 {
		t.header = true
	}
	if t.obj == 0 || t.obj&yaffs2ExtraFlags != 0 {
		return t, yaffs2Invalid
	}
	if !t.header && t.nbytes > uint32(g.page) {
		return t, yaffs2Invalid
	}
	return t, yaffs2Valid
}

// yaffs2Hdr is the part of struct yaffs_obj_hdr extraction uses.
type yaffs2Hdr struct {
	typ, parent uint32
	name        string
	mode        uint32
	size        uint64
	equiv       uint32
	alias       string
	rdev        uint32
}

// cstr returns b up to its NUL, and whether there is one.
func yaffs2Cstr(b []byte) (string, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", false
	}
	return string(b[:i]), true
}

// yaffs2Printable says a name is text: valid UTF-8 without control
// characters.
func yaffs2Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// yaffs2ParseHdr decodes an object header; ok says it is plausible.
func yaffs2ParseHdr(p []byte, bo binary.ByteOrder) (h yaffs2Hdr, ok bool) {
	if len(p) < yaffs2HdrLen {
		return h, false
	}
	h.typ, h.parent = bo.Uint32(p), bo.Uint32(p[4:])
	if h.typ < yaffs2TypeFile || h.typ > yaffs2TypeSpecial || h.parent == 0 || h.parent&yaffs2ExtraFlags != 0 {
		return h, false
	}
	name, ok := yaffs2Cstr(p[10:266])
	if !ok || !yaffs2Printable(name) {
		return h, false
	}
	h.name = name
	h.mode = bo.Uint32(p[268:])
	low, high := bo.Uint32(p[292:]), bo.Uint32(p[496:])
	switch {
	case high != 0xffffffff:
		h.size = uint64(high)<<32 | uint64(low)
	case low != 0xffffffff:
		h.size = uint64(low)
	}
	h.equiv = bo.Uint32(p[296:])
	if h.typ == yaffs2TypeSymlink {
		h.alias, _ = yaffs2Cstr(p[300:460])
	}
	h.rdev = bo.Uint32(p[460:])
	// the mode's file type, where there is one, matches the object type
	ft := h.mode & sIFMT
	switch h.typ {
	case yaffs2TypeFile:
		ok = ft == 0 || ft == sIFREG
	case yaffs2TypeSymlink:
		ok = ft == 0 || ft == sIFLNK
	case yaffs2TypeDir:
		ok = ft == 0 || ft == sIFDIR
	case yaffs2TypeSpecial:
		ok = ft == 0 || ft == sIFCHR || ft == sIFBLK || ft == sIFIFO || ft == sIFSOCK
	}
	return h, ok
}

// yaffs2HeaderAgrees checks that page p is a plausible first object header
// of an image and that its tags t agree with it.
func yaffs2HeaderAgrees(p []byte, t yaffs2Tags, st int, bo binary.ByteOrder) bool {
	if st != yaffs2Valid || !t.header {
		return false
	}
	h, ok := yaffs2ParseHdr(p, bo)
	if !ok {
		return false
	}
	// the first object of an image is a real one (not the root, lost+found,
	// unlinked or deleted pseudo directories), named, with a file type in
	// its mode (mkyaffs2image and the kernel copy st_mode)
	if t.obj <= yaffs2ObjDeleted || h.name == "" || h.typ != yaffs2TypeHardlink && h.mode&sIFMT == 0 {
		return false
	}
	if t.extra && (t.xtype != h.typ || t.xparent != h.parent) {
		return false
	}
	return true
}

func (yaffs2Format) Identify(h []byte) bool {
	bo := yaffs2Order(h)
	if bo == nil {
		return false
	}
	if _, ok := yaffs2ParseHdr(h, bo); !ok {
		return false
	}
	for _, s := range yaffs2Sizes {
		for _, off := range []int{0, 2} {
			g := yaffs2Geom{s[0], s[1], off, bo}
			if off+yaffs2TagLen > g.spare {
				continue
			}
			if len(h) < g.page+off+yaffs2TagLen {
				continue
			}
			t, st := yaffs2ParseTags(h[g.page:min(len(h), g.chunk())], g)
			if yaffs2HeaderAgrees(h[:g.page], t, st, bo) {
				return true
			}
		}
	}
	// a 4 KiB page puts the spare beyond the header Identify gets: the rest
	// of the header page must be unwritten; Bound checks the tags
	return len(h) >= 4096 && allBytes(h[yaffs2HdrLen:4096], 0xff)
}

// yaffs2Win reads whole chunks through a buffer of several.
type yaffs2Win struct {
	r     io.ReaderAt
	size  int64
	g     yaffs2Geom
	first int64 // index of the first chunk in buf
	n     int64 // chunks in buf
	buf   []byte
}

// chunk returns chunk i, or nil past the end of the image.
func (w *yaffs2Win) chunk(i int64) []byte {
	cs := int64(w.g.chunk())
	if (i+1)*cs > w.size || i < 0 {
		return nil
	}
	if i < w.first || i >= w.first+w.n {
		n := min(int64(yaffs2WinChunks), w.size/cs-i)
		if w.buf == nil {
			w.buf = make([]byte, yaffs2WinChunks*cs)
		}
		k, _ := w.r.ReadAt(w.buf[:n*cs], i*cs)
		w.first, w.n = i, int64(k)/cs
		if w.n == 0 {
			return nil
		}
	}
	o := (i - w.first) * cs
	return w.buf[o : o+cs]
}

// yaffs2Detect finds the geometry of the image: the one whose first chunk
// is an object header with agreeing tags and that then has the most valid
// chunks among the first few.
func yaffs2Detect(r io.ReaderAt, size int64) (yaffs2Geom, error) {
	hdr := readHeader(r, 0, size, 8)
	bo := yaffs2Order(hdr)
	if bo == nil {
		return yaffs2Geom{}, fmt.Errorf("%w: no yaffs2 object header", ErrNotFormat)
	}
	best, bestScore := yaffs2Geom{}, -1
	for _, s := range yaffs2Sizes {
		for _, off := range []int{0, 2} {
			g := yaffs2Geom{s[0], s[1], off, bo}
			if off+yaffs2TagLen > g.spare {
				continue
			}
			w := &yaffs2Win{r: r, size: size, g: g}
			c := w.chunk(0)
			if c == nil {
				continue
			}
			t, st := yaffs2ParseTags(c[g.page:], g)
			if !yaffs2HeaderAgrees(c[:g.page], t, st, bo) {
				continue
			}
			score := 0
			for i := int64(1); i < yaffs2ScoreChunks; i++ {
				c := w.chunk(i)
				if c == nil {
					break
				}
				if _, st := yaffs2ParseTags(c[g.page:], g); st == yaffs2Valid {
					score++
				}
			}
			if score > bestScore {
				best, bestScore = g, score
			}
		}
	}
	if bestScore < 0 {
		return best, fmt.Errorf("%w: no flash geometry gives a yaffs2 object header with matching tags", ErrNotFormat)
	}
	return best, nil
}

type yaffs2Chunk struct {
	id, seq, nbytes uint32
	idx             int64 // chunk index in the image
}

type yaffs2Obj struct {
	hdr    yaffs2Hdr
	hdrSeq uint32
	hdrIdx int64
	has    bool // a valid header was seen
	chunks []yaffs2Chunk
}

// yaffs2Scan is the result of scanning the chunks of an image.
type yaffs2Scan struct {
	g       yaffs2Geom
	end     int64
	valid   int
	objs    map[uint32]*yaffs2Obj
	nchunks int
	badTags skipped // non-erased chunks with invalid tags
	badHdr  skipped // header chunks whose page is not a header
	stopped string
}

// newer says a chunk (seq, idx) supersedes one (oseq, oidx): a higher
// sequence number, or the same block and written later.
func yaffs2Newer(seq uint32, idx int64, oseq uint32, oidx int64) bool {
	return seq > oseq || seq == oseq && idx > oidx
}

func yaffs2DoScan(ctx context.Context, r io.ReaderAt, size int64, collect bool) (*yaffs2Scan, error) {
	g, err := yaffs2Detect(r, size)
	if err != nil {
		return nil, err
	}
	s := &yaffs2Scan{g: g, objs: map[uint32]*yaffs2Obj{}}
	w := &yaffs2Win{r: r, size: size, g: g}
	cs := int64(g.chunk())
	badRun := 0
	for i := int64(0); ; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return s, ctx.Err()
		}
		c := w.chunk(i)
		if c == nil {
			break
		}
		t, st := yaffs2ParseTags(c[g.page:], g)
		switch st {
		case yaffs2Erased:
			if s.end == i*cs && allBytes(c, 0xff) {
				s.end += cs // unwritten chunks after the last one belong to it
			}
			continue
		case yaffs2Invalid:
			s.badTags.add(i * cs)
			if badRun++; badRun >= yaffs2MaxBadRun {
				goto done
			}
			continue
		}
		if t.header {
			h, ok := yaffs2ParseHdr(c[:g.page], g.bo)
			if !ok || t.extra && (t.xtype != h.typ || t.xparent != h.parent) {
				s.badTags.add(i * cs)
				if badRun++; badRun >= yaffs2MaxBadRun {
					goto done
				}
				continue
			}
			if collect {
				o := s.objs[t.obj]
				if o == nil {
					if len(s.objs) >= yaffs2MaxObjects {
						s.stopped = fmt.Sprintf("more than %d objects", yaffs2MaxObjects)
						goto done
					}
					o = &yaffs2Obj{}
					s.objs[t.obj] = o
				}
				if !o.has || yaffs2Newer(t.seq, i, o.hdrSeq, o.hdrIdx) {
					o.hdr, o.hdrSeq, o.hdrIdx, o.has = h, t.seq, i, true
				}
			}
		} else if collect {
			if s.nchunks >= yaffs2MaxChunks {
				s.stopped = fmt.Sprintf("more than %d data chunks", yaffs2MaxChunks)
				goto done
			}
			o := s.objs[t.obj]
			if o == nil {
				if len(s.objs) >= yaffs2MaxObjects {
					s.stopped = fmt.Sprintf("more than %d objects", yaffs2MaxObjects)
					goto done
				}
				o = &yaffs2Obj{}
				s.objs[t.obj] = o
			}
			o.chunks = append(o.chunks, yaffs2Chunk{id: t.chunk, seq: t.seq, nbytes: t.nbytes, idx: i})
			s.nchunks++
		}
		badRun = 0
		s.valid++
		s.end = (i + 1) * cs
	}
done:
	// invalid chunks after the end are not part of the image
	if s.badTags.n > 0 && s.badTags.first >= s.end {
		s.badTags = skipped{}
	}
	return s, nil
}

func (yaffs2Format) Bound(r io.ReaderAt, size int64) (int64, error) {
	s, err := yaffs2DoScan(context.Background(), r, size, false)
	if err != nil {
		return 0, err
	}
	return s.end, nil
}

func (yaffs2Format) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	s, err := yaffs2DoScan(ctx, r, size, true)
	if err != nil {
		if s == nil {
			return 0, err
		}
		return s.end, err
	}
	if s.badTags.n > 0 {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("yaffs2: %d chunks with invalid tags or header skipped (first at offset %#x)", s.badTags.n, s.badTags.first))
	}
	if s.stopped != "" {
		w.Anomaly(AnomalyLimit, "", "yaffs2: scan stopped: "+s.stopped)
	}
	x := &yaffs2Extract{s: s, r: r, w: w, ctx: ctx, ee: entryErrors{w: w}}
	return s.end, x.tree()
}

type yaffs2Extract struct {
	s    *yaffs2Scan
	r    io.ReaderAt
	w    *Writer
	ctx  context.Context
	ee   entryErrors
	page []byte
}

type yaffs2Child struct {
	name string
	obj  uint32
}

func (x *yaffs2Extract) tree() error {
	children := map[uint32][]yaffs2Child{}
	dropped, badName := 0, 0
	for id, o := range x.s.objs {
		if !o.has || id == yaffs2ObjRoot {
			continue
		}
		if o.hdr.parent == yaffs2ObjUnlinked || o.hdr.parent == yaffs2ObjDeleted || id == yaffs2ObjUnlinked || id == yaffs2ObjDeleted {
			dropped++
			continue
		}
		n := o.hdr.name
		if n == "" || n == "." || n == ".." || strings.Contains(n, "/") {
			badName++
			continue
		}
		children[o.hdr.parent] = append(children[o.hdr.parent], yaffs2Child{n, id})
	}
	if badName > 0 {
		x.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("yaffs2: %d objects with an invalid name skipped", badName))
	}
	for _, c := range children {
		sort.Slice(c, func(i, j int) bool {
			if c[i].name != c[j].name {
				return c[i].name < c[j].name
			}
			return c[i].obj < c[j].obj
		})
	}
	t := &fsTree[uint32]{fs: "yaffs2", idWord: "object", w: x.w, ee: &x.ee,
		root: fsDirent[uint32]{key: yaffs2ObjRoot, id: yaffs2ObjRoot},
		children: func(dir uint32) []fsDirent[uint32] {
			out := make([]fsDirent[uint32], len(children[dir]))
			for i, c := range children[dir] {
				out[i] = fsDirent[uint32]{c.name, c.obj, uint64(c.obj)}
			}
			return out
		},
		inode: func(p string, d fsDirent[uint32]) (fsInode, bool) {
			return x.inode(p, d.key, x.s.objs[d.key]), true
		}}
	reached, err := t.write(x.ctx)
	if err != nil {
		return err
	}
	if dropped > 0 {
		x.w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("yaffs2: %d unlinked or deleted objects not extracted", dropped))
	}
	lost := 0
	for _, c := range children {
		lost += len(c)
	}
	if lost -= reached; lost > 0 {
		x.w.Anomaly(AnomalyLoop, "", fmt.Sprintf("yaffs2: %d objects not reachable from the root (missing or non-directory parent, or a directory cycle)", lost))
	}
	return nil
}

// inode describes one object for the tree writer: YAFFS2 object types
// become Unix file types; a hard-link object names the object it links to.
func (x *yaffs2Extract) inode(p string, id uint32, o *yaffs2Obj) fsInode {
	h := &o.hdr
	perm := h.mode & 0o7777
	switch h.typ {
	case yaffs2TypeDir:
		return fsInode{mode: perm | sIFDIR}
	case yaffs2TypeHardlink:
		if h.equiv == 0 {
			x.w.Anomaly(AnomalyMalformed, p, "yaffs2: hard link to object 0, which is not an extracted regular file")
			return fsInode{skip: true}
		}
		return fsInode{hardlinkTo: uint64(h.equiv)}
	case yaffs2TypeFile:
		return fsInode{mode: perm | sIFREG, link: uint64(id),
			data: func(out io.Writer) error { return x.content(p, o, out) }}
	case yaffs2TypeSymlink:
		return fsInode{mode: perm | sIFLNK, size: int64(len(h.alias)),
			data: func(out io.Writer) error { _, err := io.WriteString(out, h.alias); return err }}
	case yaffs2TypeSpecial:
		switch h.mode & sIFMT {
		case sIFCHR, sIFBLK, sIFIFO, sIFSOCK:
			fi := fsInode{mode: perm | h.mode&sIFMT}
			fi.major, fi.minor = newDevice(h.rdev)
			return fi
		}
		x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("yaffs2: special object with mode %o; not extracted", h.mode))
	}
	return fsInode{skip: true}
}

// content writes a file's size bytes from its newest data chunks; chunks
// that are missing read as zeros (a hole).
func (x *yaffs2Extract) content(p string, o *yaffs2Obj, out io.Writer) error {
	ps := int64(x.s.g.page)
	cs := int64(x.s.g.chunk())
	size := o.hdr.size
	if size > 1<<62 {
		x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("yaffs2: implausible file size %d", size))
		size = 0
		for _, c := range o.chunks {
			if c.id > 0 {
				size = max(size, uint64(c.id-1)*uint64(ps)+uint64(c.nbytes))
			}
		}
	}
	total := int64(size)
	cks := o.chunks
	sort.Slice(cks, func(i, j int) bool {
		if cks[i].id != cks[j].id {
			return cks[i].id < cks[j].id
		}
		return !yaffs2Newer(cks[i].seq, cks[i].idx, cks[j].seq, cks[j].idx)
	})
	if x.page == nil {
		x.page = make([]byte, ps)
	}
	var zeros []byte
	pos := int64(0)
	fill := func(to int64) error {
		if zeros == nil {
			zeros = make([]byte, 32<<10)
		}
		for pos < to {
			k := min(to-pos, int64(len(zeros)))
			if _, err := out.Write(zeros[:k]); err != nil {
				return err
			}
			pos += k
		}
		return nil
	}
	for i, c := range cks {
		if i+1 < len(cks) && cks[i+1].id == c.id {
			continue // an older copy: the last of its id is the newest
		}
		if i%64 == 0 {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		if c.id == 0 {
			continue
		}
		start := int64(c.id-1) * ps
		if start >= total {
			continue
		}
		if err := fill(start); err != nil {
			return err
		}
		n := min(int64(c.nbytes), total-start)
		k, _ := x.r.ReadAt(x.page[:n], c.idx*cs)
		if int64(k) < n {
			x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("yaffs2: chunk at offset %#x cannot be read", c.idx*cs))
		}
		clear(x.page[k:n])
		if _, err := out.Write(x.page[:n]); err != nil {
			return err
		}
		pos += n
	}
	return fill(total)
}
