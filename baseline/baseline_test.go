package baseline

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

func finding(rule, path string, sev analyzers.Severity, cop ...int) analyzers.Finding {
	f := analyzers.Finding{Rule: rule, Category: "test", Severity: sev, Layer: "squashfs@0x0", LayerID: "L1",
		Path: path, Evidence: "e", Message: "m", Guidelines: cop, Analyzer: "accounts"}
	if f.Guidelines == nil {
		f.Guidelines = []int{}
	}
	f.SetID()
	return f
}

func testReport() *report.Report {
	fs := []analyzers.Finding{
		finding("default-password", "/etc/shadow", analyzers.Critical, 1),
		finding("telnetd-shell", "/etc/init.d/rcS", analyzers.Critical, 5, 6),
		finding("http-server", "/etc/init.d/rcS", analyzers.Medium, 5, 6),
	}
	analyzers.SortFindings(fs)
	layers := []*extract.Layer{{ID: "L0", Path: "image", Format: "image", Kind: "image", Status: extract.StatusOK}}
	ran := []string{"accounts", "components", "credentials", "eol", "keys", "services", "transport", "vulns"}
	c := compliance.Evaluate(compliance.Input{Findings: fs, Ran: ran, Layers: layers,
		Hints: map[string][]string{"security-txt": {"/www/.well-known/security.txt"}}}, nil)
	r := &report.Report{Schema: report.SchemaVersion, Findings: fs, Layers: layers,
		Analyzers: report.AnalyzerSummary{Ran: ran}, Compliance: &c}
	Recount(r)
	return r
}

func cop(r *report.Report, id string) compliance.Item {
	for _, it := range r.Compliance.Frameworks["cop"] {
		if it.ID == id {
			return it
		}
	}
	return compliance.Item{}
}

// create → write → parse round trip; the TODO placeholder is refused.
func TestCreateWriteParse(t *testing.T) {
	r := testReport()
	bl := FromReport(r, "", "", "2026-01-10")
	if len(bl.Entries) != 3 {
		t.Fatalf("%d entries", len(bl.Entries))
	}
	var buf bytes.Buffer
	if err := Write(&buf, bl); err != nil {
		t.Fatal(err)
	}
	_, err := Parse(buf.Bytes())
	if err == nil || !strings.Contains(err.Error(), bl.Entries[0].ID) || !strings.Contains(err.Error(), "TODO") {
		t.Fatalf("TODO justification: error %v, want one naming %s", err, bl.Entries[0].ID)
	}
	bl = FromReport(r, "vendor default, changed at first boot", "2027-06-30", "2026-01-10")
	buf.Reset()
	Write(&buf, bl)
	got, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if !reflect.DeepEqual(got, bl) {
		t.Errorf("round trip:\n%+v\n%+v", got, bl)
	}
	e := got.Entries[0]
	f := r.Findings[0]
	if e.ID != f.ID || e.Rule != f.Rule || e.Path != f.Path || e.Layer != f.Layer || e.Expires != "2027-06-30" || e.Added != "2026-01-10" {
		t.Errorf("entry %+v for finding %+v", e, f)
	}
}

func TestParseRejects(t *testing.T) {
	const id = "FW-0123456789AB"
	cases := []struct{ doc, want string }{
		{"", "empty file"},
		{"version: 2\nentries: []\n", "version 2"},
		{"entries: []\n", "version 0"},
		{"version: 1\nentries:\n  - id: FW-1\n    justification: x\n", "not a finding id"},
		{"version: 1\nentries:\n  - id: " + id + "\n    rule: default-password\n    justification: \"\"\n", id + " (default-password): justification is empty"},
		{"version: 1\nentries:\n  - id: " + id + "\n", "justification is empty"},
		{"version: 1\nentries:\n  - id: " + id + "\n    justification: \"todo later\"\n", "still \"todo later\""},
		{"version: 1\nentries:\n  - id: " + id + "\n    justification: ok\n    expires: next year\n", "expires"},
		{"version: 1\nentries:\n  - id: " + id + "\n    justification: ok\n    added: 1/1/2026\n", "added"},
		{"version: 1\nentries:\n  - id: " + id + "\n    justification: ok\n  - id: " + id + "\n    justification: ok\n", "already entry 1"},
		{"version: 1\nentries:\n  - id: " + id + "\n    justification: ok\n    reason: x\n", "field reason not found"},
		{"version: 1\nentrys: []\n", "field entrys not found"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc))
		if err == nil {
			t.Errorf("%q: accepted", c.doc)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q does not mention %q", c.doc, err, c.want)
		}
	}
}

