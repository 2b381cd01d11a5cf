// Package hostile builds the crafted inputs of issue 13 (time and work
// attacks on the extraction engine and the analyzers). Each case is built
// in memory, deterministically, at a scale: tests use small scales with
// tight limits, scripts/hostile.sh writes full-scale files (through
// internal/hostile/gen) and scans them with the default limits.
package hostile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sort"

	"github.com/pierrec/lz4/v4"
)

// Case is one crafted input.
type Case struct {
	Name string
	// What it attacks, for the script's table.
	What string
	// Build returns the input at a scale (1 = as in the table).
	Build func(scale float64) []byte
}

// Cases lists every crafted case, in a stable order.
func Cases() []Case {
	return []Case{
		{"zip-eocd-flood", "zip whose end-record search is made quadratic by many fake end records", ZipEOCDFlood},
		{"gpt-selfref", "GPT whose partitions are overlapping prefixes of the disk, each holding the table again", GPTSelfRef},
		{"fit-node-flood", "FIT image with a flood of sub-image and hash nodes over the same data", FITNodeFlood},
		{"shadow-costly", "/etc/shadow with many distinct costly hashes, each under the per-hash cost cap", ShadowCostly},
		{"cpio-600k", "cpio with 600,000 entries", CpioMany},
		{"cpio-hardlink-fit", "cpio whose hard links fan one FIT image out to many names", CpioHardlinkFIT},
		{"lz4-tiny-frames", "lz4 stream of millions of tiny frames", LZ4TinyFrames},
		{"gzip-tiny-members", "gzip stream of very many tiny members", GzipTinyMembers},
		{"token-lines", "4 MiB configuration file of api_key=<token> lines, each a generic-api-key match (the tokens analyzer)", TokenLines},
	}
}

func scaled(n int, scale float64) int {
	return max(1, int(float64(n)*scale))
}

// ZipEOCDFlood is a local header, a central directory of 65,535 headers and
// then end records, 46 bytes apart, each naming the directory that ends
// right before it: the walk behind candidate k runs 65,535-k headers before
// it meets an end record. At scale 1 there are 65,535 candidates.
func ZipEOCDFlood(scale float64) []byte {
	const dirEntries = 65535
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("PK\x03\x04")
	lh := make([]byte, 26)
	lh[0] = 20 // version needed 2.0; method 0 (stored)
	le.PutUint16(lh[22:], 1)
	b.Write(lh)
	b.WriteString("a")

	h := make([]byte, 46)
	copy(h, "PK\x01\x02")
	le.PutUint32(h[42:], 5) // local header offset 5: never the archive's start
	for i := 0; i < dirEntries; i++ {
		b.Write(h)
	}
	n := scaled(dirEntries, scale)
	rec := make([]byte, 46) // 22 bytes and a 24-byte comment
	copy(rec, "PK\x05\x06")
	le.PutUint16(rec[8:], 0xfffe)
	le.PutUint16(rec[10:], 0xfffe)
	le.PutUint32(rec[12:], uint32(dirEntries*46))
	le.PutUint16(rec[20:], 24)
	for k := 0; k < n; k++ {
		p := b.Len()
		le.PutUint32(rec[16:], uint32(p-dirEntries*46)) // directory offset = its position: base 0
		b.Write(rec)
	}
	return b.Bytes()
}

// GPTSelfRef is a 72-sector disk whose GPT lists 38 partitions, each a
// prefix of the disk at least as long as the table: every partition holds
// the GPT again, so unpacking fans out 38 ways at every level.
func GPTSelfRef(scale float64) []byte {
	const sectors = 72
	disk := make([]byte, sectors*512)
	le := binary.LittleEndian
	// protective MBR
	disk[446+4] = 0xee
	le.PutUint32(disk[446+8:], 1)
	le.PutUint32(disk[446+12:], sectors-1)
	disk[510], disk[511] = 0x55, 0xaa
	parts := min(scaled(38, scale), 128)
	table := disk[2*512 : 34*512]
	linux := []byte{0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4}
	for i := 0; i < parts; i++ {
		e := table[i*128:]
		copy(e, linux)
		e[16] = byte(i + 1) // unique GUID
		le.PutUint64(e[32:], 0)
		le.PutUint64(e[40:], uint64(sectors-1-i))
	}
	h := disk[512:]
	copy(h, "EFI PART")
	le.PutUint32(h[8:], 0x00010000)
	le.PutUint32(h[12:], 92)
	le.PutUint64(h[24:], 1)
	le.PutUint64(h[32:], sectors-1)
	le.PutUint64(h[40:], 0)
	le.PutUint64(h[48:], sectors-1)
	le.PutUint64(h[72:], 2)
	le.PutUint32(h[80:], 128)
	le.PutUint32(h[84:], 128)
	le.PutUint32(h[88:], crc32.ChecksumIEEE(table))
	le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
	return disk
}

