package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// cpioFormat is cpio in the newc ("070701"), crc ("070702"), portable
// ASCII ("070707", odc) and old binary (0x71c7 in either byte order)
// variants. Unpack ends at the "TRAILER!!!" entry and returns its end, so
// concatenated archives (initramfs) are carved one after another.
type cpioFormat struct{}

func init() { Register(cpioFormat{}) }

func (cpioFormat) Name() string { return "cpio" }
func (cpioFormat) Kind() Kind   { return Filesystem }
func (cpioFormat) Magics() []Magic {
	return []Magic{
		{0, []byte("070701")}, {0, []byte("070702")}, {0, []byte("070707")},
		{0, []byte{0xc7, 0x71}}, {0, []byte{0x71, 0xc7}},
	}
}

// cpio variants.
const (
	cpioNewc = iota
	cpioCRC
	cpioODC
	cpioBinLE
	cpioBinBE
)

const (
	cpioMaxName    = 4096 // PATH_MAX, as the kernel's unpacker
	cpioMaxTarget  = 4096
	cpioMaxEntries = 4 << 20
	cpioTrailer    = "TRAILER!!!"
)

type cpioEntry struct {
	name     string
	mode     uint32
	nlink    uint32
	dev, ino uint64
	rmajor   uint32
	rminor   uint32
	check    uint32
	dataOff  int64
	size     int64
	next     int64 // offset of the next header
}

var errCpioMagic = errors.New("bad cpio magic")

func cpioVariant(h []byte) (int, bool) {
	if len(h) >= 6 {
		switch string(h[:6]) {
		case "070701":
			return cpioNewc, true
		case "070702":
			return cpioCRC, true
		case "070707":
			return cpioODC, true
		}
	}
	if len(h) >= 2 {
		switch {
		case h[0] == 0xc7 && h[1] == 0x71:
			return cpioBinLE, true
		case h[0] == 0x71 && h[1] == 0xc7:
			return cpioBinBE, true
		}
	}
	return 0, false
}

func (cpioFormat) Identify(h []byte) bool {
	v, ok := cpioVariant(h)
	if !ok {
		return false
	}
	e, err := cpioParse(bytes.NewReader(h), int64(len(h)), 0, v, false)
	if err != nil {
		return false
	}
	if v == cpioBinLE || v == cpioBinBE {
		// two magic bytes are weak: want a plausible first entry
		if e.name == cpioTrailer || e.nlink == 0 || !cpioKnownType(e.mode) {
			return false
		}
		for _, c := range []byte(e.name) {
			if c < 0x20 || c == 0x7f {
				return false
			}
		}
	}
	return true
}

func cpioKnownType(mode uint32) bool {
	switch mode & sIFMT {
	case sIFSOCK, sIFLNK, sIFREG, sIFBLK, sIFDIR, sIFCHR, sIFIFO:
		return true
	}
	return false
}

