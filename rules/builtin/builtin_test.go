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
