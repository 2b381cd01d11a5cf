package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
)

// Limits on how much hostile text report.md shows; report.json has it all.
const (
	mdMaxEvidence = 400
	mdMaxText     = 300
	mdMaxMessage  = 1000
	mdMaxPaths    = 3
)

// WriteMarkdown writes report.md: a summary with the verdict, the layer
// tree, the findings grouped by severity, the components, the analyzers and
// the statistics, timings last (they are the only part that differs between
// two runs over the same image). All text taken from the image is escaped so
// that it cannot change the document's structure.
func WriteMarkdown(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	bw := bufio.NewWriter(w)
	m := &mdWriter{w: bw}
	m.summary(r)
	m.compliance(r)
	m.layers(r)
	m.findings(r)
	m.baseline(r)
	m.components(r)
	m.analyzers(r)
	m.stats(r)
	if m.err != nil {
		return m.err
	}
	return bw.Flush()
}

type mdWriter struct {
	w   *bufio.Writer
	err error
}

func (m *mdWriter) f(format string, a ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, a...)
	}
}

func (m *mdWriter) summary(r *Report) {
	name := r.Image.Name
	if name == "" {
		name = r.Image.Path
	}
	m.f("# fwaudit report: %s\n\n", mdCodeMax(name, false, mdMaxText))
	if a := r.Assessment; a != nil && a.Status == NotAssessed {
		m.f("> **This image could not be assessed:** %s. No guideline can pass; the findings below cover only what could be read.\n\n", mdText(a.Reason))
	}
	if b := r.Baseline; b != nil && len(r.Suppressed) > 0 {
		m.f("> **%d %s accepted by the baseline** %s (SHA-256 %s): listed under \"Accepted by the baseline\"; guidelines they would fail are marked pass with exceptions.\n\n",
			len(r.Suppressed), plural(len(r.Suppressed), "finding", "findings"), mdCodeMax(b.File, false, mdMaxText), mdCode(b.SHA256, false))
	}
	m.f("- **SHA-256:** %s\n", mdCode(r.Image.SHA256, false))
	m.f("- **Size:** %s (%d bytes)\n", humanSize(r.Image.Size), r.Image.Size)
	m.f("- **Tool:** %s %s\n", mdText(r.Tool.Name), mdText(r.Tool.Version))
	schema := r.Schema
	if schema == "" {
		schema = SchemaVersion
	}
	m.f("- **Report schema:** %s\n", mdText(schema))
	if a := r.Assessment; a != nil {
		m.f("- **Assessment:** %s\n", mdText(assessmentLine(a)))
	}
	m.f("- **Verdict:** %s\n", verdict(r))
	if n := len(r.Suppressed); n > 0 {
		m.f("- **Accepted by the baseline:** %d %s (not counted above)\n", n, plural(n, "finding", "findings"))
	}
	if d := r.Disabled; d != nil {
		m.f("- **Disabled rules:** %s (%d %s dropped)\n", mdCodeMax(strings.Join(d.Rules, ", "), false, mdMaxText), d.Findings, plural(d.Findings, "finding", "findings"))
	}
	m.f("- **Layers:** %s\n", layerSummary(r))
	m.f("- **Components:** %d\n", len(r.Components))
	if n := len(r.Analyzers.Failures); n > 0 {
		m.f("- **Analyzer failures:** %d (see Analyzers)\n", n)
	}
	m.f("\n")
}

func (m *mdWriter) layers(r *Report) {
	m.f("## Layers\n\n")
	nodes := layerTree(r.Layers)
	if len(nodes) == 0 {
		m.f("No layers.\n\n")
		return
	}
	for _, n := range nodes {
		l := n.Layer
		m.f("%s- **%s**", strings.Repeat("  ", n.level), mdText(l.Format))
		if l.Format != "image" {
			m.f(" at 0x%x", l.Offset)
		}
		if l.Source != "" {
			m.f(" in %s", mdCodeMax(l.Source, false, mdMaxText))
		}
		m.f(": %s", humanSize(l.Size))
		if l.Status == extract.StatusOK {
			m.f(", ok")
		} else {
			m.f(", **%s**", mdText(string(l.Status)))
		}
		m.f(", %d %s", l.Files, plural(int(min(l.Files, 2)), "file", "files"))
		if l.Entropy > 0 {
			m.f(", entropy %.2f bits/byte", l.Entropy)
		}
		if n := len(l.Anomalies); n > 0 {
			m.f(", %d %s", n, plural(n, "anomaly", "anomalies"))
		}
		if l.ID != "" {
			m.f(" (%s)", mdText(l.ID))
		}
		if l.Error != "" {
			m.f(": %s", mdCodeMax(l.Error, false, mdMaxText))
		}
		m.f("\n")
	}
	m.f("\nLayer paths in findings chain the formats and offsets from the image down, e.g. `squashfs@0x100000 > /boot/initrd.gz > gzip@0x0`.\n\n")
}

