package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/baseline"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/report"
)

// fast scan flags: no SBOM, no vulnerability matching, a fixed date
var fast = []string{"-q", "--no-sbom", "--no-vulns", "--scan-date", "2026-03-01"}

func scanArgs(extra ...string) []string {
	return append(append([]string{"scan"}, fast...), extra...)
}

func absFixture(t *testing.T, name string) string {
	p, err := filepath.Abs(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readReport(t *testing.T, dir string) *report.Report {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(doc); err != nil {
		t.Errorf("report.json does not validate: %v", err)
	}
	var r report.Report
	if err := json.Unmarshal(doc, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func copVerdict(r *report.Report, id string) compliance.Verdict {
	if r.Compliance == nil {
		return ""
	}
	for _, it := range r.Compliance.Frameworks["cop"] {
		if it.ID == id {
			return it.Verdict
		}
	}
	return ""
}

func TestFailOnGuideline(t *testing.T) {
	img := fixture("rootfs.tar")
	cases := []struct {
		name string
		args []string
		want int
	}{
		// rootfs.tar has default passwords: guideline 1 fails
		{"guideline 1", scanArgs("--fail-on", "none", "--fail-on-guideline", "1", img), exitFindings},
		{"guidelines 8 and 1", scanArgs("--fail-on", "none", "--fail-on-guideline", "8,1", img), exitFindings},
		// guideline 8 needs evidence from the manufacturer: never fails
		{"guideline 8", scanArgs("--fail-on", "none", "--fail-on-guideline", "8", img), exitOK},
		{"no guideline", scanArgs("--fail-on", "none", img), exitOK},
		{"not a guideline", scanArgs("--fail-on", "none", "--fail-on-guideline", "14", img), exitUsage},
		{"not a number", scanArgs("--fail-on-guideline", "one", img), exitUsage},
		// data.gz is a compressed text file: no file system, so guidelines
		// 1 and 5 are not assessed, and a gated guideline that is not
		// assessed fails the gate
		{"unassessable image", scanArgs("--fail-on-guideline", "1,5", fixture("data.gz")), exitFindings},
		{"unassessable image, no gate", scanArgs(fixture("data.gz")), exitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(c.args); got != c.want {
				t.Errorf("fwaudit %s: exit %d, want %d", strings.Join(c.args, " "), got, c.want)
			}
		})
	}
}

// scan → baseline create → scan --baseline: the accepted findings are
// suppressed, not hidden, and no longer fail the run.
func TestBaselineWorkflow(t *testing.T) {
	dir := t.TempDir()
	img := fixture("rootfs.tar")
	first := filepath.Join(dir, "first")
	if code := run(scanArgs("--out", first, img)); code != exitFindings {
		t.Fatalf("first scan: exit %d, want 1", code)
	}
	r0 := readReport(t, first)
	if len(r0.Findings) < 5 || copVerdict(r0, "1") != compliance.Fail {
		t.Fatalf("fixture: %d findings, guideline 1 %s", len(r0.Findings), copVerdict(r0, "1"))
	}

	// without --justification every entry is TODO, which --baseline refuses
	todo := filepath.Join(dir, "todo.yaml")
	if code := run([]string{"baseline", "create", "--from", filepath.Join(first, "report.json"), "-o", todo}); code != exitOK {
		t.Fatalf("baseline create: exit %d", code)
	}
	b, _ := os.ReadFile(todo)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "justification:") && strings.Contains(line, baseline.TODO) {
			n++
		}
	}
	if n != len(r0.Findings) {
		t.Errorf("%d TODO justifications for %d findings", n, len(r0.Findings))
	}
	if code := run(scanArgs("--baseline", todo, img)); code != exitUsage {
		t.Errorf("--baseline with TODO justifications: exit %d, want 2", code)
	}
	// an existing file is not overwritten without --force
	if code := run([]string{"baseline", "create", "--from", filepath.Join(first, "report.json"), "-o", todo}); code != exitUsage {
		t.Errorf("baseline create over an existing file: exit %d, want 2", code)
	}
	for _, args := range [][]string{
		{"baseline", "create", "-o", filepath.Join(dir, "x.yaml")},
		{"baseline", "create", "--from", filepath.Join(dir, "missing.json"), "-o", filepath.Join(dir, "x.yaml")},
		{"baseline", "create", "--from", todo, "-o", filepath.Join(dir, "x.yaml")},
		{"baseline", "create", "--from", filepath.Join(first, "report.json"), "--expires", "soon", "-o", filepath.Join(dir, "x.yaml")},
		{"baseline"},
	} {
		if code := run(args); code != exitUsage {
			t.Errorf("fwaudit %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}

	bl := filepath.Join(dir, "baseline.yaml")
	if code := run([]string{"baseline", "create", "--from", filepath.Join(first, "report.json"), "-o", bl,
		"--justification", "lab unit, credentials rotated at provisioning", "--expires", "2026-12-31"}); code != exitOK {
		t.Fatalf("baseline create: exit %d", code)
	}
	second := filepath.Join(dir, "second")
	if code := run(scanArgs("--baseline", bl, "--fail-on-guideline", "1", "--out", second, img)); code != exitOK {
		t.Errorf("scan with every finding accepted: exit %d, want 0", code)
	}
	r := readReport(t, second)
	if len(r.Findings) != 0 || len(r.Suppressed) != len(r0.Findings) {
		t.Errorf("%d findings, %d suppressed; want 0 and %d", len(r.Findings), len(r.Suppressed), len(r0.Findings))
	}
	if len(r.BaselineProblems) != 0 {
		t.Errorf("problems %q", r.BaselineProblems)
	}
	if v := copVerdict(r, "1"); v == compliance.Fail {
		t.Errorf("guideline 1 still fails with every finding suppressed")
	}
	for _, s := range r.Suppressed {
		if s.Justification != "lab unit, credentials rotated at provisioning" || s.Expires != "2026-12-31" {
			t.Errorf("suppressed %s: %q %q", s.Finding.ID, s.Justification, s.Expires)
		}
	}
	md, _ := os.ReadFile(filepath.Join(second, "report.md"))
	if !strings.Contains(string(md), "## Accepted by the baseline") || !strings.Contains(string(md), r0.Findings[0].ID) {
		t.Error("report.md does not show the suppressed findings")
	}

	// a baseline created from a report with suppressed findings keeps them
	again := filepath.Join(dir, "again.yaml")
	if code := run([]string{"baseline", "create", "--from", filepath.Join(second, "report.json"), "-o", again}); code != exitOK {
		t.Fatal("baseline create from the second report failed")
	}
	if f, err := baseline.Load(again); err != nil || len(f.Entries) != len(r0.Findings) {
		t.Errorf("re-created baseline: %v", err)
	}
}

// An expired entry does not suppress and is reported; an entry that
// matches nothing is reported; neither fails the run by itself.
func TestBaselineExpiredAndUnmatched(t *testing.T) {
	dir := t.TempDir()
	img := fixture("rootfs.tar")
	first := filepath.Join(dir, "first")
	run(scanArgs("--out", first, "--fail-on", "none", img))
	r0 := readReport(t, first)
	var crit []string
	for _, f := range r0.Findings {
		if f.Severity == "critical" {
			crit = append(crit, f.ID)
		}
	}
	if len(crit) == 0 {
		t.Fatal("fixture has no critical finding")
	}
	bl := baseline.FromReport(r0, "accepted", "", "2026-01-01")
	for i := range bl.Entries {
		if bl.Entries[i].ID == crit[0] {
			bl.Entries[i].Expires = "2026-02-28" // the day before --scan-date
		}
	}
	bl.Entries = append(bl.Entries, baseline.Entry{ID: "FW-000000000000", Rule: "wifi-psk", Path: "/etc/old.conf", Justification: "removed in 2.0"})
	path := filepath.Join(dir, "bl.yaml")
	f, _ := os.Create(path)
	baseline.Write(f, bl)
	f.Close()

	out := filepath.Join(dir, "out")
	if code := run(scanArgs("--baseline", path, "--fail-on", "critical", "--out", out, img)); code != exitFindings {
		t.Errorf("expired entry of a critical finding: exit %d, want 1", code)
	}
	r := readReport(t, out)
	if len(r.Findings) != 1 || r.Findings[0].ID != crit[0] {
		t.Errorf("findings %v, want only the expired entry's %s", r.Findings, crit[0])
	}
	probs := strings.Join(r.BaselineProblems, "\n")
	if !strings.Contains(probs, "entry "+crit[0]) || !strings.Contains(probs, "expired on 2026-02-28") {
		t.Errorf("expired entry not reported: %q", r.BaselineProblems)
	}
	if !strings.Contains(probs, "entry FW-000000000000 (wifi-psk, /etc/old.conf) matched no finding") {
		t.Errorf("unmatched entry not reported: %q", r.BaselineProblems)
	}
	// with the expired entry's finding below --fail-on, the problems alone
	// do not fail the run
	if code := run(scanArgs("--baseline", path, "--fail-on", "none", img)); code != exitOK {
		t.Errorf("baseline problems alone: exit %d, want 0", code)
	}
	// on the expiry day the entry still applies
	if code := run(append(scanArgs("--baseline", path, "--fail-on", "critical", img), "--scan-date", "2026-02-28")); code != exitOK {
		t.Errorf("on the expiry day: exit %d, want 0", code)
	}
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, ".fwaudit.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// .fwaudit.yaml sets the gate; flags override it.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	img := fixture("rootfs.tar")
	cfg := writeConfig(t, dir, "fail_on: none\nfail_on_guideline: [8]\n")
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"config fail_on none", scanArgs("--config", cfg, img), exitOK},
		{"flag overrides fail_on", scanArgs("--config", cfg, "--fail-on", "high", img), exitFindings},
		{"flag overrides fail_on_guideline", scanArgs("--config", cfg, "--fail-on-guideline", "1", img), exitFindings},
		{"--no-config", scanArgs("--no-config", img), exitFindings},
		{"--config and --no-config", scanArgs("--no-config", "--config", cfg, img), exitUsage},
		{"missing --config", scanArgs("--config", filepath.Join(dir, "nope.yaml"), img), exitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(c.args); got != c.want {
				t.Errorf("fwaudit %s: exit %d, want %d", strings.Join(c.args, " "), got, c.want)
			}
		})
	}
	bad := writeConfig(t, t.TempDir(), "fail_on: high\nfailon_guideline: [1]\n")
	if code := run(scanArgs("--config", bad, img)); code != exitUsage {
		t.Errorf("unknown key: exit %d, want 2", code)
	}
	bad = writeConfig(t, t.TempDir(), "limits:\n  max_depth: deep\n")
	if code := run(scanArgs("--config", bad, img)); code != exitUsage {
		t.Errorf("wrong type: exit %d, want 2", code)
	}
	bad = writeConfig(t, t.TempDir(), "baseline: missing.yaml\n")
	if code := run(scanArgs("--config", bad, img)); code != exitUsage {
		t.Errorf("missing baseline named by the configuration: exit %d, want 2", code)
	}
}

// The configuration in the current folder is found; its paths are relative
// to it; disable_rules drops findings; outputs selects the files; the
// compliance threshold and limits apply.
func TestConfigInCurrentFolder(t *testing.T) {
	img := absFixture(t, "rootfs.tar")
	dir := t.TempDir()
	t.Chdir(dir)
	writeConfig(t, dir, `fail_on: medium
disable_rules: [default-password, empty-password, config-password, snmp-default-community, wifi-psk]
outputs: [json]
compliance_threshold: critical
scan_date: 2026-03-01
limits:
  max_depth: 4
`)
	out := filepath.Join(dir, "out")
	// telnetd-shell (critical) and http-server (medium) remain
	if code := run([]string{"scan", "-q", "--no-sbom", "--no-vulns", "--out", out, img}); code != exitFindings {
		t.Errorf("exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err == nil {
		t.Error("outputs [json] still wrote report.md")
	}
	r := readReport(t, out)
	for _, f := range r.Findings {
		switch f.Rule {
		case "default-password", "empty-password", "config-password", "snmp-default-community", "wifi-psk":
			t.Errorf("disabled rule %s still reported", f.Rule)
		}
	}
	if len(r.Findings) == 0 {
		t.Fatal("every finding dropped")
	}
	n := 0
	for _, c := range r.Stats.FindingCount {
		n += c
	}
	if n != len(r.Findings) {
		t.Errorf("findings_by_severity counts %d, findings %d", n, len(r.Findings))
	}
	// guideline 1 has nothing left at or above critical
	if v := copVerdict(r, "1"); v == compliance.Fail {
		t.Errorf("guideline 1 fails with its rules disabled")
	}
	if v := copVerdict(r, "5"); v != compliance.Fail {
		t.Errorf("guideline 5 (telnetd-shell, critical): %s", v)
	}
	// flags override: --disable-rule replaces the list, --outputs the outputs
	out2 := filepath.Join(dir, "out2")
	run([]string{"scan", "-q", "--no-sbom", "--no-vulns", "--out", out2, "--disable-rule", "telnetd-shell", "--outputs", "json,markdown", img})
	if _, err := os.Stat(filepath.Join(out2, "report.md")); err != nil {
		t.Error("--outputs json,markdown did not write report.md")
	}
	r2 := readReport(t, out2)
	rules := map[string]bool{}
	for _, f := range r2.Findings {
		rules[f.Rule] = true
	}
	if rules["telnetd-shell"] || !rules["default-password"] {
		t.Errorf("--disable-rule did not replace the configuration's list: %v", rules)
	}
	if code := run([]string{"scan", "-q", "--no-sbom", "--outputs", "pdf", img}); code != exitUsage {
		t.Errorf("--outputs pdf: exit %d, want 2", code)
	}
	if code := run([]string{"scan", "-q", "--no-sbom", "--compliance-threshold", "severe", img}); code != exitUsage {
		t.Errorf("bad --compliance-threshold: exit %d, want 2", code)
	}
}