// fdt builds a flattened device tree.
type fdt struct {
	st      bytes.Buffer
	strs    bytes.Buffer
	strOffs map[string]uint32
}

func (f *fdt) u32(v uint32) { binary.Write(&f.st, binary.BigEndian, v) }
func (f *fdt) begin(name string) {
	f.u32(1)
	f.st.WriteString(name)
	f.st.WriteByte(0)
	f.pad()
}
func (f *fdt) end() { f.u32(2) }
func (f *fdt) pad() {
	for f.st.Len()%4 != 0 {
		f.st.WriteByte(0)
	}
}
func (f *fdt) prop(name string, v []byte) {
	if f.strOffs == nil {
		f.strOffs = map[string]uint32{}
	}
	off, ok := f.strOffs[name]
	if !ok {
		off = uint32(f.strs.Len())
		f.strs.WriteString(name)
		f.strs.WriteByte(0)
		f.strOffs[name] = off
	}
	f.u32(3)
	f.u32(uint32(len(v)))
	f.u32(off)
	f.st.Write(v)
	f.pad()
}
func (f *fdt) str(name, v string) { f.prop(name, append([]byte(v), 0)) }
func (f *fdt) cell(name string, v uint32) {
	f.prop(name, binary.BigEndian.AppendUint32(nil, v))
}

// bytes returns the blob, with extra appended after the tree (external
// data, as mkimage -E writes it).
func (f *fdt) bytes(extra []byte) []byte {
	f.u32(9)
	const hdr = 40
	rsv := 16
	stOff := hdr + rsv
	strOff := stOff + f.st.Len()
	total := strOff + f.strs.Len()
	var b bytes.Buffer
	be := binary.BigEndian
	for _, v := range []uint32{0xd00dfeed, uint32(total), uint32(stOff), uint32(strOff), uint32(hdr), 17, 16, 0, uint32(f.strs.Len()), uint32(f.st.Len())} {
		binary.Write(&b, be, v)
	}
	b.Write(make([]byte, rsv))
	b.Write(f.st.Bytes())
	b.Write(f.strs.Bytes())
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(extra)
	return b.Bytes()
}

// FITImage is a small valid FIT with one kernel image of the given data.
func FITImage(data []byte) []byte {
	var f fdt
	f.begin("")
	f.str("description", "hostile test FIT")
	f.begin("images")
	f.begin("kernel-1")
	f.str("type", "kernel")
	f.str("compression", "none")
	f.prop("data", data)
	f.end()
	f.end()
	f.end()
	return f.bytes(nil)
}

// FITNodeFlood is a FIT whose /images node holds thousands of sub-images
// over one 1 MiB external data area (a hundred distinct ranges, the rest
// repeating them), each with sha256 and crc32 hash nodes.
func FITNodeFlood(scale float64) []byte {
	const dataLen = 1 << 20
	n := scaled(3000, scale)
	var f fdt
	f.begin("")
	f.str("description", "hostile FIT node flood")
	f.begin("images")
	for i := 0; i < n; i++ {
		f.begin(fmt.Sprintf("img-%d", i))
		f.str("type", "firmware")
		f.str("compression", "none")
		f.cell("data-offset", uint32(i%100))
		f.cell("data-size", dataLen-100)
		for _, algo := range []string{"sha256", "crc32"} {
			f.begin("hash-" + algo)
			f.str("algo", algo)
			f.prop("value", make([]byte, map[string]int{"sha256": 32, "crc32": 4}[algo]))
			f.end()
		}
		f.end()
	}
	f.end()
	f.end()
	data := make([]byte, dataLen)
	r := rand.New(rand.NewPCG(13, 13))
	for i := range data {
		data[i] = byte(r.UintN(256))
	}
	return f.bytes(data)
}

