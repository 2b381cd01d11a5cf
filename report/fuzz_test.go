package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzWriters puts arbitrary text where an image controls it and checks that
// no writer lets it change the output's structure.
func FuzzWriters(f *testing.F) {
	f.Add(hostile, "/etc/passwd", "busybox", "msg")
	f.Add("```", "|", "`|`", "\n# heading\n")
	f.Add("\x1b]0;title\x07", "\\", "\u202e", "<img src=x onerror=alert(1)>")
	f.Add(" ` ", "  ", "a\\|b", "&#10;&lt;")
	benign := fixture()
	benignMD := render(f, writeMarkdown, benign)
	benignTable := render(f, writeTable, benign)
	mdKinds := kinds(string(benignMD))
	tableLines := strings.Count(string(benignTable), "\n")
	f.Fuzz(func(t *testing.T, evidence, path, name, message string) {
		if message == "" {
			message = "m" // the schema requires a message; analyzers always write one
		}
		r := fixture()
		for i := range r.Findings {
			r.Findings[i].Evidence = evidence
			r.Findings[i].Path = path
			r.Findings[i].Message = message
		}
		r.Image.Name = name
		r.Layers[3].Source = path
		r.Layers[5].Error = message
		r.Components[0].Name = name
		r.Components[0].Version = evidence
		r.Components[0].Paths = []string{path, name}
		r.Analyzers.Failures[0].Error = evidence

		md := render(t, writeMarkdown, r)
		checkNoControl(t, "report.md", md)
		got := kinds(string(md))
		if len(got) != len(mdKinds) {
			t.Fatalf("report.md has %d lines, want %d", len(got), len(mdKinds))
		}
		for i := range got {
			if got[i] != mdKinds[i] {
				t.Fatalf("line %d is %q, want %q", i+1, got[i], mdKinds[i])
			}
		}
		for _, line := range strings.Split(string(md), "\n") {
			if strings.HasPrefix(line, "- **Evidence:** ") {
				_, spans := parseInline(strings.TrimPrefix(line, "- **Evidence:** "))
				want := truncate(quoteLine(evidence), mdMaxEvidence)
				if evidence != "" && strings.Trim(want, " ") != "" && (len(spans) != 1 || spans[0] != want) {
					t.Fatalf("evidence %q renders as spans %q, want %q", evidence, spans, want)
				}
			}
			if strings.HasPrefix(line, "|") {
				checkOutside(t, line)
			}
		}

		tab := render(t, writeTable, r)
		checkNoControl(t, "table", tab)
		if bytes.ContainsAny(tab, "\t\x1b") {
			t.Fatal("raw tab or ESC in the table")
		}
		if n := strings.Count(string(tab), "\n"); n != tableLines {
			t.Fatalf("table has %d lines, want %d", n, tableLines)
		}

		doc := render(t, writeJSON, r)
		if err := Validate(doc); err != nil {
			t.Fatalf("report.json invalid: %v", err)
		}
		var back Report
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(evidence) && back.Findings[0].Evidence != evidence {
			t.Fatalf("evidence %q came back as %q", evidence, back.Findings[0].Evidence)
		}
	})
}

func kinds(md string) []string {
	lines := strings.Split(md, "\n")
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = lineKind(l)
	}
	return out
}
