package squashfs

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// putField is the inverse of field.
func putField(b []byte, be bool, pos, width int, v uint64) {
	for i := 0; i < width; i++ {
		k := pos + i
		var bit uint64
		var mask byte
		if be {
			bit = v >> uint(width-1-i) & 1
			mask = 1 << uint(7-k%8)
		} else {
			bit = v >> uint(i) & 1
			mask = 1 << uint(k%8)
		}
		if bit != 0 {
			b[k/8] |= mask
		} else {
			b[k/8] &^= mask
		}
	}
}

func TestField(t *testing.T) {
	// squashfs_dir_entry_2 {offset:13, type:3, size:8} with offset 0x1234,
	// type 5, size 0x42, as GCC lays it out in each byte order.
	le := []byte{0x34, 0xb2, 0x42} // 0x42<<16 | 5<<13 | 0x1234
	be := []byte{0x91, 0xa5, 0x42} // 0x1234<<11 | 5<<8 | 0x42
	for _, tc := range []struct {
		b  []byte
		be bool
	}{{le, false}, {be, true}} {
		if o, ty, n := field(tc.b, tc.be, 0, 13), field(tc.b, tc.be, 13, 3), field(tc.b, tc.be, 16, 8); o != 0x1234 || ty != 5 || n != 0x42 {
			t.Errorf("be=%v: %#x %d %#x", tc.be, o, ty, n)
		}
		c := make([]byte, 3)
		putField(c, tc.be, 0, 13, 0x1234)
		putField(c, tc.be, 13, 3, 5)
		putField(c, tc.be, 16, 8, 0x42)
		if !bytes.Equal(c, tc.b) {
			t.Errorf("be=%v: putField gives % x", tc.be, c)
		}
	}
	// Aligned wide fields are plain integers of the byte order.
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	if field(b, true, 8, 64) != binary.BigEndian.Uint64(b[1:]) || field(b, false, 8, 64) != binary.LittleEndian.Uint64(b[1:]) {
		t.Error("64-bit fields")
	}
}

// oldImage builds a small SquashFS 1.x-3.x image: block size 4096; a
// 5000-byte file "a" (a zlib block and a tail: an uncompressed block in
// 1.x, a fragment otherwise), its hard link "hard", a symlink, a char
// device, a fifo, a socket and an empty directory.
type oldImage struct {
	major      int
	be         bool
	check      bool // CHECK flag: a marker byte after metadata headers
	compressed bool // zlib metadata blocks
}

