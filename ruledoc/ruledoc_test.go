package ruledoc

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md")

// TestEveryRuleDocumented: every rule fwaudit's analyzers can emit has a
// title, a description and a fix from its own rule data.
func TestEveryRuleDocumented(t *testing.T) {
	for _, d := range All() {
		if d.Title == "" || d.Description == "" || d.Fix == "" || d.Source == "" {
			t.Errorf("%s: title %q description %q fix %q source %q", d.ID, d.Title, d.Description, d.Fix, d.Source)
		}
	}
	for _, id := range []string{"default-password", "empty-password", "private-key", "dropbear-host-key", "certificate-expired",
		"eol-component", "stale-component", "vulnerable-component", "unsigned-container", "extraction-failed",
		"extraction-partial", "opaque-data", "extraction-anomaly/path-traversal", "config-password", "wifi-psk",
		"telnetd-shell", "curl-insecure", "aws-secret-access-key", "generic-api-key"} {
		if d := Lookup(id, ""); !d.Known {
			t.Errorf("%s is not documented", id)
		}
	}
}

func TestLookupFallbacks(t *testing.T) {
	d := Lookup("some-new-token", "api-token")
	if d.Known || !strings.Contains(d.Description, "API token") || d.Fix == "" {
		t.Errorf("category fallback: %+v", d)
	}
	d = Lookup("x-unknown", "nothing")
	if d.Known || d.Description == "" || d.Fix == "" {
		t.Errorf("id fallback: %+v", d)
	}
}

func TestHelp(t *testing.T) {
	d := Lookup("default-password", "hardcoded-credential")
	txt, md := d.HelpText(), d.HelpMarkdown()
	for _, want := range []string{"dictionary", "Fix: ", "CoP 1 (No default passwords)", "PSTI 1", "rules/builtin/builtin.yaml"} {
		if !strings.Contains(txt, want) {
			t.Errorf("help text lacks %q:\n%s", want, txt)
		}
	}
	for _, want := range []string{"**Fix:**", "- CoP 1 (No default passwords)", "(" + DocsURL + "#rule-default-password)"} {
		if !strings.Contains(md, want) {
			t.Errorf("help markdown lacks %q:\n%s", want, md)
		}
	}
	if got := Anchor("extraction-anomaly/path-traversal"); got != "rule-extraction-anomaly-path-traversal" {
		t.Errorf("anchor = %q", got)
	}
}

// TestDocsRulesMD: docs/rules.md is the generated reference, with an
// anchor for every rule (the SARIF helpUri targets).
func TestDocsRulesMD(t *testing.T) {
	path := filepath.Join("..", "docs", "rules.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("docs/rules.md is out of date: go test ./ruledoc -update")
	}
	for _, d := range All() {
		if !strings.Contains(want, `<a id="`+Anchor(d.ID)+`"></a>`) {
			t.Errorf("no anchor for %s", d.ID)
		}
	}
}
