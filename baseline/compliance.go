package baseline

import (
	"slices"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/report"
)

// RefreshCompliance judges r's compliance verdicts again over r.Findings,
// after a baseline suppressed some or disabled rules dropped some, so that
// accepted findings no longer fail the items they map to. The analyzers
// that ran or failed, the layers and the image hints are taken from the
// report itself (the hints from the items that list them), so a report
// left unchanged gets the same verdicts back. threshold is the one the scan
// used (empty means compliance.DefaultThreshold). A report without
// compliance verdicts is left alone.
func RefreshCompliance(r *report.Report, threshold analyzers.Severity) {
	if r == nil || r.Compliance == nil {
		return
	}
	hints := map[string][]string{}
	for _, items := range r.Compliance.Frameworks {
		for _, it := range items {
			for _, h := range it.Hints {
				id, p, ok := strings.Cut(h, ": ")
				if !ok {
					continue
				}
				if !slices.Contains(hints[id], p) {
					hints[id] = append(hints[id], p)
				}
			}
		}
	}
	for id := range hints {
		slices.Sort(hints[id])
	}
	var failed []string
	for _, f := range r.Analyzers.Failures {
		failed = append(failed, f.Analyzer)
	}
	res := compliance.Evaluate(compliance.Input{
		Findings: r.Findings, Ran: r.Analyzers.Ran, Failed: failed, Layers: r.Layers,
		Threshold: threshold, Hints: hints,
	}, nil)
	r.Compliance = &res
}
