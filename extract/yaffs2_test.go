package extract

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// y2img builds YAFFS2 images chunk by chunk (the test's own encoder, written
// from struct yaffs_obj_hdr and struct yaffs_packed_tags2_tags_only).
type y2img struct {
	page, spare, tagOff int
	bo                  binary.AppendByteOrder
	extra               bool // header tags carry type and parent (as the kernel writes them)
	seq                 uint32
	buf                 []byte
}

func (b *y2img) chunk(data []byte, obj, chunk, nbytes uint32) int {
	off := len(b.buf)
	page := bytes.Repeat([]byte{0xff}, b.page)
	copy(page, data)
	spare := bytes.Repeat([]byte{0xff}, b.spare)
	t := b.bo.AppendUint32(nil, b.seq)
	t = b.bo.AppendUint32(t, obj)
	t = b.bo.AppendUint32(t, chunk)
	t = b.bo.AppendUint32(t, nbytes)
	copy(spare[b.tagOff:], t)
	b.buf = append(append(b.buf, page...), spare...)
	return off
}

// hdr writes an object header.
func (b *y2img) hdr(obj, typ, parent uint32, name string, mode uint32, size uint32, equiv uint32, alias string, rdev uint32) int {
	h := b.bo.AppendUint32(nil, typ)
	h = b.bo.AppendUint32(h, parent)
	h = append(h, 0xff, 0xff)
	nm := make([]byte, 256)
	copy(nm, name)
	h = append(append(h, nm...), 0xff, 0xff)
	h = b.bo.AppendUint32(h, mode)
	for range 5 { // uid gid atime mtime ctime
		h = b.bo.AppendUint32(h, 1425895200)
	}
	h = b.bo.AppendUint32(h, size)
	h = b.bo.AppendUint32(h, equiv)
	al := make([]byte, 160)
	copy(al, alias)
	h = append(h, al...)
	h = b.bo.AppendUint32(h, rdev)
	h = append(h, bytes.Repeat([]byte{0xff}, yaffs2HdrLen-len(h))...)
	tobj, tchunk, tn := obj, uint32(0), uint32(0xffff)
	if b.extra {
		tobj |= typ << yaffs2ExtraShift
		tchunk = yaffs2ExtraHeader | parent
		tn = size
	}
	return b.chunk(h, tobj, tchunk, tn)
}

// file writes a file's header and data chunks.
func (b *y2img) file(obj, parent uint32, name string, mode uint32, data []byte) {
	b.hdr(obj, yaffs2TypeFile, parent, name, mode, uint32(len(data)), 0, "", 0)
	for i := 0; i*b.page < len(data); i++ {
		d := data[i*b.page : min(len(data), (i+1)*b.page)]
		b.chunk(d, obj, uint32(i+1), uint32(len(d)))
	}
}

func (b *y2img) dir(obj, parent uint32, name string, mode uint32) {
	b.hdr(obj, yaffs2TypeDir, parent, name, mode, 0, 0, "", 0)
}

func (b *y2img) erased(n int) {
	b.buf = append(b.buf, bytes.Repeat([]byte{0xff}, n*(b.page+b.spare))...)
}

