package reportdiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/fwaudit/fwaudit/report"
)

// Formats are the output formats Write accepts.
var Formats = []string{"table", "json", "markdown"}

// Write renders the diff in one of Formats.
func Write(w io.Writer, d *Diff, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, d)
	case "markdown", "md":
		return WriteMarkdown(w, d)
	case "table", "":
		return WriteTable(w, d)
	}
	return fmt.Errorf("--format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the diff as indented JSON (schema fwaudit.diff/v1).
func WriteJSON(w io.Writer, d *Diff) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	_, err := w.Write(report.EscapeInvisibleJSON(b.Bytes()))
	return err
}

// clean makes untrusted text (paths and evidence from the firmware) one
// printable line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

func where(f Finding) string {
	if f.Path != "" {
		return f.Path
	}
	return f.Layer
}

func verdictName(v string) string {
	switch v {
	case "fail":
		return "FAIL"
	case "pass":
		return "pass"
	case "needs-evidence":
		return "needs evidence"
	case "not-assessed":
		return "not assessed"
	}
	return v
}

func accepted(f Finding) string {
	if f.Accepted {
		return " (accepted by baseline)"
	}
	return ""
}

// Summary is the one-line headline.
func (d *Diff) Summary() string {
	return fmt.Sprintf("%d new, %d fixed, %d unchanged findings; %d component changes; %d CVEs fixed, %d introduced; %d verdict changes",
		len(d.Findings.New), len(d.Findings.Fixed), len(d.Findings.Unchanged), len(d.Components),
		len(d.CVEs.Fixed), len(d.CVEs.Introduced), d.changedVerdicts())
}

func (d *Diff) changedVerdicts() int {
	n := 0
	for _, v := range d.Verdicts {
		if v.Changed {
			n++
		}
	}
	return n
}

// WriteTable writes the diff for a terminal.
func WriteTable(w io.Writer, d *Diff) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "old:\t%s\t(sha256 %s)\n", clean(d.Old.Name), short(d.Old.SHA256))
	fmt.Fprintf(tw, "new:\t%s\t(sha256 %s)\n", clean(d.New.Name), short(d.New.SHA256))
	fmt.Fprintf(tw, "\n%s\n", d.Summary())
	for _, g := range []struct {
		title string
		fs    []Finding
	}{{"NEW FINDINGS", d.Findings.New}, {"FIXED FINDINGS", d.Findings.Fixed}} {
		fmt.Fprintf(tw, "\n%s (%d)\n", g.title, len(g.fs))
		if len(g.fs) > 0 {
			fmt.Fprintf(tw, "SEVERITY\tRULE\tWHERE\tMESSAGE\n")
		}
		for _, f := range g.fs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", f.Severity, clean(f.Rule), clean(where(f)), clean(f.Message), accepted(f))
		}
	}
	fmt.Fprintf(tw, "\nUNCHANGED FINDINGS: %d\n", len(d.Findings.Unchanged))
	fmt.Fprintf(tw, "\nCOMPONENTS (%d changed)\n", len(d.Components))
	for _, c := range d.Components {
		fmt.Fprintf(tw, "%s\t%s\t%s -> %s\n", clean(c.Name), c.Change, orNone(c.Old), orNone(c.New))
	}
	for _, g := range []struct {
		title string
		cs    []CVE
	}{{"CVES FIXED", d.CVEs.Fixed}, {"CVES INTRODUCED", d.CVEs.Introduced}} {
		fmt.Fprintf(tw, "\n%s (%d)\n", g.title, len(g.cs))
		for _, c := range g.cs {
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\n", c.ID, c.Severity, clean(c.Component), clean(c.Version), cvss(c.CVSS))
		}
	}
	fmt.Fprintf(tw, "\nVERDICTS (UK Code of Practice; other frameworks: changes only)\n")
	for _, v := range d.Verdicts {
		mark := ""
		if v.Changed {
			mark = "  *changed*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s -> %s%s\n", frameworkName(v.Framework), v.ID, clean(v.Title), verdictName(string(v.Old)), verdictName(string(v.New)), mark)
	}
	return tw.Flush()
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

