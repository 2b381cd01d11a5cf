// Package reportdiff compares two fwaudit reports of the same product —
// typically two firmware releases — and says what changed: findings new,
// fixed and unchanged, component versions, CVEs fixed and introduced, and
// compliance verdicts. A manufacturer's CI asks "does this release add
// anything?" (Diff.New, with a severity gate on new findings only); a
// retailer asks "did the supplier's update fix it?" (Diff.Fixed, CVEs
// fixed, verdict changes).
//
// Findings are matched by an identity that survives a new release: the
// rule, the path inside the image and the secret's or item's fingerprint —
// not the line number, the byte offset or the layer offsets, which move
// whenever anything before them changes. Where a finding has no path (a
// container header, an extraction note), the layer's format chain without
// offsets stands in for it ("tplink > uimage"). Several findings with one
// identity are paired in order; the surplus is new or fixed.
package reportdiff

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/report"
)

// SchemaVersion names the JSON layout of a Diff.
const SchemaVersion = "fwaudit.diff/v1"

// Diff is what changed from Old to New.
type Diff struct {
	Schema string `json:"schema"`
	Old    Side   `json:"old"`
	New    Side   `json:"new"`
	// Findings: New are in the new report only, Fixed in the old only,
	// Unchanged in both (shown as they are in the new report).
	Findings FindingChanges `json:"findings"`
	// Components whose versions changed, appeared or disappeared.
	Components []ComponentChange `json:"components"`
	// CVEs fixed (matched in the old report only) and introduced (in the
	// new only), by CVE and component.
	CVEs CVEChanges `json:"cves"`
	// Verdicts lists every Code of Practice guideline (changed or not) and
	// the items of the other frameworks whose verdict changed.
	Verdicts []VerdictChange `json:"verdicts"`
}

// Side names one of the two reports.
type Side struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	Tool      string `json:"tool"`
	Findings  int    `json:"findings"`
	Accepted  int    `json:"accepted"`
	Component int    `json:"components"`
}

// Finding is a finding as the diff shows it.
type Finding struct {
	// Key is the identity the two reports were matched by.
	Key string `json:"key"`
	analyzers.Finding
	// Accepted is true when a baseline accepted the finding (it is in the
	// report's suppressed list).
	Accepted bool `json:"accepted,omitempty"`
	// OldID is the finding's id in the old report (unchanged findings),
	// which differs from ID when the line or offset moved.
	OldID string `json:"old_id,omitempty"`
}

// FindingChanges groups findings by what happened to them.
type FindingChanges struct {
	New       []Finding `json:"new"`
	Fixed     []Finding `json:"fixed"`
	Unchanged []Finding `json:"unchanged"`
}

// ComponentChange is one component's versions in both reports.
type ComponentChange struct {
	Name string `json:"name"`
	// Change is "added", "removed" or "changed".
	Change string   `json:"change"`
	Old    []string `json:"old"`
	New    []string `json:"new"`
}

// CVE is one vulnerability of one component.
type CVE struct {
	ID        string  `json:"id"`
	Component string  `json:"component"`
	Version   string  `json:"version"`
	Severity  string  `json:"severity"`
	CVSS      float64 `json:"cvss,omitempty"`
	Fixed     string  `json:"fixed_in,omitempty"`
}

// CVEChanges are vulnerabilities fixed and introduced.
type CVEChanges struct {
	Fixed      []CVE `json:"fixed"`
	Introduced []CVE `json:"introduced"`
	// Unchanged counts the vulnerabilities matched in both.
	Unchanged int `json:"unchanged"`
}

// VerdictChange is one compliance item's verdict in both reports.
type VerdictChange struct {
	Framework string             `json:"framework"`
	ID        string             `json:"id"`
	Title     string             `json:"title"`
	Old       compliance.Verdict `json:"old"`
	New       compliance.Verdict `json:"new"`
	Changed   bool               `json:"changed"`
}

var offsets = regexp.MustCompile(`@0x[0-9a-fA-F]+`)

// Key is a finding's identity across releases: rule, path (or the layer's
// format chain without offsets) and fingerprint.
func Key(f *analyzers.Finding) string {
	where := f.Path
	if where == "" {
		where = "layer:" + offsets.ReplaceAllString(f.Layer, "")
	}
	return f.Rule + "|" + where + "|" + f.Fingerprint
}

func findings(r *report.Report) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		out = append(out, Finding{Key: Key(&f), Finding: f})
	}
	for _, s := range r.Suppressed {
		out = append(out, Finding{Key: Key(&s.Finding), Finding: s.Finding, Accepted: true})
	}
	// pair in a stable order: line, offset, id
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.ID < b.ID
	})
	return out
}