// y2Synthetic builds an image with every object kind and the update rules
// of the log; it returns the image and the expected files.
func y2Synthetic(page, spare, tagOff int, bo binary.AppendByteOrder, extra bool) ([]byte, map[string]string) {
	b := &y2img{page: page, spare: spare, tagOff: tagOff, bo: bo, extra: extra, seq: 0x1000}
	want := map[string]string{}
	big := bytes.Repeat([]byte("0123456789abcdef"), page/4) // 4 pages
	big = append(big, "tail"...)
	b.file(257, 1, "first", 0o100644, []byte("hello\n"))
	want["first"] = "hello\n"
	b.dir(258, 1, "etc", 0o40755)
	b.dir(259, 258, "sub", 0o40700)
	b.file(260, 259, "big.bin", 0o104755, big)
	want["etc/sub/big.bin"] = string(big)
	b.hdr(261, yaffs2TypeSymlink, 1, "sh", 0o120777, 0, 0, "/bin/busybox", 0)
	b.hdr(262, yaffs2TypeHardlink, 1, "hardlink", 0o100755, 0, 260, "", 0)
	want["hardlink"] = string(big)
	b.hdr(263, yaffs2TypeSpecial, 258, "ttyS0", 0o20620, 0, 0, "", 4<<8|64)
	b.hdr(264, yaffs2TypeSpecial, 258, "sda300", 0o60660, 0, 0, "", 300&0xff|8<<8|(300&^0xff)<<12)
	b.hdr(265, yaffs2TypeSpecial, 1, "fifo", 0o10600, 0, 0, "", 0)
	// a sparse file: chunk 2 missing
	b.hdr(266, yaffs2TypeFile, 1, "sparse", 0o100644, uint32(2*page+3), 0, "", 0)
	b.chunk([]byte("AB"), 266, 1, 2)
	b.chunk([]byte("xyz"), 266, 3, 3)
	want["sparse"] = "AB" + strings.Repeat("\x00", 2*page-2) + "xyz"
	// a file deleted, one unlinked (open but removed), one whose data is
	// superseded
	b.file(267, 1, "deleted", 0o100644, []byte("gone"))
	b.file(268, 1, "unlinked", 0o100644, []byte("gone too"))
	b.file(269, 1, "updated", 0o100644, []byte("old content."))
	// an erased block, then newer blocks
	b.erased(3)
	b.seq = 0x1005
	b.hdr(267, yaffs2TypeFile, yaffs2ObjDeleted, "deleted", 0o100644, 0, 0, "", 0)
	b.hdr(268, yaffs2TypeFile, yaffs2ObjUnlinked, "unlinked", 0o100644, 8, 0, "", 0)
	b.chunk([]byte("NEW"), 269, 1, 3)
	// an older block written later: loses for chunk 1, but its header
	// (older too) must not replace the name
	b.seq = 0x1003
	b.chunk([]byte("stale"), 269, 1, 5)
	b.hdr(269, yaffs2TypeFile, 1, "stale-name", 0o100600, 12, 0, "", 0)
	b.seq = 0x1006
	b.hdr(269, yaffs2TypeFile, 1, "updated", 0o100640, 3, 0, "", 0)
	want["updated"] = "NEW"
	// a directory cycle (a/b under each other) and an orphan
	b.dir(270, 271, "cyc-a", 0o40755)
	b.dir(271, 270, "cyc-b", 0o40755)
	// a chunk with garbage tags and one with a header that is no header
	b.chunk([]byte("junk"), 0, 5, 5)
	copy(b.buf[len(b.buf)-b.spare+tagOff:], []byte{0, 0, 0, 0}) // sequence number 0
	b.chunk([]byte("not a header at all"), 273, 0, 0xffff)
	b.file(272, 999, "orphan", 0o100644, []byte("x"))
	return b.buf, want
}