func orNone(vs []string) string {
	if len(vs) == 0 {
		return "(none)"
	}
	return clean(strings.Join(vs, ", "))
}

func cvss(f float64) string {
	if f == 0 {
		return ""
	}
	return fmt.Sprintf("CVSS %.1f", f)
}

func frameworkName(id string) string {
	switch id {
	case "cop":
		return "CoP"
	case "etsi":
		return "ETSI"
	case "psti":
		return "PSTI"
	case "cra":
		return "CRA"
	}
	return id
}

// md escapes untrusted text for a Markdown table cell or paragraph.
func md(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`)
	return r.Replace(clean(s))
}

// WriteMarkdown writes the diff for people (a pull request comment, a
// release note).
func WriteMarkdown(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# fwaudit diff: %s → %s\n\n", md(d.Old.Name), md(d.New.Name))
	fmt.Fprintf(&b, "- **Old:** %s (sha256 `%s`), %d findings, %d accepted by baseline\n", md(d.Old.Name), d.Old.SHA256, d.Old.Findings, d.Old.Accepted)
	fmt.Fprintf(&b, "- **New:** %s (sha256 `%s`), %d findings, %d accepted by baseline\n", md(d.New.Name), d.New.SHA256, d.New.Findings, d.New.Accepted)
	fmt.Fprintf(&b, "- **Summary:** %s\n\n", d.Summary())
	b.WriteString("Findings are matched by rule, path inside the image and fingerprint, not by line or offset.\n\n")
	for _, g := range []struct {
		title string
		fs    []Finding
	}{{"New findings", d.Findings.New}, {"Fixed findings", d.Findings.Fixed}, {"Unchanged findings", d.Findings.Unchanged}} {
		fmt.Fprintf(&b, "## %s (%d)\n\n", g.title, len(g.fs))
		if len(g.fs) == 0 {
			b.WriteString("None.\n\n")
			continue
		}
		b.WriteString("| Severity | Rule | Where | Message |\n|---|---|---|---|\n")
		for _, f := range g.fs {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s%s |\n", f.Severity, strings.ReplaceAll(clean(f.Rule), "`", "'"), md(where(f)), md(f.Message), accepted(f))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Components (%d changed)\n\n", len(d.Components))
	if len(d.Components) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Component | Change | Old | New |\n|---|---|---|---|\n")
		for _, c := range d.Components {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", md(c.Name), c.Change, md(orNone(c.Old)), md(orNone(c.New)))
		}
		b.WriteString("\n")
	}
	for _, g := range []struct {
		title string
		cs    []CVE
	}{{"CVEs fixed", d.CVEs.Fixed}, {"CVEs introduced", d.CVEs.Introduced}} {
		fmt.Fprintf(&b, "## %s (%d)\n\n", g.title, len(g.cs))
		if len(g.cs) == 0 {
			b.WriteString("None.\n\n")
			continue
		}
		b.WriteString("| CVE | Severity | Component | CVSS |\n|---|---|---|---|\n")
		for _, c := range g.cs {
			fmt.Fprintf(&b, "| %s | %s | %s %s | %s |\n", md(c.ID), md(c.Severity), md(c.Component), md(c.Version), cvss(c.CVSS))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d CVEs are matched in both.\n\n", d.CVEs.Unchanged)
	b.WriteString("## Verdicts\n\nEvery UK Code of Practice guideline; for ETSI EN 303 645, UK PSTI and the EU CRA only the items whose verdict changed.\n\n")
	b.WriteString("| Item | Title | Old | New |\n|---|---|---|---|\n")
	for _, v := range d.Verdicts {
		nv := verdictName(string(v.New))
		if v.Changed {
			nv = "**" + nv + "**"
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s | %s |\n", frameworkName(v.Framework), md(v.ID), md(v.Title), verdictName(string(v.Old)), nv)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
