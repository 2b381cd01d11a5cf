package extract

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// AnomalyEncrypted marks an archive entry that is encrypted and was not
// extracted.
const AnomalyEncrypted = "encrypted-entry"

// zipFormat is PKZIP (zip, jar, apk, ...), including zip64.
type zipFormat struct{}

func init() { Register(zipFormat{}) }

func (zipFormat) Name() string    { return "zip" }
func (zipFormat) Kind() Kind      { return Filesystem }
func (zipFormat) Magics() []Magic { return []Magic{{0, []byte("PK\x03\x04")}} }

var (
	zipLocalSig = []byte("PK\x03\x04")
	zipCDSig    = []byte("PK\x01\x02")
	zipEOCDSig  = []byte("PK\x05\x06")
	zipLoc64Sig = []byte("PK\x06\x07")
	zipEnd64Sig = []byte("PK\x06\x06")
)

func (zipFormat) Identify(h []byte) bool {
	if len(h) < 30 || !bytes.Equal(h[:4], zipLocalSig) {
		return false
	}
	if h[5] > 3 { // version needed: high byte is the host system
		return false
	}
	switch binary.LittleEndian.Uint16(h[8:]) { // method
	case 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 18, 19, 93, 94, 95, 96, 97, 98, 99:
	default:
		return false
	}
	n := binary.LittleEndian.Uint16(h[26:])
	return n > 0 && n <= 4096
}

// Bound is the end of the end-of-central-directory record.
func (zipFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	end, ok, _ := zipFindEnd(r, size)
	if !ok {
		return -1, nil
	}
	return end, nil
}

// zipFindEnd scans forward from the start for an end-of-central-directory
// record whose comment fits and whose central directory is where it says,
// with its first local header at offset 0 of r (so a zip inside a stored
// entry of another zip is not mistaken for the end of the outer one). It
// returns the end of that record.
//
// Each candidate record is checked by walking the central directory it
// names; a hostile blob of many fake end records over one large directory
// would make the search quadratic, so the headers walked over all
// candidates are bounded (zipSearchWork). gaveUp reports that the bound
// ended the search.
func zipFindEnd(r io.ReaderAt, size int64) (end int64, ok, gaveUp bool) {
	const chunk = 1 << 20
	buf := make([]byte, chunk+len(zipEOCDSig)-1)
	work := zipSearchWork
	for base := int64(4); base < size; base += chunk {
		n, _ := r.ReadAt(buf, base)
		if n < len(zipEOCDSig) {
			break
		}
		win := buf[:n]
		for i := 0; ; {
			j := bytes.Index(win[i:], zipEOCDSig)
			if j < 0 {
				break
			}
			p := base + int64(i+j)
			if work <= 0 {
				return 0, false, true
			}
			if end, ok := zipCheckEnd(r, size, p, &work); ok {
				return end, true, false
			}
			i += j + 1
		}
	}
	return 0, false, false
}

// zipSearchWork bounds the central-directory headers (and candidate end
// records) zipFindEnd may examine for one zip: far more than any real
// archive's directory (65,535 entries without zip64), far less than a
// quadratic search.
var zipSearchWork int64 = 1 << 21

// zipCheckEnd validates a candidate end record at p.
func zipCheckEnd(r io.ReaderAt, size, p int64, work *int64) (int64, bool) {
	*work--
	rec := readHeader(r, p, size, 22)
	if len(rec) < 22 {
		return 0, false
	}
	le := binary.LittleEndian
	end := p + 22 + int64(le.Uint16(rec[20:]))
	if end > size {
		return 0, false
	}
	disk, cdDisk := le.Uint16(rec[4:]), le.Uint16(rec[6:])
	entries := uint64(le.Uint16(rec[10:]))
	cdSize := uint64(le.Uint32(rec[12:]))
	cdOff := uint64(le.Uint32(rec[16:]))
	dirEnd := p
	if entries == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
		// zip64: locator right before, zip64 end record right before it
		loc := readHeader(r, p-20, size, 20)
		if p < 20+56 || len(loc) < 20 || !bytes.Equal(loc[:4], zipLoc64Sig) {
			return 0, false
		}
		e64 := readHeader(r, p-20-56, size, 56)
		if len(e64) < 56 || !bytes.Equal(e64[:4], zipEnd64Sig) {
			return 0, false
		}
		entries = le.Uint64(e64[32:])
		cdSize = le.Uint64(e64[40:])
		cdOff = le.Uint64(e64[48:])
		dirEnd = p - 20 - 56
	} else if disk != 0 || cdDisk != 0 {
		return 0, false
	}
	if entries == 0 || cdSize > uint64(dirEnd) || cdSize/46 < entries || cdOff > 1<<62 {
		return 0, false
	}
	cdStart := dirEnd - int64(cdSize)
	base := cdStart - int64(cdOff) // where offset 0 of the archive's offsets lies in r
	// the first local header of the archive must be at offset 0 of r
	if entries > uint64(*work) {
		*work = 0
		return 0, false
	}
	*work -= int64(entries)
	minLocal, ok := zipMinLocal(r, cdStart, int64(cdSize), entries)
	if !ok || minLocal+base != 0 {
		return 0, false
	}
	return end, true
}

