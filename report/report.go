// Package report turns a scan's outcome into report.json, report.md and the
// summary table. The JSON layout is versioned (SchemaVersion) and documented
// in docs/report-schema.md with a JSON Schema in report/schema/.
package report

import (
	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
)

// SchemaVersion names the report.json layout. Bump it on any incompatible
// change and document the change in docs/report-schema.md.
const SchemaVersion = "fwaudit.report/v1"

// Report is everything one scan of one image found.
type Report struct {
	Schema     string              `json:"schema"`
	Tool       Tool                `json:"tool"`
	Image      Image               `json:"image"`
	Layers     []*extract.Layer    `json:"layers"`
	Findings   []analyzers.Finding `json:"findings"`
	Components []Component         `json:"components"`
	Analyzers  AnalyzerSummary     `json:"analyzers"`
	// VulnDB describes the vulnerability database matching used (absent
	// when matching was off or failed).
	VulnDB *VulnDB `json:"vuln_db,omitempty"`
	// Compliance holds the verdicts per framework (Code of Practice, ETSI
	// EN 303 645, UK PSTI, EU CRA) and the overall PSTI line.
	Compliance *compliance.Result `json:"compliance,omitempty"`
	// Suppressed are the findings a baseline accepted: moved out of
	// Findings, so they neither fail the run nor the compliance verdicts.
	Suppressed []SuppressedFinding `json:"suppressed,omitempty"`
	// BaselineProblems are baseline entries that expired or matched no
	// finding.
	BaselineProblems []string `json:"baseline_problems,omitempty"`
	// Baseline names the baseline file the scan applied (absent without).
	Baseline *BaselineInfo `json:"baseline,omitempty"`
	// Disabled records the rules the user disabled and how many findings
	// that dropped (absent when none were disabled).
	Disabled *Disabled `json:"disabled,omitempty"`
	// Assessment says whether anything of the image could be assessed.
	Assessment *Assessment `json:"assessment,omitempty"`
	Stats      Stats       `json:"stats"`
}

// Assessment statuses.
const (
	// Assessed: every layer was unpacked and analysed.
	Assessed = "assessed"
	// AssessedPartly: some layers could not be fully unpacked.
	AssessedPartly = "partial"
	// NotAssessed: nothing of the image could be unpacked (empty, text,
	// random or encrypted data, an unsupported container).
	NotAssessed = "not-assessed"
)

// Assessment says whether the image could be assessed.
type Assessment struct {
	Status string `json:"status"`
	// Reason says why the image was not (fully) assessed.
	Reason string `json:"reason,omitempty"`
}

// BaselineInfo identifies the baseline a scan applied.
type BaselineInfo struct {
	// File is the baseline file's name (without folders).
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	// Entries in the file; Suppressed of them matched a finding.
	Entries    int `json:"entries"`
	Suppressed int `json:"suppressed"`
}

// Disabled records rules disabled by the user.
type Disabled struct {
	Rules []string `json:"rules"`
	// Findings dropped because their rule was disabled.
	Findings int `json:"findings"`
}

// SuppressedFinding is a finding accepted by the baseline.
type SuppressedFinding struct {
	Finding       analyzers.Finding `json:"finding"`
	Justification string            `json:"justification"`
	// Expires (YYYY-MM-DD) is the last day the baseline entry applies.
	Expires string `json:"expires,omitempty"`
}