var fileA = func() []byte {
	b := make([]byte, 5000)
	for i := range b {
		b[i] = byte(i*13 + i/256)
	}
	return b
}()

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func (o oldImage) build() []byte {
	var bo binary.ByteOrder = binary.LittleEndian
	if o.be {
		bo = binary.BigEndian
	}
	be := o.be
	sbSize := oldSuperSize[o.major]
	img := make([]byte, sbSize)
	u32 := func(v uint32) []byte { b := make([]byte, 4); bo.PutUint32(b, v); return b }
	u64 := func(v uint64) []byte { b := make([]byte, 8); bo.PutUint64(b, v); return b }

	// data
	blk0 := zlibBytes(fileA[:4096])
	dataStart := len(img)
	img = append(img, blk0...)
	tail := fileA[4096:]
	var blk1Pos, fragPos int
	if o.major == 1 {
		blk1Pos = len(img)
		img = append(img, tail...)
	} else {
		fragPos = len(img)
		img = append(img, tail...) // an uncompressed fragment block
	}
	_ = blk1Pos

	meta := func(data []byte) []byte {
		var out []byte
		hdr := make([]byte, 2)
		payload := data
		h := uint16(len(data)) | 0x8000
		if o.compressed {
			payload = zlibBytes(data)
			h = uint16(len(payload))
		}
		bo.PutUint16(hdr, h)
		out = append(out, hdr...)
		if o.check {
			out = append(out, 0xff)
		}
		return append(out, payload...)
	}

	// inodes
	var it []byte
	ref := func() uint64 { return uint64(len(it)) }
	base := func(typ, mode int, n int, number uint32) []byte {
		b := make([]byte, n)
		putField(b, be, 0, 4, uint64(typ))
		putField(b, be, 4, 12, uint64(mode))
		if o.major == 3 {
			putField(b, be, 64, 32, uint64(number))
		}
		return b
	}
	var refs = map[string]uint64{}
	types := map[string]int{}
	// file a
	refs["a"], types["a"] = ref(), typeFile
	switch o.major {
	case 1:
		b := base(2, 0o644, 15, 0)
		putField(b, be, 56, 32, uint64(dataStart))
		putField(b, be, 88, 32, 5000)
		bl := make([]byte, 4)
		bo.PutUint16(bl, uint16(len(blk0)))
		bo.PutUint16(bl[2:], uint16(len(tail))|0x8000)
		it = append(append(it, b...), bl...)
	case 2:
		b := base(2, 0o644, 24, 0)
		putField(b, be, 64, 32, uint64(dataStart))
		putField(b, be, 96, 32, 0)
		putField(b, be, 128, 32, 0)
		putField(b, be, 160, 32, 5000)
		it = append(append(it, b...), u32(uint32(len(blk0)))...)
	case 3:
		b := base(9, 0o644, 40, 1) // the large form, with nlink
		putField(b, be, 96, 32, 2)
		putField(b, be, 128, 64, uint64(dataStart))
		putField(b, be, 192, 32, 0)
		putField(b, be, 224, 32, 0)
		putField(b, be, 256, 64, 5000)
		it = append(append(it, b...), u32(uint32(len(blk0)))...)
	}
	// symlink
	refs["link"], types["link"] = ref(), typeSymlink
	pos := [4]int{0, 24, 32, 128}[o.major]
	b := base(3, 0o777, pos/8+2, 2)
	putField(b, be, pos, 16, 1)
	it = append(append(it, b...), 'a')
	// char device 4,64
	refs["dev"], types["dev"] = ref(), typeChar
	b = base(5, 0o600, pos/8+2, 3)
	putField(b, be, pos, 16, 4<<8|64)
	it = append(it, b...)
	// fifo and socket
	for i, n := range []string{"fifo", "sock"} {
		typ := typeFifo + i
		refs[n], types[n] = ref(), typ
		switch o.major {
		case 1:
			b = base(0, 0o644, 4, 0)
			putField(b, be, 24, 4, uint64(typ))
		case 2:
			b = base(typ, 0o644, 4, 0)
		case 3:
			b = base(typ, 0o644, 16, uint32(4+i))
			putField(b, be, 96, 32, 1)
		}
		it = append(it, b...)
	}
	// directories: "sub" (empty) and the root
	dirInode := func(size, off, block uint64, number uint32) []byte {
		switch o.major {
		case 1:
			b := base(1, 0o755, 14, 0)
			putField(b, be, 24, 19, size)
			putField(b, be, 43, 13, off)
			putField(b, be, 88, 24, block)
			return b
		case 2:
			b := base(1, 0o755, 15, 0)
			putField(b, be, 32, 19, size)
			putField(b, be, 51, 13, off)
			putField(b, be, 96, 24, block)
			return b
		}
		b := base(1, 0o755, 28, number)
		putField(b, be, 96, 32, 2)
		putField(b, be, 128, 19, size+3)
		putField(b, be, 147, 13, off)
		putField(b, be, 160, 32, block)
		return b
	}
	refs["sub"], types["sub"] = ref(), typeDir
	it = append(it, dirInode(0, 0, 0, 6)...)

	// directory table: the root's listing
	names := []string{"a", "dev", "fifo", "hard", "link", "sock", "sub"}
	var dt []byte
	h := make([]byte, 4)
	if o.major == 3 {
		h = make([]byte, 9)
		putField(h, be, 40, 32, 1)
	}
	putField(h, be, 0, 8, uint64(len(names)-1))
	dt = append(dt, h...)
	for _, n := range names {
		r, ty := refs[n], types[n]
		if n == "hard" {
			r, ty = refs["a"], typeFile
		}
		e := make([]byte, 3)
		if o.major == 3 {
			e = make([]byte, 5)
		}
		putField(e, be, 0, 13, r&0xffff)
		putField(e, be, 13, 3, uint64(ty))
		putField(e, be, 16, 8, uint64(len(n)-1))
		dt = append(append(dt, e...), n...)
	}
	rootRef := ref()
	it = append(it, dirInode(uint64(len(dt)), 0, 0, 7)...)

	inodeTable := len(img)
	img = append(img, meta(it)...)
	dirTable := len(img)
	img = append(img, meta(dt)...)
	fragTable := 0
	if o.major > 1 {
		var fe []byte
		if o.major == 2 {
			fe = append(u32(uint32(fragPos)), u32(uint32(len(tail))|1<<24)...)
		} else {
			fe = append(append(u64(uint64(fragPos)), u32(uint32(len(tail))|1<<24)...), 0, 0, 0, 0)
		}
		fblk := len(img)
		img = append(img, meta(fe)...)
		fragTable = len(img)
		if o.major == 2 {
			img = append(img, u32(uint32(fblk))...)
		} else {
			img = append(img, u64(uint64(fblk))...)
		}
	}
	uidTable := len(img)
	img = append(img, u32(0)...)
	used := len(img)

	// superblock
	sb := img[:sbSize]
	copy(sb, "hsqs")
	if be {
		copy(sb, "sqsh")
	}
	copy(sb[4:], u32(8))
	flags := byte(0x40)
	if o.check {
		flags |= oldFlagCheck
	}
	if !o.compressed {
		flags |= 0x01
	}
	put16 := func(off int, v uint16) { bo.PutUint16(sb[off:], v) }
	put16(28, uint16(o.major))
	put16(30, 0)
	put16(34, 12)
	sb[36], sb[37] = flags, 1
	copy(sb[43:], u64(rootRef))
	if o.major < 3 {
		copy(sb[8:], u32(uint32(used)))
		copy(sb[12:], u32(uint32(uidTable)))
		copy(sb[20:], u32(uint32(inodeTable)))
		copy(sb[24:], u32(uint32(dirTable)))
	}
	if o.major == 1 {
		put16(32, 4096)
	} else {
		copy(sb[51:], u32(4096))
		copy(sb[55:], u32(1))
	}
	if o.major == 2 {
		copy(sb[59:], u32(uint32(fragTable)))
	}
	if o.major == 3 {
		copy(sb[63:], u64(uint64(used)))
		copy(sb[71:], u64(uint64(uidTable)))
		copy(sb[87:], u64(uint64(inodeTable)))
		copy(sb[95:], u64(uint64(dirTable)))
		copy(sb[103:], u64(uint64(fragTable)))
	}
	return img
}

