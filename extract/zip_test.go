package extract

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestZipRootfs(t *testing.T) {
	data := archRead(t, archFixture(t, "rootfs.zip"))
	f := archFormat(t, "zip")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	if b, err := f.Bound(bytes.NewReader(data), int64(len(data))); err != nil || b != int64(len(data)) {
		t.Errorf("bound %d %v, want %d", b, err, len(data))
	}
	res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(data)) {
		t.Errorf("consumed %d, want %d", res.consumed, len(data))
	}
	got := archTree(t, res.dir, res.w.Modes())
	want := archManifest(t)
	archCompare(t, got, want)
	if n := archModesChecked(got); n < 25 {
		t.Errorf("only %d modes recorded", n)
	}
	// zip keeps no hard links: both names are files of their own
	if !archHasLink(res.w.Links(), "lib/libc.so.0", "libuClibc-0.9.33.2.so", false) {
		t.Errorf("symlink not recorded: %+v", res.w.Links())
	}
	if res.w.Files() != archRegular(want) {
		t.Errorf("%d files, want %d", res.w.Files(), archRegular(want))
	}
}

// archZip builds a zip of (name, content) pairs with the given method.
func archZip(tb testing.TB, method uint16, files ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, files[i+1])
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestZipInsideBlob(t *testing.T) {
	inner := archZip(t, zip.Store, "inner.txt", "inner file\n")
	outer := archZip(t, zip.Store, "a/inner.zip", string(inner), "b.txt", "outer file\n")
	// the inner zip's end record comes first in the outer one: the outer
	// end must still be found.
	blob := append(append(append([]byte("leading junk "), outer...), make([]byte, 100)...), "trailing junk"...)
	off := bytes.Index(blob, []byte("PK\x03\x04"))
	f := archFormat(t, "zip")
	sec := blob[off:]
	if b, _ := f.Bound(bytes.NewReader(sec), int64(len(sec))); b != int64(len(outer)) {
		t.Errorf("bound %d, want %d", b, len(outer))
	}
	res := archUnpack(t, f, sec, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(outer)) {
		t.Errorf("consumed %d, want %d", res.consumed, len(outer))
	}
	b, _ := os.ReadFile(filepath.Join(res.dir, "a", "inner.zip"))
	if !bytes.Equal(b, inner) {
		t.Error("inner.zip differs")
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, "b.txt")); string(b) != "outer file\n" {
		t.Errorf("b.txt = %q", b)
	}
	// the inner zip alone, at its offset inside the outer one
	in := bytes.Index(sec, inner)
	if b, _ := f.Bound(bytes.NewReader(sec[in:]), int64(len(sec)-in)); b != int64(len(inner)) {
		t.Errorf("inner bound %d, want %d", b, len(inner))
	}
}

func TestZipTraversal(t *testing.T) {
	base, dir := archHostileDirs(t)
	res := archUnpack(t, archFormat(t, "zip"), archRead(t, archFixture(t, "evil-traversal.zip")), dir, DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	archOnlyUnder(t, base, dir)
	if _, err := os.Lstat("/abs.txt"); err == nil {
		t.Error("/abs.txt exists")
	}
	b, err := os.ReadFile(filepath.Join(dir, "ok", "good.txt"))
	if err != nil || string(b) != "good file\n" {
		t.Errorf("good entry: %q %v", b, err)
	}
	as := res.w.Anomalies()
	if !archHasAnomaly(as, AnomalyTraversal, "../evil.txt") || !archHasAnomaly(as, AnomalyAbsolute, "/abs.txt") {
		t.Errorf("anomalies: %+v", as)
	}
	if res.w.Files() != 1 {
		t.Errorf("%d files", res.w.Files())
	}
}

func TestZipBomb(t *testing.T) {
	// 4 entries of 32 MiB of zeros each (about 130 KiB compressed)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 4; i++ {
		w, _ := zw.Create("bomb" + string(rune('0'+i)))
		for j := 0; j < 32; j++ {
			w.Write(zeros)
		}
	}
	zw.Close()
	data := buf.Bytes()

	// a bound ends only the entry that passes it: every entry is still
	// extracted (cut), and the layer reports the cuts
	t.Run("file", func(t *testing.T) {
		l := DefaultLimits()
		l.MaxFileBytes = 1 << 20
		res := archUnpack(t, zipFormat{}, data, filepath.Join(t.TempDir(), "out"), l)
		if res.err != nil || !IsEntryLimit(res.w.LimitHit()) {
			t.Fatalf("err %v, limit %v, want entry limits only", res.err, res.w.LimitHit())
		}
		if res.w.Written() > 4*l.MaxFileBytes {
			t.Errorf("wrote %d", res.w.Written())
		}
		if res.w.Files() != 4 || !archHasAnomaly(res.w.Anomalies(), AnomalyLimit, "bomb3") {
			t.Errorf("stopped at the first cut: %d files, %v", res.w.Files(), res.w.Anomalies())
		}
	})
	onDisk := func(dir string) int64 {
		var sum int64
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				sum += fi.Size()
			}
			return nil
		})
		return sum
	}
	t.Run("total", func(t *testing.T) {
		l := DefaultLimits()
		l.MaxRatio = 0
		l.MaxTotalBytes = 40 << 20
		res := archUnpack(t, zipFormat{}, data, filepath.Join(t.TempDir(), "out"), l)
		if res.err != nil || !IsEntryLimit(res.w.LimitHit()) {
			t.Fatalf("err %v, limit %v, want entry limits only", res.err, res.w.LimitHit())
		}
		// 32 MiB, then three entries cut to their first MiB
		if sum := onDisk(res.dir); sum > l.MaxTotalBytes || sum != 35<<20 {
			t.Errorf("%d bytes on disk", sum)
		}
		if res.w.Files() != 4 {
			t.Errorf("%d files", res.w.Files())
		}
	})
	t.Run("ratio", func(t *testing.T) {
		l := DefaultLimits()
		l.MaxRatio = 100
		res := archUnpack(t, zipFormat{}, data, filepath.Join(t.TempDir(), "out"), l)
		if res.err != nil || !IsEntryLimit(res.w.LimitHit()) {
			t.Fatalf("err %v, limit %v, want entry limits only", res.err, res.w.LimitHit())
		}
		// 100x of a small zip is below RatioFloor, which then applies
		bound := max(int64(len(data))*100, RatioFloor)
		if sum := onDisk(res.dir); sum > bound || sum < bound/2 {
			t.Errorf("%d bytes on disk for %d in (bound %d)", sum, len(data), bound)
		}
		if res.w.Files() != 4 {
			t.Errorf("%d files", res.w.Files())
		}
	})
}

