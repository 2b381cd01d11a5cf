package extract

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestWriter(t *testing.T, l Limits) (*Writer, string) {
	t.Helper()
	outer := t.TempDir()
	dir := filepath.Join(outer, "layer")
	w, err := NewWriter(dir, l, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, outer
}

func anomalyKinds(w *Writer) string {
	var ks []string
	for _, a := range w.Anomalies() {
		ks = append(ks, a.Kind+":"+a.Path)
	}
	return strings.Join(ks, ",")
}

func onlyLayerUnder(t *testing.T, outer string) {
	t.Helper()
	ents, _ := os.ReadDir(outer)
	for _, e := range ents {
		if e.Name() != "layer" {
			t.Errorf("written outside the layer folder: %s", e.Name())
		}
	}
}

func TestWriterRefusesEscapes(t *testing.T) {
	w, outer := newTestWriter(t, DefaultLimits())
	for _, name := range []string{"../x", "a/../../x", "/etc/passwd", "a\x00b"} {
		if _, err := w.WriteFile(name, 0o644, strings.NewReader("x")); !errors.Is(err, ErrRefused) {
			t.Errorf("WriteFile(%q) = %v, want ErrRefused", name, err)
		}
	}
	// a symlink pointing outside, then a write through it
	if err := w.Symlink("out", outer); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteFile("out/pwned", 0o644, strings.NewReader("x")); !errors.Is(err, ErrRefused) {
		t.Errorf("write through symlink: %v", err)
	}
	// overwriting the symlink itself with a file is refused too
	if _, err := w.WriteFile("out", 0o644, strings.NewReader("x")); !errors.Is(err, ErrRefused) {
		t.Errorf("write over symlink: %v", err)
	}
	if err := w.Link("hl", "../../etc/passwd"); !errors.Is(err, ErrRefused) {
		t.Errorf("escaping hard link: %v", err)
	}
	if err := w.Mkdir("out/sub", 0o755); !errors.Is(err, ErrRefused) {
		t.Errorf("mkdir through symlink: %v", err)
	}
	onlyLayerUnder(t, outer)
	got := anomalyKinds(w)
	for _, want := range []string{"path-traversal:../x", "path-traversal:a/../../x", "absolute-path:/etc/passwd", "bad-name:a\x00b",
		"write-through-symlink:out/pwned", "write-through-symlink:out", "link-escape:hl", "write-through-symlink:out/sub"} {
		if !strings.Contains(got, want) {
			t.Errorf("anomaly %q not recorded; got %q", want, got)
		}
	}
}

func TestWriterWritesInside(t *testing.T) {
	w, _ := newTestWriter(t, DefaultLimits())
	if _, err := w.WriteFile("./a/b/c.txt", 0o4755, strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if err := w.Link("a/b/hl", "a/b/c.txt"); err != nil {
		t.Fatal(err)
	}
	if err := w.Special("dev/console", "char", 0o600, 5, 1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(w.Dir(), "a", "b", "hl"))
	if err != nil || string(b) != "hello" {
		t.Errorf("hard link content %q, %v", b, err)
	}
	if m, ok := w.Mode("a/b/c.txt"); !ok || m != 0o4755 {
		t.Errorf("recorded mode %v, want the archive's 04755", m)
	}
	st, _ := os.Stat(filepath.Join(w.Dir(), "a", "b", "c.txt"))
	if st.Mode().Perm() != 0o755 || st.Mode()&os.ModeSetuid != 0 {
		t.Errorf("on-disk mode %v: setuid must not be applied", st.Mode())
	}
	if _, err := os.Lstat(filepath.Join(w.Dir(), "dev", "console")); !os.IsNotExist(err) {
		t.Errorf("device node created on disk")
	}
	if sp := w.Specials(); len(sp) != 1 || sp[0].Major != 5 || sp[0].Kind != "char" {
		t.Errorf("specials %+v", sp)
	}
	// a duplicate entry replaces the earlier one and is recorded
	w.WriteFile("a/b/c.txt", 0o644, strings.NewReader("again"))
	if !strings.Contains(anomalyKinds(w), AnomalyDuplicateName) {
		t.Errorf("duplicate not recorded")
	}
	if w.Files() != 1 {
		t.Errorf("Files() = %d, want 1", w.Files())
	}
}

func TestWriterLimits(t *testing.T) {
	l := DefaultLimits()
	l.MaxFileBytes = 1000
	l.MaxFiles = 3
	w, _ := newTestWriter(t, l)
	_, err := w.WriteFile("big", 0o644, strings.NewReader(strings.Repeat("x", 5000)))
	if !IsEntryLimit(err) || IsLimit(err) {
		t.Errorf("oversized file: %v, want a limit error for that entry only", err)
	}
	if st, _ := os.Stat(filepath.Join(w.Dir(), "big")); st == nil || st.Size() > 1000 {
		t.Errorf("file not bounded: %v", st)
	}
	w.WriteFile("a", 0o644, strings.NewReader("1"))
	w.WriteFile("b", 0o644, strings.NewReader("1"))
	if _, err := w.WriteFile("c", 0o644, strings.NewReader("1")); !IsLimit(err) {
		t.Errorf("4th entry with MaxFiles=3: %v", err)
	}
	if !strings.Contains(anomalyKinds(w), AnomalyLimit) {
		t.Errorf("limit not recorded as anomaly")
	}
}

func TestWriterRatioAndTotal(t *testing.T) {
	l := DefaultLimits()
	l.MaxRatio = 2
	dir := t.TempDir()
	w, err := NewWriter(filepath.Join(dir, "l"), l, 40<<20) // ratio bound: max(80 MiB, RatioFloor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, _ := w.Create("out", 0o644)
	buf := make([]byte, 64<<10)
	var werr error
	for i := 0; i < 2000 && werr == nil; i++ {
		_, werr = f.Write(buf)
	}
	f.Close()
	// the file is cut to cutKeep and the rest given back, so the next
	// file still fits
	if !IsEntryLimit(werr) || w.Written() != cutKeep {
		t.Errorf("ratio limit: err %v, written %d", werr, w.Written())
	}
	if n, err := w.WriteFile("next", 0o644, strings.NewReader("after")); err != nil || n != 5 {
		t.Errorf("file after the cut one: %d, %v", n, err)
	}
	// once maxEntryCuts files were cut, the bound ends the layer
	for i := 0; i < maxEntryCuts+1; i++ {
		f, _ := w.Create(fmt.Sprintf("big%d", i), 0o644)
		for werr = nil; werr == nil; {
			_, werr = f.Write(buf)
		}
		f.Close()
	}
	if !IsLimit(werr) {
		t.Errorf("after %d cuts: %v, want a limit ending the layer", maxEntryCuts+1, werr)
	}
}
