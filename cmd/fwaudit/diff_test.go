package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"github.com/fwaudit/fwaudit/reportdiff"
)

func readDiff(t *testing.T, path string) reportdiff.Diff {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d reportdiff.Diff
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d.Schema != reportdiff.SchemaVersion {
		t.Fatalf("schema %q", d.Schema)
	}
	return d
}

func keysOf(fs []reportdiff.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	slices.Sort(out)
	return out
}

// TestDiffRealImages compares the TL-MR3020 3.17.2 update (a test root
// file system) with the TL-WR841N v10 3.16.9 update: the WR841N's full root
// file system adds the vendor default root password, BusyBox 1.01 and its
// CVEs; both share the boot loader, the kernel and the unsigned TP-Link
// container. Images and their report.json files give the same diff.
func TestDiffRealImages(t *testing.T) {
	mr := testcorpus.Shared(t, "real/tplink_mr3020_v1_3.17.2_testroot.tpl")
	wr := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	dir := t.TempDir()
	date := "2026-11-21"
	for name, img := range map[string]string{"mr": mr, "wr": wr} {
		if code := run([]string{"scan", "-q", "--fail-on", "none", "--scan-date", date, "--outputs", "json", "--out", filepath.Join(dir, name), img}); code != exitOK {
			t.Fatalf("scan %s: exit %d", name, code)
		}
	}
	mrJSON, wrJSON := filepath.Join(dir, "mr", "report.json"), filepath.Join(dir, "wr", "report.json")

	// report.json files, MR3020 → WR841N: new findings, gate on new only
	out := filepath.Join(dir, "fwd.json")
	if code := run([]string{"diff", "-q", "--format", "json", "-o", out, mrJSON, wrJSON}); code != exitFindings {
		t.Errorf("diff MR3020 → WR841N --fail-on high: exit %d, want %d (new critical findings)", code, exitFindings)
	}
	d := readDiff(t, out)
	has := func(fs []reportdiff.Finding, rule, path string) bool {
		for _, f := range fs {
			if f.Rule == rule && f.Path == path {
				return true
			}
		}
		return false
	}
	if !has(d.Findings.New, "default-password", "/etc/shadow") || !has(d.Findings.New, "vulnerable-component", "/bin/busybox") {
		t.Errorf("new findings lack the WR841N root password or BusyBox: %v", keysOf(d.Findings.New))
	}
	unsignedTPLink := false
	for _, f := range d.Findings.Unchanged {
		if f.Rule == "unsigned-container" && f.Layer == "tplink@0x0" {
			unsignedTPLink = true
		}
	}
	if !unsignedTPLink {
		t.Errorf("the unsigned TP-Link container is not unchanged: %v", keysOf(d.Findings.Unchanged))
	}
	var busybox *reportdiff.ComponentChange
	for i, c := range d.Components {
		if c.Name == "busybox" {
			busybox = &d.Components[i]
		}
		if c.Name == "linux_kernel" || c.Name == "u-boot" {
			t.Errorf("%s is the same in both images but listed as %s", c.Name, c.Change)
		}
	}
	if busybox == nil || busybox.Change != "added" || !slices.Equal(busybox.New, []string{"1.01"}) {
		t.Errorf("busybox change = %+v", busybox)
	}
	intro := map[string]bool{}
	for _, c := range d.CVEs.Introduced {
		intro[c.ID+" "+c.Component] = true
	}
	if !intro["CVE-2016-2148 busybox"] || len(d.CVEs.Fixed) != 0 {
		t.Errorf("CVEs introduced %d (CVE-2016-2148 busybox: %v), fixed %d", len(intro), intro["CVE-2016-2148 busybox"], len(d.CVEs.Fixed))
	}
	g1 := false
	for _, v := range d.Verdicts {
		if v.Framework == "cop" && v.ID == "1" && v.New == "fail" && v.Changed {
			g1 = true
		}
	}
	if !g1 {
		t.Errorf("guideline 1 does not change to fail: %+v", d.Verdicts)
	}

	// the reverse: what the WR841N had is fixed; nothing new at or above
	// high, so the gate passes
	rev := filepath.Join(dir, "rev.json")
	if code := run([]string{"diff", "-q", "--format", "json", "-o", rev, wrJSON, mrJSON}); code != exitOK {
		t.Errorf("diff WR841N → MR3020: exit %d, want 0", code)
	}
	r := readDiff(t, rev)
	if !slices.Equal(keysOf(r.Findings.Fixed), keysOf(d.Findings.New)) || !slices.Equal(keysOf(r.Findings.New), keysOf(d.Findings.Fixed)) {
		t.Errorf("reverse diff is not the mirror: fixed %v, new %v", keysOf(r.Findings.Fixed), keysOf(r.Findings.New))
	}

	// a report against itself: no new finding, so even --fail-on info
	// passes although the report holds critical findings
	self := filepath.Join(dir, "self.json")
	if code := run([]string{"diff", "-q", "--fail-on", "info", "--format", "json", "-o", self, wrJSON, wrJSON}); code != exitOK {
		t.Errorf("diff of a report with itself --fail-on info: exit %d, want 0", code)
	}
	if s := readDiff(t, self); len(s.Findings.New)+len(s.Findings.Fixed) != 0 || len(s.Findings.Unchanged) == 0 {
		t.Errorf("self diff: %d new, %d fixed, %d unchanged", len(s.Findings.New), len(s.Findings.Fixed), len(s.Findings.Unchanged))
	}

	// images instead of report.json: the same findings and components
	img := filepath.Join(dir, "img.json")
	if code := run([]string{"diff", "-q", "--fail-on", "none", "--scan-date", date, "--format", "json", "-o", img, mr, wr}); code != exitOK {
		t.Fatalf("diff images --fail-on none: exit %d", code)
	}
	i := readDiff(t, img)
	if !slices.Equal(keysOf(i.Findings.New), keysOf(d.Findings.New)) || !slices.Equal(keysOf(i.Findings.Unchanged), keysOf(d.Findings.Unchanged)) || len(i.Components) != len(d.Components) {
		t.Errorf("diff of the images differs from the diff of their reports:\n%v\n%v", keysOf(i.Findings.New), keysOf(d.Findings.New))
	}

	// markdown and table render
	for _, format := range []string{"markdown", "table"} {
		p := filepath.Join(dir, "out."+format)
		if code := run([]string{"diff", "-q", "--fail-on", "none", "--format", format, "-o", p, mrJSON, wrJSON}); code != exitOK {
			t.Errorf("--format %s: exit %d", format, code)
		}
		if b, _ := os.ReadFile(p); len(b) == 0 {
			t.Errorf("--format %s wrote nothing", format)
		}
	}
}

func TestDiffUsage(t *testing.T) {
	rep := fixture("data.gz")
	for name, args := range map[string][]string{
		"bad fail-on":  {"diff", "--fail-on", "severe", rep, rep},
		"bad format":   {"diff", "--format", "xml", rep, rep},
		"one argument": {"diff", rep},
		"missing file": {"diff", rep, filepath.Join(t.TempDir(), "nope.bin")},
	} {
		if code := run(args); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", name, code, exitUsage)
		}
	}
}
