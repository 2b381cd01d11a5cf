package extract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fwFiles lists what is under dir as "path size" for regular files,
// "path/" for dirs and "path -> target" for symlinks, sorted.
func fwFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			out = append(out, rel+" -> "+t)
		case fi.IsDir():
			out = append(out, rel+"/")
		default:
			out = append(out, rel+" "+strconv.FormatInt(fi.Size(), 10))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// fwSame fails unless got equals want (both sorted lists).
func fwSame(tb testing.TB, got, want []string) {
	tb.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Errorf("files:\n got %q\nwant %q", got, want)
	}
}

// fwDiskTree is the tree build-disk.sh puts in every UBIFS/ext4 fixture.
var fwDiskTree = []string{
	"bin/", "bin/busybox 42617", "bin/busybox-hl 42617", "bin/sh -> busybox",
	"dev/", "empty/", "empty/zero 0", "etc/", "etc/passwd 30",
	"usr/", "usr/share/", "usr/share/doc/", "usr/share/doc/deep/", "usr/share/doc/deep/er/",
	"usr/share/doc/deep/er/target-of-a-long-symlink-that-needs-more-than-sixty-chars.txt 3",
	"usr/share/doc/exact4k 4096",
	"usr/slow-link -> ../usr/share/doc/deep/er/target-of-a-long-symlink-that-needs-more-than-sixty-chars.txt",
	"usr/sparse 20004",
}

// fwCheckDiskTree checks the extracted fixture tree beyond the file list.
func fwCheckDiskTree(tb testing.TB, res archResult) {
	tb.Helper()
	fwSame(tb, fwFiles(tb, res.dir), fwDiskTree)
	b, err := os.ReadFile(filepath.Join(res.dir, "usr/share/doc/exact4k"))
	if err != nil || !bytes.Equal(b, bytes.Repeat(fwSeq256(), 16)) {
		tb.Errorf("exact4k wrong: %v", err)
	}
	b, _ = os.ReadFile(filepath.Join(res.dir, "usr/sparse"))
	if len(b) != 20004 || string(b[20000:]) != "tail" || !bytes.Equal(b[:20000], make([]byte, 20000)) {
		tb.Errorf("sparse file wrong (%d bytes)", len(b))
	}
	b, _ = os.ReadFile(filepath.Join(res.dir, "bin/busybox"))
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:8]) != fwBusyboxSum {
		tb.Errorf("busybox sha256 %x", sum[:8])
	}
	b, _ = os.ReadFile(filepath.Join(res.dir, "etc/passwd"))
	if string(b) != "root:x:0:0:root:/root:/bin/sh\n" {
		tb.Errorf("passwd %q", b)
	}
	archSameFile(tb, res.dir, "bin/busybox", "bin/busybox-hl")
	if m, _ := res.w.Mode("bin/busybox"); archPerm(m) != "4755" {
		tb.Errorf("bin/busybox mode %v", m)
	}
	sp := res.w.Specials()
	want := []Special{
		{Path: "dev/fifo", Kind: "fifo", Mode: 0o644},
		{Path: "dev/mtdblock1", Kind: "block", Mode: 0o644, Major: 31, Minor: 1},
		{Path: "dev/ttyS0", Kind: "char", Mode: 0o644, Major: 4, Minor: 64},
	}
	if fmt.Sprint(sp) != fmt.Sprint(want) {
		tb.Errorf("specials %+v", sp)
	}
	if as := res.w.Anomalies(); len(as) != 0 {
		tb.Errorf("anomalies %+v", as)
	}
}

func fwSeq256() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

const fwBusyboxSum = "09c5a0e83f342801"

func TestUBISample(t *testing.T) {
	data := archRead(t, archShared(t, "formats/fact_ubi__ubi.img"))
	f := archFormat(t, "ubi")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(data)) {
		t.Errorf("consumed %d of %d", res.consumed, len(data))
	}
	fwSame(t, fwFiles(t, res.dir), []string{"volumes/", "volumes/rootfs.img 1703936"})
	// the sample's one static volume is the UBIFS sample, byte for byte
	vol := archRead(t, filepath.Join(res.dir, "volumes/rootfs.img"))
	if !bytes.Equal(vol, archRead(t, archShared(t, "formats/fact_ubi__test.ubifs"))) {
		t.Error("volume differs from fact_ubi__test.ubifs")
	}
}

func TestUBIFSSample(t *testing.T) {
	data := archRead(t, archShared(t, "formats/fact_ubi__test.ubifs"))
	f := archFormat(t, "ubifs")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	fwSame(t, fwFiles(t, res.dir), []string{"generic folder/", "generic folder/test file 3_.txt 20", "testfile1 62", "testfile2 28"})
	if b, _ := f.Bound(bytes.NewReader(data), int64(len(data))); b != int64(len(data)) {
		t.Errorf("bound %d", b)
	}
}

