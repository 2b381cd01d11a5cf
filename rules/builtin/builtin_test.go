package builtin

import (
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	s := Default()
	ids := map[string]bool{}
	for _, d := range s.Rules {
		ids[d.ID] = true
	}
	for _, want := range []string{"default-password", "private-key", "vulnerable-component", "unsigned-container", "extraction-failed", "extraction-anomaly/limit"} {
		if !ids[want] {
			t.Errorf("rule %s not documented", want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"format":      "format: 2\nrules: []\n",
		"no fix":      "format: 1\nrules:\n  - {id: a, title: A, category: c, source: s, description: d}\n",
		"no category": "format: 1\nrules:\n  - {id: a, title: A, source: s, description: d, fix: f}\n",
		"twice":       "format: 1\nrules:\n  - {id: a, title: A, category: c, source: s, description: d, fix: f}\n  - {id: a, title: A, category: c, source: s, description: d, fix: f}\n",
		"unknown key": "format: 1\nrules:\n  - {id: a, title: A, category: c, source: s, description: d, fix: f, advice: x}\n",
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), "builtin rules") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestParseExamples(t *testing.T) {
	head := "format: 1\nrules:\n  - {id: a, title: A, category: c, source: s, severity: low, guidelines: [], description: d, fix: f, examples: "
	ok := map[string]string{
		"none":     `"none: its input is not a file"`,
		"examples": `{true: [{path: /etc/a, text: x, date: "2026-02-03"}], false: [{path: /etc/a, base64: "eA=="}]}`,
	}
	for name, ex := range ok {
		s, err := Parse([]byte(head + ex + "}\n"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		e := s.Rule("a").Examples
		if name == "none" && e.None != "its input is not a file" {
			t.Errorf("none: %+v", e)
		}
		if name == "examples" && (string(e.False[0].Content()) != "x" || e.True[0].ScanDate().Format("2006-01-02") != "2026-02-03" || e.False[0].ScanDate().Format("2006-01-02") != DefaultExampleDate) {
			t.Errorf("examples: %+v", e)
		}
	}
	for name, ex := range map[string]string{
		"none without reason": `"none:"`,
		"other string":        `"some"`,
		"unknown key":         `{true: [], maybe: []}`,
		"unknown field":       `{true: [{path: /etc/a, txt: x}]}`,
		"relative path":       `{true: [{path: etc/a, text: x}]}`,
		"no content":          `{true: [{path: /etc/a}]}`,
		"both contents":       `{true: [{path: /etc/a, text: x, base64: "eA=="}]}`,
		"bad base64":          `{true: [{path: /etc/a, base64: "!!"}]}`,
		"bad date":            `{true: [{path: /etc/a, text: x, date: "3 May"}]}`,
	} {
		if _, err := Parse([]byte(head + ex + "}\n")); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
