package scan

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/baseline"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/report"
)

func copVerdict0(r *report.Report, id string) compliance.Item {
	for _, it := range r.Compliance.Frameworks["cop"] {
		if it.ID == id {
			return it
		}
	}
	return compliance.Item{}
}

// A baseline that accepts every finding never turns a failing guideline
// into a plain pass: it is pass-with-exceptions, the accepted findings stay
// in every output, and the gate does not fail on them.
func TestPipelineBaselineStaysVisible(t *testing.T) {
	ctx := context.Background()
	opt := Options{Jobs: 2, SkipSBOM: true, SkipVulns: true}
	first, err := Run(ctx, fixture("flash.bin"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if v := copVerdict0(first.Report, "1").Verdict; v != compliance.Fail {
		t.Fatalf("fixture: guideline 1 is %s without a baseline, want fail", v)
	}
	var pw *analyzers.Finding
	for i, f := range first.Report.Findings {
		if f.Rule == "default-password" {
			pw = &first.Report.Findings[i]
		}
	}
	if pw == nil {
		t.Fatal("fixture has no default-password finding")
	}
	// accept every finding, as `fwaudit baseline create` would
	bl := baseline.FromReport(first.Report, "accepted for test", "", "2026-12-01")
	var buf bytes.Buffer
	if err := baseline.Write(&buf, bl); err != nil {
		t.Fatal(err)
	}
	blPath := filepath.Join(t.TempDir(), "base.yaml")
	os.WriteFile(blPath, buf.Bytes(), 0o644)
	loaded, err := baseline.Load(blPath)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	opt.Baseline = loaded
	opt.Gate = Gate{FailOn: analyzers.High, Guidelines: []int{1}}
	opt.OutDir = out
	opt.Outputs = []string{"json", "markdown", "html", "sarif"}
	res, err := Run(ctx, fixture("flash.bin"), opt)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if len(r.Findings) != 0 || len(r.Suppressed) != len(first.Report.Findings) {
		t.Fatalf("findings %d, suppressed %d, want 0 and %d", len(r.Findings), len(r.Suppressed), len(first.Report.Findings))
	}
	g1 := copVerdict0(r, "1")
	if g1.Verdict != compliance.PassWithExceptions || !slices.Contains(g1.Accepted, pw.ID) {
		t.Errorf("guideline 1 with its failing findings accepted: %s accepted %v, want pass-with-exceptions listing %s", g1.Verdict, g1.Accepted, pw.ID)
	}
	if !strings.Contains(r.Compliance.PSTI, "passes only with") {
		t.Errorf("PSTI line hides the accepted findings: %q", r.Compliance.PSTI)
	}
	if r.Baseline == nil || r.Baseline.SHA256 != loaded.SHA256 || r.Baseline.File != "base.yaml" || r.Baseline.Suppressed != len(r.Suppressed) {
		t.Errorf("report does not record the baseline: %+v", r.Baseline)
	}
	if res.Gate.Failed {
		t.Errorf("accepted findings failed the gate: %v", res.Gate.Reasons)
	}
	if !slices.Equal(res.Files, []string{"findings.sarif", "report.html", "report.json", "report.md"}) {
		t.Errorf("files written %v", res.Files)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for name, doc := range map[string][]byte{"report.html": html, "report.md": md} {
		for _, want := range []string{"Accepted by the baseline", pw.ID, loaded.SHA256, "accepted for test"} {
			if !bytes.Contains(doc, []byte(want)) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if bytes.Contains(doc, []byte("Pass ✓</span></td>\n<td><details><summary>Details</summary>\n<p>about the image")) {
			t.Errorf("%s shows a plain pass", name)
		}
	}
	if !bytes.Contains(html, []byte("Pass with exceptions !")) || !bytes.Contains(md, []byte("pass with exceptions")) {
		t.Error("the pass-with-exceptions verdict is not shown")
	}
	var sarif struct {
		Runs []struct {
			Results []struct {
				RuleID       string `json:"ruleId"`
				Suppressions []struct {
					Kind          string `json:"kind"`
					Justification string `json:"justification"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	raw, _ := os.ReadFile(filepath.Join(out, "findings.sarif"))
	if err := json.Unmarshal(raw, &sarif); err != nil {
		t.Fatal(err)
	}
	res0 := sarif.Runs[0].Results
	if len(res0) != len(r.Suppressed) {
		t.Fatalf("SARIF has %d results, want the %d accepted findings", len(res0), len(r.Suppressed))
	}
	for _, x := range res0 {
		if len(x.Suppressions) != 1 || x.Suppressions[0].Kind != "external" || x.Suppressions[0].Justification != "accepted for test" {
			t.Errorf("SARIF result %s suppressions %+v", x.RuleID, x.Suppressions)
		}
	}
	if err := report.Validate(mustRead(t, filepath.Join(out, "report.json"))); err != nil {
		t.Errorf("report.json: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Nothing of an empty, text, random or compressed-text image can be
// unpacked: the report says so, no guideline passes, and a gated guideline
// fails the gate as not assessed.
func TestPipelineUnassessableImages(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, 1<<20)
	rand.Read(random)
	empty := filepath.Join(dir, "empty.bin")
	os.WriteFile(empty, nil, 0o644)
	rnd := filepath.Join(dir, "random.bin")
	os.WriteFile(rnd, random, 0o644)
	for _, img := range []string{empty, rnd, fixture("data.txt"), fixture("data.gz")} {
		t.Run(filepath.Base(img), func(t *testing.T) {
			res, err := Run(context.Background(), img, Options{Jobs: 2, SkipSBOM: true, SkipVulns: true,
				Gate: Gate{Guidelines: []int{1, 3}}})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report
			if r.Assessment == nil || r.Assessment.Status != report.NotAssessed || r.Assessment.Reason == "" {
				t.Fatalf("assessment %+v, want not-assessed with a reason", r.Assessment)
			}
			for _, it := range r.Compliance.Frameworks["cop"] {
				if it.Verdict == compliance.Pass || it.Verdict == compliance.PassWithExceptions {
					t.Errorf("guideline %s passes on an image that could not be assessed: %s", it.ID, it.Note)
				}
			}
			if !res.Gate.Failed || !slices.Equal(res.Gate.Guidelines, []int{1, 3}) {
				t.Errorf("gate %+v, want guidelines 1 and 3 failing as not assessed", res.Gate)
			}
			var md bytes.Buffer
			report.WriteMarkdown(&md, r)
			if !strings.Contains(md.String(), "This image could not be assessed") {
				t.Error("report.md headline does not say the image could not be assessed")
			}
			var html bytes.Buffer
			report.WriteHTML(&html, r)
			if !strings.Contains(html.String(), `id="not-assessed"`) {
				t.Error("report.html headline does not say the image could not be assessed")
			}
		})
	}
}

// A guideline never passes on checks that found nothing to examine: an
// image with a file system but no account database or configuration file
// leaves guideline 1 not assessed, naming what was missing.
func TestPipelineNoPassWithoutCoverage(t *testing.T) {
	res, err := Run(context.Background(), fixture("romfs.img"), Options{Jobs: 2, SkipSBOM: true, SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if r.Assessment.Status == report.NotAssessed {
		t.Fatalf("fixture: romfs not unpacked: %+v", r.Assessment)
	}
	cov := r.Analyzers.Coverage
	if cov == nil {
		t.Fatal("no coverage in the report")
	}
	g1 := copVerdict0(r, "1")
	if cov["accounts"].Examined == 0 && cov["credentials"].Examined == 0 {
		if g1.Verdict != compliance.NotAssessed || !strings.Contains(g1.Note, "accounts found no account databases") {
			t.Errorf("guideline 1 with nothing examined: %s (%s)", g1.Verdict, g1.Note)
		}
	} else if g1.Verdict == compliance.NotAssessed && strings.Contains(g1.Note, "holds nothing") {
		t.Errorf("guideline 1 not assessed although %v were examined", cov["accounts"])
	}
	// the fixture with a shadow file: accounts examined it, by path
	res, err = Run(context.Background(), fixture("flash.bin"), Options{Jobs: 2, SkipSBOM: true, SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	acc := res.Report.Analyzers.Coverage["accounts"]
	if acc.Examined == 0 || !slices.ContainsFunc(acc.Examples, func(s string) bool { return strings.HasSuffix(s, ":/etc/shadow") }) {
		t.Errorf("accounts coverage %+v lacks /etc/shadow", acc)
	}
}

// Outputs are written through the output folder's root: a symlink planted
// at report.md is replaced, the file it pointed to is untouched, and a
// sub-folder that is a symlink out of the folder is refused.
func TestPipelineOutputsDoNotFollowLinks(t *testing.T) {
	out := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim.txt")
	os.WriteFile(victim, []byte("precious"), 0o644)
	if err := os.Symlink(victim, filepath.Join(out, "report.md")); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), fixture("data.gz"), Options{Jobs: 2, SkipSBOM: true, SkipVulns: true,
		OutDir: out, Outputs: []string{"json", "markdown"}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the file behind the symlink was overwritten: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(out, "report.md"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("report.md is not a regular file: %v %v", fi, err)
	}
	if len(res.Files) != 2 {
		t.Errorf("files %v", res.Files)
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, ".*tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	// a per-image folder that is a link out of the output folder
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(out, "img"))
	_, err = Run(context.Background(), fixture("data.gz"), Options{Jobs: 2, SkipSBOM: true, SkipVulns: true,
		OutDir: out, OutSub: "img", Outputs: []string{"json"}})
	if err == nil {
		t.Error("writing through a sub-folder symlinked out of the output folder succeeded")
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
		t.Errorf("files written outside the output folder: %v", ents)
	}
}

// Disabled rules drop their findings and the report says so.
func TestPipelineDisabledRules(t *testing.T) {
	res, err := Run(context.Background(), fixture("flash.bin"), Options{Jobs: 2, SkipSBOM: true, SkipVulns: true,
		DisableRules: []string{"default-password"}})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	for _, f := range r.Findings {
		if f.Rule == "default-password" {
			t.Fatalf("disabled rule still reported: %+v", f)
		}
	}
	if r.Disabled == nil || r.Disabled.Findings == 0 || r.Disabled.Rules[0] != "default-password" {
		t.Errorf("report does not record the disabled rule: %+v", r.Disabled)
	}
}
