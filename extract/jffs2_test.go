package extract

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ulzma "github.com/ulikunitz/xz/lzma"
)

// j2img builds JFFS2 images node by node (the test's own encoder, written
// from the kernel's struct jffs2_raw_dirent / jffs2_raw_inode).
type j2img struct {
	bo  binary.AppendByteOrder
	buf []byte
	end int // end of the last node
}

func (b *j2img) node(typ uint16, body []byte) int {
	off := len(b.buf)
	h := b.bo.AppendUint16(nil, jffs2Magic)
	h = b.bo.AppendUint16(h, typ)
	h = b.bo.AppendUint32(h, uint32(jffs2HdrLen+len(body)))
	h = b.bo.AppendUint32(h, jffs2CRC(h))
	b.buf = append(append(b.buf, h...), body...)
	b.end = len(b.buf)
	for len(b.buf)%4 != 0 {
		b.buf = append(b.buf, 0xff)
	}
	return off
}

func (b *j2img) dirent(pino, version, ino uint32, typ uint8, name string) int {
	hdr := b.bo.AppendUint16(nil, jffs2Magic)
	hdr = b.bo.AppendUint16(hdr, jffs2Dirent)
	hdr = b.bo.AppendUint32(hdr, uint32(jffs2DirentLen+len(name)))
	hdr = b.bo.AppendUint32(hdr, jffs2CRC(hdr))
	body := b.bo.AppendUint32(nil, pino)
	body = b.bo.AppendUint32(body, version)
	body = b.bo.AppendUint32(body, ino)
	body = b.bo.AppendUint32(body, 1425895200)
	body = append(body, byte(len(name)), typ, 0, 0)
	body = b.bo.AppendUint32(body, jffs2CRC(append(hdr, body...)))
	body = b.bo.AppendUint32(body, jffs2CRC([]byte(name)))
	body = append(body, name...)
	return b.node(jffs2Dirent, body)
}

func (b *j2img) inode(ino, version, mode, isize, offset uint32, compr uint8, dsize uint32, data []byte) int {
	hdr := b.bo.AppendUint16(nil, jffs2Magic)
	hdr = b.bo.AppendUint16(hdr, jffs2Inode)
	hdr = b.bo.AppendUint32(hdr, uint32(jffs2InodeLen+len(data)))
	hdr = b.bo.AppendUint32(hdr, jffs2CRC(hdr))
	body := b.bo.AppendUint32(nil, ino)
	body = b.bo.AppendUint32(body, version)
	body = b.bo.AppendUint32(body, mode)
	body = b.bo.AppendUint16(body, 0)
	body = b.bo.AppendUint16(body, 0)
	body = b.bo.AppendUint32(body, isize)
	for range 3 {
		body = b.bo.AppendUint32(body, 1425895200)
	}
	body = b.bo.AppendUint32(body, offset)
	body = b.bo.AppendUint32(body, uint32(len(data)))
	body = b.bo.AppendUint32(body, dsize)
	body = append(body, compr, 0, 0, 0)
	node := append(hdr, body...) // the node CRC covers the first 60 bytes
	body = b.bo.AppendUint32(body, jffs2CRC(data))
	body = b.bo.AppendUint32(body, jffs2CRC(node))
	return b.node(jffs2Inode, append(body, data...))
}

// file writes a whole small file as one uncompressed node.
func (b *j2img) file(pino, ino uint32, name string, mode uint32, data string) {
	b.dirent(pino, ino, ino, 8, name)
	b.inode(ino, 1, mode, uint32(len(data)), 0, jffs2ComprNone, uint32(len(data)), []byte(data))
}

func (b *j2img) pad(n int, v byte) { b.buf = append(b.buf, bytes.Repeat([]byte{v}, n)...) }

// j2rtime is the kernel's jffs2_rtime_compress.
func j2rtime(in []byte) []byte {
	var positions [256]int
	var out []byte
	pos := 0
	for pos < len(in) {
		value := in[pos]
		out = append(out, value)
		pos++
		back := positions[value]
		positions[value] = pos
		run := 0
		for back < pos && pos < len(in) && in[pos] == in[back] && run < 255 {
			pos++
			back++
			run++
		}
		out = append(out, byte(run))
	}
	return out
}

func j2zlib(in []byte) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(in)
	zw.Close()
	return b.Bytes()
}

// j2lzma encodes raw LZMA as OpenWrt's jffs2 does (lc=0 lp=0 pb=0).
func j2lzma(tb testing.TB, in []byte) []byte {
	var b bytes.Buffer
	cfg := ulzma.WriterConfig{Properties: &ulzma.Properties{LC: 0, LP: 0, PB: 0}, DictCap: 0x2000, SizeInHeader: true, Size: int64(len(in))}
	zw, err := cfg.NewWriter(&b)
	if err != nil {
		tb.Fatal(err)
	}
	zw.Write(in)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()[13:]
}