func (cpioFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func parseHex(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

func parseOctal(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | uint64(c-'0')
	}
	return v, true
}

// cpioParse reads the header at off. With needData it also checks the
// entry's data lies within size.
func cpioParse(r io.ReaderAt, size, off int64, variant int, needData bool) (cpioEntry, error) {
	var e cpioEntry
	var hlen int64
	var nameSize uint64
	switch variant {
	case cpioNewc, cpioCRC:
		hlen = 110
	case cpioODC:
		hlen = 76
	default:
		hlen = 26
	}
	h := readHeader(r, off, size, int(hlen))
	if int64(len(h)) < hlen {
		return e, fmt.Errorf("truncated header at offset %d: %w", off, io.ErrUnexpectedEOF)
	}
	if v, ok := cpioVariant(h); !ok || v != variant {
		return e, fmt.Errorf("%w at offset %d", errCpioMagic, off)
	}
	var align int64 = 1
	switch variant {
	case cpioNewc, cpioCRC:
		var f [13]uint64
		for i := range f {
			v, ok := parseHex(h[6+8*i : 14+8*i])
			if !ok {
				return e, fmt.Errorf("bad header field at offset %d", off)
			}
			f[i] = v
		}
		e.ino, e.mode, e.nlink = f[0], uint32(f[1]), uint32(f[4])
		e.size = int64(f[6])
		e.dev = f[7]<<32 | f[8]
		e.rmajor, e.rminor = uint32(f[9]), uint32(f[10])
		nameSize = f[11]
		e.check = uint32(f[12])
		align = 4
	case cpioODC:
		widths := [...]int{6, 6, 6, 6, 6, 6, 6, 11, 6, 11}
		var f [10]uint64
		p := 6
		for i, n := range widths {
			v, ok := parseOctal(h[p : p+n])
			if !ok {
				return e, fmt.Errorf("bad header field at offset %d", off)
			}
			f[i] = v
			p += n
		}
		e.dev, e.ino, e.mode, e.nlink = f[0], f[1], uint32(f[2]), uint32(f[5])
		e.rmajor = uint32((f[6]>>8)&0xfff | (f[6]>>32)&^0xfff)
		e.rminor = uint32(f[6]&0xff | (f[6]>>12)&^0xff)
		nameSize = f[8]
		e.size = int64(f[9])
	default:
		var bo binary.ByteOrder = binary.LittleEndian
		if variant == cpioBinBE {
			bo = binary.BigEndian
		}
		w := func(i int) uint64 { return uint64(bo.Uint16(h[2*i:])) }
		e.dev, e.ino, e.mode, e.nlink = w(1), w(2), uint32(w(3)), uint32(w(6))
		rdev := w(7)
		e.rmajor, e.rminor = uint32(rdev>>8), uint32(rdev&0xff)
		nameSize = w(10)
		e.size = int64(w(11)<<16 | w(12))
		align = 2
	}
	if nameSize < 2 || nameSize > cpioMaxName {
		return e, fmt.Errorf("bad name size %d at offset %d", nameSize, off)
	}
	name := readHeader(r, off+hlen, size, int(nameSize))
	if uint64(len(name)) < nameSize {
		return e, fmt.Errorf("truncated name at offset %d: %w", off, io.ErrUnexpectedEOF)
	}
	if name[nameSize-1] != 0 {
		return e, fmt.Errorf("name not NUL-terminated at offset %d", off)
	}
	e.name = string(name[:nameSize-1])
	e.dataOff = roundUp(off+hlen+int64(nameSize), align)
	if e.size < 0 || e.size > size {
		return e, fmt.Errorf("%s: bad file size %d", e.name, e.size)
	}
	e.next = roundUp(e.dataOff+e.size, align)
	if needData && e.dataOff+e.size > size {
		return e, fmt.Errorf("%s: %d bytes of data at offset %d run past the end (%d): %w", e.name, e.size, e.dataOff, size, io.ErrUnexpectedEOF)
	}
	return e, nil
}

type cpioLinkKey struct {
	dev, ino uint64
	mode     uint32
}

// cpioLinkGroup is a set of hard-linked names: the content lives with one
// of them (newc: the last; odc/binary: each), it is written to the first
// name accepted and the others are linked to it.
type cpioLinkGroup struct {
	carrier int // index of the entry whose data is the content, -1 if none
	primary string
}

func (cpioFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	h := readHeader(r, 0, size, 6)
	variant, ok := cpioVariant(h)
	if !ok {
		return 0, fmt.Errorf("%w: no cpio magic", ErrNotFormat)
	}
	// first pass: walk the headers (data is skipped) to find the end and
	// the hard-link groups.
	var entries []cpioEntry
	var walkErr error
	end, trailer := int64(0), false
	for off := int64(0); ; {
		if len(entries) >= cpioMaxEntries {
			walkErr = fmt.Errorf("more than %d entries", cpioMaxEntries)
			break
		}
		if c := w.EntryCap(); c > 0 && int64(len(entries)) >= c {
			// the entries indexed so far are extracted; the layer is partial
			walkErr = w.EntryCapHit("cpio")
			break
		}
		if len(entries)%1024 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		e, err := cpioParse(r, size, off, variant, true)
		if err != nil {
			walkErr = err
			break
		}
		if e.name == cpioTrailer {
			trailer = true
			end = e.next
			if end > size {
				end = size
			}
			break
		}
		entries = append(entries, e)
		off = e.next
		end = min(off, size) // the last padding may be missing
	}
	if len(entries) == 0 && !trailer {
		return 0, fmt.Errorf("%w: %v", ErrNotFormat, walkErr)
	}
	if !trailer && len(entries) < 2 && (variant == cpioBinLE || variant == cpioBinBE) {
		// one plausible binary header followed by garbage: a coincidence
		return 0, fmt.Errorf("%w: %v", ErrNotFormat, walkErr)
	}
	groups := map[cpioLinkKey]*cpioLinkGroup{}
	for i, e := range entries {
		if e.mode&sIFMT != sIFREG || e.nlink < 2 {
			continue
		}
		k := cpioLinkKey{e.dev, e.ino, e.mode & sIFMT}
		g := groups[k]
		if g == nil {
			g = &cpioLinkGroup{carrier: -1}
			groups[k] = g
		}
		if e.size > 0 {
			g.carrier = i
		}
	}
	ee := entryErrors{w: w}
	for i := range entries {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return end, err
			}
		}
		stop, err := cpioEntryOut(r, variant, entries, i, groups, w, &ee)
		if stop {
			return end, err
		}
	}
	if !trailer {
		return end, fmt.Errorf("archive ends without %s after %d entries: %w", cpioTrailer, len(entries), walkErr)
	}
	return end, nil
}

