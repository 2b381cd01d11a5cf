package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// gptFormat is a GUID partition table with 512-byte sectors: the header
// "EFI PART" at LBA 1 (behind a protective MBR) and its partition entries,
// both CRC32-checked. Each partition is written as
// partitions/<n>-<name or type>.img and carved again.
type gptFormat struct{}

func init() { Register(gptFormat{}) }

func (gptFormat) Name() string    { return "gpt" }
func (gptFormat) Kind() Kind      { return Container }
func (gptFormat) Magics() []Magic { return []Magic{{512, []byte("EFI PART")}} }

const (
	gptMaxEntries = 1024
	gptMaxParts   = 256
)

type gptHeader struct {
	current, backup     uint64
	firstUse, lastUse   uint64
	entriesLBA          uint64
	numEntries, entSize uint32
	entriesCRC          uint32
}

func gptParse(h []byte) (gptHeader, bool) {
	var g gptHeader
	if len(h) < 1024 || string(h[512:520]) != "EFI PART" {
		return g, false
	}
	p := h[512:1024]
	le := binary.LittleEndian
	hs := le.Uint32(p[12:])
	if le.Uint32(p[8:]) != 0x00010000 || hs < 92 || hs > 512 {
		return g, false
	}
	c := make([]byte, hs)
	copy(c, p[:hs])
	binary.LittleEndian.PutUint32(c[16:], 0)
	if crc32.ChecksumIEEE(c) != le.Uint32(p[16:]) {
		return g, false
	}
	g.current, g.backup = le.Uint64(p[24:]), le.Uint64(p[32:])
	g.firstUse, g.lastUse = le.Uint64(p[40:]), le.Uint64(p[48:])
	g.entriesLBA = le.Uint64(p[72:])
	g.numEntries, g.entSize, g.entriesCRC = le.Uint32(p[80:]), le.Uint32(p[84:]), le.Uint32(p[88:])
	if g.current != 1 || g.entriesLBA < 2 || g.numEntries == 0 || g.numEntries > gptMaxEntries {
		return g, false
	}
	if g.entSize < 128 || g.entSize%128 != 0 || g.entSize > 4096 || g.firstUse > g.lastUse {
		return g, false
	}
	return g, true
}

func (gptFormat) Identify(h []byte) bool {
	_, ok := gptParse(h)
	return ok
}

func (gptFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

var gptTypeNames = map[string]string{
	"c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "efi-system",
	"ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "basic-data",
	"0fc63daf-8483-4772-8e79-3d69d8477de4": "linux",
	"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "linux-swap",
	"e6d6d379-f507-44c2-a23c-238f2a3df928": "linux-lvm",
	"a19d880f-05fc-4d3b-a006-743f0f84911e": "linux-raid",
	"21686148-6449-6e6f-744e-656564454649": "bios-boot",
	"fe3a2a5d-4f32-41a7-b725-accc3285a309": "chromeos-kernel",
	"3cb8e202-3b7e-47dd-8a3c-7ff2a13cfcec": "chromeos-rootfs",
	"4f68bce3-e8cd-4db1-96e7-fbcaf984b709": "linux-root-x86-64",
	"69dad710-2ce4-4e3c-b16c-21a1d49abed3": "linux-root-arm",
	"b921b045-1df0-41c3-af44-4c6f280d3fae": "linux-root-arm64",
	"933ac7e1-2eb4-4f13-b844-0e14e2aef915": "linux-home",
	"bc13c2ff-59e6-4262-a352-b275fd6f7172": "xbootldr",
}

// gptGUID renders a mixed-endian GUID.
func gptGUID(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(b), le.Uint16(b[4:]), le.Uint16(b[6:]), b[8:10], b[10:16])
}

// gptLabel makes a file-name part from the partition name or type.
func gptLabel(name, typ string) string {
	clean := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			return c
		case c == ' ':
			return '_'
		}
		return -1
	}, name)
	clean = strings.Trim(clean, ".")
	if len(clean) > 64 {
		clean = clean[:64]
	}
	if clean != "" {
		return clean
	}
	if n, ok := gptTypeNames[typ]; ok {
		return n
	}
	return "type-" + typ[:8]
}

func (gptFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	g, ok := gptParse(readHeader(r, 0, size, 1024))
	if !ok {
		return 0, fmt.Errorf("%w: no GPT header", ErrNotFormat)
	}
	tlen := int64(g.numEntries) * int64(g.entSize)
	toff := int64(g.entriesLBA) * mbrSector
	if g.entriesLBA > uint64(size/mbrSector) || toff+tlen > size {
		return 0, fmt.Errorf("partition entries at LBA %d run past the image (%d bytes): %w", g.entriesLBA, size, io.ErrUnexpectedEOF)
	}
	table := make([]byte, tlen)
	if _, err := r.ReadAt(table, toff); err != nil {
		return 0, err
	}
	if crc32.ChecksumIEEE(table) != g.entriesCRC {
		w.Anomaly(AnomalyMalformed, "", "GPT partition entries CRC mismatch")
	}
	sectors := uint64(size / mbrSector)
	end := toff + tlen
	if g.backup > 1 && g.backup < sectors {
		end = max(end, int64(g.backup+1)*mbrSector)
	}
	le := binary.LittleEndian
	n := 0
	for i := uint32(0); i < g.numEntries; i++ {
		if err := ctx.Err(); err != nil {
			return end, err
		}
		e := table[int64(i)*int64(g.entSize):]
		typ := gptGUID(e[:16])
		if typ == "00000000-0000-0000-0000-000000000000" {
			continue
		}
		n++
		if n > gptMaxParts {
			w.Anomaly(AnomalyLimit, "", fmt.Sprintf("more than %d partitions", gptMaxParts))
			break
		}
		first, last := le.Uint64(e[32:]), le.Uint64(e[40:])
		u := make([]uint16, 36)
		for k := range u {
			u[k] = le.Uint16(e[56+2*k:])
		}
		nameEnd := len(u)
		for k, c := range u {
			if c == 0 {
				nameEnd = k
				break
			}
		}
		label := string(utf16.Decode(u[:nameEnd]))
		name := fmt.Sprintf("partitions/%d-%s.img", i+1, gptLabel(label, typ))
		if last < first || first < g.firstUse || last > g.lastUse {
			w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("partition LBAs %d-%d outside the usable %d-%d", first, last, g.firstUse, g.lastUse))
			if last < first {
				continue
			}
		}
		if first >= sectors {
			w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("partition at LBA %d starts beyond the image", first))
			continue
		}
		cnt := min(last-first+1, sectors-first)
		end = max(end, int64(first+cnt)*mbrSector)
		if err := diskWritePart(r, size, w, name, int64(first)*mbrSector, int64(last-first+1)*mbrSector); err != nil {
			if IsLimit(err) {
				return end, err
			}
			if err != ErrRefused && !IsEntryLimit(err) {
				return end, err
			}
		}
	}
	if n == 0 {
		w.Anomaly(AnomalyMalformed, "", "GPT without partitions")
	}
	return min(end, size), nil
}
