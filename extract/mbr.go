package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// mbrFormat is a DOS/MBR partition table: four primary entries at 0x1be
// and the 0x55aa signature, with logical partitions in a chain of extended
// boot records. Each partition is written as partitions/<n>-<type>.img and
// carved again. Identify is strict, since 0x55aa is common: boot sectors
// of FAT/NTFS volumes and random data must not pass.
type mbrFormat struct{}

func init() { Register(mbrFormat{}) }

func (mbrFormat) Name() string    { return "mbr" }
func (mbrFormat) Kind() Kind      { return Container }
func (mbrFormat) Magics() []Magic { return []Magic{{510, []byte{0x55, 0xaa}}} }

const (
	mbrSector     = 512
	mbrMaxLogical = 128
)

type mbrEntry struct {
	status byte
	typ    byte
	start  uint64 // LBA
	count  uint64 // sectors
}

func mbrEntries(s []byte) [4]mbrEntry {
	var e [4]mbrEntry
	for i := range e {
		p := s[0x1be+16*i:]
		e[i] = mbrEntry{status: p[0], typ: p[4], start: uint64(binary.LittleEndian.Uint32(p[8:])), count: uint64(binary.LittleEndian.Uint32(p[12:]))}
	}
	return e
}

func mbrExtended(t byte) bool { return t == 0x05 || t == 0x0f || t == 0x85 }

// mbrCheck says whether sector s is a plausible partition table (MBR or,
// with ebr, an extended boot record).
func mbrCheck(s []byte, ebr bool) bool {
	if len(s) < mbrSector || s[510] != 0x55 || s[511] != 0xaa {
		return false
	}
	used := 0
	var spans [][2]uint64
	for i, e := range mbrEntries(s) {
		raw := s[0x1be+16*i : 0x1be+16*i+16]
		if e.status != 0 && e.status != 0x80 {
			return false
		}
		if e.typ == 0 {
			if !bytes.Equal(raw, make([]byte, 16)) {
				return false
			}
			continue
		}
		if e.typ == 0xee && !ebr { // GPT protective: the gpt format handles it
			return false
		}
		if e.count == 0 || e.start == 0 {
			return false
		}
		if ebr && i >= 2 {
			return false
		}
		used++
		spans = append(spans, [2]uint64{e.start, e.start + e.count})
	}
	if used == 0 {
		return false
	}
	if !ebr {
		// primary partitions do not overlap
		sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
		for i := 1; i < len(spans); i++ {
			if spans[i][0] < spans[i-1][1] {
				return false
			}
		}
		// a FAT or NTFS boot sector (a volume, not a disk)
		if s[0] == 0xeb || s[0] == 0xe9 {
			if bytes.Equal(s[3:7], []byte("NTFS")) || bytes.Equal(s[0x36:0x39], []byte("FAT")) || bytes.Equal(s[0x52:0x55], []byte("FAT")) {
				return false
			}
		}
	}
	return true
}

func (mbrFormat) Identify(h []byte) bool { return mbrCheck(h, false) }

func (mbrFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	s := readHeader(r, 0, size, mbrSector)
	if !mbrCheck(s, false) {
		return 0, fmt.Errorf("%w: no partition table", ErrNotFormat)
	}
	end := int64(mbrSector)
	for _, e := range mbrEntries(s) {
		if e.typ != 0 {
			end = max(end, int64(e.start+e.count)*mbrSector)
		}
	}
	return min(end, size), nil
}

var mbrTypeNames = map[byte]string{
	0x01: "fat12", 0x04: "fat16", 0x06: "fat16", 0x0e: "fat16", 0x0b: "fat32", 0x0c: "fat32",
	0x07: "ntfs", 0x82: "linux-swap", 0x83: "linux", 0x8e: "linux-lvm", 0xfd: "linux-raid",
	0xef: "efi", 0xa5: "freebsd", 0xa6: "openbsd", 0xa9: "netbsd", 0xda: "data", 0x9e: "vmware",
	0x0a: "os2-boot", 0x27: "recovery", 0x41: "prep-boot", 0x96: "iso9660", 0x4d: "qnx", 0x9f: "bsd-os",
	0xee: "gpt",
}

func mbrTypeName(t byte) string {
	if n, ok := mbrTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type%02x", t)
}

type mbrPart struct {
	n          int
	typ        byte
	start, cnt uint64 // absolute LBA
}

func (mbrFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	s := readHeader(r, 0, size, mbrSector)
	if !mbrCheck(s, false) {
		return 0, fmt.Errorf("%w: no partition table", ErrNotFormat)
	}
	sectors := uint64(size / mbrSector)
	var parts []mbrPart
	var ext *mbrEntry
	for i, e := range mbrEntries(s) {
		if e.typ == 0 {
			continue
		}
		if mbrExtended(e.typ) {
			if ext == nil {
				e := e
				ext = &e
			} else {
				w.Anomaly(AnomalyMalformed, "", "more than one extended partition")
			}
			continue
		}
		parts = append(parts, mbrPart{i + 1, e.typ, e.start, e.count})
	}
	if ext != nil {
		parts = append(parts, mbrLogical(r, size, *ext, w)...)
	}
	// a table whose partitions all start beyond the blob is a coincidence
	inside := 0
	for _, p := range parts {
		if p.start < sectors {
			inside++
		}
	}
	if inside == 0 && (ext == nil || ext.start >= sectors) {
		return 0, fmt.Errorf("%w: no partition starts within the %d sectors", ErrNotFormat, sectors)
	}
	end := int64(mbrSector)
	for _, p := range parts {
		end = max(end, int64(min(p.start+p.cnt, sectors))*mbrSector)
	}
	if ext != nil {
		end = max(end, int64(min(ext.start+ext.count, sectors))*mbrSector)
	}
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return end, err
		}
		name := fmt.Sprintf("partitions/%d-%s.img", p.n, mbrTypeName(p.typ))
		if err := diskWritePart(r, size, w, name, int64(p.start)*mbrSector, int64(p.cnt)*mbrSector); err != nil {
			if IsLimit(err) {
				return end, err
			}
			if err != ErrRefused && !IsEntryLimit(err) {
				return end, err
			}
		}
	}
	return end, nil
}

// mbrLogical follows the chain of extended boot records.
func mbrLogical(r io.ReaderAt, size int64, ext mbrEntry, w *Writer) []mbrPart {
	var out []mbrPart
	seen := map[uint64]bool{}
	cur := ext.start
	for n := 0; n < mbrMaxLogical; n++ {
		if seen[cur] {
			w.Anomaly(AnomalyLoop, "", fmt.Sprintf("extended boot record chain loops at sector %d", cur))
			return out
		}
		seen[cur] = true
		s := readHeader(r, int64(cur)*mbrSector, size, mbrSector)
		if len(s) < mbrSector {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("extended boot record at sector %d is outside the image", cur))
			return out
		}
		if !mbrCheck(s, true) {
			if n > 0 || !bytes.Equal(s, make([]byte, mbrSector)) {
				w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("bad extended boot record at sector %d", cur))
			}
			return out
		}
		e := mbrEntries(s)
		if e[0].typ != 0 && !mbrExtended(e[0].typ) {
			out = append(out, mbrPart{5 + len(out), e[0].typ, cur + e[0].start, e[0].count})
		}
		if e[1].typ == 0 || !mbrExtended(e[1].typ) {
			return out
		}
		cur = ext.start + e[1].start
	}
	w.Anomaly(AnomalyLimit, "", fmt.Sprintf("more than %d logical partitions", mbrMaxLogical))
	return out
}
