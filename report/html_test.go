package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
)

// hostileHTML is markup a malicious image can put into any string.
const hostileHTML = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">`

// complianceFixture is fixture() with compliance verdicts, known
// vulnerabilities and an end-of-life finding: the fixed report behind
// report.html's golden file.
func complianceFixture() *Report {
	r := fixture()
	r.Components[0].Vulnerabilities = []Vulnerability{
		{ID: "CVE-2022-48174", Severity: "Critical", CVSS: 9.8, Fixed: "1.36.1", URL: "https://nvd.nist.gov/vuln/detail/CVE-2022-48174"},
		{ID: "CVE-2021-42386", Severity: "High", CVSS: 7.2, Fixed: "1.34.0"},
		{ID: "CVE-2021-42373", Severity: "Medium", CVSS: 5.5},
	}
	eol := analyzers.Finding{Rule: "eol-component", Category: "outdated-component", Severity: analyzers.High,
		Layer: r.Layers[2].Path, LayerID: "L2", Path: "/bin/busybox",
		Evidence: "busybox 1.31.1", Message: "busybox 1.31.1 reached its end of life on 2020-10-01",
		Fingerprint: analyzers.Fingerprint("busybox@1.31.1"), Guidelines: []int{3}, Analyzer: "eol"}
	eol.SetID()
	// the scan's component enrichment links the component to the finding
	r.Components[0].EOL = &EOL{Status: EOLEnded, Detail: eol.Evidence, Finding: eol.ID}
	// no private key (so guideline 4 can pass) and telnet bears on 6 only
	// (so guideline 5, whose check did not run, is not assessed)
	r.Findings = slices.DeleteFunc(r.Findings, func(f analyzers.Finding) bool { return f.Rule == "private-key" })
	for i := range r.Findings {
		if r.Findings[i].Rule == "telnet-enabled" {
			r.Findings[i].Guidelines = []int{6}
			r.Findings[i].SetID()
		}
	}
	r.Stats.FindingCount["high"]--
	r.Findings = append(r.Findings, eol)
	analyzers.SortFindings(r.Findings)
	r.Stats.FindingCount["high"]++
	r.VulnDB = &VulnDB{Source: "grype", Path: "/var/cache/grype/db", Built: "2026-11-01T00:00:00Z", Schema: "v6", Records: 123456}
	// one applicable and one not-applicable CVE (with hostile evidence):
	// the count, the worst and the folded section
	for i := range r.Components {
		if r.Components[i].Name == "busybox" {
			r.Components[i].Vulnerabilities = append(r.Components[i].Vulnerabilities,
				Vulnerability{ID: "CVE-2016-6301", Severity: "high", CVSS: 7.5, Applicability: &Applicability{State: "not_affected", Justification: "vulnerable_code_not_present", Detail: "not compiled in: the code is the ntpd applet (networking/ntpd.c)", Evidence: []string{"no applet ntpd in applet table of /bin/busybox (3 applets; 1 links to it): hush sh <script>"}, Rule: "busybox-ntpd", By: "fwaudit"}})
		}
	}

	// Judge only the layers that unpacked fully, so that every verdict
	// kind occurs: fail (findings), pass (crypto checks ran, nothing
	// found), needs evidence (asks), not assessed (transport did not run).
	var ok []*extract.Layer
	for _, l := range r.Layers {
		if l.Status == extract.StatusOK {
			ok = append(ok, l)
		}
	}
	res := compliance.Evaluate(compliance.Input{
		Findings: r.Findings,
		Ran:      []string{"accounts", "credentials", "keys", "services", "components", "eol", "vulns", "crypto", "integrity"},
		Layers:   ok,
		Hints:    map[string][]string{"support-period": {"/www/about.html"}, "security-contact": {"L4:/etc/banner"}},
	}, nil)
	r.Compliance = &res
	return r
}

func writeHTML(b *bytes.Buffer, r *Report) error { return WriteHTML(b, r) }

func TestGoldenHTML(t *testing.T) {
	golden(t, "report.html", render(t, writeHTML, complianceFixture()))
}

// htmlDoc is what the structural checks need from a parsed page.
type htmlDoc struct {
	tags      map[string]int
	attrs     []string // every attribute name
	text      string   // all text nodes, concatenated with "\n"
	verdicts  []string // text of the verdict badges, in order
	rows      int      // rows of the verdict table
	styleText string
}