func TestZipEncrypted(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "secret.txt", Method: zip.Store, Flags: 1})
	io.WriteString(w, "pretend ciphertext")
	w, _ = zw.Create("plain.txt")
	io.WriteString(w, "plain\n")
	zw.Close()
	res := archUnpack(t, zipFormat{}, buf.Bytes(), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	as := res.w.Anomalies()
	if !archHasAnomaly(as, AnomalyEncrypted, "secret.txt") || !strings.Contains(as[0].Detail, "encrypted entry not extracted") {
		t.Errorf("anomalies %+v", as)
	}
	if _, err := os.Stat(filepath.Join(res.dir, "secret.txt")); err == nil {
		t.Error("encrypted entry extracted")
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, "plain.txt")); string(b) != "plain\n" {
		t.Errorf("plain.txt = %q", b)
	}
}

func TestZipDamaged(t *testing.T) {
	data := archZip(t, zip.Deflate, "a.txt", strings.Repeat("hello zip ", 1000), "b.txt", "second\n")
	// corrupt a.txt's compressed data: the CRC check fails, b.txt is kept
	bad := append([]byte{}, data...)
	bad[30+len("a.txt")+5] ^= 0xff
	res := archUnpack(t, zipFormat{}, bad, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || IsLimit(res.err) {
		t.Fatalf("err %v", res.err)
	}
	if !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "a.txt") {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, "b.txt")); string(b) != "second\n" {
		t.Errorf("b.txt = %q", b)
	}
	// no end record: a clear error, nothing written
	res = archUnpack(t, zipFormat{}, data[:len(data)-30], filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || res.w.Entries() != 0 {
		t.Errorf("truncated zip: err %v, %d entries", res.err, res.w.Entries())
	}
}

func TestZipNonStandardMethods(t *testing.T) {
	// bzip2 (method 12) through the compress package, written by hand:
	// archive/zip cannot write it, so take the bzip2 stream of data.bz2.
	raw := archRead(t, archFixture(t, "data.bz2"))
	plain := archRead(t, archFixture(t, "data.txt"))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fh := &zip.FileHeader{Name: "data.txt", Method: 12, CRC32: archCRC32(plain),
		CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(len(plain))}
	w, err := zw.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	zw.Close()
	res := archUnpack(t, zipFormat{}, buf.Bytes(), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, "data.txt")); !bytes.Equal(b, plain) {
		t.Errorf("data.txt differs (%d bytes)", len(b))
	}
}

func FuzzZip(f *testing.F) {
	f.Add(fuzzRaw(fuzzFixture("evil-traversal.zip"), 4096))
	f.Add(fuzzRaw(archZip(f, zip.Deflate, "a/b.txt", "hello", "c", "world"), 4096))
	f.Add(fuzzRaw(archZip(f, zip.Store, "x.zip", string(archZip(f, zip.Store, "y", "z"))), 4096))
	img := fuzzFixture("rootfs.zip")
	f.Add(fuzzPatch(1))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, zipFormat{}, fuzzInput(data, img)) })
}

func archCRC32(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func TestZipAbsoluteOffsets(t *testing.T) {
	// a self-extractor's zip: offsets count from the start of the file,
	// not of the zip (zip -A, Writer.SetOffset)
	junk := bytes.Repeat([]byte("sfx stub "), 50)
	var buf bytes.Buffer
	buf.Write(junk)
	zw := zip.NewWriter(&buf)
	zw.SetOffset(int64(len(junk)))
	w, _ := zw.Create("x/y.txt")
	io.WriteString(w, "payload\n")
	zw.Close()
	sec := buf.Bytes()[len(junk):]
	if b, _ := (zipFormat{}).Bound(bytes.NewReader(sec), int64(len(sec))); b != int64(len(sec)) {
		t.Errorf("bound %d, want %d", b, len(sec))
	}
	res := archUnpack(t, zipFormat{}, sec, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, "x", "y.txt")); string(b) != "payload\n" {
		t.Errorf("y.txt = %q", b)
	}
}

func TestZip64Bound(t *testing.T) {
	// more than 65535 entries: archive/zip writes zip64 end records
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < 65600; i++ {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: "f", Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	data := buf.Bytes()
	if !bytes.Contains(data[len(data)-200:], zipEnd64Sig) {
		t.Fatal("no zip64 end record")
	}
	blob := append(append([]byte{}, data...), "trailing"...)
	if b, _ := (zipFormat{}).Bound(bytes.NewReader(blob), int64(len(blob))); b != int64(len(data)) {
		t.Errorf("bound %d, want %d", b, len(data))
	}
}
