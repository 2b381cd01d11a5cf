package scan

import (
	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/eol"
	"github.com/fwaudit/fwaudit/report"
)

// Components are enriched on the component itself, so reports read
// fields (report.Component) and never rule names or findings:
//
//   - identity: the firmware catalog (components.Catalog, built once per
//     Target and shared with the eol analyzer) merged with syft's SBOM rows
//     (BuildSBOM);
//   - end of life: applyEOL, from the eol analyzer's judgements;
//   - vulnerabilities: applyMatches, from grype's matches;
//   - applicability (VEX): analyze, from the image's own evidence and the
//     user's VEX files, on each vulnerability.

// applyEOL sets each component's end-of-life status from the eol
// analyzer's findings (matched by the component's key, so a component of
// the SBOM gets the status of the catalog's component of that name and
// version) and links the finding.
func applyEOL(comps []report.Component, fs []analyzers.Finding) {
	type judged struct {
		status eol.Status
		id     string
		detail string
	}
	byKey := map[string]judged{}
	for _, f := range fs {
		if s, ok := eol.StatusOf(f); ok {
			byKey[f.Fingerprint] = judged{s, f.ID, f.Evidence}
		}
	}
	for i := range comps {
		j, ok := byKey[eol.ComponentKey(comps[i].Name, comps[i].Version)]
		if !ok {
			continue
		}
		st := report.EOLEnded
		if j.status == eol.Stale {
			st = report.EOLStale
		}
		comps[i].EOL = &report.EOL{Status: st, Detail: j.detail, Finding: j.id}
	}
}
