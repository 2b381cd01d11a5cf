package extract

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateShared = flag.Bool("update-shared", false, "rewrite testdata/shared-formats.golden from ../shared/firmware/formats")

func sharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "firmware")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared firmware corpus missing at %s (CI=true): %v", dir, err)
		}
		t.Skipf("shared firmware corpus not found at %s", dir)
	}
	return dir
}

// describe renders what extraction made of one image: every layer with
// its status, and every regular file it produced with its size.
func describe(res *Result) string {
	var b strings.Builder
	for _, l := range res.Layers {
		fmt.Fprintf(&b, "  layer %s [%s]", l.Path, l.Status)
		if l.Status != StatusOK && l.Error != "" {
			msg := l.Error
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			fmt.Fprintf(&b, " %s", msg)
		}
		b.WriteString("\n")
		if l.Root == "" {
			continue
		}
		var files []string
		filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				info, _ := d.Info()
				rel, _ := filepath.Rel(l.Root, p)
				files = append(files, fmt.Sprintf("    %s %d", filepath.ToSlash(rel), info.Size()))
			}
			return nil
		})
		sort.Strings(files)
		for _, f := range files {
			b.WriteString(f + "\n")
		}
	}
	return b.String()
}

// Every sample in ../shared/firmware/formats is either unpacked with its
// files, or reported as an identified-but-unsupported or opaque layer. The
// file lists are pinned in testdata/shared-formats.golden
// (go test ./extract -run TestSharedFormats -update-shared rewrites it).
func TestSharedFormats(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "formats")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, e := range ents {
		res, err := Extract(context.Background(), filepath.Join(dir, e.Name()), filepath.Join(t.TempDir(), "w"), Options{})
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		fmt.Fprintf(&out, "%s\n%s", e.Name(), describe(res))
		if len(res.Layers) == 1 && res.Layers[0].Status == StatusOK {
			t.Errorf("%s: neither unpacked nor reported", e.Name())
		}
		for _, l := range res.Layers {
			for _, a := range l.Anomalies {
				if a.Kind == AnomalyPanic {
					t.Errorf("%s: parser panic in %s: %s", e.Name(), l.Path, a.Detail)
				}
			}
		}
	}
	golden := filepath.Join("testdata", "shared-formats.golden")
	if *updateShared {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update-shared)", err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("shared samples differ from %s at line %d:\n got %q\nwant %q\n(rerun with -update-shared after checking the change)", golden, i+1, g, w)
			}
		}
	}
}
