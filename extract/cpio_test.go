package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// archCpioTrailerEnd finds the end of the "TRAILER!!!" entry of an ASCII
// cpio by searching for its name (the test's own reading of the layout).
func archCpioTrailerEnd(tb testing.TB, data []byte, align int) int64 {
	tb.Helper()
	i := bytes.LastIndex(data, []byte("TRAILER!!!\x00"))
	if i < 0 {
		tb.Fatal("no trailer")
	}
	end := i + len("TRAILER!!!\x00")
	return roundUp(int64(end), int64(align))
}

func TestCpioRootfs(t *testing.T) {
	want := archManifest(t)
	for _, c := range []struct {
		file  string
		align int
	}{{"cpio-newc.cpio", 4}, {"cpio-crc.cpio", 4}, {"cpio-odc.cpio", 1}} {
		t.Run(c.file, func(t *testing.T) {
			data := archRead(t, archFixture(t, c.file))
			f := archFormat(t, "cpio")
			if !f.Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			if end := archCpioTrailerEnd(t, data, c.align); res.consumed != end {
				t.Errorf("consumed %d, want the trailer's end %d", res.consumed, end)
			}
			got := archTree(t, res.dir, res.w.Modes())
			archCompare(t, got, want)
			if n := archModesChecked(got); n < 25 {
				t.Errorf("only %d modes recorded", n)
			}
			archSameFile(t, res.dir, "usr/bin/tool", "usr/bin/tool-hl")
			if !archHasLink(res.w.Links(), "usr/bin/tool-hl", "usr/bin/tool", true) {
				t.Errorf("hard link not recorded: %+v", res.w.Links())
			}
			if len(res.w.Anomalies()) != 0 {
				t.Errorf("anomalies: %+v", res.w.Anomalies())
			}
		})
	}
}