func (m *mdWriter) findings(r *Report) {
	m.f("## Findings\n\n")
	if len(r.Findings) == 0 {
		m.f("No findings.\n\n")
		return
	}
	groups, order := groupBySeverity(r.Findings)
	num := 0
	for _, s := range order {
		fs := groups[s]
		if len(fs) == 0 {
			continue
		}
		title := titleCase(s)
		if analyzers.Severity(s).Rank() < 0 {
			title = "Unknown severity " + mdCodeMax(s, false, 40)
		}
		m.f("### %s (%d)\n\n", title, len(fs))
		for _, f := range fs {
			num++
			m.finding(num, f)
		}
	}
}

func (m *mdWriter) finding(num int, f *analyzers.Finding) {
	m.f("#### %d. %s", num, mdCodeMax(f.Rule, false, mdMaxText))
	if f.ID != "" {
		m.f(" (%s)", mdText(f.ID))
	}
	m.f("\n\n")
	path := "*(none)*"
	if f.Path != "" {
		path = mdCodeMax(f.Path, false, mdMaxText)
	}
	if loc := location(f); loc != "" {
		path += ", " + loc
	}
	m.f("- **Path:** %s\n", path)
	m.f("- **Layer:** %s", mdCodeMax(f.Layer, false, mdMaxText))
	if f.LayerID != "" {
		m.f(" (%s)", mdText(f.LayerID))
	}
	m.f("\n")
	m.f("- **Evidence:** %s\n", mdCodeMax(f.Evidence, false, mdMaxEvidence))
	m.f("- **Message:** %s\n", mdText(truncate(f.Message, mdMaxMessage)))
	if len(f.Guidelines) > 0 {
		m.f("- **Guidelines:** %s\n", cop(f.Guidelines))
	}
	m.f("- **Analyzer:** %s", mdText(f.Analyzer))
	if f.Category != "" {
		m.f(" (category %s)", mdText(f.Category))
	}
	m.f("\n")
	if f.Fingerprint != "" {
		m.f("- **Fingerprint:** %s\n", mdCode(f.Fingerprint, false))
	}
	m.f("\n")
}

func (m *mdWriter) components(r *Report) {
	m.f("## Components\n\n")
	if db := r.VulnDB; db != nil {
		m.f("Known vulnerabilities from the %s", mdText(db.Source))
		if db.Summary != "" {
			m.f(" (%s", mdText(db.Summary))
			if db.DataDate != "" {
				m.f(", data of %s", mdText(db.DataDate))
			}
			m.f(")")
		}
		m.f(", judged against the image's own evidence (VEX): only the applicable ones are counted.\n\n")
	}
	if len(r.Components) == 0 {
		m.f("No components found.\n\n")
		return
	}
	m.f("| Name | Version | Type | PURL | Known vulnerabilities | Paths |\n")
	m.f("|---|---|---|---|---|---|\n")
	for _, c := range r.Components {
		paths := make([]string, 0, mdMaxPaths+1)
		for i, p := range c.Paths {
			if i == mdMaxPaths {
				paths = append(paths, fmt.Sprintf("(+%d more)", len(c.Paths)-mdMaxPaths))
				break
			}
			paths = append(paths, mdCodeMax(p, true, mdMaxText))
		}
		vulns := ""
		app, na := splitApplicable(c.Vulnerabilities)
		if n := len(app); n > 0 {
			w := worstOf(app)
			vulns = fmt.Sprintf("%d, worst %s (%s)", n, cell(w.ID), cell(w.Severity))
		}
		if len(na) > 0 {
			if vulns != "" {
				vulns += "; "
			}
			vulns += fmt.Sprintf("%d not applicable", len(na))
		}
		m.f("| %s | %s | %s | %s | %s | %s |\n",
			cell(c.Name), cell(c.Version), cell(c.Type), cell(c.PURL), vulns, strings.Join(paths, ", "))
	}
	m.f("\n")
	m.notApplicable(r)
}

// splitApplicable splits a component's vulnerabilities into those that
// count (affected, under investigation) and those that do not, keeping
// their order (worst first).
func splitApplicable(vs []Vulnerability) (app, na []Vulnerability) {
	for _, v := range vs {
		if v.Applicable() {
			app = append(app, v)
		} else {
			na = append(na, v)
		}
	}
	return app, na
}

