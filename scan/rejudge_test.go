package scan

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

// rejudgeReport is a finished report judged at threshold high, with a
// security.txt hint, as stored: through report.json.
func rejudgeReport(t *testing.T) *report.Report {
	t.Helper()
	var ran []string
	for _, fw := range rulescompliance.Default().Frameworks {
		for _, it := range fw.Items {
			for _, c := range it.Checks {
				if !slices.Contains(ran, c) {
					ran = append(ran, c)
				}
			}
		}
	}
	slices.Sort(ran)
	low := finding("weak-hash", analyzers.Low, "/etc/a.conf", 1)
	r := &report.Report{
		Schema: report.SchemaVersion, Image: report.Image{Name: "x.bin", SHA256: strings.Repeat("ab", 32)},
		Layers:     []*extract.Layer{{ID: "L0", Path: "x.bin", Format: "squashfs", Status: extract.StatusOK, Files: 3}},
		Findings:   []analyzers.Finding{low},
		Analyzers:  report.AnalyzerSummary{Ran: ran, Failures: []analyzers.Failure{}},
		Assessment: &report.Assessment{Status: report.Assessed},
		Stats:      report.Stats{FindingCount: map[string]int{"low": 1}},
	}
	res := compliance.Evaluate(JudgeInput(r, map[string][]string{"security-txt": {"/www/.well-known/security.txt"}}, analyzers.High), nil)
	r.Compliance = &res
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var stored report.Report
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	return &stored
}

func finding(rule string, sev analyzers.Severity, path string, g int) analyzers.Finding {
	f := analyzers.Finding{Rule: rule, Category: rule, Severity: sev, Layer: "x.bin", LayerID: "L0", Path: path,
		Evidence: rule + " at " + path, Message: rule, Guidelines: []int{g}, Analyzer: "test"}
	f.Fingerprint = analyzers.Fingerprint(rule + path)
	f.SetID()
	return f
}

func item(r *report.Report, fw, id string) compliance.Item {
	for _, it := range r.Compliance.Frameworks[fw] {
		if it.ID == id {
			return it
		}
	}
	return compliance.Item{}
}

// TestRejudgeIsTheScansJudgement: a stored report that gains findings is
// judged by the same Evaluate, with the threshold and hints it recorded:
// a medium finding does not fail a guideline of a report judged at high, a
// high one does; verdicts, notes, hints and the PSTI line equal a direct
// Evaluate over the same inputs; a finding already present or of a
// disabled rule is not added.
func TestRejudgeIsTheScansJudgement(t *testing.T) {
	r := rejudgeReport(t)
	if r.Compliance.Threshold != analyzers.High || len(r.Compliance.Hints["security-txt"]) != 1 {
		t.Fatalf("report.json does not carry the judgement's inputs: threshold %q hints %v", r.Compliance.Threshold, r.Compliance.Hints)
	}
	v0 := item(r, "cop", "1").Verdict
	if v0 == compliance.Fail || v0 == "" {
		t.Fatalf("guideline 1 before: %q", v0)
	}
	med := finding("default-password", analyzers.Medium, "/etc/shadow", 1)
	if err := Rejudge(r, []analyzers.Finding{med}); err != nil {
		t.Fatal(err)
	}
	if it := item(r, "cop", "1"); it.Verdict != v0 || !strings.Contains(it.Note, "below high not counted: "+med.ID) {
		t.Errorf("a medium finding under threshold high: guideline 1 %s (%s)", it.Verdict, it.Note)
	}
	high := finding("shared-secret", analyzers.High, "/etc/shadow", 1)
	if err := Rejudge(r, []analyzers.Finding{high, high, med}); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 3 || r.Stats.FindingCount["high"] != 1 || r.Stats.FindingCount["medium"] != 1 || r.Stats.FindingCount["low"] != 1 {
		t.Errorf("findings %d, counts %v: want low, medium and high once each", len(r.Findings), r.Stats.FindingCount)
	}
	if it := item(r, "cop", "1"); it.Verdict != compliance.Fail || !slices.Equal(it.Findings, []string{high.ID}) {
		t.Errorf("a high finding: guideline 1 %s %v", it.Verdict, it.Findings)
	}
	// the same as a scan that found them all
	all := []analyzers.Finding{finding("weak-hash", analyzers.Low, "/etc/a.conf", 1), med, high}
	want := compliance.Evaluate(compliance.Input{Findings: all, Ran: r.Analyzers.Ran, Layers: r.Layers, Threshold: analyzers.High,
		Hints: map[string][]string{"security-txt": {"/www/.well-known/security.txt"}}}, nil)
	if !reflect.DeepEqual(*r.Compliance, want) {
		t.Errorf("rejudged:\n%+v\nwant\n%+v", *r.Compliance, want)
	}
	if !strings.Contains(r.Compliance.PSTI, "would fail requirement 1 (shared secret found at /etc/shadow") {
		t.Errorf("PSTI line %q", r.Compliance.PSTI)
	}
	// a rule the scan disabled stays out, counted
	r.Disabled = &report.Disabled{Rules: []string{"tokens"}}
	tok := finding("tokens/aws", analyzers.Critical, "/etc/aws", 4)
	if err := Rejudge(r, []analyzers.Finding{tok}); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 3 || r.Disabled.Findings != 1 || item(r, "cop", "4").Verdict == compliance.Fail {
		t.Errorf("disabled rule: %d findings, %d dropped, guideline 4 %s", len(r.Findings), r.Disabled.Findings, item(r, "cop", "4").Verdict)
	}
}