func TestCpioCRCMismatch(t *testing.T) {
	data := append([]byte{}, archRead(t, archFixture(t, "cpio-crc.cpio"))...)
	i := bytes.Index(data, []byte("root:x:0:0:root:")) // /etc/passwd's content
	if i < 0 {
		t.Fatal("passwd not found")
	}
	data[i] = 'R'
	res := archUnpack(t, cpioFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	as := res.w.Anomalies()
	if len(as) != 1 || as[0].Path != "etc/passwd" || !strings.Contains(as[0].Detail, "checksum") {
		t.Errorf("anomalies %+v", as)
	}
}

func TestCpioInitramfsEngine(t *testing.T) {
	res, _ := archEngine(t, "initramfs.cpio.gz")
	cp := archLayers(res, "cpio")
	if len(cp) != 1 {
		t.Fatalf("%d cpio layers", len(cp))
	}
	parent := res.Layer(cp[0].Parent)
	if parent == nil || parent.Format != "gzip" || parent.Parent != "L0" {
		t.Fatalf("cpio's parent: %+v", parent)
	}
	if cp[0].Status != StatusOK {
		t.Errorf("status %s: %s", cp[0].Status, cp[0].Error)
	}
	raw := archRead(t, archFixture(t, "cpio-newc.cpio"))
	if end := archCpioTrailerEnd(t, raw, 4); cp[0].Size != end {
		t.Errorf("cpio layer size %d, want %d", cp[0].Size, end)
	}
	archCompare(t, archTree(t, cp[0].Root, cp[0].Modes), archManifest(t))
	archSameFile(t, cp[0].Root, "usr/bin/tool", "usr/bin/tool-hl")
}

func TestCpioConcatenated(t *testing.T) {
	// initramfs images concatenate archives: each one is a layer
	a := archRead(t, archFixture(t, "evil-traversal.cpio"))
	b := archRead(t, archFixture(t, "cpio-odc.cpio"))
	img := filepath.Join(t.TempDir(), "initrd.img")
	if err := os.WriteFile(img, append(append([]byte{}, a...), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Extract(context.Background(), img, filepath.Join(t.TempDir(), "work"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for _, l := range archLayers(res, "cpio") {
		if l.Parent == "L0" {
			offs = append(offs, l.Offset)
		}
	}
	if fmt.Sprint(offs) != fmt.Sprint([]int64{0, int64(len(a))}) {
		t.Errorf("cpio layers at %v, want 0 and %d", offs, len(a))
	}
}

func TestCpioTraversal(t *testing.T) {
	base, dir := archHostileDirs(t)
	res := archUnpack(t, cpioFormat{}, archRead(t, archFixture(t, "evil-traversal.cpio")), dir, DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	archOnlyUnder(t, base, dir)
	if _, err := os.Lstat("/etc/abs.txt"); err == nil {
		t.Error("/etc/abs.txt exists")
	}
	b, err := os.ReadFile(filepath.Join(dir, "ok", "good.txt"))
	if err != nil || string(b) != "good file\n" {
		t.Errorf("good entry: %q %v", b, err)
	}
	as := res.w.Anomalies()
	if !archHasAnomaly(as, AnomalyTraversal, "../../evil.txt") || !archHasAnomaly(as, AnomalyAbsolute, "/etc/abs.txt") {
		t.Errorf("anomalies: %+v", as)
	}
}

// archCpioBin encodes entries as an old binary cpio in byte order bo.
type archCpioEnt struct {
	name  string
	mode  uint32
	ino   uint16
	nlink uint16
	rdev  uint16
	data  string
}

func archCpioBin(bo binary.AppendByteOrder, ents []archCpioEnt) []byte {
	var out []byte
	for _, e := range append(ents, archCpioEnt{name: cpioTrailer, nlink: 1}) {
		name := e.name + "\x00"
		w := []uint16{0o070707, 0, e.ino, uint16(e.mode), 0, 0, e.nlink, e.rdev, 0x54f0, 0x0000,
			uint16(len(name)), uint16(len(e.data) >> 16), uint16(len(e.data))}
		for _, v := range w {
			out = bo.AppendUint16(out, v)
		}
		out = append(out, name...)
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
		out = append(out, e.data...)
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
	}
	return out
}

func TestCpioBinary(t *testing.T) {
	ents := []archCpioEnt{
		{name: "etc", mode: 0o40755, ino: 1, nlink: 2},
		{name: "etc/passwd", mode: 0o100644, ino: 2, nlink: 1, data: "root:x:0:0::/root:/bin/sh\n"},
		{name: "bin/su", mode: 0o104755, ino: 3, nlink: 2, data: "odd"},
		{name: "bin/su-hl", mode: 0o104755, ino: 3, nlink: 2, data: "odd"},
		{name: "bin/sh", mode: 0o120777, ino: 4, nlink: 1, data: "busybox"},
		{name: "dev/ttyS0", mode: 0o20620, ino: 5, nlink: 1, rdev: 4<<8 | 64},
		{name: "dev/fifo", mode: 0o10600, ino: 6, nlink: 1},
	}
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			data := archCpioBin(bo, ents)
			if !(cpioFormat{}).Identify(data) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, cpioFormat{}, append(data, "garbage after"...), filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.consumed != int64(len(data)) {
				t.Errorf("consumed %d, want %d", res.consumed, len(data))
			}
			b, _ := os.ReadFile(filepath.Join(res.dir, "etc", "passwd"))
			if string(b) != ents[1].data {
				t.Errorf("passwd = %q", b)
			}
			if m, _ := res.w.Mode("bin/su"); archPerm(m) != "4755" {
				t.Errorf("bin/su mode %v", m)
			}
			archSameFile(t, res.dir, "bin/su", "bin/su-hl")
			if !archHasLink(res.w.Links(), "bin/sh", "busybox", false) {
				t.Errorf("links %+v", res.w.Links())
			}
			sp := res.w.Specials()
			if len(sp) != 2 || sp[1] != (Special{Path: "dev/ttyS0", Kind: "char", Mode: 0o620, Major: 4, Minor: 64}) || sp[0].Kind != "fifo" {
				t.Errorf("specials %+v", sp)
			}
		})
	}
}

func TestCpioPatoolSample(t *testing.T) {
	data := archRead(t, archShared(t, "formats/fact_patool__test.cpio"))
	res := archUnpack(t, cpioFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	var files []string
	filepath.Walk(res.dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != res.dir {
			rel, _ := filepath.Rel(res.dir, p)
			files = append(files, fmt.Sprintf("%s %d %v", rel, fi.Size(), fi.IsDir()))
		}
		return nil
	})
	sort.Strings(files)
	t.Logf("files: %q", files)
	// as GNU cpio -itv lists them (a binary little-endian archive)
	want := map[string]int64{
		"get_files_test/generic folder/test file 3_.txt": 20,
		"get_files_test/testfile1":                       62,
		"get_files_test/testfile2":                       28,
	}
	n := 0
	for name, size := range want {
		fi, err := os.Stat(filepath.Join(res.dir, name))
		if err != nil || fi.Size() != size {
			t.Errorf("%s: %v %v", name, fi, err)
		}
		n++
	}
	if res.w.Files() != int64(n) {
		t.Errorf("%d files, want %d", res.w.Files(), n)
	}
	if res.consumed <= 0 || res.consumed > int64(len(data)) {
		t.Errorf("consumed %d of %d", res.consumed, len(data))
	}
}

func TestCpioTruncated(t *testing.T) {
	data := archRead(t, archFixture(t, "cpio-newc.cpio"))
	cut := data[:len(data)/3]
	res := archUnpack(t, cpioFormat{}, cut, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || res.w.Files() == 0 {
		t.Fatalf("truncated: err %v, %d files", res.err, res.w.Files())
	}
	if res.consumed <= 0 || res.consumed > int64(len(cut)) {
		t.Errorf("consumed %d", res.consumed)
	}
	// a header whose name size runs past the data
	bad := append([]byte{}, data[:200]...)
	copy(bad[6+11*8:], "00010000")
	res = archUnpack(t, cpioFormat{}, bad, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || res.w.Entries() != 0 {
		t.Errorf("bad name size: err %v, %d entries", res.err, res.w.Entries())
	}
}

func FuzzCpio(f *testing.F) {
	f.Add(fuzzRaw(fuzzFixture("evil-traversal.cpio"), 1024))
	for _, n := range []string{"cpio-newc.cpio", "cpio-odc.cpio", "cpio-crc.cpio"} {
		f.Add(fuzzRaw(fuzzFixture(n), 1024))
	}
	f.Add(fuzzRaw(archCpioBin(binary.LittleEndian, []archCpioEnt{
		{name: "a", mode: 0o100644, ino: 3, nlink: 2, data: "x"},
		{name: "b", mode: 0o100644, ino: 3, nlink: 2, data: "x"},
		{name: "l", mode: 0o120777, ino: 4, nlink: 1, data: "a"}}), 4096))
	base := fuzzFixture("cpio-newc.cpio")
	f.Add(fuzzPatch(1, 6+6*8, []byte("00000005")))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, cpioFormat{}, fuzzInput(data, base)) })
}

func BenchmarkCpio(b *testing.B) {
	data := archRead(b, archFixture(b, "cpio-newc.cpio"))
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "out")
		w, err := NewWriter(dir, DefaultLimits(), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (cpioFormat{}).Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}
