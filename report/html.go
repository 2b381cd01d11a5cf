package report

import (
	"bufio"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

// report.html is one self-contained page for a reader who is not a security
// specialist: inline CSS, no script, no external resource (fonts, images,
// links to other sites are not loaded), expandable evidence with
// <details>. Every string that comes from the image goes through
// html/template's contextual escaping and, before that, through quoteLine
// (control, bidi and invisible characters shown as escapes, invalid UTF-8 as
// \xNN) and a length limit; nothing is ever marked as safe HTML.

//go:embed templates/report.html.tmpl
var htmlTemplates embed.FS

var htmlTmpl = template.Must(template.New("report.html.tmpl").ParseFS(htmlTemplates, "templates/report.html.tmpl"))

// Limits on how much hostile text report.html shows; report.json has it all.
const (
	htmlMaxEvidence = 600
	htmlMaxText     = 300
	htmlMaxMessage  = 1200
	htmlMaxPaths    = 5
	htmlMaxHints    = 20
	// htmlMaxDepth bounds the nesting of the layer tree; deeper layers are
	// shown at this depth.
	htmlMaxDepth = 24
)

// WriteHTML writes report.html. The output is deterministic for a given
// report (no timings, no dates).
func WriteHTML(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	bw := bufio.NewWriter(w)
	if err := htmlTmpl.Execute(bw, htmlModel(r)); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlText makes image-derived text safe to read: one line, control and
// invisible characters escaped, at most max runes. html/template then
// escapes it for its context.
func htmlText(s string, max int) string { return truncate(quoteLine(s), max) }

type htmlView struct {
	Title        string
	ImageName    string
	ImagePath    string
	SHA256       string
	Size         string
	SizeBytes    int64
	Tool         string
	Schema       string
	PSTI         string
	Findings     string
	LayerSummary string
	HasCompl     bool
	CoPName      string
	CoP          []htmlItem
	CoPCounts    htmlCounts
	Others       []htmlCounts
	Severities   []htmlSevCount
	Groups       []htmlGroup
	Components   []htmlComponent
	// NotApplicable are the vulnerabilities the image shows do not apply
	// (or a user VEX accepted), listed folded with the reason.
	NotApplicable    []htmlNA
	VulnDB           string
	Assessment       string
	NotAssessed      string
	HasBaseline      bool
	BaselineFile     string
	BaselineSHA      string
	Accepted         []htmlAccepted
	BaselineProblems []string
	Layers           []*htmlLayer
	Ran              string
	Failures         []htmlFailure
}

// htmlAccepted is a finding accepted by the baseline.
type htmlAccepted struct {
	htmlFinding
	Justification string
	Expires       string
}

type htmlVerdict struct {
	Label string // "FAIL ✗" ...
	Class string // fixed CSS class, never from data
}

type htmlItem struct {
	ID       string
	Title    string
	Verdict  htmlVerdict
	Note     string
	Needs    string
	Checks   string
	Hints    []string
	More     int // hints not shown
	Findings []htmlFinding
	Accepted []htmlFinding
}

type htmlCounts struct {
	Name                                 string
	Fail, Except, Pass, Needs, NotAssess int
}

type htmlSevCount struct {
	Name  string
	Class string
	Count int
}

type htmlGroup struct {
	Title    string
	Class    string
	Findings []htmlFinding
}

type htmlFinding struct {
	Num        int
	ID         string
	Rule       string
	Severity   string
	SevClass   string
	Path       string
	Location   string
	Layer      string
	LayerID    string
	Evidence   string
	Message    string
	Guidelines string
	Analyzer   string
	Missing    bool // the ID is not among the report's findings
}

type htmlNA struct {
	Component string
	ID        string
	Severity  string
	State     string
	Detail    string
	Evidence  []string
}

type htmlComponent struct {
	Name     string
	Version  string
	Type     string
	PURL     string
	Paths    []string
	More     int
	Vulns    int
	NA       int
	Worst    string
	WorstSev string
	SevClass string
	Fixed    string
	EOL      string
	EOLClass string
	EOLNote  string
}

type htmlLayer struct {
	ID       string
	Format   string
	Where    string
	Size     string
	Status   string
	Class    string
	Files    int64
	Details  string
	Error    string
	Children []*htmlLayer
}

type htmlFailure struct {
	Analyzer string
	Error    string
}

// verdictView renders a verdict as text with a symbol, so it reads without
// colour.
func verdictView(v compliance.Verdict) htmlVerdict {
	switch v {
	case compliance.Fail:
		return htmlVerdict{"FAIL ✗", "v-fail"}
	case compliance.Pass:
		return htmlVerdict{"Pass ✓", "v-pass"}
	case compliance.PassWithExceptions:
		return htmlVerdict{"Pass with exceptions !", "v-except"}
	case compliance.NeedsEvidence:
		return htmlVerdict{"Needs evidence ?", "v-needs"}
	}
	return htmlVerdict{"Not assessed –", "v-na"}
}

// sevClass is a fixed CSS class for a severity.
func sevClass(s string) string {
	switch analyzers.Severity(s) {
	case analyzers.Critical, analyzers.High, analyzers.Medium, analyzers.Low, analyzers.Info:
		return "sev-" + s
	}
	return "sev-unknown"
}

func statusView(s extract.Status) (string, string) {
	switch s {
	case extract.StatusOK:
		return "ok ✓", "st-ok"
	case extract.StatusPartial:
		return "partial !", "st-partial"
	case extract.StatusFailed:
		return "failed ✗", "st-failed"
	case extract.StatusUnsupported:
		return "unsupported ?", "st-other"
	case extract.StatusOpaque:
		return "opaque ?", "st-other"
	}
	return htmlText(string(s), 40) + " ?", "st-other"
}

func htmlModel(r *Report) *htmlView {
	name := r.Image.Name
	if name == "" {
		name = r.Image.Path
	}
	schema := r.Schema
	if schema == "" {
		schema = SchemaVersion
	}
	v := &htmlView{
		Title:        htmlText(name, htmlMaxText),
		ImageName:    htmlText(name, htmlMaxText),
		ImagePath:    htmlText(r.Image.Path, htmlMaxText),
		SHA256:       htmlText(r.Image.SHA256, 80),
		Size:         humanSize(r.Image.Size),
		SizeBytes:    r.Image.Size,
		Tool:         htmlText(strings.TrimSpace(r.Tool.Name+" "+r.Tool.Version), 80),
		Schema:       htmlText(schema, 80),
		Findings:     verdict(r),
		LayerSummary: layerSummary(r),
	}
	if a := r.Assessment; a != nil {
		v.Assessment = htmlText(assessmentLine(a), htmlMaxMessage)
		if a.Status == NotAssessed {
			v.NotAssessed = htmlText(a.Reason, htmlMaxMessage)
		}
	}
	accepted := map[string]*analyzers.Finding{}
	if b := r.Baseline; b != nil || len(r.Suppressed) > 0 || len(r.BaselineProblems) > 0 {
		v.HasBaseline = true
		if b != nil {
			v.BaselineFile = htmlText(b.File, htmlMaxText)
			v.BaselineSHA = htmlText(b.SHA256, 80)
		}
		for i := range r.Suppressed {
			s := &r.Suppressed[i]
			accepted[s.Finding.ID] = &s.Finding
			v.Accepted = append(v.Accepted, htmlAccepted{htmlFinding: findingView(&s.Finding, 0),
				Justification: htmlText(s.Justification, htmlMaxMessage), Expires: htmlText(s.Expires, 20)})
		}
		for _, p := range r.BaselineProblems {
			v.BaselineProblems = append(v.BaselineProblems, htmlText(p, htmlMaxMessage))
		}
	}

	byID := map[string]*analyzers.Finding{}
	for i := range r.Findings {
		if id := r.Findings[i].ID; id != "" {
			if _, dup := byID[id]; !dup {
				byID[id] = &r.Findings[i]
			}
		}
	}

	// findings by severity, numbered in report order within the groups
	nums := map[*analyzers.Finding]int{}
	groups, order := groupBySeverity(r.Findings)
	num := 0
	for _, s := range order {
		fs := groups[s]
		if analyzers.Severity(s).Rank() >= 0 {
			v.Severities = append(v.Severities, htmlSevCount{Name: titleCase(s), Class: sevClass(s), Count: len(fs)})
		}
		if len(fs) == 0 {
			continue
		}
		g := htmlGroup{Title: titleCase(s), Class: sevClass(s)}
		if analyzers.Severity(s).Rank() < 0 {
			g.Title = "Unknown severity " + htmlText(s, 40)
			v.Severities = append(v.Severities, htmlSevCount{Name: g.Title, Class: "sev-unknown", Count: len(fs)})
		}
		for _, f := range fs {
			num++
			nums[f] = num
			g.Findings = append(g.Findings, findingView(f, num))
		}
		v.Groups = append(v.Groups, g)
	}

	if c := r.Compliance; c != nil {
		v.HasCompl = true
		v.PSTI = htmlText(strings.TrimPrefix(c.PSTI, "PSTI: "), htmlMaxMessage)
		v.CoPName = frameworkName(rulescompliance.CoP)
		for _, it := range c.Frameworks[rulescompliance.CoP] {
			hi := htmlItem{
				ID:      htmlText(it.ID, 20),
				Title:   htmlText(it.Title, htmlMaxText),
				Verdict: verdictView(it.Verdict),
				Note:    htmlText(it.Note, htmlMaxMessage),
				Needs:   htmlText(it.Needs, htmlMaxMessage),
				Checks:  htmlText(strings.Join(it.Checks, ", "), htmlMaxText),
			}
			for i, h := range it.Hints {
				if i == htmlMaxHints {
					hi.More = len(it.Hints) - htmlMaxHints
					break
				}
				hi.Hints = append(hi.Hints, htmlText(h, htmlMaxText))
			}
			for _, id := range it.Findings {
				if f, ok := byID[id]; ok {
					hi.Findings = append(hi.Findings, findingView(f, nums[f]))
				} else {
					hi.Findings = append(hi.Findings, htmlFinding{ID: htmlText(id, 40), Missing: true})
				}
			}
			for _, id := range it.Accepted {
				if f, ok := accepted[id]; ok {
					hi.Accepted = append(hi.Accepted, findingView(f, 0))
				}
			}
			v.CoP = append(v.CoP, hi)
		}
		v.CoPCounts = countsOf(rulescompliance.CoP, c.Frameworks[rulescompliance.CoP])
		for _, fw := range c.Order {
			if fw == rulescompliance.CoP {
				continue
			}
			v.Others = append(v.Others, countsOf(fw, c.Frameworks[fw]))
		}
	}

	v.Components = componentViews(r)
	v.NotApplicable = notApplicableViews(r)
	if db := r.VulnDB; db != nil {
		d := fmt.Sprintf("%s, built %s, %d records", db.Source, db.Built, db.Records)
		if db.Summary != "" {
			d = fmt.Sprintf("%s (%s, data of %s; database built %s)", db.Source, db.Summary, db.DataDate, db.Built)
		}
		v.VulnDB = htmlText(d+"; only those that apply to this image are counted", htmlMaxText)
	}
	v.Layers = layerViews(r.Layers)
	ran := make([]string, 0, len(r.Analyzers.Ran))
	for _, a := range r.Analyzers.Ran {
		ran = append(ran, htmlText(a, 60))
	}
	v.Ran = strings.Join(ran, ", ")
	if v.Ran == "" {
		v.Ran = "none"
	}
	for _, fl := range r.Analyzers.Failures {
		v.Failures = append(v.Failures, htmlFailure{Analyzer: htmlText(fl.Analyzer, 60), Error: htmlText(fl.Error, htmlMaxEvidence)})
	}
	return v
}

// frameworkName is the framework's full name from the embedded rules, or
// its id.
func frameworkName(id string) string {
	if fw := rulescompliance.Default().Framework(id); fw != nil && fw.Name != "" {
		return fw.Name
	}
	return htmlText(strings.ToUpper(id), 40)
}

func countsOf(fw string, items []compliance.Item) htmlCounts {
	c := htmlCounts{Name: frameworkName(fw)}
	for _, it := range items {
		switch it.Verdict {
		case compliance.Fail:
			c.Fail++
		case compliance.Pass:
			c.Pass++
		case compliance.PassWithExceptions:
			c.Except++
		case compliance.NeedsEvidence:
			c.Needs++
		default:
			c.NotAssess++
		}
	}
	return c
}

func findingView(f *analyzers.Finding, num int) htmlFinding {
	return htmlFinding{
		Num:        num,
		ID:         htmlText(f.ID, 40),
		Rule:       htmlText(f.Rule, htmlMaxText),
		Severity:   htmlText(string(f.Severity), 40),
		SevClass:   sevClass(string(f.Severity)),
		Path:       htmlText(f.Path, htmlMaxText),
		Location:   location(f),
		Layer:      htmlText(f.Layer, htmlMaxText),
		LayerID:    htmlText(f.LayerID, 40),
		Evidence:   htmlText(f.Evidence, htmlMaxEvidence),
		Message:    htmlText(f.Message, htmlMaxMessage),
		Guidelines: cop(f.Guidelines),
		Analyzer:   htmlText(f.Analyzer, 60),
	}
}

// componentViews lists the components with their known vulnerabilities and
// end-of-life status, as the scan's component enrichment set them on each
// component (Component.Vulnerabilities, Component.EOL).
func componentViews(r *Report) []htmlComponent {
	// the end-of-life note is the message of the finding the status links
	// to, reported or accepted by a baseline
	messages := map[string]string{}
	for _, f := range r.Findings {
		messages[f.ID] = f.Message
	}
	for _, s := range r.Suppressed {
		if _, ok := messages[s.Finding.ID]; !ok {
			messages[s.Finding.ID] = s.Finding.Message
		}
	}
	out := make([]htmlComponent, 0, len(r.Components))
	for _, c := range r.Components {
		hc := htmlComponent{
			Name:    htmlText(c.Name, htmlMaxText),
			Version: htmlText(c.Version, 80),
			Type:    htmlText(c.Type, 40),
			PURL:    htmlText(c.PURL, htmlMaxText),
		}
		app, na := splitApplicable(c.Vulnerabilities)
		hc.Vulns, hc.NA = len(app), len(na)
		for i, p := range c.Paths {
			if i == htmlMaxPaths {
				hc.More = len(c.Paths) - htmlMaxPaths
				break
			}
			hc.Paths = append(hc.Paths, htmlText(p, htmlMaxText))
		}
		if len(app) > 0 {
			w := worstOf(app)
			hc.Worst = htmlText(w.ID, 60)
			hc.WorstSev = htmlText(w.Severity, 40)
			if w.CVSS > 0 {
				hc.WorstSev += fmt.Sprintf(", CVSS %.1f", w.CVSS)
			}
			hc.SevClass = sevClass(strings.ToLower(w.Severity))
			fixed := 0
			for _, vu := range app {
				if vu.Fixed != "" {
					fixed++
				}
			}
			hc.Fixed = fmt.Sprintf("%d of %d", fixed, len(app))
			if w.Fixed != "" {
				hc.Fixed += "; worst fixed in " + htmlText(w.Fixed, 80)
			}
		}
		if e := c.EOL; e != nil {
			switch e.Status {
			case EOLEnded:
				hc.EOL, hc.EOLClass = "End of life ✗", "v-fail"
			default:
				hc.EOL, hc.EOLClass = "Outdated !", "v-needs"
			}
			note, ok := messages[e.Finding]
			if !ok {
				note = e.Detail
			}
			hc.EOLNote = htmlText(note, htmlMaxText)
		}
		out = append(out, hc)
	}
	return out
}

// notApplicableViews lists every vulnerability that does not count, with
// its reason and evidence.
func notApplicableViews(r *Report) []htmlNA {
	var out []htmlNA
	for _, c := range r.Components {
		_, na := splitApplicable(c.Vulnerabilities)
		for _, v := range na {
			a := v.Applicability
			st := a.State
			if a.Justification != "" {
				st += " (" + a.Justification + ")"
			}
			h := htmlNA{
				Component: htmlText(c.Name+" "+c.Version, htmlMaxText),
				ID:        htmlText(v.ID, 60),
				Severity:  htmlText(v.Severity, 40),
				State:     htmlText(st, 120),
				Detail:    htmlText(a.Detail, htmlMaxText),
			}
			for _, e := range a.Evidence {
				h.Evidence = append(h.Evidence, htmlText(e, htmlMaxText))
			}
			out = append(out, h)
		}
	}
	return out
}

// layerViews nests the layers as a tree (see layerTree).
func layerViews(layers []*extract.Layer) []*htmlLayer {
	var roots []*htmlLayer
	var stack []*htmlLayer // stack[i] is the last node at level i
	for _, n := range layerTree(layers) {
		l := n.Layer
		status, class := statusView(l.Status)
		hl := &htmlLayer{
			ID:     htmlText(l.ID, 40),
			Format: htmlText(l.Format, 60),
			Size:   humanSize(l.Size),
			Status: status,
			Class:  class,
			Files:  l.Files,
			Error:  htmlText(l.Error, htmlMaxText),
		}
		var where []string
		if l.Format != "image" {
			where = append(where, fmt.Sprintf("at 0x%x", l.Offset))
		}
		if l.Source != "" {
			where = append(where, "in "+htmlText(l.Source, htmlMaxText))
		}
		hl.Where = strings.Join(where, " ")
		var details []string
		if l.Entropy > 0 {
			details = append(details, fmt.Sprintf("entropy %.2f bits/byte", l.Entropy))
		}
		if k := len(l.Anomalies); k > 0 {
			details = append(details, fmt.Sprintf("%d %s", k, plural(k, "anomaly", "anomalies")))
		}
		hl.Details = strings.Join(details, ", ")

		level := min(n.level, htmlMaxDepth, len(stack))
		stack = append(stack[:level], hl)
		if level == 0 {
			roots = append(roots, hl)
		} else {
			p := stack[level-1]
			p.Children = append(p.Children, hl)
		}
	}
	return roots
}
