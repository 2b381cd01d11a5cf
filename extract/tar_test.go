package extract

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Helpers shared by the tar, zip and cpio tests (prefixed "arch").

// archFixture returns the path of a fixture of testdata/firmware; the test
// is skipped when it is missing (failed in CI).
func archFixture(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join("..", "testdata", "firmware", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("fixture missing: %v", err)
		}
		tb.Skipf("fixture missing: %v", err)
	}
	return p
}

// archShared returns the path of a sample of ../shared/firmware.
func archShared(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "shared", "firmware", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("sample missing: %v", err)
		}
		tb.Skipf("sample missing: %v", err)
	}
	return p
}

type archResult struct {
	w        *Writer
	dir      string
	consumed int64
	err      error
}

// archUnpack unpacks data with f into dir through a fresh Writer.
func archUnpack(tb testing.TB, f Format, data []byte, dir string, l Limits) archResult {
	tb.Helper()
	w, err := NewWriter(dir, l, int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	w.single = f.Kind() != Filesystem
	n, uerr := f.Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w)
	return archResult{w: w, dir: dir, consumed: n, err: uerr}
}

func archFormat(tb testing.TB, name string) Format {
	tb.Helper()
	f, ok := Lookup(name)
	if !ok {
		tb.Fatalf("format %s not registered", name)
	}
	return f
}

func archRead(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// archEntry is one line of rootfs.manifest (see tools/manifest.py).
type archEntry struct {
	Type  string // d f l c b p
	Mode  string // 4 octal digits
	Size  int64
	Extra string // sha256, link target, "major,minor" or "-"
}

func archManifest(tb testing.TB) map[string]archEntry {
	tb.Helper()
	f, err := os.Open(archFixture(tb, "rootfs.manifest"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]archEntry{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 5 {
			tb.Fatalf("bad manifest line %q", sc.Text())
		}
		n, _ := strconv.ParseInt(p[3], 10, 64)
		out[p[0]] = archEntry{p[1], p[2], n, p[4]}
	}
	if len(out) < 10 {
		tb.Fatalf("manifest has only %d entries", len(out))
	}
	return out
}

// archPerm renders the permission bits of an fs.FileMode as the manifest does.
func archPerm(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	s := strconv.FormatUint(uint64(v), 8)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// archTree describes the extracted tree at root like the manifest does,
// with the modes the archive recorded (modes may be nil).
func archTree(tb testing.TB, root string, modes map[string]fs.FileMode) map[string]archEntry {
	tb.Helper()
	out := map[string]archEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		key := "/" + rel
		if rel == "." {
			key = "/"
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		var e archEntry
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e = archEntry{Type: "l", Size: int64(len(t)), Extra: t}
		case fi.IsDir():
			e = archEntry{Type: "d", Extra: "-"}
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			e = archEntry{Type: "f", Size: int64(len(b)), Extra: hex.EncodeToString(s[:])}
		default:
			e = archEntry{Type: "?"}
		}
		if m, ok := modes[rel]; ok {
			e.Mode = archPerm(m)
		}
		out[key] = e
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// archCompare checks the tree against the manifest: every entry of the
// manifest but the special files (which archives of the tree lack) and
// nothing else. Modes are compared where the archive recorded one.
func archCompare(tb testing.TB, got, want map[string]archEntry) {
	tb.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		w := want[k]
		if strings.ContainsAny(w.Type, "cbp") {
			if _, ok := got[k]; ok {
				tb.Errorf("%s: special file was created on disk", k)
			}
			continue
		}
		g, ok := got[k]
		if !ok {
			tb.Errorf("%s: missing", k)
			continue
		}
		n++
		if g.Type != w.Type || g.Size != w.Size || g.Extra != w.Extra {
			tb.Errorf("%s: got %s size %d %s, want %s size %d %s", k, g.Type, g.Size, g.Extra, w.Type, w.Size, w.Extra)
		}
		if g.Mode != "" && w.Type != "l" && g.Mode != w.Mode {
			tb.Errorf("%s: mode %s, want %s", k, g.Mode, w.Mode)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			tb.Errorf("%s: extracted but not in the manifest", k)
		}
	}
	if n < 25 {
		tb.Errorf("only %d entries compared", n)
	}
}

// archRegular counts the regular files of a manifest.
func archRegular(m map[string]archEntry) int64 {
	n := int64(0)
	for _, e := range m {
		if e.Type == "f" {
			n++
		}
	}
	return n
}

// archModesChecked counts the entries whose mode was recorded, so a test
// can make sure modes were compared at all.
func archModesChecked(got map[string]archEntry) int {
	n := 0
	for _, e := range got {
		if e.Mode != "" {
			n++
		}
	}
	return n
}

// archSameFile asserts a and b (relative to root) are one file on disk.
func archSameFile(tb testing.TB, root, a, b string) {
	tb.Helper()
	fa, err1 := os.Stat(filepath.Join(root, a))
	fb, err2 := os.Stat(filepath.Join(root, b))
	if err1 != nil || err2 != nil {
		tb.Fatalf("stat: %v %v", err1, err2)
	}
	if !os.SameFile(fa, fb) {
		tb.Errorf("%s and %s are not hard-linked", a, b)
	}
}

func archHasLink(links []Link, p, target string, hard bool) bool {
	for _, l := range links {
		if l.Path == p && l.Target == target && l.Hard == hard {
			return true
		}
	}
	return false
}

func archHasAnomaly(as []Anomaly, kind, p string) bool {
	for _, a := range as {
		if a.Kind == kind && a.Path == p {
			return true
		}
	}
	return false
}

// archOnlyUnder fails if anything in base lies outside dir (dir inside base).
func archOnlyUnder(tb testing.TB, base, dir string) {
	tb.Helper()
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p == base || p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return nil
		}
		if strings.HasPrefix(dir, p+string(filepath.Separator)) && d.IsDir() {
			return nil // an ancestor of dir
		}
		tb.Errorf("written outside the extraction folder: %s", p)
		return nil
	})
}

