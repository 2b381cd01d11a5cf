package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/ruledoc"
)

// sarifMultitool finds Microsoft's SARIF multitool (npm package
// @microsoft/sarif-multitool): $FWAUDIT_SARIF_MULTITOOL, .ci/node (where
// .ci/run installs it), or the PATH.
func sarifMultitool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FWAUDIT_SARIF_MULTITOOL"); p != "" {
		return p
	}
	local := filepath.Join("..", ".ci", "node", "node_modules", ".bin", "sarif-multitool")
	if _, err := os.Stat(local); err == nil {
		abs, _ := filepath.Abs(local)
		return abs
	}
	if p, err := exec.LookPath("sarif-multitool"); err == nil {
		return p
	}
	msg := "SARIF multitool not found: npm install --prefix .ci/node @microsoft/sarif-multitool (as .ci/run does), or set FWAUDIT_SARIF_MULTITOOL"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// everyRuleReport has one finding of every documented rule, so every rule
// descriptor fwaudit can write goes through the validator.
func everyRuleReport() *Report {
	r := complianceFixture()
	for i, d := range ruledoc.All() {
		f := analyzers.Finding{Rule: d.ID, Category: d.Category, Severity: analyzers.Medium, Layer: "squashfs@0x100000", LayerID: "L2",
			Path: "/etc/file", Line: i%3 + 1, Evidence: "x", Message: "finding of " + d.ID, Guidelines: []int{}, Analyzer: "test"}
		if i%2 == 1 {
			f.Line, f.Offset = 0, analyzers.Int64(int64(i))
		}
		f.SetID()
		r.Findings = append(r.Findings, f)
	}
	return r
}

// TestSARIFGitHubRules validates findings.sarif with the SARIF multitool
// under GitHub's rule set (the checks GitHub code scanning applies on
// upload, e.g. GH2012 "rule without help"): no error may remain.
func TestSARIFGitHubRules(t *testing.T) {
	tool := sarifMultitool(t)
	for name, r := range map[string]*Report{"fixture": complianceFixture(), "every-rule": everyRuleReport()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "findings.sarif")
			if err := os.WriteFile(in, render(t, writeSARIF, r), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "validation.sarif")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, tool, "validate", "--rule-kind", "Gh", "--log", "ForceOverwrite", "--output", out, in)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("sarif-multitool: %v\n%s", err, stderr.String())
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("no validation output: %v\n%s", err, stderr.String())
			}
			var log struct {
				Runs []struct {
					Results []struct {
						RuleID  string `json:"ruleId"`
						Level   string `json:"level"`
						Message struct {
							ID        string   `json:"id"`
							Arguments []string `json:"arguments"`
						} `json:"message"`
					} `json:"results"`
					Invocations []struct {
						ExecutionSuccessful bool `json:"executionSuccessful"`
					} `json:"invocations"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(raw, &log); err != nil || len(log.Runs) != 1 {
				t.Fatalf("validation output: %v (%d runs)", err, len(log.Runs))
			}
			if inv := log.Runs[0].Invocations; len(inv) == 0 || !inv[0].ExecutionSuccessful {
				t.Fatalf("the validator did not run successfully:\n%s", stderr.String())
			}
			var errs []string
			for _, res := range log.Runs[0].Results {
				if res.Level == "error" || res.Level == "" {
					errs = append(errs, res.RuleID+" "+res.Message.ID+" "+strings.Join(res.Message.Arguments, ", "))
				}
			}
			if len(errs) > 0 {
				t.Errorf("%d error(s) under GitHub's SARIF rules:\n%s", len(errs), strings.Join(errs, "\n"))
			}
		})
	}
}

// TestSARIFNoDefaults: nothing SARIF gives a default value is written with
// that value (go-sarif writes them all: empty arrays, index -1, kind
// "fail"), and a run with no findings still has its results array.
func TestSARIFNoDefaults(t *testing.T) {
	doc := string(render(t, writeSARIF, everyRuleReport()))
	for _, noise := range []string{`: -1`, `: []`, `: {}`, `"kind": "fail"`, `"language": "en-US"`, `"enabled": true`, `"isComprehensive"`, `"newlineSequences"`, `"contents"`} {
		if strings.Contains(doc, noise) {
			t.Errorf("findings.sarif contains default-valued %s", noise)
		}
	}
	empty := complianceFixture()
	empty.Findings = nil
	if d := string(render(t, writeSARIF, empty)); !strings.Contains(d, `"results": []`) {
		t.Errorf("a run without findings lost its results array:\n%s", d)
	}
}
