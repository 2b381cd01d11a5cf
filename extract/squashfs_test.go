package extract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/extract/squashfs"
)

// sqfsFixtures is the folder of the committed test fixtures.
func sqfsFixtures(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "firmware")
}

// sqfsShared is ../shared/firmware beside the repository.
func sqfsShared(tb testing.TB, name string) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "shared", "firmware", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real sample missing in CI: %v", err)
		}
		tb.Skipf("real sample not available: %v", err)
	}
	return p
}

// sqfsUnpack extracts a SquashFS image held in a file through the Format.
func sqfsUnpack(tb testing.TB, file string, off, size int64) (*Writer, int64, error) {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if size < 0 {
		fi, _ := f.Stat()
		size = fi.Size() - off
	}
	r := io.NewSectionReader(f, off, size)
	w, err := NewWriter(filepath.Join(tb.TempDir(), "out"), DefaultLimits(), size)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	fm, _ := Lookup("squashfs")
	n, err := fm.Unpack(context.Background(), r, size, w)
	return w, n, err
}

// sqfsManifest renders the extracted tree in the format of
// testdata/firmware/rootfs.manifest (hard links as plain files).
func sqfsManifest(tb testing.TB, w *Writer) []string {
	tb.Helper()
	var rows []string
	modes := w.Modes()
	for _, l := range w.Links() {
		if l.Hard { // a hard link shares its target's mode
			modes[l.Path] = modes[l.Target]
		}
	}
	err := filepath.WalkDir(w.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(w.Dir(), p)
		rel = filepath.ToSlash(rel)
		name := "/" + rel
		if rel == "." {
			name = "/"
		}
		mode := modes[rel]
		pm := uint32(mode.Perm())
		if mode&fs.ModeSetuid != 0 {
			pm |= 0o4000
		}
		if mode&fs.ModeSetgid != 0 {
			pm |= 0o2000
		}
		if mode&fs.ModeSticky != 0 {
			pm |= 0o1000
		}
		if rel == "." {
			pm = 0o755 // the root's mode is not recorded
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			rows = append(rows, fmt.Sprintf("%s\tl\t%04o\t%d\t%s", name, pm, len(t), t))
		case d.IsDir():
			rows = append(rows, fmt.Sprintf("%s\td\t%04o\t0\t-", name, pm))
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			rows = append(rows, fmt.Sprintf("%s\tf\t%04o\t%d\t%s", name, pm, len(b), hex.EncodeToString(h[:])))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range w.Specials() {
		t := map[string]string{"char": "c", "block": "b", "fifo": "p", "socket": "s"}[s.Kind]
		extra := "-"
		if t == "c" || t == "b" {
			extra = fmt.Sprintf("%d,%d", s.Major, s.Minor)
		}
		rows = append(rows, fmt.Sprintf("/%s\t%s\t%04o\t0\t%s", s.Path, t, s.Mode&0o7777, extra))
	}
	sort.Slice(rows, func(i, j int) bool {
		return strings.SplitN(rows[i], "\t", 2)[0] < strings.SplitN(rows[j], "\t", 2)[0]
	})
	return rows
}

func sqfsReadLines(tb testing.TB, file string) []string {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func TestSquashfsFixtures(t *testing.T) {
	dir := sqfsFixtures(t)
	want := sqfsReadLines(t, filepath.Join(dir, "rootfs.manifest"))
	imgs := []string{"gzip", "lzma", "xz", "xz-bcj-x86", "xz-bcj-arm", "lzo", "lz4", "lz4-hc", "zstd",
		"nofrag", "b4096", "uncompressed"}
	for _, name := range imgs {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, "sqfs-"+name+".img")
			w, n, err := sqfsUnpack(t, file, 0, -1)
			if err != nil {
				t.Fatalf("unpack: %v", err)
			}
			fi, _ := os.Stat(file)
			if n <= 0 || n > fi.Size() || fi.Size()-n >= 4096 {
				t.Errorf("consumed %d of %d bytes", n, fi.Size())
			}
			got := sqfsManifest(t, w)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("manifest differs:\n%s", sqfsDiff(want, got))
			}
			var hard []Link
			for _, l := range w.Links() {
				if l.Hard {
					hard = append(hard, l)
				}
			}
			if len(hard) != 1 || hard[0].Path != "usr/bin/tool-hl" || hard[0].Target != "usr/bin/tool" {
				t.Errorf("hard links %+v, want tool-hl -> tool", hard)
			}
			for _, l := range hard {
				a, _ := os.Stat(filepath.Join(w.Dir(), l.Path))
				b, _ := os.Stat(filepath.Join(w.Dir(), l.Target))
				if a == nil || b == nil || !os.SameFile(a, b) {
					t.Errorf("hard link %s -> %s is not the same file on disk", l.Path, l.Target)
				}
			}
			if a := w.Anomalies(); len(a) != 0 {
				t.Errorf("anomalies on a clean image: %+v", a)
			}
		})
	}
}