// Tool identifies the fwaudit build that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Image describes the scanned file.
type Image struct {
	// Path is the image's file name as scanned, without the scanning
	// machine's folders (the same as Name).
	Path   string `json:"path"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Component is one software component found in the image (from the SBOM).
type Component struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Type    string   `json:"type"`
	PURL    string   `json:"purl,omitempty"`
	CPEs    []string `json:"cpes"`
	Paths   []string `json:"paths"`
	Layers  []string `json:"layers"`
	// FoundBy names the cataloger that found it.
	FoundBy string `json:"found_by"`
	// Evidence lists, per location, the string that identified it
	// ("/usr/sbin/dropbearmulti: dropbear_2012.55"); empty for package
	// database entries.
	Evidence []string `json:"evidence,omitempty"`
	// Vulnerabilities are the known vulnerabilities grype matched, worst
	// first.
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
	// EOL says whether the component is past its end of life or stale on
	// the scan date (absent when neither, or unknown).
	EOL *EOL `json:"eol,omitempty"`
}

// EOL is a component's end-of-life status.
type EOL struct {
	// Status is EOLEnded ("end-of-life") or EOLStale ("stale").
	Status string `json:"status"`
	// Detail says why ("busybox 1.01 (released 2005-08-17, 21 years before
	// the scan)").
	Detail string `json:"detail"`
	// Finding is the id of the eol-component or stale-component finding.
	Finding string `json:"finding"`
}

// The end-of-life statuses of a component (EOL.Status).
const (
	// EOLEnded: the component's release line reached its end of life.
	EOLEnded = "end-of-life"
	// EOLStale: the component is older than the policy allows.
	EOLStale = "stale"
)

// Vulnerability is one known vulnerability of a component.
type Vulnerability struct {
	ID       string  `json:"id"`
	Severity string  `json:"severity"`
	CVSS     float64 `json:"cvss,omitempty"`
	Fixed    string  `json:"fixed,omitempty"`
	URL      string  `json:"url,omitempty"`
	// Applicability says whether the image contains the vulnerable code
	// (VEX), from the image's own evidence or a user VEX file.
	Applicability *Applicability `json:"applicability,omitempty"`
}

// Applicable reports whether the vulnerability counts against its
// component: affected, under investigation, or not judged.
func (v Vulnerability) Applicable() bool {
	return v.Applicability == nil || v.Applicability.State == "affected" || v.Applicability.State == "under_investigation"
}

// Applicability is the VEX analysis of one vulnerability of one component.
type Applicability struct {
	// State is the OpenVEX status: affected, not_affected,
	// under_investigation or fixed.
	State string `json:"state"`
	// Justification is the OpenVEX justification of not_affected.
	Justification string `json:"justification,omitempty"`
	// Detail says why.
	Detail string `json:"detail"`
	// Evidence is what in the image the decision rests on.
	Evidence []string `json:"evidence,omitempty"`
	// Rule is the rules/vex rule that decided.
	Rule string `json:"rule,omitempty"`
	// Source is the rule's source, or the user VEX file.
	Source string `json:"source,omitempty"`
	// By is "fwaudit" or "user VEX FILE".
	By string `json:"by"`
}

// VulnDB describes the vulnerability database a scan matched against.
type VulnDB struct {
	Source  string `json:"source"`
	Path    string `json:"path"`
	Built   string `json:"built"`
	Schema  string `json:"schema"`
	Records int    `json:"records"`
	// DataDate is the date of the data itself (YYYY-MM-DD): when the
	// embedded feed was read from NVD, or a grype database was built.
	DataDate string `json:"data_date,omitempty"`
	// Summary names the feed and its size ("curated: 215 records for 22
	// components").
	Summary string `json:"summary,omitempty"`
}

// AnalyzerSummary says which analyzers ran and which failed.
type AnalyzerSummary struct {
	Ran      []string            `json:"ran"`
	Failures []analyzers.Failure `json:"failures"`
	// Coverage says, per check, what content it examined (compliance
	// passes an item only when its checks examined something).
	Coverage map[string]analyzers.Coverage `json:"coverage,omitempty"`
}

// Stats are timings and sizes. Timings are in milliseconds; they are the
// only part of the report that changes between identical runs.
type Stats struct {
	ExtractMS    int64            `json:"extract_ms"`
	AnalyzeMS    int64            `json:"analyze_ms"`
	SBOMMS       int64            `json:"sbom_ms"`
	TotalMS      int64            `json:"total_ms"`
	AnalyzerMS   map[string]int64 `json:"analyzer_ms"`
	Layers       int              `json:"layers"`
	Files        int64            `json:"files"`
	BytesOut     int64            `json:"bytes_extracted"`
	FindingCount map[string]int   `json:"findings_by_severity"`
}
