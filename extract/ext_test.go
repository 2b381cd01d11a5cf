package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestExt4Fixture(t *testing.T) {
	data := fwGunzip(t, "ext4.img.gz")
	f := archFormat(t, "ext")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(data)) {
		t.Errorf("consumed %d", res.consumed)
	}
	if fi, err := os.Stat(filepath.Join(res.dir, "lost+found")); err != nil || !fi.IsDir() {
		t.Errorf("lost+found: %v", err)
	}
	os.Remove(filepath.Join(res.dir, "lost+found"))
	fwCheckDiskTree(t, res) // the tree every UBIFS fixture holds
}

func TestExt2Rootfs(t *testing.T) {
	data := archRead(t, archFixture(t, "ext2.img"))
	res := archUnpack(t, extFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := archManifest(t)
	got := archTree(t, res.dir, res.w.Modes())
	delete(got, "/lost+found")
	// the manifest's device nodes are not in ext2.img (README)
	for p, e := range want {
		if e.Type == "c" || e.Type == "b" || e.Type == "p" {
			delete(want, p)
		}
	}
	archCompare(t, got, want)
	archSameFile(t, res.dir, "usr/bin/tool", "usr/bin/tool-hl")
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
}

func TestExtStrict(t *testing.T) {
	data := fwGunzip(t, "ext4.img.gz")
	for _, c := range []struct {
		name string
		off  int
		val  byte
	}{{"block size", 1024 + 24, 9}, {"inode count", 1024 + 0, 0x41}, {"inode size", 1024 + 88, 100}, {"first data block", 1024 + 20, 3}} {
		b := append([]byte{}, data[:HeaderSize]...)
		b[c.off] = c.val
		if (extFormat{}).Identify(b) {
			t.Errorf("%s: identified", c.name)
		}
	}
}

// TestExtSparseEngine: Android sparse → ext4 through the engine.
func TestExtSparseEngine(t *testing.T) {
	res, _ := archEngine(t, "ext4.simg")
	ls := archLayers(res, "ext")
	if len(ls) != 1 || ls[0].Status != StatusOK {
		t.Fatalf("ext layers %+v", ls)
	}
	if p := res.Layer(ls[0].Parent); p == nil || p.Format != "android-sparse" {
		t.Fatalf("parent %+v", p)
	}
	if b, _ := os.ReadFile(filepath.Join(ls[0].Root, "etc/passwd")); !bytes.HasPrefix(b, []byte("root:x:0:0:")) {
		t.Errorf("passwd %q", b)
	}
}

func FuzzExt(f *testing.F) {
	img := fuzzFixture("ext2.img")
	f.Add(fuzzRaw(img, 4096))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 1024+4, []byte{0xff, 0xff, 0, 0})) // free blocks
	f.Add(fuzzPatch(1, 1024+24, []byte{6, 0, 0, 0}))      // log block size
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, extFormat{}, fuzzInput(data, img)) })
}

func BenchmarkExt(b *testing.B) { fwBench(b, extFormat{}, fwGunzip(b, "ext4.img.gz")) }

// fwEngineShared runs the engine on a sample and returns the one layer of
// the format, checking its parent's format.
func fwEngineShared(t *testing.T, rel, format, parent string) *Layer {
	t.Helper()
	res, err := Extract(context.Background(), archShared(t, rel), filepath.Join(t.TempDir(), "work"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ls := archLayers(res, format)
	if len(ls) != 1 || ls[0].Status != StatusOK {
		for _, l := range res.Layers {
			t.Logf("%s %s %s %s", l.ID, l.Path, l.Status, l.Error)
		}
		t.Fatalf("%d %s layers", len(ls), format)
	}
	if p := res.Layer(ls[0].Parent); p == nil || p.Format != parent {
		t.Fatalf("parent %+v", p)
	}
	return ls[0]
}

// The FACT test tree, as debugfs rdump lists it.
var fwFactTree = []string{
	"get_files_test/", "get_files_test/generic folder/", "get_files_test/generic folder/test file 3_.txt 20",
	"get_files_test/testfile1 62", "get_files_test/testfile2 28", "lost+found/",
}

func TestExtSevenZSample(t *testing.T) {
	l := fwEngineShared(t, "formats/fact_sevenz__ext2.img.xz", "ext", "xz")
	fwSame(t, fwFiles(t, l.Root), fwFactTree)
}

// TestExtSparseSample: an ext3 (with a journal) in an Android sparse image.
func TestExtSparseSample(t *testing.T) {
	l := fwEngineShared(t, "formats/fact_android_simg__simg.img", "ext", "android-sparse")
	fwSame(t, fwFiles(t, l.Root), fwFactTree)
	if b, _ := os.ReadFile(filepath.Join(l.Root, "get_files_test/testfile2")); len(b) != 28 {
		t.Errorf("testfile2 %q", b)
	}
}
