package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memFS is a file system held in maps, for testing the shared inode-tree
// writer without a parser: inode number -> inode, directory -> entries.
type memFS struct {
	inodes map[uint64]fsInode
	dirs   map[uint64][]fsDirent[uint64]
}

func (m memFS) tree(w *Writer) *fsTree[uint64] {
	return &fsTree[uint64]{fs: "memfs", idWord: "inode", w: w, ee: &entryErrors{w: w},
		root:     fsDirent[uint64]{key: 1, id: 1},
		children: func(dir uint64) []fsDirent[uint64] { return m.dirs[dir] },
		inode: func(_ string, d fsDirent[uint64]) (fsInode, bool) {
			in, ok := m.inodes[d.key]
			return in, ok
		}}
}

func memFile(s string) fsInode {
	return fsInode{mode: sIFREG | 0o644, data: func(out io.Writer) error { _, err := io.WriteString(out, s); return err }}
}

func memDirent(name string, ino uint64) fsDirent[uint64] { return fsDirent[uint64]{name, ino, ino} }

func anomalyDetails(w *Writer) string {
	var b strings.Builder
	for _, a := range w.Anomalies() {
		fmt.Fprintf(&b, "%s|%s|%s\n", a.Kind, a.Path, a.Detail)
	}
	return b.String()
}

// The one writer all flash file systems share: files, hard links,
// symlinks, devices, and every anomaly a hostile tree can cause.
func TestFsTreeWriter(t *testing.T) {
	hard := memFile("shared content")
	hard.link = 10
	dev := fsInode{mode: sIFCHR | 0o600, major: 4, minor: 64}
	m := memFS{
		inodes: map[uint64]fsInode{
			1:  {mode: sIFDIR | 0o755},
			2:  {mode: sIFDIR | 0o755},
			3:  memFile("hello"),
			10: hard,
			11: {mode: sIFLNK | 0o777, size: 7, data: func(out io.Writer) error { _, err := io.WriteString(out, "../hello\x00"); return err }},
			12: {mode: sIFLNK | 0o777, size: fsMaxTarget + 1},
			13: {mode: sIFLNK | 0o777},
			14: dev,
			15: {mode: 0o644}, // no file type
			16: {hardlinkTo: 10},
			17: {hardlinkTo: 99},
			18: {mode: sIFIFO | 0o644},
			19: {err: errors.New("bad node")},
		},
		dirs: map[uint64][]fsDirent[uint64]{
			1: {memDirent("etc", 2), memDirent("hello", 3), memDirent("a", 10), memDirent("b", 10),
				memDirent("../evil", 3), memDirent("gone", 42), memDirent("dev", 14), memDirent("odd", 15),
				memDirent("hl", 16), memDirent("hl-dangling", 17), memDirent("fifo", 18), memDirent("broken", 19)},
			2: {memDirent("link", 11), memDirent("long", 12), memDirent("empty", 13), memDirent("loop", 1), memDirent("again", 2)},
		},
	}
	w, err := NewWriter(filepath.Join(t.TempDir(), "out"), DefaultLimits(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reached, err := m.tree(w).write(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if reached != 17 {
		t.Errorf("reached %d entries, want 17", reached)
	}
	if b, _ := os.ReadFile(filepath.Join(w.Dir(), "hello")); string(b) != "hello" {
		t.Errorf("hello = %q", b)
	}
	for _, n := range []string{"a", "b", "hl"} {
		if b, _ := os.ReadFile(filepath.Join(w.Dir(), n)); string(b) != "shared content" {
			t.Errorf("%s = %q, want the hard-linked content", n, b)
		}
	}
	var links []string
	for _, l := range w.Links() {
		links = append(links, fmt.Sprintf("%s->%s/%v", l.Path, l.Target, l.Hard))
	}
	if got, want := strings.Join(links, " "), "b->a/true etc/link->../hello/false hl->a/true"; got != want {
		t.Errorf("links = %q, want %q", got, want)
	}
	sp := w.Specials()
	if len(sp) != 2 || sp[0].Path != "dev" || sp[0].Kind != "char" || sp[0].Major != 4 || sp[0].Minor != 64 || sp[1].Kind != "fifo" {
		t.Errorf("specials = %+v", sp)
	}
	got := anomalyDetails(w)
	for _, want := range []string{
		AnomalyBadName + "|../evil|memfs: invalid entry name",
		AnomalyMalformed + "|gone|memfs: dirent points to inode 42, which has no valid inode node",
		AnomalyMalformed + "|odd|memfs: unknown file type in mode 644; not extracted",
		AnomalyMalformed + "|broken|bad node",
		AnomalyMalformed + "|etc/long|memfs: symlink target of 4097 bytes not extracted",
		AnomalyMalformed + "|etc/empty|memfs: symlink without target",
		AnomalyLoop + "|etc/loop|memfs: directory inode 1 appears twice; not descended again",
		AnomalyLoop + "|etc/again|memfs: directory inode 2 appears twice; not descended again",
		AnomalyMalformed + "|hl-dangling|memfs: hard link to inode 99, which is not an extracted regular file",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("anomalies lack %q:\n%s", want, got)
		}
	}
}

// A chain deeper than fsMaxDepth is cut with one anomaly; a cancelled
// context stops the walk.
func TestFsTreeDepthAndCancel(t *testing.T) {
	m := memFS{inodes: map[uint64]fsInode{}, dirs: map[uint64][]fsDirent[uint64]{}}
	for i := uint64(1); i <= fsMaxDepth+5; i++ {
		m.inodes[i] = fsInode{mode: sIFDIR | 0o755}
		m.dirs[i] = []fsDirent[uint64]{memDirent("d", i+1)}
	}
	w, err := NewWriter(filepath.Join(t.TempDir(), "out"), DefaultLimits(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := m.tree(w).write(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := anomalyDetails(w)
	if strings.Count(got, "memfs: directory tree too deep") != 1 {
		t.Errorf("anomalies = %q, want one too-deep", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w2, _ := NewWriter(filepath.Join(t.TempDir(), "out2"), DefaultLimits(), 1<<20)
	defer w2.Close()
	if _, err := m.tree(w2).write(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: err = %v", err)
	}
	if w2.Entries() != 0 {
		t.Errorf("cancelled walk wrote %d entries", w2.Entries())
	}
}

// A context cancelled while a file's content is written ends the content
// loop (the parser's writes fail) and the walk.
func TestFsTreeCancelInContent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writes := 0
	big := fsInode{mode: sIFREG | 0o644, data: func(out io.Writer) error {
		for i := 0; i < 1000; i++ {
			if i == 3 {
				cancel()
			}
			if _, err := out.Write(make([]byte, 512)); err != nil {
				return err
			}
			writes++
		}
		return nil
	}}
	m := memFS{inodes: map[uint64]fsInode{1: {mode: sIFDIR | 0o755}, 2: big, 3: memFile("after")},
		dirs: map[uint64][]fsDirent[uint64]{1: {memDirent("big", 2), memDirent("later", 3)}}}
	w, err := NewWriter(filepath.Join(t.TempDir(), "out"), DefaultLimits(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := m.tree(w).write(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if writes != 3 {
		t.Errorf("%d writes went through after cancellation, want 3 before it", writes)
	}
	if _, err := os.Stat(filepath.Join(w.Dir(), "later")); err == nil {
		t.Error("the walk went on after cancellation")
	}
}
