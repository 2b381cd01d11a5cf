package credentials

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	credrules "github.com/fwaudit/fwaudit/analyzers/credentials/detect"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
)

// login.cgi (gcc, strcmp against "Hw@Sup3rAdm1n") is reported; the same
// program reading the password from a file is not, nor is login.cgi
// outside the web folders.
func TestProgramCGI(t *testing.T) {
	for _, tc := range []struct {
		fixture, path string
		want          []string
	}{
		{"login.cgi", "www/cgi-bin/login.cgi", []string{"binary-password high /www/cgi-bin/login.cgi:0"}},
		{"login-file.cgi", "www/cgi-bin/login.cgi", nil},
		{"login.cgi", "usr/bin/tool", nil},
	} {
		t.Run(tc.fixture+"@"+tc.path, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "firmware", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			p := filepath.Join(dir, filepath.FromSlash(tc.path))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, b, 0o755); err != nil {
				t.Fatal(err)
			}
			fs := run(t, dirTarget(dir))
			wantKeys(t, fs, tc.want)
			noLeak(t, fs, "Hw@Sup3rAdm1n")
			if len(tc.want) == 1 {
				f := fs[0]
				off := int64(strings.Index(string(b), "Hw@Sup3rAdm1n\x00"))
				if f.Offset == nil || *f.Offset != off || !strings.Contains(f.Evidence, `for user "admin"`) || f.Fingerprint == "" {
					t.Errorf("finding %+v (offset want 0x%x)", f, off)
				}
			}
		})
	}
}

// The HG532e-style update zip: the note beside the firmware and the CGI
// inside its root file system are both reported.
func TestUpdatePackage(t *testing.T) {
	fs := run(t, testcorpus.ExtractTarget(t, filepath.Join(repoRoot(), "testdata", "firmware", "hg532e-update.zip")))
	wantKeys(t, fs, []string{
		"note-password high /Upgrade-Notes.txt:6",
		"binary-password high /www/cgi-bin/login.cgi:0",
	})
	noLeak(t, fs, "Hg532e@Adm1n")
	noLeak(t, fs, "Hw@Sup3rAdm1n")
	n := find(fs, "note-password", "/Upgrade-Notes.txt", 6)
	if n == nil || !strings.Contains(n.Evidence, `for user "admin"`) || !strings.HasPrefix(n.Layer, "zip@0x0") {
		t.Errorf("note finding %+v", n)
	}
	c := find(fs, "binary-password", "/www/cgi-bin/login.cgi", 0)
	if c == nil || c.Layer != "zip@0x0 > /HG532eV100R001C02B017_upgrade_main.bin > squashfs@0xecef9" {
		t.Errorf("cgi finding %+v", c)
	}
}

// FuzzProgramStrings: the ELF strings reader and the matcher never panic
// and return strings inside the program.
func FuzzProgramStrings(f *testing.F) {
	for _, n := range []string{"login.cgi", "login-file.cgi"} {
		if b, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "firmware", n)); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	rules := credrules.DefaultPrograms()
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, _, ok := programStrings(data, rules[0].Compare)
		if !ok && len(ps) > 0 {
			t.Fatalf("strings from a file that is not an ELF")
		}
		strs := make([]string, len(ps))
		for i, p := range ps {
			if p.off < 0 || p.off+int64(len(p.s)) > int64(len(data)) || string(data[p.off:p.off+int64(len(p.s))]) != p.s {
				t.Fatalf("string %q at %d is not in the program", p.s, p.off)
			}
			strs[i] = p.s
		}
		for _, m := range matchProgram(rules[0], strs) {
			if m.Index < 0 || m.Index >= len(strs) || strs[m.Index] != m.Secret {
				t.Fatalf("match %+v", m)
			}
		}
	})
}

// The firmware .bin of the update zip, scanned alone, gives the same
// findings (rule, path, line or offset, evidence, fingerprint) as inside
// the zip, where only the layer paths gain the "zip@0x0 > /<member> > "
// prefix; the zip adds the note's finding.
func TestUpdatePackageSameAsBin(t *testing.T) {
	zipPath := filepath.Join(repoRoot(), "testdata", "firmware", "hg532e-update.zip")
	const member = "HG532eV100R001C02B017_upgrade_main.bin"
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	binPath := filepath.Join(t.TempDir(), member)
	for _, f := range zr.File {
		if f.Name == member {
			rc, _ := f.Open()
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(binPath, b, 0o644)
		}
	}
	render := func(fs []analyzers.Finding, prefix string) []string {
		var out []string
		for _, f := range fs {
			if f.Rule == "note-password" {
				continue
			}
			off := int64(-1)
			if f.Offset != nil {
				off = *f.Offset
			}
			out = append(out, fmt.Sprintf("%s %s %s %s:%d@%d %s %s", f.Rule, f.Severity, strings.TrimPrefix(f.Layer, prefix), f.Path, f.Line, off, f.Evidence, f.Fingerprint))
		}
		sort.Strings(out)
		return out
	}
	alone := render(run(t, testcorpus.ExtractTarget(t, binPath)), "")
	inZip := render(run(t, testcorpus.ExtractTarget(t, zipPath)), "zip@0x0 > /"+member+" > ")
	if len(alone) == 0 || strings.Join(alone, "\n") != strings.Join(inZip, "\n") {
		t.Fatalf("alone:\n%s\nin the zip:\n%s", strings.Join(alone, "\n"), strings.Join(inZip, "\n"))
	}
}