// ShadowCostly is a tar holding /etc/shadow with many distinct sha512crypt
// hashes at 500,000 rounds and bcrypt hashes at cost 12 (both at the
// per-hash cost cap, so each is tried), and /etc/passwd.
func ShadowCostly(scale float64) []byte {
	const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const bcrypt64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	r := rand.New(rand.NewPCG(6, 13))
	pick := func(alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	n := scaled(100, scale)
	var shadow, passwd bytes.Buffer
	for i := 0; i < n; i++ {
		user := fmt.Sprintf("user%d", i)
		var h string
		if i%2 == 0 {
			h = "$6$rounds=500000$" + pick(itoa64, 16) + "$" + pick(itoa64, 86)
		} else {
			h = "$2b$12$" + pick(bcrypt64, 53)
		}
		fmt.Fprintf(&shadow, "%s:%s:19000:0:99999:7:::\n", user, h)
		fmt.Fprintf(&passwd, "%s:x:%d:%d::/home/%s:/bin/sh\n", user, 1000+i, 1000+i, user)
	}
	return Tar(map[string][]byte{"etc/shadow": shadow.Bytes(), "etc/passwd": passwd.Bytes()})
}

// TokenLines is a tar holding etc/app.conf: 4 MiB of lines api_key=<a
// distinct random token>, each a gitleaks generic-api-key match, which
// made one gitleaks call whose work grew with the square of its matches.
func TokenLines(scale float64) []byte {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	r := rand.New(rand.NewPCG(12, 7))
	var b bytes.Buffer
	for b.Len() < scaled(4<<20, scale) {
		b.WriteString("api_key=")
		for range 24 {
			b.WriteByte(alpha[r.IntN(len(alpha))])
		}
		b.WriteByte('\n')
	}
	return Tar(map[string][]byte{"etc/app.conf": b.Bytes()})
}

// Tar returns a ustar archive of the files (sorted by name), with their
// folders.
func Tar(files map[string][]byte) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		for i := 0; i < len(n); i++ {
			if n[i] == '/' && !dirs[n[:i+1]] {
				dirs[n[:i+1]] = true
				tw.WriteHeader(&tar.Header{Name: n[:i+1], Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX})
			}
		}
		mode := int64(0o644)
		if n == "etc/shadow" {
			mode = 0o600
		}
		tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(files[n])), Format: tar.FormatPAX})
		tw.Write(files[n])
	}
	tw.Close()
	return b.Bytes()
}

// cpioEntry appends one newc entry.
func cpioEntry(b *bytes.Buffer, name string, ino, mode, nlink uint32, data []byte) {
	fmt.Fprintf(b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	b.WriteString(name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}

// CpioMany is a newc cpio with 600,000 empty files (at scale 1).
func CpioMany(scale float64) []byte {
	n := scaled(600000, scale)
	var b bytes.Buffer
	b.Grow(n * 128)
	for i := 0; i < n; i++ {
		cpioEntry(&b, fmt.Sprintf("d%03d/f%06d", i%1000, i), uint32(i+1), 0o100644, 1, nil)
	}
	cpioEntry(&b, "TRAILER!!!", 0, 0, 1, nil)
	return b.Bytes()
}

// CpioHardlinkFIT is a newc cpio in which one FIT image has 20,000 hard
// links (at scale 1): newc stores the data once, with the last name.
func CpioHardlinkFIT(scale float64) []byte {
	n := scaled(20000, scale)
	fit := FITImage(bytes.Repeat([]byte("kernel-payload "), 64))
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		var data []byte
		if i == n-1 {
			data = fit
		}
		cpioEntry(&b, fmt.Sprintf("boot/fit-%05d.itb", i), 7, 0o100644, uint32(n), data)
	}
	cpioEntry(&b, "TRAILER!!!", 0, 0, 1, nil)
	return b.Bytes()
}

// LZ4TinyFrames is 2,000,000 (at scale 1) concatenated LZ4 frames of a few
// bytes each.
func LZ4TinyFrames(scale float64) []byte {
	var one bytes.Buffer
	zw := lz4.NewWriter(&one)
	zw.Write([]byte("tiny\n"))
	zw.Close()
	return bytes.Repeat(one.Bytes(), scaled(2_000_000, scale))
}

// GzipTinyMembers is 1,000,000 (at scale 1) concatenated gzip members of a
// few bytes each.
func GzipTinyMembers(scale float64) []byte {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zw.Write([]byte("tiny\n"))
	zw.Close()
	return bytes.Repeat(one.Bytes(), scaled(1_000_000, scale))
}
