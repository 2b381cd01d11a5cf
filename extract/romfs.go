package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// romfsFormat is the Linux romfs ("-rom1fs-"): big-endian, 16-byte aligned
// file headers chained per directory, uncompressed data, checksums over
// the first 512 bytes and over each header.
type romfsFormat struct{}

func init() { Register(romfsFormat{}) }

const (
	romfsMagic     = "-rom1fs-"
	romfsMaxName   = 4096
	romfsMaxTarget = 4096
	romfsMaxDepth  = 256

	romfsHardlink = 0
	romfsDir      = 1
	romfsReg      = 2
	romfsSymlink  = 3
	romfsBlock    = 4
	romfsChar     = 5
	romfsSocket   = 6
	romfsFifo     = 7
)

func (romfsFormat) Name() string    { return "romfs" }
func (romfsFormat) Kind() Kind      { return Filesystem }
func (romfsFormat) Magics() []Magic { return []Magic{{0, []byte(romfsMagic)}} }

// romfsSum is the romfs checksum: the sum of big-endian 32-bit words.
func romfsSum(b []byte) uint32 {
	var s uint32
	for i := 0; i+4 <= len(b); i += 4 {
		s += binary.BigEndian.Uint32(b[i:])
	}
	return s
}

// romfsName reads a NUL-terminated name padded to 16 bytes at off of b.
func romfsName(b []byte) (string, int, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", 0, false
	}
	return string(b[:i]), int(roundUp(int64(i+1), 16)), true
}

func (romfsFormat) Identify(h []byte) bool {
	if len(h) < 32 || string(h[:8]) != romfsMagic {
		return false
	}
	full := binary.BigEndian.Uint32(h[8:])
	if full < 32 {
		return false
	}
	n := min(512, int(full), len(h))
	if n < 512 && n < int(full) {
		return false // the header this is given does not hold the checked bytes
	}
	if romfsSum(h[:n&^3]) != 0 {
		return false
	}
	_, _, ok := romfsName(h[16:min(len(h), 16+romfsMaxName)])
	return ok
}

func (romfsFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	h := readHeader(r, 0, size, 16)
	if len(h) < 16 || string(h[:8]) != romfsMagic {
		return 0, fmt.Errorf("%w: no romfs magic", ErrNotFormat)
	}
	return min(int64(binary.BigEndian.Uint32(h[8:])), size), nil
}

type romfsHdr struct {
	off     int64
	next    int64
	typ     int
	exec    bool
	spec    uint32
	size    uint32
	name    string
	dataOff int64
}

type romfsExtract struct {
	r       io.ReaderAt
	size    int64
	w       *Writer
	ctx     context.Context
	ee      entryErrors
	paths   map[int64]string // header offset -> path written
	links   []romfsHdr       // hard links, resolved at the end
	n       int
	badSums int
}

func (x *romfsExtract) header(off int64) (romfsHdr, error) {
	var h romfsHdr
	if off < 32 || off%16 != 0 || off+16 > x.size {
		return h, fmt.Errorf("romfs: file header offset %#x out of range", off)
	}
	b := readHeader(x.r, off, x.size, 16+romfsMaxName)
	if len(b) < 32 {
		return h, fmt.Errorf("romfs: file header at %#x truncated", off)
	}
	name, nlen, ok := romfsName(b[16:])
	if !ok {
		return h, fmt.Errorf("romfs: file name at %#x not terminated", off)
	}
	w0 := binary.BigEndian.Uint32(b)
	h = romfsHdr{off: off, next: int64(w0 &^ 15), typ: int(w0 & 7), exec: w0&8 != 0,
		spec: binary.BigEndian.Uint32(b[4:]), size: binary.BigEndian.Uint32(b[8:]),
		name: name, dataOff: off + 16 + int64(nlen)}
	if romfsSum(b[:16+nlen]) != 0 {
		x.badSums++
		if x.badSums <= 16 {
			x.w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("romfs: bad header checksum at %#x", off))
		}
	}
	return h, nil
}

func (romfsFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	h := readHeader(r, 0, size, 512)
	if len(h) < 32 || string(h[:8]) != romfsMagic {
		return 0, fmt.Errorf("%w: no romfs magic", ErrNotFormat)
	}
	full := int64(binary.BigEndian.Uint32(h[8:]))
	end := size
	if full > size {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("romfs: image size %d but only %d bytes present (truncated)", full, size))
	} else {
		end = full
	}
	if n := min(512, int(end)) &^ 3; romfsSum(h[:n]) != 0 {
		w.Anomaly(AnomalyMalformed, "", "romfs: bad superblock checksum")
	}
	_, nlen, ok := romfsName(h[16:])
	if !ok {
		return 0, fmt.Errorf("%w: volume name not terminated", ErrNotFormat)
	}
	x := &romfsExtract{r: r, size: end, w: w, ctx: ctx, ee: entryErrors{w: w}, paths: map[int64]string{}}
	err := x.tree(int64(16 + nlen))
	if err == nil {
		err = x.resolveLinks()
	}
	return end, err
}