func TestYAFFS2Synthetic(t *testing.T) {
	for _, c := range []struct {
		page, spare, tagOff int
		bo                  binary.AppendByteOrder
		extra               bool
	}{
		{2048, 64, 0, binary.LittleEndian, false},
		{2048, 64, 2, binary.BigEndian, true},
		{4096, 128, 2, binary.LittleEndian, true},
		{4096, 128, 0, binary.BigEndian, false},
		{512, 16, 0, binary.LittleEndian, true},
		{512, 16, 0, binary.BigEndian, false},
		{1024, 32, 2, binary.LittleEndian, false},
		{1024, 32, 0, binary.BigEndian, true},
	} {
		name := strings.Join([]string{strconv.Itoa(c.page), strconv.Itoa(c.spare), strconv.Itoa(c.tagOff), c.bo.String(), map[bool]string{true: "extra", false: "plain"}[c.extra]}, "-")
		t.Run(name, func(t *testing.T) {
			img, want := y2Synthetic(c.page, c.spare, c.tagOff, c.bo, c.extra)
			g, err := yaffs2Detect(bytes.NewReader(img), int64(len(img)))
			if err != nil || g.page != c.page || g.spare != c.spare || g.tagOff != c.tagOff {
				t.Fatalf("geometry %v %v", g, err)
			}
			data := append(append([]byte{}, img...), bytes.Repeat([]byte{0xff}, 2*(c.page+c.spare))...)
			end := len(data)
			data = append(data, bytes.Repeat([]byte("trailing junk that is not yaffs2 "), 100*c.page/32)...)
			if !(yaffs2Format{}).Identify(readHeader(bytes.NewReader(data), 0, int64(len(data)), HeaderSize)) {
				t.Fatal("not identified")
			}
			if b, err := (yaffs2Format{}).Bound(bytes.NewReader(data), int64(len(data))); b != int64(end) || err != nil {
				t.Errorf("bound %d %v, want %d", b, err, end)
			}
			res := archUnpack(t, yaffs2Format{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
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
			if res.w.Files() != int64(len(want)-1) { // the hard link is not a file
				t.Errorf("%d files, want %d", res.w.Files(), len(want)-1)
			}
			for _, gone := range []string{"deleted", "unlinked", "stale-name", "cyc-a", "orphan"} {
				if _, err := os.Lstat(filepath.Join(res.dir, gone)); err == nil {
					t.Errorf("%s exists", gone)
				}
			}
			if m, _ := res.w.Mode("etc/sub/big.bin"); archPerm(m) != "4755" {
				t.Errorf("big.bin mode %v", m)
			}
			if m, _ := res.w.Mode("updated"); archPerm(m) != "0640" {
				t.Errorf("updated mode %v (the newest header wins)", m)
			}
			if m, _ := res.w.Mode("etc/sub"); archPerm(m) != "0700" || !m.IsDir() {
				t.Errorf("etc/sub mode %v", m)
			}
			archSameFile(t, res.dir, "etc/sub/big.bin", "hardlink")
			if !archHasLink(res.w.Links(), "sh", "/bin/busybox", false) || !archHasLink(res.w.Links(), "hardlink", "etc/sub/big.bin", true) {
				t.Errorf("links %+v", res.w.Links())
			}
			sp := res.w.Specials()
			wantSp := []Special{{Path: "etc/sda300", Kind: "block", Mode: 0o660, Major: 8, Minor: 300},
				{Path: "etc/ttyS0", Kind: "char", Mode: 0o620, Major: 4, Minor: 64}, {Path: "fifo", Kind: "fifo", Mode: 0o600}}
			if len(sp) != 3 || sp[0] != wantSp[0] || sp[1] != wantSp[1] || sp[2] != wantSp[2] {
				t.Errorf("specials %+v", sp)
			}
			var all []string
			for _, a := range res.w.Anomalies() {
				all = append(all, a.Kind+":"+a.Path+":"+a.Detail)
			}
			s := strings.Join(all, "\n")
			for _, w := range []string{"2 chunks with invalid tags or header skipped", "2 unlinked or deleted objects",
				"directory-loop::yaffs2: 3 objects not reachable from the root"} {
				if !strings.Contains(s, w) {
					t.Errorf("no anomaly %q in\n%s", w, s)
				}
			}
			if len(all) != 3 {
				t.Errorf("%d anomalies:\n%s", len(all), s)
			}
		})
	}
}

// y2Sha is the hex SHA-256 of a file of the extracted tree.
func y2Sha(tb testing.TB, root, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		tb.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestYAFFS2Samples(t *testing.T) {
	for _, c := range []struct {
		file  string
		geom  string
		want  map[string]int64 // as unyaffs 0.9.7 extracts them
		check map[string]string
		end   int64
	}{
		{"formats/binwalk_yaffs2.bin", "2048+64, tags at spare offset 0, le", map[string]int64{
			"mkyaffs2image.c": 15107, "mkyaffsimage.c": 13967, "yaffs_ecc.c": 7143, "yaffs_ecc.h": 1440,
			"yaffs_guts.h": 27266, "yaffs_hweight.c": 1689, "yaffs_hweight.h": 656, "yaffs_list.h": 3086,
			"yaffs_packedtags2.c": 5169, "yaffs_packedtags2.h": 1447, "yaffs_trace.h": 1769, "yportenv.h": 4903,
			"yutilsenv.h": 844}, nil, 135168},
		{"formats/fact_yaffs__yaffs2_le.img", "2048+64, tags at spare offset 2, le", map[string]int64{
			"testfile1": 62, "testfile2": 28, "generic folder/test file 3_.txt": 20},
			map[string]string{"testfile2": "This is the second test file"}, 14784},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			data := archRead(t, archShared(t, c.file))
			if !(yaffs2Format{}).Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			if g, err := yaffs2Detect(bytes.NewReader(data), int64(len(data))); err != nil || g.String() != c.geom {
				t.Errorf("geometry %v %v, want %s", g, err, c.geom)
			}
			res := archUnpack(t, yaffs2Format{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			for name, size := range c.want {
				fi, err := os.Stat(filepath.Join(res.dir, name))
				if err != nil || fi.Size() != size {
					t.Errorf("%s: %v %v, want %d bytes", name, fi, err, size)
				}
			}
			if res.w.Files() != int64(len(c.want)) {
				t.Errorf("%d files", res.w.Files())
			}
			for name, content := range c.check {
				if b, _ := os.ReadFile(filepath.Join(res.dir, name)); string(b) != content {
					t.Errorf("%s: %q", name, b)
				}
			}
			if res.consumed != c.end {
				t.Errorf("consumed %d, want %d", res.consumed, c.end)
			}
			if len(res.w.Anomalies()) != 0 {
				t.Errorf("anomalies %+v", res.w.Anomalies())
			}
		})
	}
}

func TestYAFFS2Hostile(t *testing.T) {
	img, _ := y2Synthetic(2048, 64, 0, binary.LittleEndian, false)
	f := yaffs2Format{}
	// the magic alone (type, parent 1) with garbage after it
	junk := append([]byte{1, 0, 0, 0, 1, 0, 0, 0}, bytes.Repeat([]byte{0x41}, 8192)...)
	if f.Identify(junk[:HeaderSize]) {
		t.Error("identified garbage after the magic")
	}
	// a header whose tags disagree (another sequence number range, no tags)
	bad := append([]byte{}, img[:2112]...)
	copy(bad[2048:], bytes.Repeat([]byte{0}, 16))
	if f.Identify(bad) {
		t.Error("identified a header without tags")
	}
	// a name that is not NUL-terminated
	bad = append([]byte{}, img...)
	copy(bad[10:266], bytes.Repeat([]byte{'a'}, 256))
	if f.Identify(bad[:HeaderSize]) {
		t.Error("identified an unterminated name")
	}
	if _, err := f.Bound(bytes.NewReader(bad), int64(len(bad))); err == nil {
		t.Error("bound of an unterminated name")
	}
	// the kernel's header tags with another type than the header
	b := &y2img{page: 2048, spare: 64, bo: binary.LittleEndian, extra: true, seq: 0x1000}
	b.dir(257, 1, "d", 0o40755)
	b.buf[2048+7] = 0x10 // type 1 in the tags
	if f.Identify(b.buf) {
		t.Error("identified tags of another type")
	}
	// a zeroed "header" of the root (object 1) with an empty name and mode 0,
	// tags at spare offset 2 (found in a vmlinux): not a yaffs2 image
	b = &y2img{page: 1024, spare: 32, tagOff: 2, bo: binary.LittleEndian, seq: 0x45000000}
	b.chunk(append([]byte{1, 0, 0, 0, 1, 0, 0, 0}, make([]byte, 1016)...), 1, 0, 0)
	if f.Identify(b.buf) {
		t.Error("identified the root pseudo object as a first header")
	}
	// truncation in the middle of the image: the objects before the cut
	cut := img[:len(img)/2+100]
	res := archUnpack(t, f, cut, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || res.w.Files() == 0 || res.consumed%2112 != 0 || res.consumed > int64(len(cut)) {
		t.Errorf("truncated: %v, %d files, consumed %d", res.err, res.w.Files(), res.consumed)
	}
	// a file claiming 4 GiB: limited, and hitting the limit stops cleanly
	b = &y2img{page: 512, spare: 16, bo: binary.BigEndian, seq: 0x1000}
	b.hdr(257, yaffs2TypeFile, 1, "huge", 0o100644, 0xfffffff0, 0, "", 0)
	b.chunk([]byte("x"), 257, 1, 1)
	l := DefaultLimits()
	l.MaxFileBytes = 1 << 20
	res = archUnpack(t, f, b.buf, filepath.Join(t.TempDir(), "out"), l)
	if !IsEntryLimit(res.w.LimitHit()) {
		t.Errorf("huge file: %v, %v", res.err, res.w.LimitHit())
	}
	// traversal in a name is refused by the writer; the rest goes on
	b = &y2img{page: 512, spare: 16, bo: binary.LittleEndian, seq: 0x1000}
	b.file(257, 1, "ok", 0o100644, []byte("ok"))
	b.file(258, 1, "../../escape", 0o100644, []byte("bad"))
	b.file(259, 1, "..", 0o100644, []byte("bad"))
	res = archUnpack(t, f, b.buf, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || res.w.Files() != 1 || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "") {
		t.Errorf("traversal: %v, %d files, %+v", res.err, res.w.Files(), res.w.Anomalies())
	}
	archOnlyUnder(t, filepath.Dir(res.dir), res.dir)
	// not yaffs2 at all
	if _, err := f.Bound(bytes.NewReader(bytes.Repeat([]byte{0xff}, 8192)), 8192); err == nil {
		t.Error("no error for erased flash")
	}
}

func FuzzYAFFS2(f *testing.F) {
	img, _ := y2Synthetic(512, 16, 0, binary.LittleEndian, true)
	f.Add(fuzzRaw(img, 4096))
	img, _ = y2Synthetic(1024, 32, 2, binary.BigEndian, false)
	f.Add(fuzzRaw(img, 6*1056))
	img, _ = y2Synthetic(2048, 64, 0, binary.LittleEndian, false)
	f.Add(fuzzRaw(img, 3*2112))
	// the first 64 KiB of the real images: whole images make each input
	// take tens of milliseconds
	k2, be := fuzzFixture("yaffs2-2k.img"), fuzzFixture("yaffs2-512-be.img")
	k2, be = k2[:min(len(k2), 64<<10)], be[:min(len(be), 64<<10)]
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(2, 512+4, []byte{0xff, 0xff}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, yaffs2Format{}, fuzzInput(data, k2, be)) })
}

func BenchmarkYAFFS2(b *testing.B) {
	img, _ := y2Synthetic(2048, 64, 0, binary.LittleEndian, false)
	if p := filepath.Join("..", "..", "shared", "firmware", "formats", "binwalk_yaffs2.bin"); y2Exists(p) {
		img = archRead(b, p)
	}
	fwBench(b, yaffs2Format{}, img)
}

func y2Exists(p string) bool { _, err := os.Stat(p); return err == nil }

// The fixtures of build-yaffs2.sh (tools/mkyaffs2.py, the LE ones checked
// with unyaffs) hold the sample rootfs with its device nodes.
func TestYAFFS2Rootfs(t *testing.T) {
	want := archManifest(t)
	for _, c := range []struct{ file, geom string }{
		{"yaffs2-2k.img", "2048+64, tags at spare offset 0, le"},
		{"yaffs2-4k-bb.img", "4096+128, tags at spare offset 2, le"},
		{"yaffs2-512-be.img", "512+16, tags at spare offset 0, be"},
	} {
		t.Run(c.file, func(t *testing.T) {
			data := archRead(t, archFixture(t, c.file))
			f := archFormat(t, "yaffs2")
			if !f.Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			if g, err := yaffs2Detect(bytes.NewReader(data), int64(len(data))); err != nil || g.String() != c.geom {
				t.Errorf("geometry %v %v, want %s", g, err, c.geom)
			}
			res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.consumed != int64(len(data)) {
				t.Errorf("consumed %d of %d", res.consumed, len(data))
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
			j2CheckSpecials(t, res.w)
		})
	}
}