// worstOf is the first (worst) vulnerability the image shows is there,
// else the first under investigation.
func worstOf(app []Vulnerability) Vulnerability {
	for _, v := range app {
		if v.Applicability == nil || v.Applicability.State == "affected" {
			return v
		}
	}
	return app[0]
}

// notApplicable lists, folded, the vulnerabilities matched on a version
// that the image shows do not apply (or a user VEX file accepted), each
// with the reason and the evidence: shown, never hidden.
func (m *mdWriter) notApplicable(r *Report) {
	n := 0
	for _, c := range r.Components {
		_, na := splitApplicable(c.Vulnerabilities)
		n += len(na)
	}
	if n == 0 {
		return
	}
	m.f("<details><summary>Not applicable to this image: %d known vulnerabilit%s (the vulnerable code is not in the image, or a user VEX file accepted it)</summary>\n\n", n, plural(n, "y", "ies"))
	m.f("| Component | Vulnerability | Severity | State | Why | Evidence |\n")
	m.f("|---|---|---|---|---|---|\n")
	for _, c := range r.Components {
		_, na := splitApplicable(c.Vulnerabilities)
		for _, v := range na {
			a := v.Applicability
			state := mdText(a.State)
			if a.Justification != "" {
				state += " (" + mdText(a.Justification) + ")"
			}
			ev := make([]string, 0, len(a.Evidence))
			for _, e := range a.Evidence {
				ev = append(ev, mdText(truncate(e, mdMaxEvidence)))
			}
			m.f("| %s | %s | %s | %s | %s | %s |\n", cell(c.Name+" "+c.Version), cell(v.ID), cell(v.Severity), state,
				mdText(truncate(a.Detail, mdMaxEvidence)), strings.Join(ev, "; "))
		}
	}
	m.f("\n</details>\n\n")
}

// cell renders a table cell: a code span, or nothing for an empty value.
func cell(s string) string {
	if s == "" {
		return ""
	}
	return mdCodeMax(s, true, mdMaxText)
}

func (m *mdWriter) analyzers(r *Report) {
	m.f("## Analyzers\n\n")
	ran := make([]string, len(r.Analyzers.Ran))
	for i, a := range r.Analyzers.Ran {
		ran[i] = mdText(a)
	}
	if len(ran) == 0 {
		ran = []string{"none"}
	}
	m.f("- **Ran:** %s\n", strings.Join(ran, ", "))
	if len(r.Analyzers.Failures) == 0 {
		m.f("- **Failed:** none\n\n")
		return
	}
	m.f("- **Failed:**\n")
	for _, fl := range r.Analyzers.Failures {
		m.f("  - %s: %s\n", mdText(fl.Analyzer), mdCodeMax(fl.Error, false, mdMaxEvidence))
	}
	m.f("\n")
}

