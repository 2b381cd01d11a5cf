package analyzers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fwaudit/fwaudit/extract"
)

// tree writes files (image path → content) under a new root; a content
// starting with "->" makes a symlink to the rest.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		host := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(host, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(c, "->"); ok {
			err = os.Symlink(target, host)
		} else {
			err = os.WriteFile(host, []byte(c), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func fsLayer(id, root string) *extract.Layer {
	return &extract.Layer{ID: id, Path: "squashfs@" + id, Kind: "filesystem", Format: "squashfs", Root: root}
}

func paths(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Layer.ID+":"+f.Path)
	}
	return out
}

const elfHead = "\x7fELF\x02\x01\x01\x00binary"

func sampleTarget(t *testing.T) *Target {
	t.Helper()
	r1 := tree(t, map[string]string{
		"/etc/shadow":          "root:x:0:0::/root:/bin/sh\n",
		"/etc/config/network":  "config interface 'lan'\n",
		"/etc/empty":           "",
		"/bin/busybox":         elfHead,
		"/bin/sh":              "->busybox",
		"/usr/lib/blob.bin":    "a\x00b\x00c",
		"/www/cgi-bin/luci.sh": "#!/bin/sh\necho hi\n",
	})
	r2 := tree(t, map[string]string{
		"/kernel": "Linux version 2.6.31",
	})
	l1 := fsLayer("L1", r1)
	l1.Modes = map[string]fs.FileMode{"bin/busybox": 0o4755}
	l2 := &extract.Layer{ID: "L2", Path: "uimage@0x0", Kind: "stream", Format: "uimage", Root: r2}
	return NewTarget([]*extract.Layer{l1, l2, {ID: "L3", Path: "nothing", Kind: "filesystem"}})
}

func TestNewTargetListsRegularFilesInOrder(t *testing.T) {
	tg := sampleTarget(t)
	want := []string{"L1:/bin/busybox", "L1:/etc/config/network", "L1:/etc/empty", "L1:/etc/shadow",
		"L1:/usr/lib/blob.bin", "L1:/www/cgi-bin/luci.sh", "L2:/kernel"}
	if got := paths(tg.Files()); !reflect.DeepEqual(got, want) {
		t.Fatalf("Files = %v, want %v (no symlink /bin/sh, layer then path order)", got, want)
	}
	bb := tg.Files()[0]
	if bb.Mode != 0o4755 {
		t.Errorf("/bin/busybox mode %v, want the archive's setuid 04755", bb.Mode)
	}
	if bb.Size != int64(len(elfHead)) {
		t.Errorf("/bin/busybox size %d, want %d", bb.Size, len(elfHead))
	}
	if got := paths(tg.FilesNamed("shadow", "kernel")); !reflect.DeepEqual(got, []string{"L1:/etc/shadow", "L2:/kernel"}) {
		t.Errorf("FilesNamed = %v", got)
	}
}

func TestClassify(t *testing.T) {
	tg := sampleTarget(t)
	want := map[string]Class{
		"/bin/busybox": ClassELF, "/etc/shadow": ClassText, "/etc/empty": ClassEmpty,
		"/usr/lib/blob.bin": ClassBinary, "/kernel": ClassText,
	}
	for _, f := range tg.Files() {
		if w, ok := want[f.Path]; ok {
			if got := tg.Classify(f); got != w {
				t.Errorf("Classify(%s) = %v, want %v", f.Path, got, w)
			}
		}
	}
	// a UTF-8 rune cut at the end of the sniffed window is still text
	if c := classify([]byte("h\xc3\xa9llo \xe2\x82")); c != ClassText {
		t.Errorf("cut rune: %v, want text", c)
	}
	if c := classify(bytes.Repeat([]byte{0x01, 0xff, 0x02}, 50)); c != ClassBinary {
		t.Errorf("control bytes: %v, want binary", c)
	}
}

