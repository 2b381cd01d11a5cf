package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
)

// bannerAnalyzer is a throw-away analyzer written the way
// docs/architecture.md ("To add an analyzer") says: its own package (here, a type in a
// test), selecting files with Target.Walk, which records its coverage.
type bannerAnalyzer struct{}

func (bannerAnalyzer) Name() string     { return "banner" }
func (bannerAnalyzer) Examines() string { return "login banners" }
func (bannerAnalyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	var out []analyzers.Finding
	sel := analyzers.Selector{FileSystems: true, MinSize: 1, Globs: []string{"etc/banner", "etc/issue"},
		Classes: []analyzers.Class{analyzers.ClassText}, Analyzer: "banner", What: "login banners"}
	err := t.Walk(ctx, sel, func(f analyzers.File) error {
		data, err := t.ReadHead(f, 4096)
		if err != nil {
			return analyzers.Skip
		}
		line, _, _ := strings.Cut(string(data), "\n")
		out = append(out, analyzers.Finding{Rule: "test-banner", Category: "test", Severity: analyzers.Info,
			Layer: f.Layer.Path, Path: f.Path, Line: 1, Evidence: line, Message: "a login banner",
			Fingerprint: analyzers.Fingerprint(line), Guidelines: []int{13}})
		return nil
	})
	return out, err
}

// TestAddAnalyzerOneLine: an analyzer appended to the list (the one line
// in scan/default.go) runs, and its findings, its coverage and its name
// reach every output, with nothing else changed.
func TestAddAnalyzerOneLine(t *testing.T) {
	list := append(Default(), bannerAnalyzer{})
	res, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true, SkipVulns: true, Analyzers: list})
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	f := findRule(rep.Findings, "test-banner", "/etc/banner")
	if f == nil {
		t.Fatalf("the new analyzer's finding is not in the report (%d findings)", len(rep.Findings))
	}
	if f.Analyzer != "banner" || f.ID == "" || f.LayerID == "" || f.Evidence == "" {
		t.Errorf("finding not completed by Run: %+v", f)
	}
	if !slices.Contains(rep.Analyzers.Ran, "banner") {
		t.Errorf("ran %v lacks banner", rep.Analyzers.Ran)
	}
	cv := rep.Analyzers.Coverage["banner"]
	if cv.Examined != 1 || cv.What != "login banners" || len(cv.Examples) != 1 || !strings.HasSuffix(cv.Examples[0], ":/etc/banner") {
		t.Errorf("coverage %+v, want /etc/banner examined", cv)
	}
	files, err := Render(rep, res.SBOM, DefaultOutputs)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.json", "report.md", "report.html", "findings.sarif"} {
		if b, ok := files[name]; !ok || !bytes.Contains(b, []byte("test-banner")) {
			t.Errorf("%s does not name the new analyzer's rule", name)
		}
	}
	var sarif struct {
		Runs []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(files["findings.sarif"], &sarif); err != nil || len(sarif.Runs) != 1 {
		t.Fatalf("findings.sarif: %v", err)
	}
	n := 0
	for _, r := range sarif.Runs[0].Results {
		if r.RuleID == "test-banner" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("findings.sarif has %d test-banner results, want 1", n)
	}
}
