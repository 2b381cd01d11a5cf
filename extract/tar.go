package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// tarFormat is POSIX ustar, GNU and PAX tar (all carry "ustar" at 257).
// Old V7 archives have no magic to carve on and are not recognised.
type tarFormat struct{}

func init() { Register(tarFormat{}) }

func (tarFormat) Name() string    { return "tar" }
func (tarFormat) Kind() Kind      { return Filesystem }
func (tarFormat) Magics() []Magic { return []Magic{{257, []byte("ustar")}} }

const (
	tarBlock  = 512
	tarRecord = 20 * tarBlock
)

func (tarFormat) Identify(h []byte) bool {
	if len(h) < tarBlock || !bytes.Equal(h[257:262], []byte("ustar")) {
		return false
	}
	return tarChecksumOK(h[:tarBlock])
}

// tarChecksumOK checks a header block's checksum (unsigned or, as some old
// tars wrote it, signed bytes; the checksum field counts as spaces).
func tarChecksumOK(b []byte) bool {
	field := bytes.Trim(b[148:156], " \x00")
	if len(field) == 0 {
		return false
	}
	want, err := strconv.ParseUint(string(field), 8, 32)
	if err != nil {
		return false
	}
	var uns, sig int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		uns += int64(c)
		sig += int64(int8(c))
	}
	return int64(want) == uns || int64(want) == sig
}

// The end of a tar is only known by reading it; Unpack returns it.
func (tarFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

// tarSource is what archive/tar reads from: it knows its position (tar
// seeks over data it skips) and stops when the context is cancelled.
type tarSource struct {
	ctx context.Context
	sr  *io.SectionReader
}

func (t tarSource) Read(p []byte) (int, error) {
	if err := t.ctx.Err(); err != nil {
		return 0, err
	}
	return t.sr.Read(p)
}

func (t tarSource) Seek(off int64, whence int) (int64, error) { return t.sr.Seek(off, whence) }

func (t tarSource) pos() int64 {
	p, _ := t.sr.Seek(0, io.SeekCurrent)
	return p
}

func (tarFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	src := tarSource{ctx, io.NewSectionReader(r, 0, size)}
	tr := tar.NewReader(src)
	ee := entryErrors{w: w}
	end := int64(0) // end of the last complete entry
	entries := 0
	for {
		if err := ctx.Err(); err != nil {
			return end, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			pos := src.pos()
			if entries == 0 {
				return 0, fmt.Errorf("%w: tar without entries", ErrNotFormat)
			}
			if pos-end < 2*tarBlock {
				w.Anomaly(AnomalyMalformed, "", "tar has no end-of-archive marker (truncated?)")
				return pos, nil
			}
			return tarRecordEnd(r, pos, size), nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			if entries == 0 {
				return 0, fmt.Errorf("%w: %v", ErrNotFormat, err)
			}
			if cerr := ctx.Err(); cerr != nil {
				return end, cerr
			}
			// a single zero block followed by other data ends an archive
			// written by some tools; anything else is corruption.
			if blk := readHeader(r, end, size, tarBlock); len(blk) == tarBlock && isZero(blk) {
				return end + tarBlock, nil
			}
			return end, fmt.Errorf("bad tar header at offset %d after %d entries: %w", end, entries, err)
		}
		entries++
		stop, err := tarEntry(tr, hdr, w, &ee)
		if stop {
			return end, err
		}
		// read what the entry did not (refused files, odd types) so the
		// position tells the exact end of the entry. A sparse entry's
		// logical data may be far larger than the archive: past the size
		// of the input, leave the rest to Next, which skips it.
		n, err := io.CopyN(io.Discard, tr, size)
		if err != nil && err != io.EOF {
			if cerr := ctx.Err(); cerr != nil {
				return end, cerr
			}
			return src.pos(), fmt.Errorf("%s: truncated entry data: %w", hdr.Name, err)
		}
		if n < size {
			end = roundUp(src.pos(), tarBlock)
		}
	}
}

// tarEntry extracts one entry. stop says the archive must not go on.
func tarEntry(tr *tar.Reader, hdr *tar.Header, w *Writer, ee *entryErrors) (stop bool, err error) {
	name := hdr.Name
	mode := hdr.FileInfo().Mode()
	perm := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeCont, tar.TypeGNUSparse:
		f, err := w.Create(name, mode)
		if err != nil {
			return ee.check(name, err)
		}
		_, err = io.Copy(f, tr)
		cerr := f.Close()
		if err == nil {
			err = cerr
		}
		if err != nil {
			if IsLimit(err) {
				return true, err
			}
			if IsEntryLimit(err) {
				return false, nil // recorded; the reader skips the rest of the entry
			}
			return true, fmt.Errorf("%s: %w", name, err)
		}
		return false, nil
	case tar.TypeDir:
		return ee.check(name, w.Mkdir(name, mode))
	case tar.TypeSymlink:
		return ee.check(name, w.Symlink(name, hdr.Linkname))
	case tar.TypeLink:
		return ee.check(name, w.Link(name, hdr.Linkname))
	case tar.TypeChar:
		return ee.check(name, w.Special(name, "char", perm, uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	case tar.TypeBlock:
		return ee.check(name, w.Special(name, "block", perm, uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	case tar.TypeFifo:
		return ee.check(name, w.Special(name, "fifo", perm, 0, 0))
	case tar.TypeXGlobalHeader, 'V':
		// PAX global attributes (git archive writes them), volume labels
		return false, nil
	default:
		w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("tar entry type %q not extracted", hdr.Typeflag))
		return false, nil
	}
}

// tarRecordEnd extends the end of an archive (after its two zero blocks)
// over the zero padding up to the next record boundary.
func tarRecordEnd(r io.ReaderAt, pos, size int64) int64 {
	rec := roundUp(pos, tarRecord)
	if rec > size {
		rec = size
	}
	pad := readHeader(r, pos, size, int(rec-pos))
	for len(pad) >= tarBlock && isZero(pad[:tarBlock]) {
		pos += tarBlock
		pad = pad[tarBlock:]
	}
	return pos
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
