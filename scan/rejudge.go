package scan

import (
	"errors"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/config"
	"github.com/fwaudit/fwaudit/report"
)

// JudgeInput is the input of a report's one compliance judgement, taken
// from the report itself: its findings, the findings its baseline accepted
// (suppressed), the analyzers that ran and failed, its layers, what each
// check examined (analyzers.coverage) and why nothing could be assessed
// (assessment), with the hints and threshold given. Run judges a new
// report from it and Rejudge a stored one, so both make the same
// judgement from the same data.
func JudgeInput(rep *report.Report, hints map[string][]string, threshold analyzers.Severity) compliance.Input {
	var failed []string
	for _, f := range rep.Analyzers.Failures {
		failed = append(failed, f.Analyzer)
	}
	var accepted []analyzers.Finding
	for _, s := range rep.Suppressed {
		accepted = append(accepted, s.Finding)
	}
	unassessable := ""
	if a := rep.Assessment; a != nil && a.Status == report.NotAssessed {
		unassessable = a.Reason
	}
	return compliance.Input{
		Findings: rep.Findings, Accepted: accepted, Ran: rep.Analyzers.Ran, Failed: failed, Layers: rep.Layers,
		Threshold: threshold, Hints: hints, Coverage: rep.Analyzers.Coverage, Unassessable: unassessable,
	}
}

// Rejudge adds findings made after the scan (the fleet's shared-secret
// findings) to a finished report and judges its compliance again, as a
// scan that had found them would have: the same compliance.Evaluate over
// the report's data (JudgeInput), with the hints and threshold the report
// recorded (compliance.hints, compliance.threshold). Verdicts, notes, the
// PSTI line and the finding counts are all remade; nothing is patched.
//
// An added finding whose rule the scan disabled is dropped and counted
// under disabled, as the scan would have; one whose ID the report already
// holds (in findings or accepted by its baseline) is not added twice. The
// report's baseline file is not at hand, so an added finding is never
// accepted by it.
func Rejudge(rep *report.Report, extra []analyzers.Finding) error {
	if rep == nil {
		return errors.New("rejudge: no report")
	}
	have := map[string]bool{}
	for _, f := range rep.Findings {
		have[f.ID] = true
	}
	for _, s := range rep.Suppressed {
		have[s.Finding.ID] = true
	}
	for _, f := range extra {
		if f.ID == "" {
			f.SetID()
		}
		if have[f.ID] {
			continue
		}
		if d := rep.Disabled; d != nil && config.RuleDisabled(f.Rule, d.Rules) {
			d.Findings++
			continue
		}
		have[f.ID] = true
		rep.Findings = append(rep.Findings, f)
	}
	if rep.Findings == nil {
		rep.Findings = []analyzers.Finding{}
	}
	analyzers.SortFindings(rep.Findings)
	var hints map[string][]string
	var thr analyzers.Severity
	if c := rep.Compliance; c != nil {
		thr = c.Threshold
		hints = c.Hints
	}
	verdicts := compliance.Evaluate(JudgeInput(rep, hints, thr), nil)
	rep.Compliance = &verdicts
	rep.Stats.FindingCount = map[string]int{}
	for _, f := range rep.Findings {
		rep.Stats.FindingCount[string(f.Severity)]++
	}
	return nil
}