func (x *romfsExtract) tree(first int64) error {
	type item struct {
		first int64
		path  string
		depth int
	}
	visited := map[int64]bool{first: true}
	stack := []item{{first, "", 0}}
	limit := x.size / 16 // no more headers than that fit
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var sub []item
		seen := map[int64]bool{}
		for off := it.first; off != 0; {
			x.n++
			if int64(x.n) > limit {
				x.w.Anomaly(AnomalyLoop, it.path, "romfs: more file headers than the image can hold (a chain loop)")
				return nil
			}
			if x.n%256 == 1 { // the first header, then every 256th
				if err := x.ctx.Err(); err != nil {
					return err
				}
			}
			if seen[off] {
				x.w.Anomaly(AnomalyLoop, it.path, fmt.Sprintf("romfs: directory chain loops at %#x", off))
				break
			}
			seen[off] = true
			h, err := x.header(off)
			if err != nil {
				x.w.Anomaly(AnomalyMalformed, it.path, err.Error())
				break
			}
			off = h.next
			if h.name == "." || h.name == ".." {
				continue
			}
			p := h.name
			if it.path != "" {
				p = it.path + "/" + h.name
			}
			if h.name == "" || strings.Contains(h.name, "/") {
				x.w.Anomaly(AnomalyBadName, p, "romfs: invalid entry name")
				continue
			}
			if h.typ == romfsDir {
				first := int64(h.spec)
				if visited[first] {
					x.w.Anomaly(AnomalyLoop, p, "romfs: directory appears twice; not descended again")
					continue
				}
				if it.depth+1 > romfsMaxDepth {
					x.w.Anomaly(AnomalyDepth, p, "romfs: directory tree too deep")
					continue
				}
				if stop, err := x.ee.check(p, x.w.Mkdir(p, fs.ModeDir|0o755)); stop {
					return err
				} else if err == nil {
					visited[first] = true
					x.paths[h.off] = p
					sub = append(sub, item{first, p, it.depth + 1})
				}
				continue
			}
			if stop, err := x.entry(p, h); stop {
				return err
			}
		}
		for i := len(sub) - 1; i >= 0; i-- {
			stack = append(stack, sub[i])
		}
	}
	return nil
}

func (x *romfsExtract) mode(h romfsHdr) fs.FileMode {
	if h.exec {
		return 0o755
	}
	return 0o644
}

func (x *romfsExtract) entry(p string, h romfsHdr) (bool, error) {
	if h.typ != romfsHardlink && h.typ != romfsDir && h.dataOff+int64(h.size) > x.size {
		x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("romfs: %d bytes of data at %#x run past the image", h.size, h.dataOff))
		if h.typ != romfsReg {
			return false, nil
		}
	}
	perm := uint32(x.mode(h))
	switch h.typ {
	case romfsHardlink:
		h.name = p
		x.links = append(x.links, h)
		return false, nil
	case romfsReg:
		n := min(int64(h.size), max(0, x.size-h.dataOff))
		_, err := x.w.WriteFile(p, x.mode(h), io.NewSectionReader(x.r, h.dataOff, n))
		if err == nil {
			x.paths[h.off] = p
		}
		return x.ee.check(p, err)
	case romfsSymlink:
		if h.size > romfsMaxTarget {
			x.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("romfs: symlink target of %d bytes not extracted", h.size))
			return false, nil
		}
		t := make([]byte, h.size)
		if _, err := x.r.ReadAt(t, h.dataOff); err != nil {
			return x.ee.check(p, err)
		}
		target := strings.TrimRight(string(t), "\x00")
		if target == "" {
			x.w.Anomaly(AnomalyMalformed, p, "romfs: symlink without target")
			return false, nil
		}
		err := x.w.Symlink(p, target)
		if err == nil {
			x.paths[h.off] = p
		}
		return x.ee.check(p, err)
	case romfsBlock:
		return x.ee.check(p, x.w.Special(p, "block", perm&^0o111, h.spec>>16, h.spec&0xffff))
	case romfsChar:
		return x.ee.check(p, x.w.Special(p, "char", perm&^0o111, h.spec>>16, h.spec&0xffff))
	case romfsSocket:
		return x.ee.check(p, x.w.Special(p, "socket", perm&^0o111, 0, 0))
	case romfsFifo:
		return x.ee.check(p, x.w.Special(p, "fifo", perm&^0o111, 0, 0))
	}
	return false, nil
}

// resolveLinks creates the hard links once every target has been written.
func (x *romfsExtract) resolveLinks() error {
	for _, l := range x.links {
		target, ok := x.paths[int64(l.spec)]
		if !ok {
			x.w.Anomaly(AnomalyMalformed, l.name, fmt.Sprintf("romfs: hard link to %#x, which is no extracted file", l.spec))
			continue
		}
		if stop, err := x.ee.check(l.name, x.w.Link(l.name, target)); stop {
			return err
		}
	}
	return nil
}
