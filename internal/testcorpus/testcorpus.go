// Package testcorpus gives tests one way to reach the shared firmware
// corpus (../shared/firmware beside the checkout) and to build analyzer
// targets from an image or a folder. Outside CI a missing corpus skips the
// test; under CI=true it fails.
package testcorpus

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// RepoRoot is the checkout's root folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Shared returns ../shared/firmware/<rel>, skipping the test when it is
// missing (failing under CI=true).
func Shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "..", "shared", "firmware", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared firmware corpus missing in CI: %v", err)
		}
		t.Skipf("shared firmware corpus not available (%v): put ../shared/firmware beside the checkout to run this test", err)
	}
	return p
}

// Fixture returns testdata/firmware/<name>.
func Fixture(name string) string {
	return filepath.Join(RepoRoot(), "testdata", "firmware", name)
}

// ExtractTarget unpacks image into a temporary folder and indexes it.
func ExtractTarget(t testing.TB, image string) *analyzers.Target {
	t.Helper()
	res, err := extract.Extract(context.Background(), image, t.TempDir(), extract.Options{})
	if err != nil {
		t.Fatalf("extract %s: %v", image, err)
	}
	return analyzers.NewTarget(res.Layers)
}

// DirTarget indexes dir as one file-system layer with path "test".
func DirTarget(t testing.TB, dir string) *analyzers.Target {
	t.Helper()
	l := &extract.Layer{ID: "L1", Path: "test", Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

// Tree writes files (path -> content; a content of "->target" makes a
// symlink) under a new temporary folder and returns it.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		host := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(c, "->"); ok {
			if err := os.Symlink(target, host); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(host, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