func TestApply(t *testing.T) {
	r := testReport()
	var pw, telnet, http analyzers.Finding
	for _, f := range r.Findings {
		switch f.Rule {
		case "default-password":
			pw = f
		case "telnetd-shell":
			telnet = f
		case "http-server":
			http = f
		}
	}
	if cop(r, "1").Verdict != compliance.Fail || cop(r, "5").Verdict != compliance.Fail {
		t.Fatalf("fixture: guideline 1 %s, 5 %s", cop(r, "1").Verdict, cop(r, "5").Verdict)
	}
	bl := &File{Version: 1, Entries: []Entry{
		{ID: pw.ID, Rule: pw.Rule, Path: pw.Path, Justification: "changed at first boot"},
		{ID: telnet.ID, Rule: telnet.Rule, Path: telnet.Path, Justification: "debug build only", Expires: "2026-01-31"},
		{ID: "FW-000000000000", Rule: "wifi-psk", Path: "/etc/config/wireless", Justification: "gone"},
		{ID: "FW-111111111111", Rule: "wifi-psk", Justification: "gone", Expires: "2025-12-31"},
	}}
	// on the expiry day the entry still applies
	out := Apply(r, bl, time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC))
	if out.Suppressed != 2 || len(r.Findings) != 1 || r.Findings[0].ID != http.ID {
		t.Fatalf("on the expiry day: suppressed %d, findings %v", out.Suppressed, r.Findings)
	}
	if len(r.Suppressed) != 2 || r.Suppressed[0].Finding.ID != pw.ID && r.Suppressed[1].Finding.ID != pw.ID {
		t.Errorf("suppressed %+v", r.Suppressed)
	}
	for _, s := range r.Suppressed {
		if s.Finding.ID == telnet.ID && (s.Justification != "debug build only" || s.Expires != "2026-01-31") {
			t.Errorf("suppressed telnet %+v", s)
		}
	}
	if r.Stats.FindingCount["critical"] != 0 || r.Stats.FindingCount["medium"] != 1 {
		t.Errorf("counts %v", r.Stats.FindingCount)
	}
	want := []string{
		"entry FW-000000000000 (wifi-psk, /etc/config/wireless) matched no finding",
		"entry FW-111111111111 (wifi-psk) matched no finding (and expired on 2025-12-31)",
	}
	if !reflect.DeepEqual(r.BaselineProblems, want) || !reflect.DeepEqual(out.Problems, want) {
		t.Errorf("problems %q", r.BaselineProblems)
	}
	// a day later the telnet entry has expired: reported, not suppressed
	r = testReport()
	out = Apply(r, bl, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if out.Suppressed != 1 || len(r.Findings) != 2 {
		t.Fatalf("after expiry: suppressed %d, %d findings", out.Suppressed, len(r.Findings))
	}
	if r.Findings[0].ID != telnet.ID {
		t.Errorf("the expired entry's finding is not back: %v", r.Findings)
	}
	exp := "entry " + telnet.ID + " (telnetd-shell, /etc/init.d/rcS) expired on 2026-01-31: its finding is reported again"
	found := false
	for _, p := range r.BaselineProblems {
		found = found || p == exp
	}
	if !found || len(r.BaselineProblems) != 3 {
		t.Errorf("problems %q lack %q", r.BaselineProblems, exp)
	}
}

// The report with a baseline validates against the schema and report.md
// shows the suppressed findings and the problems.
func TestReportOutputs(t *testing.T) {
	r := testReport()
	r.Tool = report.Tool{Name: "fwaudit", Version: "test"}
	r.Image = report.Image{Path: "x.bin", Name: "x.bin", SHA256: strings.Repeat("0", 64)}
	f := r.Findings[0]
	bl := &File{Version: 1, Entries: []Entry{
		{ID: f.ID, Justification: "accepted | <b>risk</b>", Expires: "2030-01-01"},
		{ID: "FW-000000000000", Rule: "gone", Justification: "x"},
	}}
	Apply(r, bl, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var jb, mb bytes.Buffer
	if err := report.WriteJSON(&jb, r); err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(jb.Bytes()); err != nil {
		t.Errorf("report with a baseline does not validate: %v", err)
	}
	if !strings.Contains(jb.String(), `"suppressed"`) || !strings.Contains(jb.String(), `"baseline_problems"`) {
		t.Error("report.json lacks suppressed or baseline_problems")
	}
	if err := report.WriteMarkdown(&mb, r); err != nil {
		t.Fatal(err)
	}
	md := mb.String()
	for _, want := range []string{"## Accepted by the baseline", f.ID, `accepted \| \<b\>risk\</b\>`, "2030-01-01", "### Baseline problems", "FW-000000000000 (gone) matched no finding"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// without a baseline there is no such section
	mb.Reset()
	report.WriteMarkdown(&mb, testReport())
	if strings.Contains(mb.String(), "Suppressed by the baseline") {
		t.Error("report.md has a baseline section without a baseline")
	}
}

// The baseline example in docs/configuration.md parses.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\nversion: 1\n")
	if !ok {
		t.Fatal("docs/configuration.md has no example baseline")
	}
	example, _, _ := strings.Cut(rest, "```")
	bl, err := Parse([]byte("version: 1\n" + example))
	if err != nil {
		t.Fatalf("the documented example does not parse: %v", err)
	}
	if len(bl.Entries) != 1 || bl.Entries[0].Expires != "2026-12-31" {
		t.Errorf("example: %+v", bl.Entries)
	}
}

// FuzzParse: any document gives a baseline or an error, never a panic; an
// accepted baseline has justified, unique, well-formed entries and survives
// Write and Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nentries:\n  - id: FW-0123456789AB\n    justification: ok\n    expires: 2026-01-01\n"))
	f.Add([]byte("version: 1\nentries: []\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := Parse(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range bl.Entries {
			if seen[e.ID] || strings.TrimSpace(e.Justification) == "" || !idRe.MatchString(e.ID) {
				t.Fatalf("accepted entry %+v", e)
			}
			seen[e.ID] = true
		}
		var buf bytes.Buffer
		if err := Write(&buf, bl); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("written baseline does not parse: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(normal(again), normal(bl)) {
			t.Fatalf("round trip changed the baseline:\n%+v\n%+v", bl, again)
		}
	})
}

func normal(bl *File) *File {
	if len(bl.Entries) == 0 {
		bl.Entries = nil
	}
	return bl
}