// j2CheckSpecials checks the device nodes of the rootfs manifest.
func j2CheckSpecials(t *testing.T, w *Writer) {
	t.Helper()
	sp := w.Specials()
	want := []Special{
		{Path: "dev/console", Kind: "char", Mode: 0o600, Major: 5, Minor: 1},
		{Path: "dev/initctl", Kind: "fifo", Mode: 0o600},
		{Path: "dev/mtdblock0", Kind: "block", Mode: 0o640, Major: 31, Minor: 0},
	}
	if len(sp) != len(want) {
		t.Fatalf("specials %+v", sp)
	}
	for i := range want {
		if sp[i] != want[i] {
			t.Errorf("special %+v, want %+v", sp[i], want[i])
		}
	}
}

func TestJFFS2Rootfs(t *testing.T) {
	want := archManifest(t)
	for _, c := range []struct {
		file string
		end  int64 // end of the last node, from jffs2dump
		dev  bool
	}{
		{"jffs2-le.img", 0x22958 + 0x7b, false},
		{"jffs2-be.img", 0x22958 + 0x7b, false},
		{"jffs2-lzo.img", -1, true},
		{"jffs2-rtime-be.img", -1, true},
	} {
		t.Run(c.file, func(t *testing.T) {
			data := archRead(t, archFixture(t, c.file))
			f := archFormat(t, "jffs2")
			if !f.Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			end := c.end
			if end < 0 { // the end of the last node: the image less its 0xff padding
				end = int64(len(bytes.TrimRight(data, "\xff")))
			}
			if res.consumed != end {
				t.Errorf("consumed %#x, want %#x", res.consumed, end)
			}
			if b, err := f.Bound(bytes.NewReader(data), int64(len(data))); b != end || err != nil {
				t.Errorf("bound %#x %v, want %#x", b, err, end)
			}
			got := archTree(t, res.dir, res.w.Modes())
			archCompare(t, got, want)
			if n := archModesChecked(got); n < 25 {
				t.Errorf("only %d modes recorded", n)
			}
			archSameFile(t, res.dir, "usr/bin/tool", "usr/bin/tool-hl")
			if len(res.w.Anomalies()) != 0 {
				t.Errorf("anomalies: %+v", res.w.Anomalies())
			}
			if c.dev {
				j2CheckSpecials(t, res.w)
			} else if len(res.w.Specials()) != 0 {
				t.Errorf("specials %+v", res.w.Specials())
			}
		})
	}
}

