package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/report"
)

// TestMain keeps the tests hermetic: the vulnerability database is the
// embedded feed compiled into a temporary cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fwaudit-cmd-test-")
	if err != nil {
		panic(err)
	}
	// the go build cache of the machine, kept for building the binary
	// (signal_test.go): XDG_CACHE_HOME moves below would give it an empty
	// one and rebuild every dependency
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		goCache = strings.TrimSpace(string(out))
	}
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	os.Setenv("GRYPE_DB_CACHE_DIR", filepath.Join(dir, "grype"))
	code := m.Run()
	os.RemoveAll(dir)
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "firmware", name) }

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"findings at or above high", []string{"scan", "-q", "--no-sbom", fixture("rootfs.tar")}, exitFindings},
		{"fail-on none", []string{"scan", "-q", "--no-sbom", "--fail-on", "none", fixture("rootfs.tar")}, exitOK},
		{"no findings", []string{"scan", "-q", "--no-sbom", fixture("data.gz")}, exitOK},
		{"missing image", []string{"scan", "-q", filepath.Join(t.TempDir(), "nope.bin")}, exitUsage},
		{"unknown flag", []string{"scan", "--bogus", fixture("data.gz")}, exitUsage},
		{"bad severity", []string{"scan", "--fail-on", "severe", fixture("data.gz")}, exitUsage},
		{"bad format", []string{"scan", "--format", "xml", fixture("data.gz")}, exitUsage},
		{"no image", []string{"scan"}, exitUsage},
		{"bad limit", []string{"scan", "--max-total", "lots", fixture("data.gz")}, exitUsage},
		{"bad scan date", []string{"scan", "--scan-date", "21/11/2026", fixture("data.gz")}, exitUsage},
		{"extract without -o", []string{"extract", fixture("data.gz")}, exitUsage},
		// a layer that fails to unpack is not exit 2
		{"truncated layer", []string{"scan", "-q", "--no-sbom", "--fail-on", "critical", fixture("sqfs-truncated.img")}, exitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(c.args); got != c.want {
				t.Errorf("fwaudit %s: exit %d, want %d", strings.Join(c.args, " "), got, c.want)
			}
		})
	}
}

// scan --out writes the reports and the SBOMs, and report.json validates
// against the published schema.
func TestScanOut(t *testing.T) {
	out := t.TempDir()
	if code := run([]string{"scan", "-q", "--out", out, "--fail-on", "none", fixture("flash.bin")}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"report.json", "report.md", "sbom.cdx.json", "sbom.spdx.json"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	doc, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(doc); err != nil {
		t.Errorf("report.json does not validate against the schema: %v", err)
	}
	var r report.Report
	if err := json.Unmarshal(doc, &r); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range r.Findings {
		if f.Rule == "default-password" && f.Path == "/etc/shadow" && f.Layer == "squashfs@0x80000" {
			found = true
		}
	}
	if !found {
		t.Errorf("report.json lacks the default-password finding in squashfs@0x80000")
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "default-password") || !strings.Contains(string(md), "## Layers") {
		t.Errorf("report.md lacks the finding or the layer tree")
	}
}

// Several images go into DIR/<image name>/ each.
func TestScanSeveralImages(t *testing.T) {
	out := t.TempDir()
	code := run([]string{"scan", "-q", "--no-sbom", "--out", out, fixture("rootfs.tar"), fixture("data.gz")})
	if code != exitFindings {
		t.Errorf("exit %d, want 1 (rootfs.tar has critical findings)", code)
	}
	for _, name := range []string{"rootfs.tar", "data.gz"} {
		if _, err := os.Stat(filepath.Join(out, name, "report.json")); err != nil {
			t.Errorf("no report for %s: %v", name, err)
		}
	}
}

func TestExtractWritesLayersJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tree")
	if code := run([]string{"extract", "-q", fixture("nested.tar.gz"), "-o", out}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(filepath.Join(out, "layers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Layers []struct {
			ID, Parent, Format, Dir string
			Files                   int
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	var formats []string
	for _, l := range res.Layers {
		formats = append(formats, l.Format)
		if l.Format == "cpio" {
			if _, err := os.Stat(filepath.Join(out, l.Dir, "etc", "shadow")); err != nil {
				t.Errorf("cpio layer folder lacks etc/shadow: %v", err)
			}
		}
	}
	if got := strings.Join(formats, ","); got != "image,gzip,tar,squashfs,gzip,cpio" {
		t.Errorf("layer formats %s", got)
	}
	// a non-empty output folder is refused
	if code := run([]string{"extract", "-q", fixture("nested.tar.gz"), "-o", out}); code != exitUsage {
		t.Errorf("extract into a non-empty folder: exit %d, want 2", code)
	}
}

// A user dictionary extends (or replaces) the embedded one.
func TestPasswordsFlag(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "mine.txt")
	// "Qm7#vT9!pLx2$wRz" is the strong password of user "user" in the
	// fixture rootfs: not in the embedded list.
	os.WriteFile(list, []byte("# my vendor's defaults\nQm7#vT9!pLx2$wRz\n"), 0o644)
	out := filepath.Join(dir, "out")
	run([]string{"scan", "-q", "--no-sbom", "--out", out, "--passwords", list, fixture("rootfs.tar")})
	doc, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	json.Unmarshal(doc, &r)
	users := map[string]bool{}
	for _, f := range r.Findings {
		if f.Rule == "default-password" {
			users[strings.SplitN(f.Evidence, " ", 2)[0]] = true
		}
	}
	if !users["user"] || !users["root"] {
		t.Errorf("with --passwords: cracked users %v, want user (from the file) and root (embedded list)", users)
	}
	out2 := filepath.Join(dir, "out2")
	run([]string{"scan", "-q", "--no-sbom", "--out", out2, "--passwords", list, "--passwords-only", fixture("rootfs.tar")})
	doc, _ = os.ReadFile(filepath.Join(out2, "report.json"))
	var r2 report.Report
	json.Unmarshal(doc, &r2)
	for _, f := range r2.Findings {
		if f.Rule == "default-password" && strings.HasPrefix(f.Evidence, "root ") {
			t.Errorf("--passwords-only still used the embedded list: %s", f.Evidence)
		}
	}
	if code := run([]string{"scan", "-q", "--passwords", filepath.Join(dir, "missing.txt"), fixture("data.gz")}); code != exitUsage {
		t.Errorf("missing --passwords file: exit %d, want 2", code)
	}
}

func TestDBStatus(t *testing.T) {
	if code := run([]string{"db", "status"}); code != exitOK {
		t.Errorf("db status: exit %d", code)
	}
	if code := run([]string{"db", "import", filepath.Join(t.TempDir(), "missing.tar.zst")}); code != exitUsage {
		t.Errorf("db import of a missing archive: exit %d, want 2", code)
	}
}