// archHostileDirs returns base and dir = base/a/b/out, so "../../x" from
// dir would land in base/a.
func archHostileDirs(tb testing.TB) (string, string) {
	base := tb.TempDir()
	return base, filepath.Join(base, "a", "b", "out")
}

func archEngine(tb testing.TB, name string) (*Result, string) {
	tb.Helper()
	work := filepath.Join(tb.TempDir(), "work")
	res, err := Extract(context.Background(), archFixture(tb, name), work, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return res, work
}

func archLayers(res *Result, format string) []*Layer {
	var out []*Layer
	for _, l := range res.Layers {
		if l.Format == format {
			out = append(out, l)
		}
	}
	return out
}

// ---- tar ----

func TestTarRootfs(t *testing.T) {
	data := archRead(t, archFixture(t, "rootfs.tar"))
	res := archUnpack(t, archFormat(t, "tar"), data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(data)) {
		// GNU tar pads to a 10240-byte record: the end is the file's end
		t.Errorf("consumed %d, want %d", res.consumed, len(data))
	}
	got := archTree(t, res.dir, res.w.Modes())
	archCompare(t, got, archManifest(t))
	if n := archModesChecked(got); n < 25 {
		t.Errorf("only %d modes recorded", n)
	}
	archSameFile(t, res.dir, "usr/bin/tool", "usr/bin/tool-hl")
	if !archHasLink(res.w.Links(), "usr/bin/tool-hl", "usr/bin/tool", true) {
		t.Errorf("hard link not recorded: %+v", res.w.Links())
	}
	if !archHasLink(res.w.Links(), "bin/sh", "/bin/busybox", false) {
		t.Errorf("symlink not recorded: %+v", res.w.Links())
	}
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies: %+v", res.w.Anomalies())
	}
}