func parseHTML(t testing.TB, page []byte) *htmlDoc {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("report.html does not parse: %v", err)
	}
	d := &htmlDoc{tags: map[string]int{}}
	var text strings.Builder
	var walk func(n *html.Node, inVerdicts bool)
	walk = func(n *html.Node, inVerdicts bool) {
		switch n.Type {
		case html.ElementNode:
			d.tags[n.Data]++
			for _, a := range n.Attr {
				d.attrs = append(d.attrs, a.Key)
				if a.Key == "id" && a.Val == "verdicts" {
					inVerdicts = true
				}
			}
			if inVerdicts && n.Data == "tr" && n.Parent != nil && n.Parent.Data == "tbody" {
				d.rows++
			}
			if inVerdicts && n.Data == "span" && hasClass(n, "verdict") {
				d.verdicts = append(d.verdicts, textOf(n))
			}
			if n.Data == "style" {
				d.styleText += textOf(n)
			}
		case html.TextNode:
			text.WriteString(n.Data)
			text.WriteByte('\n')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inVerdicts)
		}
	}
	walk(root, false)
	d.text = text.String()
	return d
}

func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && slices.Contains(strings.Fields(a.Val), class) {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// allowedTags are the only elements report.html may contain.
var allowedTags = map[string]bool{
	"html": true, "head": true, "body": true, "meta": true, "title": true, "style": true, "header": true, "main": true,
	"footer": true, "section": true, "h1": true, "h2": true, "h3": true, "p": true, "dl": true, "dt": true, "dd": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "span": true, "strong": true,
	"em": true, "code": true, "details": true, "summary": true, "ul": true, "li": true, "br": true,
}

// checkSafeHTML fails unless the page holds only the template's own
// elements and attributes: no script, no image, no event handler, no link
// to anything.
func checkSafeHTML(t testing.TB, page []byte) *htmlDoc {
	t.Helper()
	d := parseHTML(t, page)
	for tag := range d.tags {
		if !allowedTags[tag] {
			t.Fatalf("report.html holds a <%s> element", tag)
		}
	}
	for _, a := range d.attrs {
		switch a {
		case "class", "id", "lang", "charset", "name", "content", "http-equiv", "scope":
		default:
			t.Fatalf("report.html holds an attribute %q", a)
		}
	}
	// markup from the data is escaped, so none of these can occur (the
	// template itself has none)
	low := bytes.ToLower(page)
	for _, bad := range []string{"<script", "<img", "<iframe", "<link", "<object", "<svg", "<a ", "<base", "<form"} {
		if i := bytes.Index(low, []byte(bad)); i >= 0 {
			t.Fatalf("report.html contains %q: %q", bad, page[max(0, i-40):min(len(page), i+60)])
		}
	}
	return d
}

func wantVerdictLabels(r *Report) []string {
	var out []string
	for _, it := range r.Compliance.Frameworks["cop"] {
		out = append(out, verdictView(it.Verdict).Label)
	}
	return out
}

func TestHTMLStructure(t *testing.T) {
	r := complianceFixture()
	page := render(t, writeHTML, r)
	d := checkSafeHTML(t, page)
	if d.rows != 13 {
		t.Fatalf("verdict table has %d rows, want 13", d.rows)
	}
	want := wantVerdictLabels(r)
	if !slices.Equal(d.verdicts, want) {
		t.Fatalf("verdicts %q, want %q", d.verdicts, want)
	}
	seen := map[string]bool{}
	for _, v := range d.verdicts {
		seen[v] = true
	}
	for _, v := range []string{"FAIL ✗", "Pass ✓", "Needs evidence ?", "Not assessed –"} {
		if !seen[v] {
			t.Errorf("the fixture has no %q verdict (verdicts %q): the test would not see its rendering", v, d.verdicts)
		}
	}
	for _, s := range []string{
		"Archer_C7v5.bin", r.Image.SHA256, "8.0 MiB (8388608 bytes)", "fwaudit 1.2.3",
		"UK PSTI:", "would fail requirement 1",
		"CVE-2022-48174", "1.36.1", "End of life ✗", "2 of 3",
		"/etc/shadow", "line 1", "offset 0x40", "EN 303 645",
		"unexpected end of stream", "failed ✗", "partial !",
		"/www/about.html", // a hint
	} {
		if !strings.Contains(d.text, s) {
			t.Errorf("report.html does not show %q", s)
		}
	}
	// the layer tree nests: the cpio layer is four lists deep
	if n := strings.Count(string(page), "<ul"); n < 5 {
		t.Errorf("layer tree has %d lists, want nesting", n)
	}
	// every finding of a failed guideline is in its details
	for _, it := range r.Compliance.Frameworks["cop"] {
		for _, id := range it.Findings {
			if strings.Count(d.text, id) < 2 {
				t.Errorf("finding %s of guideline %s is not listed under the guideline and under its severity", id, it.ID)
			}
		}
	}
}

// TestHTMLComponentEOLFromFields: the components table shows the
// end-of-life status carried on each component, whatever the rule names
// of the findings; the note is the linked finding's message, reported or
// accepted by a baseline, else the status's own detail.
func TestHTMLComponentEOLFromFields(t *testing.T) {
	r := complianceFixture()
	var eolID string
	for i := range r.Findings {
		if r.Findings[i].Rule == "eol-component" {
			eolID = r.Findings[i].ID
			r.Findings[i].Rule = "renamed-rule" // rule names are not read
		}
	}
	accepted := analyzers.Finding{ID: "FW-ACCEPTED", Rule: "x", Message: "dropbear 2019.78 is 7 years old (accepted)"}
	r.Suppressed = []SuppressedFinding{{Finding: accepted, Justification: "vendor fork"}}
	r.Components[1].EOL = &EOL{Status: EOLStale, Detail: "dropbear 2019.78 (released 2019)", Finding: accepted.ID}
	r.Components[2].EOL = &EOL{Status: EOLEnded, Detail: "evil 1.0 (cycle 1 ended)", Finding: "FW-DISABLED"}
	got := componentViews(r)
	if len(got) != 3 {
		t.Fatalf("%d component rows, want 3", len(got))
	}
	want := []struct{ eol, class, note string }{
		{"End of life ✗", "v-fail", "busybox 1.31.1 reached its end of life on 2020-10-01"},
		{"Outdated !", "v-needs", "dropbear 2019.78 is 7 years old (accepted)"},
		{"End of life ✗", "v-fail", "evil 1.0 (cycle 1 ended)"},
	}
	for i, w := range want {
		if got[i].EOL != w.eol || got[i].EOLClass != w.class || string(got[i].EOLNote) != w.note {
			t.Errorf("row %d: %q %q %q; want %q %q %q", i, got[i].EOL, got[i].EOLClass, got[i].EOLNote, w.eol, w.class, w.note)
		}
	}
	if eolID == "" || r.Components[0].EOL.Finding != eolID {
		t.Fatalf("the fixture's busybox status does not link its finding %q", eolID)
	}
	// a component without the field shows no status, even when a finding
	// of the old rule names with its fingerprint is there
	r.Components[0].EOL = nil
	for i := range r.Findings {
		if r.Findings[i].ID == eolID {
			r.Findings[i].Rule = "eol-component"
		}
	}
	if got := componentViews(r)[0]; got.EOL != "" || got.EOLNote != "" {
		t.Errorf("busybox without an EOL field shows %q %q", got.EOL, got.EOLNote)
	}
}

func TestHTMLHostileStrings(t *testing.T) {
	r := complianceFixture()
	for i := range r.Findings {
		r.Findings[i].Evidence = hostileHTML + hostile
		r.Findings[i].Path = "/www/" + hostileHTML
		r.Findings[i].Message = hostileHTML
		r.Findings[i].Layer = hostileHTML
	}
	r.Image.Name = hostileHTML
	r.Image.Path = hostileHTML
	r.Image.SHA256 = hostileHTML
	r.Tool.Version = hostileHTML
	r.Components[0].Name = hostileHTML
	r.Components[0].Version = "</code></td></tr></table>" + hostileHTML
	r.Components[0].Paths = []string{hostileHTML, "</style><script>x</script>"}
	r.Components[0].Vulnerabilities[0].ID = hostileHTML
	r.Components[0].Vulnerabilities[0].Severity = `"><script>x</script>`
	r.Layers[3].Source = hostileHTML
	r.Layers[3].Format = "</li></ul>" + hostileHTML
	r.Layers[5].Error = hostileHTML
	r.Layers[5].Status = extract.Status(hostileHTML)
	r.Analyzers.Failures[0].Error = hostileHTML
	r.Analyzers.Ran = append(r.Analyzers.Ran, hostileHTML)
	c := r.Compliance
	c.PSTI = "PSTI: " + hostileHTML
	items := c.Frameworks["cop"]
	items[0].Note = hostileHTML
	items[1].Needs = hostileHTML
	items[2].Hints = []string{hostileHTML}
	items[3].Title = hostileHTML
	items[4].Findings = append(items[4].Findings, hostileHTML)
	r.Findings[0].Severity = analyzers.Severity(`x" onmouseover="window.__pwned=1`)

	page := render(t, writeHTML, r)
	d := checkSafeHTML(t, page)
	if d.rows != 13 {
		t.Fatalf("verdict table has %d rows, want 13", d.rows)
	}
	if want := wantVerdictLabels(r); !slices.Equal(d.verdicts, want) {
		t.Fatalf("verdicts %q, want %q", d.verdicts, want)
	}
	// the hostile markup is shown as text
	if n := strings.Count(d.text, hostileHTML); n < 20 {
		t.Fatalf("the hostile string is shown %d times as text, want it everywhere it was put", n)
	}
	// control characters and bidi overrides are shown escaped
	checkNoControl(t, "report.html", page)
	if !strings.Contains(d.text, `\x1b[31mRED`) || !strings.Contains(d.text, `\u202eevil`) || !strings.Contains(d.text, `\xff`) {
		t.Error("control characters of the evidence are not shown as escapes")
	}
	if strings.Contains(d.styleText, "script") || strings.Contains(d.styleText, "__pwned") {
		t.Error("data reached the style sheet")
	}
}

func TestHTMLEdgeCases(t *testing.T) {
	// an empty report and one without compliance still render
	for _, r := range []*Report{{}, fixture()} {
		page := render(t, writeHTML, r)
		d := checkSafeHTML(t, page)
		if d.rows != 0 || len(d.verdicts) != 0 {
			t.Fatalf("a report without compliance has a verdict table (%d rows)", d.rows)
		}
	}
	if err := WriteHTML(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("nil report accepted")
	}
	// a deep (or cyclic) layer chain is shown at bounded nesting
	r := fixture()
	r.Layers = nil
	parent := ""
	for i := range 200 {
		id := "D" + string(rune('A'+i%26)) + strings.Repeat("x", i/26)
		r.Layers = append(r.Layers, &extract.Layer{ID: id, Parent: parent, Format: "gzip", Status: extract.StatusOK})
		parent = id
	}
	r.Layers[0].Parent = r.Layers[199].ID // a cycle
	page := render(t, writeHTML, r)
	checkSafeHTML(t, page)
	if n := strings.Count(string(page), "<li><strong>gzip</strong>"); n != 200 {
		t.Fatalf("%d layers shown, want 200", n)
	}
	depth, maxDepth := 0, 0
	tok := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := tok.Next()
		if tt == html.ErrorToken {
			break
		}
		name, _ := tok.TagName()
		if string(name) != "ul" {
			continue
		}
		if tt == html.StartTagToken {
			depth++
			maxDepth = max(maxDepth, depth)
		} else if tt == html.EndTagToken {
			depth--
		}
	}
	if maxDepth > htmlMaxDepth+2 || maxDepth < 10 {
		t.Fatalf("layer lists nest %d deep, want about %d", maxDepth, htmlMaxDepth)
	}
}