func TestWalkSelects(t *testing.T) {
	tg := sampleTarget(t)
	cases := []struct {
		name string
		sel  Selector
		want []string
	}{
		{"all", Selector{}, paths(tg.Files())},
		{"file systems only", Selector{FileSystems: true, Globs: []string{"kernel", "shadow"}}, []string{"L1:/etc/shadow"}},
		{"non-empty", Selector{MinSize: 1, Globs: []string{"etc/**"}}, []string{"L1:/etc/config/network", "L1:/etc/shadow"}},
		{"size bound", Selector{MaxSize: 10, MinSize: 1}, []string{"L1:/usr/lib/blob.bin"}},
		{"base-name glob", Selector{Globs: []string{"*.sh", "network"}}, []string{"L1:/etc/config/network", "L1:/www/cgi-bin/luci.sh"}},
		{"path glob", Selector{Globs: []string{"/usr/lib/*"}}, []string{"L1:/usr/lib/blob.bin"}},
		{"path glob is anchored", Selector{Globs: []string{"lib/*"}}, nil},
		{"ELF", Selector{Classes: []Class{ClassELF}}, []string{"L1:/bin/busybox"}},
		{"text or binary", Selector{Classes: []Class{ClassText, ClassBinary}, FileSystems: true},
			[]string{"L1:/etc/config/network", "L1:/etc/shadow", "L1:/usr/lib/blob.bin", "L1:/www/cgi-bin/luci.sh"}},
		{"predicate", Selector{Match: func(f File) bool { return f.Mode&0o4000 != 0 }}, []string{"L1:/bin/busybox"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			err := tg.Walk(context.Background(), c.sel, func(f File) error {
				got = append(got, f.Layer.ID+":"+f.Path)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			// the parallel walk selects the same files in the same order
			res, err := WalkParallel(context.Background(), tg, c.sel, 3, func(f File) (string, error) {
				return f.Layer.ID + ":" + f.Path, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var par []string
			for _, r := range res {
				if r.Value != r.File.Layer.ID+":"+r.File.Path {
					t.Errorf("value %q paired with file %s", r.Value, r.File.Path)
				}
				par = append(par, r.Value)
			}
			if !reflect.DeepEqual(par, c.want) {
				t.Errorf("WalkParallel: got %v, want %v", par, c.want)
			}
		})
	}
	if err := tg.Walk(context.Background(), Selector{Globs: []string{""}}, func(File) error { return nil }); err == nil {
		t.Error("an empty glob is accepted")
	}
}

func TestWalkCoverageAndErrors(t *testing.T) {
	tg := sampleTarget(t)
	sel := Selector{FileSystems: true, Classes: []Class{ClassText}, Analyzer: "demo", What: "text files"}
	err := tg.Walk(context.Background(), sel, func(f File) error {
		if f.Path == "/etc/config/network" {
			return Skip // not examined after all
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cv := tg.CoverageOf("demo")
	want := Coverage{Examined: 2, Examples: []string{"L1:/etc/shadow", "L1:/www/cgi-bin/luci.sh"}, What: "text files"}
	if !reflect.DeepEqual(cv, want) {
		t.Errorf("coverage %+v, want %+v", cv, want)
	}
	if cv := tg.CoverageOf("other"); cv.Examined != 0 || cv.Examples != nil {
		t.Errorf("an analyzer that recorded nothing has coverage %+v", cv)
	}

	// an error stops the walk and comes back; nothing after it is visited
	boom := errors.New("boom")
	var seen []string
	err = tg.Walk(context.Background(), Selector{}, func(f File) error {
		seen = append(seen, f.Path)
		if f.Path == "/etc/empty" {
			return fmt.Errorf("reading: %w", boom)
		}
		return nil
	})
	if !errors.Is(err, boom) || len(seen) != 3 {
		t.Errorf("err %v after %v, want boom after 3 files", err, seen)
	}
	res, err := WalkParallel(context.Background(), tg, Selector{}, 2, func(f File) (int, error) {
		if f.Path == "/kernel" {
			return 0, boom
		}
		return 1, nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("WalkParallel error %v, want boom", err)
	}
	for _, r := range res {
		if r.File.Path == "/kernel" {
			t.Error("the failing file has a result")
		}
	}

	// a panic in a worker is the walk's error, not the end of the process
	_, err = WalkParallel(context.Background(), tg, Selector{}, 2, func(f File) (int, error) {
		if f.Path == "/etc/shadow" {
			var m map[string]int
			m["x"]++
		}
		return 0, nil
	})
	if err == nil || !strings.Contains(err.Error(), "panic on /etc/shadow") {
		t.Errorf("WalkParallel with a panicking fn: %v", err)
	}

	// Skip leaves a file out of a parallel walk's results
	res, err = WalkParallel(context.Background(), tg, Selector{Analyzer: "par", What: "x"}, 4, func(f File) (int, error) {
		if f.Size == 0 {
			return 0, Skip
		}
		return int(f.Size), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 6 || tg.CoverageOf("par").Examined != 6 {
		t.Errorf("%d results, %d examined; want 6 and 6 (the empty file skipped)", len(res), tg.CoverageOf("par").Examined)
	}
}

func TestWalkCancelled(t *testing.T) {
	tg := sampleTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	visited := 0
	err := tg.Walk(ctx, Selector{}, func(File) error {
		visited++
		if visited == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || visited != 2 {
		t.Errorf("err %v after %d files, want context.Canceled after 2", err, visited)
	}
	var calls atomic.Int32
	_, err = WalkParallel(ctx, tg, Selector{}, 2, func(File) (int, error) {
		calls.Add(1)
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) || calls.Load() != 0 {
		t.Errorf("cancelled WalkParallel: err %v after %d calls", err, calls.Load())
	}
}

func TestResolve(t *testing.T) {
	root := tree(t, map[string]string{
		"/bin/busybox":          elfHead,
		"/bin/sh":               "->busybox",
		"/sbin/init":            "->/bin/busybox",
		"/usr/bin/env":          "->../../bin/busybox",
		"/lib":                  "->usr/lib",
		"/usr/lib/libc.so":      "libc",
		"/etc/passwd":           "root:x:0:0\n",
		"/escape/up":            "->../../../../../../etc/passwd",
		"/escape/abs":           "->/../../etc/passwd",
		"/loop/a":               "->b",
		"/loop/b":               "->a",
		"/self":                 "->self",
		"/dangling":             "->/nowhere",
		"/etc/init.d/":          "",
		"/etc/rc.d":             "->init.d",
		"/etc/init.d/S10boot":   "#!/bin/sh\n",
		"/via-file/x":           "->/etc/passwd/x",
		"/chain/0":              "->/bin/busybox",
		"/var/run/":             "",
		"/tmp":                  "->var/run",
		"/etc/config/firewall":  "config defaults\n",
		"/overlay/etc":          "->/etc",
		"/overlay/etc-relative": "->../etc/config",
	})
	// a chain of links: /chain/N → /chain/N-1 → ... → /chain/0 → /bin/busybox
	for i := 1; i <= 45; i++ {
		if err := os.Symlink(fmt.Sprintf("/chain/%d", i-1), filepath.Join(root, "chain", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	l := fsLayer("L1", root)
	l.Modes = map[string]fs.FileMode{"bin/busybox": 0o4755}
	tg := NewTarget([]*extract.Layer{l})
	ok := map[string]string{
		"/bin/sh":                              "/bin/busybox",
		"bin/sh":                               "/bin/busybox",
		"/sbin/init":                           "/bin/busybox",
		"/usr/bin/env":                         "/bin/busybox",
		"/lib/libc.so":                         "/usr/lib/libc.so",
		"/escape/up":                           "/etc/passwd",
		"/escape/abs":                          "/etc/passwd",
		"/etc/rc.d/S10boot":                    "/etc/init.d/S10boot",
		"/overlay/etc/config/firewall":         "/etc/config/firewall",
		"/overlay/etc-relative/firewall":       "/etc/config/firewall",
		"/usr/../bin/./sh":                     "/bin/busybox",
		"/chain/38":                            "/bin/busybox",
		"/etc/init.d/../../overlay/etc/passwd": "/etc/passwd",
	}
	for p, want := range ok {
		f, found := tg.Resolve(l, p)
		if !found || f.Path != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", p, f.Path, found, want)
			continue
		}
		if wantHost := filepath.Join(root, filepath.FromSlash(want)); f.HostPath != wantHost {
			t.Errorf("Resolve(%q) host %q, want %q (inside the layer root)", p, f.HostPath, wantHost)
		}
		if f.Layer != l {
			t.Errorf("Resolve(%q): wrong layer", p)
		}
	}
	if f, _ := tg.Resolve(l, "/bin/sh"); f.Mode != 0o4755 || f.Size != int64(len(elfHead)) {
		t.Errorf("Resolve(/bin/sh): mode %v size %d, want the target's archive mode and size", f.Mode, f.Size)
	}
	for _, p := range []string{"/loop/a", "/self", "/dangling", "/via-file/x", "/etc/init.d", "/etc/rc.d", "/nope", "/chain/45", "/"} {
		if f, found := tg.Resolve(l, p); found {
			t.Errorf("Resolve(%q) = %q, want none", p, f.Path)
		}
	}
	if _, found := tg.Resolve(nil, "/bin/sh"); found {
		t.Error("Resolve on a nil layer found a file")
	}
	if _, found := tg.Resolve(&extract.Layer{ID: "L9"}, "/bin/sh"); found {
		t.Error("Resolve on a layer without a root found a file")
	}

	dirs := map[string]string{
		"/etc/rc.d":         "/etc/init.d",
		"/tmp":              "/var/run",
		"/overlay/etc/":     "/etc",
		"/":                 "/",
		"/lib/../etc/rc.d/": "/etc/init.d",
	}
	for p, want := range dirs {
		img, host, found := tg.ResolveDir(l, p)
		if !found || img != want || host != filepath.Join(root, filepath.FromSlash(want)) {
			t.Errorf("ResolveDir(%q) = %q %q %v; want %q", p, img, host, found, want)
		}
	}
	for _, p := range []string{"/bin/sh", "/loop/a", "/nope", "/etc/passwd"} {
		if img, _, found := tg.ResolveDir(l, p); found {
			t.Errorf("ResolveDir(%q) = %q, want none", p, img)
		}
	}
}

func TestReadBounds(t *testing.T) {
	long := strings.Repeat("x", LineBound+10)
	tg := NewTarget([]*extract.Layer{fsLayer("L1", tree(t, map[string]string{
		"/ten":   "0123456789",
		"/lines": long + "\nroot:x:0\nadmin:y:1\n",
		"/link":  "->ten",
	}))})
	byPath := map[string]File{}
	for _, f := range tg.Files() {
		byPath[f.Path] = f
	}
	ten := byPath["/ten"]
	for _, c := range []struct {
		bound int64
		want  string
	}{{4, "0123"}, {10, "0123456789"}, {1 << 20, "0123456789"}, {0, ""}} {
		b, err := tg.ReadHead(ten, c.bound)
		if err != nil || string(b) != c.want || cap(b) != len(c.want) {
			t.Errorf("ReadHead(bound %d) = %q (cap %d), %v; want %q in a buffer of exactly that size", c.bound, b, cap(b), err, c.want)
		}
	}
	// a file that shrank after the walk reads what is there
	shrunk := ten
	shrunk.Size = 100
	if b, err := tg.ReadHead(shrunk, 50); err != nil || string(b) != "0123456789" {
		t.Errorf("ReadHead of a shrunk file = %q, %v", b, err)
	}
	if b, err := tg.ReadFile(ten, 4); !errors.Is(err, ErrTooBig) || string(b) != "0123" {
		t.Errorf("ReadFile(4) = %q, %v; want the first 4 bytes and ErrTooBig", b, err)
	}
	if b, err := tg.ReadFile(ten, 10); err != nil || string(b) != "0123456789" {
		t.Errorf("ReadFile(10) = %q, %v", b, err)
	}
	// the walk's size is a hint: a file that grew or shrank since reads
	// what is there, within the bound
	for _, size := range []int64{0, 3, 10, 100} {
		stale := ten
		stale.Size = size
		if b, err := tg.ReadFile(stale, 1<<20); err != nil || string(b) != "0123456789" {
			t.Errorf("ReadFile of a file listed with %d bytes = %q, %v", size, b, err)
		}
		if b, err := tg.ReadFile(stale, 6); !errors.Is(err, ErrTooBig) || string(b) != "012345" {
			t.Errorf("ReadFile(6) of a file listed with %d bytes = %q, %v", size, b, err)
		}
	}
	// Open never follows a symlink, even one put where a file was listed
	link := ten
	link.HostPath = filepath.Join(filepath.Dir(ten.HostPath), "link")
	if _, err := tg.ReadHead(link, 10); err == nil {
		t.Error("ReadHead followed a symlink")
	}

	lines := byPath["/lines"]
	data, blanked, err := tg.ReadLines(lines, 1<<20)
	if err != nil || blanked != 1 || string(data) != "\nroot:x:0\nadmin:y:1\n" {
		t.Errorf("ReadLines = %q, %d blanked, %v; want the long line blanked, line numbers kept", data, blanked, err)
	}
	data, _, err = tg.ReadLines(lines, 12)
	if !errors.Is(err, ErrTooBig) || string(data) != "\nroot:x:0\n" {
		t.Errorf("ReadLines(12) = %q, %v; want the whole lines that fit and ErrTooBig", data, err)
	}
}

func TestCoverageRecorder(t *testing.T) {
	tg := NewTarget(nil)
	l := &extract.Layer{ID: "L2"}
	for _, p := range []string{"/g", "/f", "/e", "/d", "/c", "/b", "/a", "/a"} {
		tg.Examined("x", "files", File{Layer: l, Path: p})
	}
	tg.Examined("x", "files", File{Path: "/a"}) // no layer: a different name
	tg.ExaminedItem("y", "components", "busybox 1.01")
	cv := tg.CoverageOf("x")
	want := Coverage{Examined: 8, What: "files", Examples: []string{"/a", "L2:/a", "L2:/b", "L2:/c", "L2:/d"}}
	if !reflect.DeepEqual(cv, want) {
		t.Errorf("coverage %+v, want %+v (deduplicated, first %d sorted)", cv, want, MaxCoverageExamples)
	}
	cv.Examples[0] = "changed"
	if tg.CoverageOf("x").Examples[0] != "/a" {
		t.Error("CoverageOf returns the recorder's own slice")
	}
	if cv := tg.CoverageOf("y"); cv.Examined != 1 || cv.What != "components" {
		t.Errorf("item coverage %+v", cv)
	}
}

func TestSetIDAndSort(t *testing.T) {
	base := Finding{Rule: "r", Layer: "squashfs@0x0", Path: "/etc/shadow", Line: 3, Fingerprint: "fp"}
	base.SetID()
	if !strings.HasPrefix(base.ID, "FW-") || len(base.ID) != 15 || strings.ToUpper(base.ID) != base.ID {
		t.Fatalf("ID %q: want FW- and 12 upper-case hex digits", base.ID)
	}
	again := base
	again.Message, again.Evidence, again.Severity = "other text", "other", Critical
	again.SetID()
	if again.ID != base.ID {
		t.Error("the ID depends on message, evidence or severity")
	}
	for name, change := range map[string]func(*Finding){
		"rule": func(f *Finding) { f.Rule = "r2" }, "layer": func(f *Finding) { f.Layer = "x" },
		"path": func(f *Finding) { f.Path = "/etc/passwd" }, "line": func(f *Finding) { f.Line = 4 },
		"offset": func(f *Finding) { f.Offset = Int64(0) }, "fingerprint": func(f *Finding) { f.Fingerprint = "fp2" },
	} {
		f := base
		change(&f)
		f.SetID()
		if f.ID == base.ID {
			t.Errorf("changing the %s keeps the ID", name)
		}
	}

	fs := []Finding{
		{ID: "5", Severity: Low, Rule: "a"},
		{ID: "4", Severity: High, Rule: "b", Path: "/b"},
		{ID: "3", Severity: High, Rule: "b", Path: "/a", Line: 2},
		{ID: "2", Severity: High, Rule: "b", Path: "/a", Line: 1, Offset: Int64(9)},
		{ID: "1", Severity: High, Rule: "b", Path: "/a", Line: 1},
		{ID: "0", Severity: Critical, Rule: "z"},
		{ID: "6", Severity: High, Rule: "a", Layer: "z"},
		{ID: "7", Severity: High, Rule: "a", Layer: "y"},
	}
	SortFindings(fs)
	var order []string
	for _, f := range fs {
		order = append(order, f.ID)
	}
	if want := []string{"0", "7", "6", "1", "2", "3", "4", "5"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v (severity, rule, layer, path, line, offset)", order, want)
	}
}

// fake is an analyzer returning fixed findings, or failing.
type fake struct {
	name  string
	fs    []Finding
	err   error
	panic bool
	scope string
	touch string // a file to record as examined
}

func (f fake) Name() string { return f.name }
func (f fake) Analyze(_ context.Context, t *Target) ([]Finding, error) {
	if f.panic {
		var m map[string]int
		m["x"]++
	}
	if f.touch != "" {
		t.ExaminedItem(f.name, "", f.touch)
	}
	return append([]Finding(nil), f.fs...), f.err
}

type scoped struct{ fake }

func (s scoped) Examines() string { return s.scope }

func TestRun(t *testing.T) {
	l := fsLayer("L1", t.TempDir())
	tg := NewTarget([]*extract.Layer{l})
	dup := Finding{Rule: "dup", Severity: Medium, Layer: l.Path, Path: "/x", Guidelines: []int{5, 1}}
	list := []Analyzer{
		fake{name: "b", fs: []Finding{{Rule: "low", Severity: Low, Layer: l.Path, Path: "/y"}, dup}},
		fake{name: "a", fs: []Finding{{Rule: "crit", Severity: Critical, Layer: l.Path, LayerID: "given"}, dup}, touch: "item"},
		fake{name: "c", err: errors.New("broken"), fs: []Finding{{Rule: "partial", Severity: Info}}},
		fake{name: "d", panic: true},
		scoped{fake{name: "e", scope: "nothing here"}},
	}
	out := Run(context.Background(), tg, list, 2)
	var rules []string
	for _, f := range out.Findings {
		rules = append(rules, f.Rule+"/"+f.Analyzer)
		if f.ID == "" || f.Guidelines == nil {
			t.Errorf("%s: ID %q, guidelines %v; want both set", f.Rule, f.ID, f.Guidelines)
		}
	}
	// the duplicate (same ID from two analyzers) is kept once, from the
	// first analyzer in the list whatever the scheduling; the failing
	// analyzer's partial findings are kept
	if want := []string{"crit/a", "dup/b", "low/b", "partial/c"}; !slices.Equal(rules, want) {
		t.Errorf("findings %v, want %v", rules, want)
	}
	if out.Findings[0].LayerID != "given" || out.Findings[1].LayerID != "L1" {
		t.Errorf("layer IDs %q %q: want the given one kept and the missing one filled in", out.Findings[0].LayerID, out.Findings[1].LayerID)
	}
	if !slices.Equal(out.Findings[1].Guidelines, []int{1, 5}) {
		t.Errorf("guidelines %v, want sorted", out.Findings[1].Guidelines)
	}
	if !slices.Equal(out.Ran, []string{"a", "b", "e"}) {
		t.Errorf("ran %v", out.Ran)
	}
	if len(out.Failures) != 2 || out.Failures[0].Analyzer != "c" || out.Failures[0].Error != "broken" ||
		out.Failures[1].Analyzer != "d" || !strings.Contains(out.Failures[1].Error, "panicked") {
		t.Errorf("failures %+v, want c broken and d panicked", out.Failures)
	}
	if len(out.Timings) != 5 || out.Timings[0].Analyzer != "a" || out.Timings[1].Findings != 2 {
		t.Errorf("timings %+v", out.Timings)
	}
	if cv := out.Coverage["a"]; cv.Examined != 1 || cv.Examples[0] != "item" {
		t.Errorf("coverage of a %+v", cv)
	}
	if cv := out.Coverage["e"]; cv.Examined != 0 || cv.What != "nothing here" {
		t.Errorf("coverage of a scoped analyzer that found nothing: %+v", cv)
	}
	if len(out.Coverage) != 5 {
		t.Errorf("coverage for %d analyzers, want every one", len(out.Coverage))
	}
	// the same inputs give the same output, byte for byte
	again := Run(context.Background(), tg, list, 1)
	if !reflect.DeepEqual(again.Findings, out.Findings) {
		t.Error("a second run with one job gives other findings")
	}
}

func TestDropUnpackedCopies(t *testing.T) {
	// L1 is a flash dump holding /rootfs.cpio, unpacked as L2, which holds
	// /etc/key; L3 is unrelated
	layers := []*extract.Layer{
		{ID: "L1", Path: "raw"},
		{ID: "L2", Path: "cpio", Parent: "L1", Source: "rootfs.cpio"},
		{ID: "L4", Path: "gzip", Parent: "L2", Source: "/boot/x.gz"},
		{ID: "L3", Path: "other"},
	}
	tg := NewTarget(layers)
	type item struct{ layer, path, fp string }
	items := []item{
		{"L1", "/rootfs.cpio", "key"},   // copy of L2's: dropped
		{"L1", "/rootfs.cpio", "token"}, // only in the container: kept
		{"L2", "/etc/key", "key"},
		{"L2", "/boot/x.gz", "deep"}, // found deeper, in L4: dropped
		{"L4", "/x", "deep"},
		{"L3", "/rootfs.cpio", "key"}, // L3 has no child from that path: kept
		{"L1", "/other", "key"},       // not the unpacked file: kept
	}
	got := DropUnpackedCopies(tg, slices.Clone(items), func(i item) (string, string, string) { return i.layer, i.path, i.fp })
	want := []item{items[1], items[2], items[4], items[5], items[6]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// without parent/child layers nothing is dropped
	flat := NewTarget([]*extract.Layer{{ID: "L1"}})
	if got := DropUnpackedCopies(flat, slices.Clone(items), func(i item) (string, string, string) { return i.layer, i.path, i.fp }); len(got) != len(items) {
		t.Errorf("flat target dropped %d items", len(items)-len(got))
	}
}

func TestSharedComputesOnce(t *testing.T) {
	tg := NewTarget(nil)
	var n atomic.Int32
	done := make(chan any, 8)
	for range 8 {
		go func() { done <- tg.Shared("k", func() any { n.Add(1); return "v" }) }()
	}
	for range 8 {
		if v := <-done; v != "v" {
			t.Errorf("got %v", v)
		}
	}
	if n.Load() != 1 {
		t.Errorf("computed %d times, want once", n.Load())
	}
}

func TestFingerprintAndRedact(t *testing.T) {
	t.Cleanup(func() { SetFingerprintKey(nil) })
	pub := Fingerprint("admin")
	if len(pub) != 16 || pub != Fingerprint("admin") || pub == Fingerprint("admin2") {
		t.Errorf("fingerprint %q: want 16 hex digits, stable, distinct", pub)
	}
	if err := SetFingerprintKey([]byte("short")); err == nil {
		t.Error("a short key is accepted")
	}
	if err := SetFingerprintKey([]byte("0123456789abcdef-org")); err != nil || !FingerprintKeyed() {
		t.Fatal(err)
	}
	if Fingerprint("admin") == pub {
		t.Error("the key does not change the fingerprint")
	}
	r := Redact("supersecretpassword!")
	if strings.Contains(r, "secretpassword") || !strings.HasPrefix(r, "supe… (20 chars, fp:") {
		t.Errorf("Redact = %q", r)
	}
	if r := Redact("abcd"); !strings.HasPrefix(r, "… (4 chars") {
		t.Errorf("Redact(short) = %q shows characters", r)
	}
}

// countReads counts the Read calls made on a reader.
type countReads struct {
	r io.Reader
	n int
}

func (c *countReads) Read(p []byte) (int, error) { c.n++; return c.r.Read(p) }

// readUpTo reads a file of the size the walk saw in one read plus the one
// that finds its end (io.ReadAll took 20 for 100 KB), and still reads a
// file that grew, up to the limit.
func TestReadUpToReads(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 10<<10)
	c := &countReads{r: bytes.NewReader(data)}
	b, err := readUpTo(c, int64(len(data))+1, 1<<20)
	if err != nil || !bytes.Equal(b, data) || c.n != 2 {
		t.Errorf("%d bytes in %d reads, %v; want %d bytes in 2 reads", len(b), c.n, err, len(data))
	}
	for _, expect := range []int64{0, 1, 1000} {
		b, err := readUpTo(bytes.NewReader(data), expect, 1<<20)
		if err != nil || !bytes.Equal(b, data) {
			t.Errorf("expecting %d: %d bytes, %v", expect, len(b), err)
		}
		b, err = readUpTo(bytes.NewReader(data), expect, 5000)
		if err != nil || !bytes.Equal(b, data[:5000]) {
			t.Errorf("expecting %d, limit 5000: %d bytes, %v", expect, len(b), err)
		}
	}
}