func sqfsDiff(want, got []string) string {
	var b strings.Builder
	ws, gs := map[string]bool{}, map[string]bool{}
	for _, l := range want {
		ws[l] = true
	}
	for _, l := range got {
		gs[l] = true
		if !ws[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for _, l := range want {
		if !gs[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}

func TestSquashfsIdentify(t *testing.T) {
	dir := sqfsFixtures(t)
	fm, _ := Lookup("squashfs")
	hdr, err := os.ReadFile(filepath.Join(dir, "sqfs-xz.img"))
	if err != nil {
		t.Fatal(err)
	}
	hdr = hdr[:HeaderSize]
	if !fm.Identify(hdr) {
		t.Fatal("a valid superblock is not identified")
	}
	n, err := fm.Bound(bytes.NewReader(hdr), int64(len(hdr)))
	sb, _ := squashfs.ParseSuperblock(hdr)
	if err != nil || n != int64(sb.BytesUsed) || n%4096 == 0 {
		t.Errorf("Bound = %d, %v; bytes_used %d", n, err, sb.BytesUsed)
	}
	// Each field the check relies on, broken alone, makes it fail.
	breaks := map[string]func(b []byte){
		"magic":      func(b []byte) { b[0] = 'x' },
		"version":    func(b []byte) { b[28] = 5 },
		"block size": func(b []byte) { b[12], b[13], b[14] = 0, 0x30, 0 },
		"block log":  func(b []byte) { b[22] = 12 },
		"compressor": func(b []byte) { b[20] = 9 },
		"bytes used": func(b []byte) { copy(b[40:48], []byte{0x10, 0, 0, 0, 0, 0, 0, 0}) },
		"flags":      func(b []byte) { b[25] |= 0x80 },
		"no ids":     func(b []byte) { b[26], b[27] = 0, 0 },
		"no inodes":  func(b []byte) { copy(b[4:8], []byte{0, 0, 0, 0}) },
	}
	for name, f := range breaks {
		b := append([]byte(nil), hdr[:128]...)
		f(b)
		if fm.Identify(b) {
			t.Errorf("identified with a broken %s", name)
		}
	}
	// A random "hsqs" string in a binary is not taken.
	junk := append([]byte("hsqs"), bytes.Repeat([]byte{0x41}, 200)...)
	if fm.Identify(junk) {
		t.Error("identified a stray magic")
	}
}

func TestSquashfsBroken(t *testing.T) {
	dir := sqfsFixtures(t)
	want := map[string]bool{}
	for _, l := range sqfsReadLines(t, filepath.Join(dir, "rootfs.manifest")) {
		want[l] = true
	}
	for _, name := range []string{"truncated", "corrupt", "corrupt-table"} {
		t.Run(name, func(t *testing.T) {
			w, _, err := sqfsUnpack(t, filepath.Join(dir, "sqfs-"+name+".img"), 0, -1)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrNotFormat) {
				t.Fatalf("reported as not squashfs: %v", err)
			}
			got := sqfsManifest(t, w)
			good := 0
			for _, l := range got {
				if strings.Contains(l, "\tf\t") && want[l] {
					good++
				}
			}
			t.Logf("%s: %v; %d entries, %d intact files", name, err, len(got), good)
			switch name {
			case "truncated":
				// the tables (at the end) are gone: nothing can be listed
				if !strings.Contains(err.Error(), "truncated") {
					t.Errorf("error does not say truncated: %v", err)
				}
			case "corrupt-table":
				if !squashfs.IsCorrupt(err) || !strings.Contains(err.Error(), "inode table") {
					t.Errorf("error does not name the inode table: %v", err)
				}
			case "corrupt":
				// one data block is broken: every other file is intact
				if good < 15 {
					t.Errorf("only %d intact files recovered", good)
				}
			}
		})
	}
}

func TestSquashfsLoop(t *testing.T) {
	w, _, err := sqfsUnpack(t, filepath.Join(sqfsFixtures(t), "sqfs-loop.img"), 0, -1)
	found := false
	for _, a := range w.Anomalies() {
		if a.Kind == AnomalyLoop {
			found = true
		}
	}
	if !found {
		t.Errorf("no directory-loop anomaly (err %v, anomalies %+v)", err, w.Anomalies())
	}
	if _, err := os.Stat(filepath.Join(w.Dir(), "a", "file.txt")); err != nil {
		t.Errorf("the file of the looping directory is missing: %v", err)
	}
}

// TestSquashfsWR841N extracts the SquashFS 4 (lzma) root file system of a
// real TP-Link image and compares it with what unsquashfs extracted
// (testdata/firmware/wr841n-rootfs.sha256).
func TestSquashfsWR841N(t *testing.T) {
	img := sqfsShared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	w, _, err := sqfsUnpack(t, img, 0x120200, -1) // flash offset 0x100000
	if err != nil {
		t.Fatalf("unpack: %v", err)
	}
	var got []string
	err = filepath.WalkDir(w.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(w.Dir(), p)
		got = append(got, hex.EncodeToString(h[:])+"  /"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := sqfsReadLines(t, filepath.Join(sqfsFixtures(t), "wr841n-rootfs.sha256"))
	sort.Strings(want)
	if len(want) != 374 {
		t.Fatalf("pinned list has %d files, want 374", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%d files extracted, %d pinned; differences:\n%s", len(got), len(want), sqfsDiff(want, got))
	}
}

// sqfsHashes lists "sha256  /path" for the regular files of an extracted
// tree, sorted.
func sqfsHashes(tb testing.TB, dir string) []string {
	tb.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		got = append(got, hex.EncodeToString(h[:])+"  /"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// TestSquashfsZyxel extracts the SquashFS 2.0 big-endian root file system
// of a ZyXEL P-663H-51 (Broadcom LZMA: 5-byte properties header, no size,
// no end marker) and compares it with testdata/firmware/zyxel-rootfs.sha256
// (see its header for how the list was produced and cross-checked).
func TestSquashfsZyxel(t *testing.T) {
	img := sqfsShared(t, "real/zyxel_p663h51_rootfs_squashfs_v2.bin")
	w, n, err := sqfsUnpack(t, img, 0, -1)
	if err != nil {
		t.Fatalf("unpack: %v", err)
	}
	if n != 2587654 {
		t.Errorf("consumed %d bytes, want bytes_used 2587654", n)
	}
	got := sqfsHashes(t, w.Dir())
	want := sqfsReadLines(t, filepath.Join(sqfsFixtures(t), "zyxel-rootfs.sha256"))
	sort.Strings(want)
	if len(want) != 263 {
		t.Fatalf("pinned list has %d files, want 263", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%d files extracted, %d pinned; differences:\n%s", len(got), len(want), sqfsDiff(want, got))
	}
	// 68 symlinks, 70 device nodes and a fifo (recorded, not created).
	links, specials := 0, map[string]int{}
	for _, l := range w.Links() {
		if !l.Hard {
			links++
		}
	}
	for _, s := range w.Specials() {
		specials[s.Kind]++
	}
	if links != 68 || specials["char"]+specials["block"] != 70 || specials["fifo"] != 1 {
		t.Errorf("%d symlinks, specials %v; want 68 symlinks, 70 devices, 1 fifo", links, specials)
	}
	if b, err := os.ReadFile(filepath.Join(w.Dir(), "etc", "ppp", "pap-secrets")); err != nil || !strings.Contains(string(b), `"test"	*	"test"`) {
		t.Errorf("pap-secrets: %q, %v", b, err)
	}
	if a := w.Anomalies(); len(a) != 0 {
		t.Errorf("anomalies: %+v", a)
	}
}

// FuzzSquashfs feeds mutated images (and image heads) to the parser.
func FuzzSquashfs(f *testing.F) {
	dir := sqfsFixtures(f)
	var bases [][]byte
	for _, name := range []string{"gzip", "xz", "lzo", "lz4", "zstd", "uncompressed", "loop", "lzma"} {
		b, err := os.ReadFile(filepath.Join(dir, "sqfs-"+name+".img"))
		if err != nil {
			continue
		}
		f.Add(fuzzRaw(b, 1024))
		bases = append(bases, b)
		f.Add(fuzzPatch(len(bases)))
	}
	// SquashFS 1.x-3.x: the synthetic images of the squashfs package's
	// tests (the shared 2.x/3.x samples are not redistributable and large)
	for _, name := range []string{"v1-be.img", "v2-le.img", "v3-be.img", "v3-le-check.img"} {
		if b, err := os.ReadFile(filepath.Join("squashfs", "testdata", name)); err == nil {
			f.Add(fuzzRaw(b, 4096))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = fuzzInput(data, bases...)
		fm, _ := Lookup("squashfs")
		if !fm.Identify(data) {
			return
		}
		fuzzCtr(t, "squashfs", data)
	})
}

// TestSquashfsExternal extracts the image named by FWAUDIT_SQFS_IMAGE (for
// timing against unsquashfs; skipped otherwise).
func TestSquashfsExternal(t *testing.T) {
	img := os.Getenv("FWAUDIT_SQFS_IMAGE")
	if img == "" {
		t.Skip("FWAUDIT_SQFS_IMAGE not set")
	}
	start := time.Now()
	w, _, err := sqfsUnpack(t, img, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files, %d bytes in %v", w.Files(), w.Written(), time.Since(start))
	if w.Files() == 0 {
		t.Error("no file extracted")
	}
}

func benchSquashfs(b *testing.B, file string, off int64) {
	fi, err := os.Stat(file)
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(fi.Size() - off)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w, _, err := sqfsUnpack(b, file, off, -1)
		if err != nil {
			b.Fatal(err)
		}
		if w.Files() == 0 {
			b.Fatal("no files")
		}
		os.RemoveAll(w.Dir())
	}
}

func BenchmarkSquashfsXZ(b *testing.B) {
	benchSquashfs(b, filepath.Join(sqfsFixtures(b), "sqfs-xz.img"), 0)
}

func BenchmarkSquashfsLZMA(b *testing.B) {
	benchSquashfs(b, filepath.Join(sqfsFixtures(b), "sqfs-lzma.img"), 0)
}

// BenchmarkSquashfsZyxel times SquashFS 2.0 big-endian with Broadcom LZMA
// (compare its MB/s with BenchmarkSquashfsWR841N, SquashFS 4 lzma).
func BenchmarkSquashfsZyxel(b *testing.B) {
	benchSquashfs(b, sqfsShared(b, "real/zyxel_p663h51_rootfs_squashfs_v2.bin"), 0)
}

func BenchmarkSquashfsWR841N(b *testing.B) {
	benchSquashfs(b, sqfsShared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"), 0x120200)
}