// cpioEntryOut extracts entry i. stop says the archive must not go on.
func cpioEntryOut(r io.ReaderAt, variant int, entries []cpioEntry, i int, groups map[cpioLinkKey]*cpioLinkGroup, w *Writer, ee *entryErrors) (bool, error) {
	e := entries[i]
	mode := unixToFileMode(e.mode)
	perm := e.mode & 0o7777
	switch e.mode & sIFMT {
	case sIFREG:
		data := e
		var g *cpioLinkGroup
		if e.nlink >= 2 {
			g = groups[cpioLinkKey{e.dev, e.ino, sIFREG}]
		}
		if g != nil {
			if g.primary != "" {
				return ee.check(e.name, w.Link(e.name, g.primary))
			}
			if g.carrier >= 0 {
				data = entries[g.carrier]
			}
		}
		f, err := w.Create(e.name, mode)
		if err != nil {
			return ee.check(e.name, err)
		}
		if g != nil {
			g.primary = e.name
		}
		src := io.Reader(io.NewSectionReader(r, data.dataOff, data.size))
		var sum *cpioSum
		if variant == cpioCRC {
			sum = &cpioSum{}
			src = io.TeeReader(src, sum)
		}
		_, err = io.CopyBuffer(f, src, make([]byte, 64<<10))
		cerr := f.Close()
		if err == nil {
			err = cerr
		}
		if err != nil {
			if IsLimit(err) {
				return true, err
			}
			return ee.check(e.name, err)
		}
		if sum != nil && sum.v != data.check {
			w.Anomaly(AnomalyMalformed, e.name, fmt.Sprintf("cpio data checksum %08x, header says %08x", sum.v, data.check))
		}
		return false, nil
	case sIFDIR:
		return ee.check(e.name, w.Mkdir(e.name, mode))
	case sIFLNK:
		if e.size > cpioMaxTarget {
			w.Anomaly(AnomalyMalformed, e.name, fmt.Sprintf("symlink target of %d bytes not extracted", e.size))
			return false, nil
		}
		t := make([]byte, e.size)
		if _, err := r.ReadAt(t, e.dataOff); err != nil {
			return ee.check(e.name, err)
		}
		target := strings.TrimRight(string(t), "\x00")
		if target == "" {
			w.Anomaly(AnomalyMalformed, e.name, "symlink without target")
			return false, nil
		}
		return ee.check(e.name, w.Symlink(e.name, target))
	case sIFCHR:
		return ee.check(e.name, w.Special(e.name, "char", perm, e.rmajor, e.rminor))
	case sIFBLK:
		return ee.check(e.name, w.Special(e.name, "block", perm, e.rmajor, e.rminor))
	case sIFIFO:
		return ee.check(e.name, w.Special(e.name, "fifo", perm, 0, 0))
	case sIFSOCK:
		return ee.check(e.name, w.Special(e.name, "socket", perm, 0, 0))
	}
	w.Anomaly(AnomalyMalformed, e.name, fmt.Sprintf("unknown file type in mode %o; not extracted", e.mode))
	return false, nil
}

// cpioSum is the "crc" format's checksum: the sum of the data bytes.
type cpioSum struct{ v uint32 }

func (s *cpioSum) Write(p []byte) (int, error) {
	v := s.v
	for _, c := range p {
		v += uint32(c)
	}
	s.v = v
	return len(p), nil
}