// Compare compares two reports.
func Compare(old, new *report.Report) (*Diff, error) {
	if old == nil || new == nil {
		return nil, fmt.Errorf("reportdiff: nil report")
	}
	d := &Diff{Schema: SchemaVersion, Old: side(old), New: side(new),
		Findings:   FindingChanges{New: []Finding{}, Fixed: []Finding{}, Unchanged: []Finding{}},
		Components: []ComponentChange{}, CVEs: CVEChanges{Fixed: []CVE{}, Introduced: []CVE{}}, Verdicts: []VerdictChange{}}

	byKey := map[string][]Finding{}
	for _, f := range findings(old) {
		byKey[f.Key] = append(byKey[f.Key], f)
	}
	for _, f := range findings(new) {
		if olds := byKey[f.Key]; len(olds) > 0 {
			f.OldID = olds[0].ID
			byKey[f.Key] = olds[1:]
			d.Findings.Unchanged = append(d.Findings.Unchanged, f)
			continue
		}
		d.Findings.New = append(d.Findings.New, f)
	}
	for _, fs := range byKey {
		d.Findings.Fixed = append(d.Findings.Fixed, fs...)
	}
	for _, l := range [][]Finding{d.Findings.New, d.Findings.Fixed, d.Findings.Unchanged} {
		sortFindings(l)
	}

	d.Components = components(old, new)
	d.CVEs = cves(old, new)
	d.Verdicts = verdicts(old, new)
	return d, nil
}

func side(r *report.Report) Side {
	return Side{Name: r.Image.Name, SHA256: r.Image.SHA256, Tool: r.Tool.Name + " " + r.Tool.Version,
		Findings: len(r.Findings), Accepted: len(r.Suppressed), Component: len(r.Components)}
}

// sortFindings: worst first, then rule, path, key.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.ID < b.ID
	})
}

func components(old, new *report.Report) []ComponentChange {
	versions := func(r *report.Report) map[string][]string {
		m := map[string][]string{}
		for _, c := range r.Components {
			if !slices.Contains(m[c.Name], c.Version) {
				m[c.Name] = append(m[c.Name], c.Version)
			}
		}
		for k := range m {
			slices.Sort(m[k])
		}
		return m
	}
	o, n := versions(old), versions(new)
	names := map[string]bool{}
	for k := range o {
		names[k] = true
	}
	for k := range n {
		names[k] = true
	}
	out := []ComponentChange{}
	for name := range names {
		ov, nv := o[name], n[name]
		switch {
		case ov == nil:
			out = append(out, ComponentChange{Name: name, Change: "added", Old: []string{}, New: nv})
		case nv == nil:
			out = append(out, ComponentChange{Name: name, Change: "removed", Old: ov, New: []string{}})
		case !slices.Equal(ov, nv):
			out = append(out, ComponentChange{Name: name, Change: "changed", Old: ov, New: nv})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func cves(old, new *report.Report) CVEChanges {
	list := func(r *report.Report) map[string]CVE {
		m := map[string]CVE{}
		for _, c := range r.Components {
			for _, v := range c.Vulnerabilities {
				m[v.ID+"|"+c.Name] = CVE{ID: v.ID, Component: c.Name, Version: c.Version, Severity: v.Severity, CVSS: v.CVSS, Fixed: v.Fixed}
			}
		}
		return m
	}
	o, n := list(old), list(new)
	out := CVEChanges{Fixed: []CVE{}, Introduced: []CVE{}}
	for k, v := range o {
		if nv, ok := n[k]; ok {
			_ = nv
			out.Unchanged++
		} else {
			out.Fixed = append(out.Fixed, v)
		}
	}
	for k, v := range n {
		if _, ok := o[k]; !ok {
			out.Introduced = append(out.Introduced, v)
		}
	}
	for _, l := range [][]CVE{out.Fixed, out.Introduced} {
		sort.Slice(l, func(i, j int) bool {
			a, b := l[i], l[j]
			if a.CVSS != b.CVSS {
				return a.CVSS > b.CVSS
			}
			if a.ID != b.ID {
				return a.ID < b.ID
			}
			return a.Component < b.Component
		})
	}
	return out
}

func verdicts(old, new *report.Report) []VerdictChange {
	out := []VerdictChange{}
	if old.Compliance == nil || new.Compliance == nil {
		return out
	}
	for _, fw := range new.Compliance.Order {
		prev := map[string]compliance.Verdict{}
		for _, it := range old.Compliance.Frameworks[fw] {
			prev[it.ID] = it.Verdict
		}
		for _, it := range new.Compliance.Frameworks[fw] {
			was, ok := prev[it.ID]
			if !ok {
				was = "absent"
			}
			changed := was != it.Verdict
			if changed || fw == "cop" {
				out = append(out, VerdictChange{Framework: fw, ID: it.ID, Title: it.Title, Old: was, New: it.Verdict, Changed: changed})
			}
		}
	}
	return out
}

// Severities are the values --fail-on accepts, worst first, then "none".
var Severities = []string{"critical", "high", "medium", "low", "info", "none"}

// ParseFailOn parses a --fail-on value; the error lists every accepted
// value.
func ParseFailOn(s string) (analyzers.Severity, bool, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "none" {
		return "", false, nil
	}
	if analyzers.Severity(v).Rank() < 0 {
		return "", false, fmt.Errorf("--fail-on %q: want one of %s", s, strings.Join(Severities, ", "))
	}
	return analyzers.Severity(v), true, nil
}

// Gate returns the new findings (not accepted by a baseline) at or above
// sev: only what the new release adds can fail a diff.
func (d *Diff) Gate(sev analyzers.Severity) []Finding {
	var out []Finding
	for _, f := range d.Findings.New {
		if !f.Accepted && f.Severity.Rank() >= sev.Rank() {
			out = append(out, f)
		}
	}
	return out
}