// zipMinLocal walks the central directory and returns the smallest local
// header offset it lists.
func zipMinLocal(r io.ReaderAt, cdStart, cdSize int64, entries uint64) (int64, bool) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, cdStart, cdSize), 64<<10)
	le := binary.LittleEndian
	var h [46]byte
	min := int64(-1)
	for i := uint64(0); i < entries; i++ {
		if _, err := io.ReadFull(br, h[:]); err != nil || !bytes.Equal(h[:4], zipCDSig) {
			return 0, false
		}
		nameLen, extraLen, commLen := int(le.Uint16(h[28:])), int(le.Uint16(h[30:])), int(le.Uint16(h[32:]))
		off := int64(le.Uint32(h[42:]))
		var extra []byte
		if _, err := br.Discard(nameLen); err != nil {
			return 0, false
		}
		if off == 0xffffffff {
			extra = make([]byte, extraLen)
			if _, err := io.ReadFull(br, extra); err != nil {
				return 0, false
			}
			off = zip64LocalOffset(extra, le.Uint32(h[24:]) == 0xffffffff, le.Uint32(h[20:]) == 0xffffffff)
		} else if _, err := br.Discard(extraLen); err != nil {
			return 0, false
		}
		if _, err := br.Discard(commLen); err != nil {
			return 0, false
		}
		if off >= 0 && (min < 0 || off < min) {
			min = off
		}
	}
	return min, min >= 0
}

// zip64LocalOffset finds the local header offset in a zip64 extra field.
func zip64LocalOffset(extra []byte, usize64, csize64 bool) int64 {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return -1
		}
		if id == 1 {
			f := extra[:n]
			if usize64 {
				if len(f) < 8 {
					return -1
				}
				f = f[8:]
			}
			if csize64 {
				if len(f) < 8 {
					return -1
				}
				f = f[8:]
			}
			if len(f) < 8 {
				return -1
			}
			v := le.Uint64(f)
			if v > 1<<62 {
				return -1
			}
			return int64(v)
		}
		extra = extra[n:]
	}
	return -1
}

// zipMethods maps zip compression methods beyond store/deflate to codecs.
var zipMethods = map[uint16]string{12: "bzip2", 93: "zstd", 95: "xz"}

func (zipFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	end, ok, gaveUp := zipFindEnd(r, size)
	if gaveUp {
		w.Anomaly(AnomalyLimit, "", fmt.Sprintf("limit reached: the search for the end of the central directory examined %d headers of candidate records without finding a valid one; stopped", zipSearchWork))
		return 0, &LimitError{What: "zip end-record search work", Limit: zipSearchWork}
	}
	if !ok {
		return 0, fmt.Errorf("no end of central directory record found (truncated or damaged zip)")
	}
	zr, err := zip.NewReader(io.NewSectionReader(r, 0, end), end)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return 0, fmt.Errorf("bad central directory: %w", err)
	}
	for m, name := range zipMethods {
		if c, ok := compress.Get(name); ok && c.Stream != nil {
			zr.RegisterDecompressor(m, zipDecompressor(c.Stream))
		}
	}
	ee := entryErrors{w: w}
	var bad []string
	var firstBad error
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return end, err
		}
		stop, err := zipEntry(ctx, f, w, &ee)
		if stop {
			return end, err
		}
		if err != nil {
			bad = append(bad, f.Name)
			if firstBad == nil {
				firstBad = err
			}
		}
	}
	if len(bad) > 0 {
		return end, fmt.Errorf("%d entries with damaged data (first %s: %w)", len(bad), bad[0], firstBad)
	}
	return end, nil
}

func zipDecompressor(s compress.Stream) zip.Decompressor {
	return func(r io.Reader) io.ReadCloser {
		rc, err := s(r)
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return rc
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// zipEntry extracts one entry. A damaged entry's error is returned with
// stop false (it has been recorded); stop means the archive must not go on.
func zipEntry(ctx context.Context, f *zip.File, w *Writer, ee *entryErrors) (stop bool, err error) {
	name := f.Name
	mode := f.Mode()
	if f.Flags&1 != 0 {
		w.Anomaly(AnomalyEncrypted, name, "encrypted entry not extracted")
		return false, nil
	}
	switch {
	case mode&fs.ModeSymlink != 0:
		rc, err := f.Open()
		if err != nil {
			w.Anomaly(AnomalyMalformed, name, "symlink target: "+err.Error())
			return false, err
		}
		target, err := io.ReadAll(io.LimitReader(rc, 4097))
		rc.Close()
		if err != nil {
			w.Anomaly(AnomalyMalformed, name, "symlink target: "+err.Error())
			return false, err
		}
		if len(target) > 4096 {
			w.Anomaly(AnomalyMalformed, name, "symlink target longer than 4096 bytes; not extracted")
			return false, nil
		}
		return ee.check(name, w.Symlink(name, string(target)))
	case mode.IsDir() || strings.HasSuffix(name, "/"):
		return ee.check(name, w.Mkdir(name, mode))
	case mode&fs.ModeNamedPipe != 0:
		return ee.check(name, w.Special(name, "fifo", uint32(mode.Perm()), 0, 0))
	case mode&fs.ModeSocket != 0:
		return ee.check(name, w.Special(name, "socket", uint32(mode.Perm()), 0, 0))
	case mode&fs.ModeCharDevice != 0:
		return ee.check(name, w.Special(name, "char", uint32(mode.Perm()), 0, 0))
	case mode&fs.ModeDevice != 0:
		return ee.check(name, w.Special(name, "block", uint32(mode.Perm()), 0, 0))
	}
	rc, err := f.Open()
	if err != nil {
		w.Anomaly(AnomalyMalformed, name, "not extracted: "+err.Error())
		return false, err
	}
	defer rc.Close()
	out, err := w.Create(name, mode)
	if err != nil {
		return ee.check(name, err)
	}
	_, err = io.CopyBuffer(out, ctxReader{ctx, rc}, make([]byte, 64<<10))
	cerr := out.Close()
	if err == nil {
		err = cerr
	}
	switch {
	case err == nil, IsEntryLimit(err):
		return false, nil
	case IsLimit(err), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true, err
	}
	w.Anomaly(AnomalyMalformed, name, "damaged data: "+err.Error())
	return false, err
}