func TestTarEndInsideBlob(t *testing.T) {
	// a tar followed by other data: the end is the end of the archive
	// (end marker and record padding), not the end of the blob.
	tarData := archRead(t, archFixture(t, "evil-devices.tar"))
	blob := append(append([]byte{}, tarData...), bytes.Repeat([]byte("after the tar "), 100)...)
	res := archUnpack(t, archFormat(t, "tar"), blob, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(tarData)) {
		t.Errorf("consumed %d, want %d", res.consumed, len(tarData))
	}
	// cut to the last zero block: no record padding to extend over
	cut := archTarEnd(t, tarData)
	res = archUnpack(t, archFormat(t, "tar"), append(append([]byte{}, tarData[:cut]...), 'x'), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || res.consumed != int64(cut) {
		t.Errorf("cut at %d: consumed %d, err %v", cut, res.consumed, res.err)
	}
}

// archTarEnd returns the end of the two zero blocks of a tar.
func archTarEnd(tb testing.TB, data []byte) int {
	tb.Helper()
	for off := 0; off+1024 <= len(data); off += 512 {
		if isZero(data[off:off+1024]) && (off == 0 || !isZero(data[off-512:off])) {
			return off + 1024
		}
	}
	tb.Fatal("no end marker")
	return 0
}

func TestTarTruncated(t *testing.T) {
	data := archRead(t, archFixture(t, "rootfs.tar"))
	cut := data[:len(data)/2+100]
	res := archUnpack(t, archFormat(t, "tar"), cut, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || errors.Is(res.err, ErrNotFormat) {
		t.Fatalf("truncated tar: err %v", res.err)
	}
	if res.w.Files() < 5 {
		t.Errorf("only %d files before the cut", res.w.Files())
	}
	if res.consumed <= 0 || res.consumed > int64(len(cut)) {
		t.Errorf("consumed %d of %d", res.consumed, len(cut))
	}
}

func TestTarIdentify(t *testing.T) {
	data := archRead(t, archFixture(t, "rootfs.tar"))
	f := archFormat(t, "tar")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("rootfs.tar not identified")
	}
	bad := append([]byte{}, data[:HeaderSize]...)
	bad[10] ^= 0x55 // breaks the checksum
	if f.Identify(bad) {
		t.Error("header with a bad checksum identified")
	}
	if f.Identify(data[:300]) {
		t.Error("short header identified")
	}
}

func TestTarCompressedEndToEnd(t *testing.T) {
	want := archManifest(t)
	for _, c := range []struct{ file, codec string }{
		{"rootfs.tar.gz", "gzip"}, {"rootfs.tar.xz", "xz"}, {"rootfs.tar.bz2", "bzip2"}, {"rootfs.tar.zst", "zstd"},
	} {
		t.Run(c.file, func(t *testing.T) {
			res, _ := archEngine(t, c.file)
			tars := archLayers(res, "tar")
			if len(tars) != 1 {
				for _, l := range res.Layers {
					t.Logf("%s %s %s parent=%s %s %s", l.ID, l.Format, l.Path, l.Parent, l.Status, l.Error)
				}
				t.Fatalf("%d tar layers", len(tars))
			}
			tl := tars[0]
			parent := res.Layer(tl.Parent)
			if parent == nil || parent.Format != c.codec || parent.Parent != "L0" {
				t.Fatalf("tar layer's parent is %+v, want a %s layer of the image", parent, c.codec)
			}
			if tl.Status != StatusOK || tl.Offset != 0 {
				t.Errorf("tar layer: status %s offset %d error %q", tl.Status, tl.Offset, tl.Error)
			}
			if !strings.HasPrefix(tl.Path, c.codec+"@0x0 > ") || !strings.HasSuffix(tl.Path, "tar@0x0") {
				t.Errorf("tar layer path %q", tl.Path)
			}
			got := archTree(t, tl.Root, tl.Modes)
			archCompare(t, got, want)
			archSameFile(t, tl.Root, "usr/bin/tool", "usr/bin/tool-hl")
			if want := archRegular(want) - 1; tl.Files != want { // tool-hl is a link
				t.Errorf("tar layer has %d files, want %d", tl.Files, want)
			}
		})
	}
}

func TestTarTraversal(t *testing.T) {
	base, dir := archHostileDirs(t)
	res := archUnpack(t, archFormat(t, "tar"), archRead(t, archFixture(t, "evil-traversal.tar")), dir, DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	archOnlyUnder(t, base, dir)
	if _, err := os.Lstat("/etc/absolute.txt"); err == nil {
		t.Error("/etc/absolute.txt exists")
	}
	b, err := os.ReadFile(filepath.Join(dir, "ok", "good.txt"))
	if err != nil || string(b) != "good file\n" {
		t.Errorf("good entry: %q %v", b, err)
	}
	as := res.w.Anomalies()
	if !archHasAnomaly(as, AnomalyTraversal, "../../evil.txt") || !archHasAnomaly(as, AnomalyAbsolute, "/etc/absolute.txt") {
		t.Errorf("anomalies: %+v", as)
	}
	if res.w.Files() != 1 {
		t.Errorf("%d files written, want 1", res.w.Files())
	}
}

func TestTarTraversalEngine(t *testing.T) {
	base := t.TempDir()
	work := filepath.Join(base, "work")
	res, err := Extract(context.Background(), archFixture(t, "evil-traversal.tar"), work, Options{})
	if err != nil {
		t.Fatal(err)
	}
	archOnlyUnder(t, base, work)
	tars := archLayers(res, "tar")
	if len(tars) != 1 {
		t.Fatalf("%d tar layers", len(tars))
	}
	if !archHasAnomaly(tars[0].Anomalies, AnomalyTraversal, "../../evil.txt") {
		t.Errorf("anomalies: %+v", tars[0].Anomalies)
	}
	if _, err := os.Stat(filepath.Join(tars[0].Root, "ok", "good.txt")); err != nil {
		t.Error(err)
	}
}

func TestTarSymlinkEscape(t *testing.T) {
	base, dir := archHostileDirs(t)
	before, _ := os.Lstat("/tmp/pwned.txt")
	res := archUnpack(t, archFormat(t, "tar"), archRead(t, archFixture(t, "evil-symlink.tar")), dir, DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	archOnlyUnder(t, base, dir)
	if after, err := os.Lstat("/tmp/pwned.txt"); err == nil && before == nil {
		t.Errorf("/tmp/pwned.txt was created: %v", after.ModTime())
	}
	as := res.w.Anomalies()
	for _, n := range []string{"link/pwned.txt", "up/escape.txt"} {
		if !archHasAnomaly(as, AnomalySymlinkWrite, n) {
			t.Errorf("write through symlink %s not recorded: %+v", n, as)
		}
	}
	if !archHasAnomaly(as, AnomalyLinkEscape, "hl") {
		t.Errorf("escaping hard link not recorded: %+v", as)
	}
	if _, err := os.Lstat(filepath.Join(dir, "hl")); err == nil {
		t.Error("escaping hard link created")
	}
	// the symlinks themselves are kept (as links, never followed)
	if !archHasLink(res.w.Links(), "link", "/tmp", false) || !archHasLink(res.w.Links(), "up", "../../..", false) {
		t.Errorf("links: %+v", res.w.Links())
	}
	if res.w.Files() != 0 {
		t.Errorf("%d files written", res.w.Files())
	}
}

func TestTarDevices(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	res := archUnpack(t, archFormat(t, "tar"), archRead(t, archFixture(t, "evil-devices.tar")), dir, DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []Special{
		{Path: "dev/console", Kind: "char", Mode: 0o600, Major: 5, Minor: 1},
		{Path: "dev/initctl", Kind: "fifo", Mode: 0o600},
		{Path: "dev/sda", Kind: "block", Mode: 0o660, Major: 8, Minor: 0},
	}
	got := res.w.Specials()
	if len(got) != len(want) {
		t.Fatalf("specials %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("special %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("created %s", p)
		}
		return nil
	})
}

func TestTarLimit(t *testing.T) {
	// a per-file limit below blob.bin's size cuts that one file; the
	// entries after it are still extracted (a big file is no hiding place)
	l := DefaultLimits()
	l.MaxFileBytes = 100 << 10
	res := archUnpack(t, archFormat(t, "tar"), archRead(t, archFixture(t, "rootfs.tar")), filepath.Join(t.TempDir(), "out"), l)
	if res.err != nil || !IsEntryLimit(res.w.LimitHit()) {
		t.Fatalf("err %v, limit %v, want an entry limit only", res.err, res.w.LimitHit())
	}
	fi, err := os.Stat(filepath.Join(res.dir, "usr", "share", "blob.bin"))
	if err != nil || fi.Size() > l.MaxFileBytes {
		t.Errorf("blob.bin: %v %v", fi, err)
	}
	if !archHasAnomaly(res.w.Anomalies(), AnomalyLimit, "./usr/share/blob.bin") {
		t.Errorf("the cut is not recorded: %v", res.w.Anomalies())
	}
	if _, err := os.Stat(filepath.Join(res.dir, "www")); err != nil {
		t.Error("extraction stopped at the cut file")
	}
}

func FuzzTar(f *testing.F) {
	for _, n := range []string{"evil-traversal.tar", "evil-symlink.tar", "evil-devices.tar", "rootfs.tar"} {
		f.Add(fuzzRaw(fuzzFixture(n), 3072))
	}
	img := fuzzFixture("rootfs.tar")
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 156, []byte("1"), 157, []byte("etc/passwd")))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, tarFormat{}, fuzzInput(data, img)) })
}

func BenchmarkTar(b *testing.B) {
	data := archRead(b, archFixture(b, "rootfs.tar"))
	f := tarFormat{}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "out")
		w, err := NewWriter(dir, DefaultLimits(), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}

func TestTarPAXGlobalAndLongNames(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	long := strings.Repeat("d/", 80) + "file.txt" // needs a PAX path record
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "git"}})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: long, Mode: 0o4755, Size: 3, Format: tar.FormatPAX})
	tw.Write([]byte("abc"))
	tw.Close()
	res := archUnpack(t, tarFormat{}, buf.Bytes(), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
	if b, _ := os.ReadFile(filepath.Join(res.dir, long)); string(b) != "abc" {
		t.Errorf("long name: %q", b)
	}
	if m, _ := res.w.Mode(long); archPerm(m) != "4755" {
		t.Errorf("mode %v", m)
	}
	if res.consumed != int64(buf.Len()) {
		t.Errorf("consumed %d, want %d", res.consumed, buf.Len())
	}
}