func (m *mdWriter) stats(r *Report) {
	s := r.Stats
	m.f("## Statistics\n\n")
	m.f("- **Layers:** %d\n", s.Layers)
	m.f("- **Files extracted:** %d\n", s.Files)
	m.f("- **Bytes extracted:** %s (%d bytes)\n", humanSize(s.BytesOut), s.BytesOut)
	m.f("\n## Timings\n\n")
	m.f("| Stage | ms |\n|---|---:|\n")
	m.f("| extract | %d |\n| analyze | %d |\n| sbom | %d |\n| total | %d |\n", s.ExtractMS, s.AnalyzeMS, s.SBOMMS, s.TotalMS)
	names := make([]string, 0, len(s.AnalyzerMS))
	for k := range s.AnalyzerMS {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		m.f("| analyzer %s | %d |\n", mdText(k), s.AnalyzerMS[k])
	}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// verdictLabel renders a verdict with a marker, so it reads without colour.
func verdictLabel(v compliance.Verdict) string {
	switch v {
	case compliance.Fail:
		return "**FAIL**"
	case compliance.Pass:
		return "pass"
	case compliance.PassWithExceptions:
		return "**pass with exceptions** (accepted by baseline)"
	case compliance.NeedsEvidence:
		return "needs evidence"
	default:
		return "not assessed"
	}
}

// compliance writes the verdict table for the Code of Practice and the
// PSTI line, then per framework the counts.
func (m *mdWriter) compliance(r *Report) {
	c := r.Compliance
	if c == nil {
		return
	}
	m.f("## Compliance\n\n")
	if c.PSTI != "" {
		m.f("**UK PSTI:** %s\n\n", mdText(strings.TrimPrefix(c.PSTI, "PSTI: ")))
	}
	if items := c.Frameworks["cop"]; len(items) > 0 {
		m.f("UK Code of Practice for Consumer IoT Security — verdicts are about this image, not the whole product.\n\n")
		m.f("| # | Guideline | Verdict | Why |\n|---|---|---|---|\n")
		for _, it := range items {
			why := it.Note
			if it.Verdict == compliance.NeedsEvidence && it.Needs != "" {
				why = "Needs: " + it.Needs
			}
			if len(why) > 300 {
				why = why[:300] + "…"
			}
			m.f("| %s | %s | %s | %s |\n", mdText(it.ID), mdText(it.Title), verdictLabel(it.Verdict), mdText(why))
		}
		m.f("\n")
	}
	m.guidelineDetails(r)
	for _, fw := range c.Order {
		if fw == "cop" {
			continue
		}
		counts := map[compliance.Verdict]int{}
		for _, it := range c.Frameworks[fw] {
			counts[it.Verdict]++
		}
		m.f("- **%s:** %d fail, %d pass with exceptions, %d pass, %d need evidence, %d not assessed (details in report.json)\n",
			mdText(strings.ToUpper(fw)), counts[compliance.Fail], counts[compliance.PassWithExceptions], counts[compliance.Pass], counts[compliance.NeedsEvidence], counts[compliance.NotAssessed])
	}
	m.f("\n")
}

// guidelineDetails writes, per Code of Practice guideline that fails or
// needs evidence, its evidence (paths, layers, redacted excerpts) and what
// to fix or supply.
func (m *mdWriter) guidelineDetails(r *Report) {
	byID := map[string]*analyzers.Finding{}
	for i := range r.Findings {
		byID[r.Findings[i].ID] = &r.Findings[i]
	}
	for _, it := range r.Compliance.Frameworks["cop"] {
		switch it.Verdict {
		case compliance.Fail:
			m.f("### Guideline %s — %s: %s\n\n", mdText(it.ID), mdText(it.Title), verdictLabel(it.Verdict))
			const most = 5
			for i, id := range it.Findings {
				if i == most {
					m.f("- … and %d more (see Findings)\n", len(it.Findings)-most)
					break
				}
				f := byID[id]
				if f == nil {
					continue
				}
				where := mdCode(f.Path, false)
				if f.Path == "" {
					// a finding on a layer itself (a container header)
					where = "the layer itself"
				}
				if f.Line > 0 {
					where += fmt.Sprintf(", line %d", f.Line)
				} else if f.Offset != nil {
					where += fmt.Sprintf(", offset 0x%x", *f.Offset)
				}
				m.f("- **%s** `%s` at %s (layer %s): %s\n", mdText(string(f.Severity)), f.ID, where, mdCode(f.Layer, false), mdCodeMax(f.Evidence, false, mdMaxText))
			}
			if len(it.Findings) > 0 {
				if f := byID[it.Findings[0]]; f != nil {
					m.f("\n  What to fix: %s\n", mdText(f.Message))
				}
			}
			m.f("\n")
		case compliance.PassWithExceptions:
			m.f("### Guideline %s — %s: %s\n\n", mdText(it.ID), mdText(it.Title), verdictLabel(it.Verdict))
			m.f("It would fail; these findings were accepted by the baseline (see \"Accepted by the baseline\"):\n\n")
			for _, id := range it.Accepted {
				m.f("- `%s`%s\n", mdText(id), acceptedWhy(r, id))
			}
			m.f("\n")
		case compliance.NeedsEvidence:
			if it.Needs == "" {
				continue
			}
			m.f("### Guideline %s — %s: %s\n\n", mdText(it.ID), mdText(it.Title), verdictLabel(it.Verdict))
			m.f("The manufacturer must supply: %s\n", mdText(it.Needs))
			if len(it.Hints) > 0 {
				m.f("\nWhat the image contains towards it:\n\n")
				for _, h := range it.Hints {
					m.f("- %s\n", mdCode(h, false))
				}
			}
			m.f("\n")
		}
	}
}

// assessmentLine renders the assessment for the summary.
func assessmentLine(a *Assessment) string {
	switch a.Status {
	case NotAssessed:
		return "NOT ASSESSED: " + a.Reason
	case AssessedPartly:
		return "partial: " + a.Reason
	}
	return "assessed (every layer unpacked and analysed)"
}

// acceptedWhy renders an accepted finding's rule, path and justification.
func acceptedWhy(r *Report, id string) string {
	for _, s := range r.Suppressed {
		if s.Finding.ID == id {
			return fmt.Sprintf(" %s at %s — %s", mdText(s.Finding.Rule), mdCode(s.Finding.Path, false), mdText(truncate(s.Justification, mdMaxText)))
		}
	}
	return ""
}