// FuzzHTML puts arbitrary text where an image controls it and checks that
// report.html keeps its structure: only the template's elements and
// attributes, 13 verdict rows, the text shown.
func FuzzHTML(f *testing.F) {
	f.Add(hostileHTML, "/etc/passwd", "busybox", "msg")
	f.Add("</details></td></tr>", "</table>", "<!--", "]]>")
	f.Add("\x1b]0;title\x07", "\\", "\u202e", "<img src=x onerror=alert(1)>")
	f.Add("{{.}}", "</style>", "<svg onload=x>", "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, evidence, path, name, message string) {
		// Keep each execution fast (the page holds every string many
		// times): strings longer than this together only test the
		// truncation again, which strings just past the bound test.
		if len(evidence)+len(path)+len(name)+len(message) > 4*htmlMaxEvidence {
			return
		}
		r := complianceFixture()
		for i := range r.Findings {
			r.Findings[i].Evidence = evidence
			r.Findings[i].Path = path
			r.Findings[i].Message = message
			r.Findings[i].Rule = name
		}
		r.Image.Name = name
		r.Layers[3].Source = path
		r.Layers[5].Error = message
		r.Components[0].Name = name
		r.Components[0].Version = evidence
		r.Components[0].Paths = []string{path, name}
		r.Compliance.PSTI = message
		r.Compliance.Frameworks["cop"][0].Note = evidence
		page := render(t, writeHTML, r)
		checkNoControl(t, "report.html", page)
		d := checkSafeHTML(t, page)
		if d.rows != 13 {
			t.Fatalf("verdict table has %d rows", d.rows)
		}
		if want := wantVerdictLabels(r); !slices.Equal(d.verdicts, want) {
			t.Fatalf("verdicts %q, want %q", d.verdicts, want)
		}
		if e := htmlText(evidence, htmlMaxEvidence); strings.TrimSpace(e) != "" && !strings.Contains(d.text, e) {
			t.Fatalf("evidence %q is not shown as text %q", evidence, e)
		}
	})
}