var oldImages = map[string]oldImage{
	"v1-be.img":       {major: 1, be: true},
	"v1-le.img":       {major: 1, compressed: true},
	"v2-le.img":       {major: 2, compressed: true},
	"v2-be-check.img": {major: 2, be: true, check: true},
	"v3-be.img":       {major: 3, be: true, compressed: true},
	"v3-le-check.img": {major: 3, check: true, compressed: true},
}

// TestOldLayouts extracts synthetic 1.x, 2.x and 3.x images in both byte
// orders, with and without the CHECK marker byte and compressed metadata:
// multi-block file with a fragment (an uncompressed tail block in 1.x), a
// hard link, a symlink, devices, a fifo and a socket, an empty directory.
// SQFS_WRITE_SEEDS=1 writes them to testdata (fuzz seeds).
func TestOldLayouts(t *testing.T) {
	for name, o := range oldImages {
		t.Run(name, func(t *testing.T) {
			b := o.build()
			if os.Getenv("SQFS_WRITE_SEEDS") == "1" {
				if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sb, err := ParseSuperblock(b)
			if err != nil || int(sb.Major) != o.major {
				t.Fatalf("superblock: %+v, %v", sb, err)
			}
			s := newMemSink()
			if err := extractBytes(t, b, s); err != nil {
				t.Fatal(err)
			}
			if f := s.files["a"]; f == nil || !bytes.Equal(f.Bytes(), fileA) {
				t.Errorf("file a: %v", f)
			}
			if s.modes["a"] != 0o644 {
				t.Errorf("mode of a: %v", s.modes["a"])
			}
			if s.links["hard"] != "a" || s.symlinks["link"] != "a" {
				t.Errorf("links %v, symlinks %v", s.links, s.symlinks)
			}
			want := map[string]string{"dev": "char 0600 4,64", "fifo": "fifo 0644 0,0", "sock": "socket 0644 0,0"}
			if fmt.Sprint(s.specials) != fmt.Sprint(want) {
				t.Errorf("specials %v", s.specials)
			}
			if _, ok := s.dirs["sub"]; !ok || len(s.dirs) != 1 {
				t.Errorf("dirs %v", s.dirs)
			}
			if len(s.anomalies) != 0 {
				t.Errorf("anomalies %v", s.anomalies)
			}
		})
	}
}

// TestOldHostile truncates and corrupts the synthetic images: errors, no
// panics, and never wrong content.
func TestOldHostile(t *testing.T) {
	for name, o := range oldImages {
		b := o.build()
		for n := 0; n < len(b); n += 7 {
			s := newMemSink()
			err := extractBytes(t, b[:n], s)
			if err == nil {
				t.Fatalf("%s: prefix of %d bytes: no error", name, n)
			}
			if f := s.files["a"]; f != nil && !bytes.HasPrefix(fileA, f.Bytes()) {
				t.Errorf("%s: prefix of %d bytes: wrong content", name, n)
			}
		}
		for i := 0; i < len(b); i++ {
			c := append([]byte(nil), b...)
			c[i] ^= 0x5a
			extractBytes(t, c, newMemSink())
		}
	}
}

// TestVariants decodes one block in each vendor framing.
func TestVariants(t *testing.T) {
	b := sharedSample(t, "real/zyxel_p663h51_rootfs_squashfs_v2.bin")
	img, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The first data block: Broadcom framing, 823 bytes giving 1846.
	blk := b[63 : 63+823]
	d := img.newDecoder()
	out, err := safeDecode(d, nil, append([]byte(nil), blk...), 65536, 1846)
	if err != nil || !strings.HasPrefix(string(out), "<html>") || img.Compression() != "[lzma-props]" {
		t.Fatalf("%v, %q, %s", err, out[:min(len(out), 16)], img.Compression())
	}
	want := append([]byte(nil), out...)
	// The same stream without any header: raw LZMA of unknown size and
	// without end marker (found by the size search).
	img.vs.pref.Store(varNominal)
	out, err = safeDecode(d, nil, append([]byte(nil), blk[5:]...), 65536, -1)
	if err != nil || !bytes.Equal(out, want) {
		t.Errorf("raw, unknown size: %v, %d bytes", err, len(out))
	}
	// As LZMA-alone with the size in the header.
	alone := append(append([]byte(nil), blk[:5]...), binary.LittleEndian.AppendUint64(nil, 1846)...)
	alone = append(alone, blk[5:]...)
	out, err = safeDecode(d, nil, alone, 65536, -1)
	if err != nil || !bytes.Equal(out, want) {
		t.Errorf("lzma-alone: %v, %d bytes", err, len(out))
	}
	// zlib and raw deflate.
	z := zlibBytes(want)
	for _, src := range [][]byte{z, z[2 : len(z)-4]} {
		out, err = safeDecode(d, nil, src, 65536, len(want))
		if err != nil || !bytes.Equal(out, want) {
			t.Errorf("deflate: %v, %d bytes", err, len(out))
		}
	}
	if c := img.Compression(); !strings.Contains(c, "deflate-raw") || !strings.Contains(c, "lzma-alone") {
		t.Errorf("variants used: %s", c)
	}
	// Garbage fails with the nominal (zlib) error.
	if _, err := safeDecode(d, nil, bytes.Repeat([]byte{0, 1, 2, 3}, 100), 65536, 4096); err == nil {
		t.Error("garbage decoded")
	}
}

// TestZyxelCheck checks the ZyXEL image's superblock reading of the
// adaptor path: Broadcom LZMA found and reported.
func TestZyxelExtract(t *testing.T) {
	b := sharedSample(t, "real/zyxel_p663h51_rootfs_squashfs_v2.bin")
	img, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	s := newMemSink()
	if err := img.Extract(context.Background(), s, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(s.files) != 263 || len(s.symlinks) != 68 || len(s.specials) != 71 || len(s.dirs) != 28 {
		t.Errorf("%d files, %d symlinks, %d specials, %d dirs", len(s.files), len(s.symlinks), len(s.specials), len(s.dirs))
	}
	if f := s.files["bin/busybox"]; f == nil || f.Len() != 224756 || !bytes.HasPrefix(f.Bytes(), []byte("\x7fELF\x01\x02")) {
		t.Errorf("busybox: %v", f != nil)
	}
	if img.Compression() != "[lzma-props]" {
		t.Errorf("compression %s", img.Compression())
	}
	// Truncated: an error that says so, and no wrong content.
	s2 := newMemSink()
	err = extractBytes(t, b[:len(b)/2], s2)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("half image: %v", err)
	}
}