func TestJFFS2FactSamples(t *testing.T) {
	// as jffs2dump / jffs2reader list them: the files of the FACT samples
	want := map[string]int64{"testfile1": 62, "testfile2": 28, "generic folder/test file 3_.txt": 20}
	for _, n := range []string{"formats/fact_jffs2__jffs2_be.img", "formats/fact_jffs2__jffs2_le.img"} {
		t.Run(filepath.Base(n), func(t *testing.T) {
			data := archRead(t, archShared(t, n))
			if !(jffs2Format{}).Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, jffs2Format{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			for name, size := range want {
				fi, err := os.Stat(filepath.Join(res.dir, name))
				if err != nil || fi.Size() != size {
					t.Errorf("%s: %v %v", name, fi, err)
				}
			}
			if res.w.Files() != int64(len(want)) {
				t.Errorf("%d files", res.w.Files())
			}
			if b, _ := os.ReadFile(filepath.Join(res.dir, "testfile2")); string(b) != "This is the second test file" {
				t.Errorf("testfile2: %q", b)
			}
			if res.consumed <= 0 || res.consumed > int64(len(data)) {
				t.Errorf("consumed %d", res.consumed)
			}
		})
	}
}

// j2Synthetic builds an image with every node kind the parser handles.
func j2Synthetic(tb testing.TB, bo binary.AppendByteOrder) ([]byte, int, map[string]string) {
	b := &j2img{bo: bo}
	b.node(jffs2Cleanmarker, nil)
	want := map[string]string{}
	// dirs: /etc (2), /etc/sub (3)
	b.dirent(1, 1, 2, 4, "etc")
	b.inode(2, 1, 0o40755, 0, 0, jffs2ComprNone, 0, nil)
	b.dirent(2, 2, 3, 4, "sub")
	b.inode(3, 1, 0o40700, 0, 0, jffs2ComprNone, 0, nil)
	// a file of several nodes in all compressions, with a hole and overwrites
	page := func(c byte) []byte { return bytes.Repeat([]byte{c, c + 1, c + 2, 'x'}, 1024) }
	p0, p1, p2, p4 := page('a'), page('e'), page('i'), page('q')
	b.dirent(2, 3, 4, 8, "mixed")
	b.inode(4, 1, 0o100644, 5*4096, 0, jffs2ComprZlib, 4096, j2zlib(p0))
	b.inode(4, 2, 0o100644, 5*4096, 4096, jffs2ComprRtime, 4096, j2rtime(p1))
	b.inode(4, 3, 0o100644, 5*4096, 8192, jffs2ComprLzma, 4096, j2lzma(tb, p2))
	b.inode(4, 4, 0o100644, 5*4096, 12288, jffs2ComprZero, 4096, nil) // a hole node
	b.inode(4, 5, 0o100644, 5*4096, 16384, jffs2ComprNone, 4096, p4)
	// newer: overwrite bytes 100..110, then an older node that must lose
	b.inode(4, 7, 0o100600, 5*4096, 100, jffs2ComprNone, 10, []byte("NEWERNEWER"))
	b.inode(4, 6, 0o100644, 5*4096, 100, jffs2ComprNone, 20, []byte("olderolderolderolder"))
	mixed := bytes.Join([][]byte{p0, p1, p2, make([]byte, 4096), p4}, nil)
	copy(mixed[100:], "olderolderolderolder")
	copy(mixed[100:], "NEWERNEWER")
	want["etc/mixed"] = string(mixed)
	// a file truncated by a newer inode node, then extended with a hole
	b.dirent(2, 4, 5, 8, "trunc")
	b.inode(5, 1, 0o100644, 8, 0, jffs2ComprNone, 8, []byte("12345678"))
	b.inode(5, 2, 0o100644, 12, 0, jffs2ComprNone, 0, nil)
	want["etc/trunc"] = "12345678\x00\x00\x00\x00"
	// a hard link, a symlink, devices (old and new encoding), a fifo
	b.file(3, 6, "file", 0o104755, "setuid\n")
	want["etc/sub/file"] = "setuid\n"
	b.dirent(1, 5, 6, 8, "hardlink")
	want["hardlink"] = "setuid\n"
	b.dirent(1, 6, 7, 10, "sh")
	b.inode(7, 1, 0o120777, 12, 0, jffs2ComprNone, 12, []byte("/bin/busybox"))
	b.dirent(1, 7, 8, 2, "ttyS0")
	b.inode(8, 1, 0o20620, 2, 0, jffs2ComprNone, 2, bo.AppendUint16(nil, 4<<8|64))
	b.dirent(1, 8, 9, 6, "sda300")
	b.inode(9, 1, 0o60660, 4, 0, jffs2ComprNone, 4, bo.AppendUint32(nil, 300&0xff|8<<8|(300&^0xff)<<12))
	b.dirent(1, 9, 10, 1, "fifo")
	b.inode(10, 1, 0o10600, 0, 0, jffs2ComprNone, 0, nil)
	// erase block padding with 0xff and with zeros, of odd lengths
	b.pad(0x1234*4, 0xff)
	b.pad(0x321*4, 0x00)
	// a file deleted (dirent to ino 0, newer version), one renamed over
	b.file(1, 11, "deleted", 0o100644, "gone")
	b.dirent(1, 20, 0, 0, "deleted")
	b.file(1, 12, "replaced", 0o100644, "first")
	b.file(2, 13, "x", 0o100644, "second")
	b.dirent(1, 30, 13, 8, "replaced") // newer dirent: another inode
	want["replaced"] = "second"
	want["etc/x"] = "second"
	// a directory cycle: etc/sub/loop is /etc
	b.dirent(3, 31, 2, 4, "loop")
	// a node with a bad header CRC and one with a bad data CRC
	bad := b.inode(14, 1, 0o100644, 3, 0, jffs2ComprNone, 3, []byte("bad"))
	b.buf[bad+8] ^= 0xff
	b.dirent(1, 32, 14, 8, "badhdr")
	bd := b.inode(15, 1, 0o100644, 3, 0, jffs2ComprNone, 3, []byte("BAD"))
	b.buf[bd+jffs2InodeLen] = 'X'
	b.dirent(1, 33, 15, 8, "baddata")
	return b.buf, b.end, want
}

func TestJFFS2Synthetic(t *testing.T) {
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			img, end, want := j2Synthetic(t, bo)
			data := append(append([]byte{}, img...), bytes.Repeat([]byte{0xff}, 5000)...)
			data = append(data, "trailing junk that is not jffs2"...)
			if !(jffs2Format{}).Identify(data) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, jffs2Format{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.consumed != int64(end) {
				t.Errorf("consumed %d, want %d", res.consumed, end)
			}
			for name, content := range want {
				b, err := os.ReadFile(filepath.Join(res.dir, name))
				if err != nil || string(b) != content {
					t.Errorf("%s: %d bytes %v, want %d", name, len(b), err, len(content))
				}
			}
			for _, gone := range []string{"deleted", "badhdr", "baddata", "etc/sub/loop"} {
				if _, err := os.Lstat(filepath.Join(res.dir, gone)); err == nil {
					t.Errorf("%s exists", gone)
				}
			}
			if m, _ := res.w.Mode("etc/mixed"); archPerm(m) != "0600" {
				t.Errorf("mixed mode %v (newest inode node wins)", m)
			}
			if m, _ := res.w.Mode("hardlink"); archPerm(m) != "4755" {
				t.Errorf("file mode %v", m)
			}
			archSameFile(t, res.dir, "etc/sub/file", "hardlink")
			if !archHasLink(res.w.Links(), "sh", "/bin/busybox", false) || !archHasLink(res.w.Links(), "etc/sub/file", "hardlink", true) {
				t.Errorf("links %+v", res.w.Links())
			}
			sp := res.w.Specials()
			wantSp := []Special{{Path: "fifo", Kind: "fifo", Mode: 0o600}, {Path: "sda300", Kind: "block", Mode: 0o660, Major: 8, Minor: 300},
				{Path: "ttyS0", Kind: "char", Mode: 0o620, Major: 4, Minor: 64}}
			if len(sp) != 3 || sp[0] != wantSp[0] || sp[1] != wantSp[1] || sp[2] != wantSp[2] {
				t.Errorf("specials %+v", sp)
			}
			as := res.w.Anomalies()
			var kinds []string
			for _, a := range as {
				kinds = append(kinds, a.Kind+":"+a.Path+":"+a.Detail)
			}
			all := strings.Join(kinds, "\n")
			for _, s := range []string{"1 nodes with a bad header CRC", "1 data nodes with a bad data CRC", "directory-loop:etc/sub/loop",
				"badhdr:jffs2: dirent points to inode 14", "baddata:jffs2: dirent points to inode 15"} {
				if !strings.Contains(all, s) {
					t.Errorf("no anomaly %q in\n%s", s, all)
				}
			}
			if len(as) != 5 {
				t.Errorf("%d anomalies:\n%s", len(as), all)
			}
		})
	}
}