func TestUBIFSFixtures(t *testing.T) {
	for _, name := range []string{"ubifs-lzo.img", "ubifs-zlib.img"} {
		t.Run(name, func(t *testing.T) {
			data := archRead(t, archFixture(t, name))
			if !(ubifsFormat{}).Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, ubifsFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			fwCheckDiskTree(t, res)
		})
	}
}

// TestUBIFixture: a static and a dynamic (zstd UBIFS) volume, through the engine.
func TestUBIFixture(t *testing.T) {
	data := archRead(t, archFixture(t, "ubi-zstd.ubi"))
	res := archUnpack(t, ubiFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := fwFiles(t, res.dir)
	if len(got) != 3 || got[1] != "volumes/kernel.img 3000" || !strings.HasPrefix(got[2], "volumes/rootfs.img ") {
		t.Errorf("files %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, "volumes/kernel.img")); string(b) != strings.Repeat("K", 3000) {
		t.Error("kernel volume content")
	}
	eres, _ := archEngine(t, "ubi-zstd.ubi")
	fs := archLayers(eres, "ubifs")
	if len(fs) != 1 || fs[0].Status != StatusOK || fs[0].Source != "volumes/rootfs.img" {
		t.Fatalf("ubifs layers %+v", fs)
	}
	if p := eres.Layer(fs[0].Parent); p == nil || p.Format != "ubi" {
		t.Fatalf("parent %+v", p)
	}
	fwSame(t, fwFiles(t, fs[0].Root), fwDiskTree)
}

// TestUBICorrupt: a corrupt VID header, a flipped data byte and a truncated
// image give anomalies or errors, never a panic or a write outside.
func TestUBICorrupt(t *testing.T) {
	orig := archRead(t, archFixture(t, "ubi-zstd.ubi"))
	data := append([]byte{}, orig...)
	data[16384+256+20] ^= 0xff // the VID header of PEB 1
	res := archUnpack(t, ubiFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "") {
		t.Errorf("no anomaly: %+v", res.w.Anomalies())
	}
	res = archUnpack(t, ubiFormat{}, orig[:len(orig)/2+100], filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.consumed > int64(len(orig)/2+100) {
		t.Errorf("consumed %d", res.consumed)
	}
	// UBIFS with its root index node damaged
	fsimg := append([]byte{}, archRead(t, archFixture(t, "ubifs-lzo.img"))...)
	if (ubifsFormat{}).Identify(append([]byte{0}, fsimg[1:HeaderSize]...)) {
		t.Error("identified without magic")
	}
	bad := append([]byte{}, fsimg...)
	bad[40] ^= 1 // superblock CRC breaks
	if (ubifsFormat{}).Identify(bad[:HeaderSize]) {
		t.Error("identified with a bad superblock CRC")
	}
	mst := bytes.Index(fsimg[15872:], []byte{0x31, 0x18, 0x10, 0x06})
	root := binary.LittleEndian.Uint32(fsimg[15872+mst+48:])*15872 + binary.LittleEndian.Uint32(fsimg[15872+mst+52:])
	bad = append([]byte{}, fsimg...)
	bad[root+30] ^= 0xff
	res = archUnpack(t, ubifsFormat{}, bad, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "") {
		t.Errorf("err %v anomalies %+v", res.err, res.w.Anomalies())
	}
}

func FuzzUBI(f *testing.F) {
	img := fuzzFixture("ubi-zstd.ubi")
	f.Add(fuzzRaw(img, 4096))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 16384+64+8, []byte{0, 0, 0, 0x7f}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, ubiFormat{}, fuzzInput(data, img)) })
}

func FuzzUBIFS(f *testing.F) {
	zl, lzo := fuzzFixture("ubifs-zlib.img"), fuzzFixture("ubifs-lzo.img")
	f.Add(fuzzRaw(zl, 4096))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(2))
	f.Add(fuzzPatch(1, 15872+64, []byte{0xff, 0xff}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, ubifsFormat{}, fuzzInput(data, zl, lzo)) })
}

func fwBench(b *testing.B, f Format, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w, err := NewWriter(filepath.Join(b.TempDir(), "out"), DefaultLimits(), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}

func BenchmarkUBI(b *testing.B) { fwBench(b, ubiFormat{}, archRead(b, archFixture(b, "ubi-zstd.ubi"))) }

func BenchmarkUBIFS(b *testing.B) {
	fwBench(b, ubifsFormat{}, archRead(b, archFixture(b, "ubifs-lzo.img")))
}

// TestUBISampleEngine: UBI → static volume → UBIFS through the engine.
func TestUBISampleEngine(t *testing.T) {
	l := fwEngineShared(t, "formats/fact_ubi__ubi.img", "ubifs", "ubi")
	fwSame(t, fwFiles(t, l.Root), []string{"generic folder/", "generic folder/test file 3_.txt 20", "testfile1 62", "testfile2 28"})
}