func TestJFFS2Corrupt(t *testing.T) {
	data := archRead(t, archFixture(t, "jffs2-le.img"))
	// truncation in the middle: the files before the cut are there
	cut := data[:len(data)/2]
	res := archUnpack(t, jffs2Format{}, cut, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.w.Files() == 0 || res.consumed <= 0 || res.consumed > int64(len(cut)) {
		t.Errorf("%d files, consumed %d", res.w.Files(), res.consumed)
	}
	// not jffs2 at all
	res = archUnpack(t, jffs2Format{}, bytes.Repeat([]byte{0xff}, 4096), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil {
		t.Error("no error for an erased block")
	}
	if (jffs2Format{}).Identify([]byte{0x85, 0x19, 0x01, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Error("identified a header with a bad CRC")
	}
}

func TestJFFS2Rtime(t *testing.T) {
	in := []byte(strings.Repeat("abcabcabcabd", 300) + "xyz")
	out, err := jffs2Rtime(j2rtime(in), len(in))
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("rtime round trip: %v", err)
	}
	if _, err := jffs2Rtime([]byte{'a', 0, 'a', 200}, 10); err == nil {
		t.Error("run past the end not refused")
	}
}

func FuzzJFFS2(f *testing.F) {
	img, _, _ := j2Synthetic(f, binary.LittleEndian)
	f.Add(fuzzRaw(img, 4096))
	img, _, _ = j2Synthetic(f, binary.BigEndian)
	f.Add(fuzzRaw(img, 2000))
	for _, n := range []string{"jffs2-le.img", "jffs2-lzo.img"} {
		f.Add(fuzzRaw(fuzzFixture(n), 4096))
	}
	le, lzo := fuzzFixture("jffs2-le.img"), fuzzFixture("jffs2-lzo.img")
	f.Add(fuzzPatch(1, 4, []byte{0xff, 0xff, 0, 0}))
	f.Add(fuzzPatch(2))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, jffs2Format{}, fuzzInput(data, le, lzo)) })
}

func BenchmarkJFFS2(b *testing.B) {
	data := archRead(b, archFixture(b, "jffs2-le.img"))
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		res := archUnpack(b, jffs2Format{}, data, filepath.Join(b.TempDir(), "out"), DefaultLimits())
		if res.err != nil {
			b.Fatal(res.err)
		}
	}
}
