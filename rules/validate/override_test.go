package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/rulesets"
)

func writeRules(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A throw-away rule written as YAML alone — in a user's rule folder, the
// path `fwaudit scan --rules DIR` takes — fires through the analyzers,
// with its own severity and guidelines, next to the embedded rules.
func TestThrowAwayRuleFromYAML(t *testing.T) {
	dir := writeRules(t, map[string]string{
		"services.yaml": `
- id: validate-frobd-open
  kind: command
  severity: medium
  guidelines: [6, 8]
  title: frobd started in open mode
  description: The made-up frobd daemon runs with --open, serving without a password.
  fix: Start frobd without --open.
  source: rules/validate test
  programs: [frobd]
  patterns: ['\s--open\b']
  examples:
    true: ["frobd --open"]
    false: ["frobd"]
`,
		"tokens.yaml": `
rules:
  - id: validate-frob-token
    title: Frob cloud token
    description: A made-up Frob cloud API token.
    fix: Revoke it.
    severity: high
    guidelines: [4]
    keywords: [frob_token]
    pattern: 'frob_token=(?P<secret>frb_[A-Za-z0-9]{24})'
    entropy: 3.0
    source: rules/validate test
    examples:
      true: [{text: 'frob_token=frb_q8Wc3Zr1YpB5nT7uK2dLmA9f', secret: 'frb_q8Wc3Zr1YpB5nT7uK2dLmA9f'}]
      false: ['frob_token=frb_xxxxxxxxxxxxxxxxxxxxxxxx']
`,
	})
	sets, err := rulesets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	embedded := rulesets.Default()
	if len(sets.Services.Rules) != len(embedded.Services.Rules)+1 || len(sets.Tokens.Rules) != len(embedded.Tokens.Rules)+1 {
		t.Fatalf("services %d rules, tokens %d: want the embedded ones plus one each", len(sets.Services.Rules), len(sets.Tokens.Rules))
	}
	_, svc, tok, _ := sets.Analyzers(rulesets.Options{})
	tg := image(t, map[string]string{
		"etc/init.d/rcS": "#!/bin/sh\nfrobd --open &\ntelnetd -l /bin/sh\n",
		"etc/frob.conf":  "frob_token=frb_Zx7Pq2Lm9Kd4Rt6Yb1Nc8Vf3\n",
	})
	fs := analyze(t, svc, tg)
	got := of(fs, "validate-frobd-open")
	if len(got) != 1 || got[0].Severity != analyzers.Medium || got[0].Path != "/etc/init.d/rcS" || got[0].Line != 2 {
		t.Fatalf("throw-away service rule: %s", show(fs))
	}
	checkGuidelines(t, got[0], []int{6, 8})
	if len(of(fs, "telnetd-shell")) != 1 {
		t.Errorf("the embedded rules must still run: %s", show(fs))
	}
	fs = analyze(t, tok, tg)
	got = of(fs, "validate-frob-token")
	if len(got) != 1 || got[0].Severity != analyzers.High || got[0].Path != "/etc/frob.conf" || got[0].Fingerprint != analyzers.Fingerprint("frb_Zx7Pq2Lm9Kd4Rt6Yb1Nc8Vf3") {
		t.Fatalf("throw-away token rule: %s", show(fs))
	}
	checkGuidelines(t, got[0], []int{4})
	// without the folder, neither fires
	_, svc, tok, _ = rulesets.Default().Analyzers(rulesets.Options{})
	if n := len(of(analyze(t, svc, tg), "validate-frobd-open")) + len(of(analyze(t, tok, tg), "validate-frob-token")); n != 0 {
		t.Errorf("embedded rules fire the throw-away rules %d times", n)
	}
}

// A rule of the folder with an embedded rule's id replaces it in place.
func TestOverrideEmbeddedRule(t *testing.T) {
	dir := writeRules(t, map[string]string{"services.yaml": `
- id: telnetd-shell
  kind: command
  severity: low
  guidelines: [6]
  title: Telnet shell (downgraded by this project)
  description: telnetd with a shell as its login program.
  fix: Remove telnetd.
  programs: [telnetd]
  patterns: ['\s-l\s*/bin/sh\b']
  examples:
    true: ["telnetd -l /bin/sh"]
    false: ["telnetd"]
`})
	sets, err := rulesets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	emb := rulesets.Default().Services.Rules
	if len(sets.Services.Rules) != len(emb) {
		t.Fatalf("%d rules, want %d", len(sets.Services.Rules), len(emb))
	}
	for i, r := range sets.Services.Rules {
		if r.ID != emb[i].ID {
			t.Fatalf("rule %d is %s, want %s (order kept)", i, r.ID, emb[i].ID)
		}
	}
	_, svc, _, _ := sets.Analyzers(rulesets.Options{})
	fs := of(analyze(t, svc, image(t, map[string]string{"etc/init.d/rcS": "telnetd -l /bin/sh\n"})), "telnetd-shell")
	if len(fs) != 1 || fs[0].Severity != analyzers.Low {
		t.Fatalf("overridden rule: %s", show(fs))
	}
	checkGuidelines(t, fs[0], []int{6})
}

// A folder that would silently drop or clash rules is refused, naming the
// file and the rule.
func TestRuleFolderErrors(t *testing.T) {
	valid := `
- id: %s
  kind: command
  severity: low
  guidelines: [6]
  title: t
  description: d
  fix: f
  programs: [x]
  patterns: ['x']
  examples: {true: ["x"], false: ["y"]}
`
	for name, c := range map[string]struct {
		files map[string]string
		want  string
	}{
		"unknown file":                {map[string]string{"service.yaml": "[]"}, `unknown rule file "service.yaml"`},
		"id of another set":           {map[string]string{"transport.yaml": strings.Replace(valid, "%s", "telnetd-shell", 1)}, `rule id "telnetd-shell"`},
		"builtin id":                  {map[string]string{"services.yaml": strings.Replace(valid, "%s", "default-password", 1)}, `rule id "default-password"`},
		"misspelt field":              {map[string]string{"services.yaml": strings.Replace(strings.Replace(valid, "%s", "new-rule", 1), "fix: f", "advice: f", 1)}, "advice"},
		"guideline 14":                {map[string]string{"services.yaml": strings.Replace(strings.Replace(valid, "%s", "new-rule", 1), "[6]", "[14]", 1)}, "guideline 14"},
		"no severity":                 {map[string]string{"services.yaml": strings.Replace(strings.Replace(valid, "%s", "new-rule", 1), "  severity: low\n", "", 1)}, "missing severity"},
		"component misspelt":          {map[string]string{"components.yaml": "- {id: acme, name: acme, type: binary, files: ['*'], pattern: ['acme (\\d+)']}\n"}, "components.yaml"},
		"component id of another set": {map[string]string{"components.yaml": "- {id: telnetd, name: acme, type: binary, files: ['*'], purl: 'pkg:generic/acme@{version}', patterns: ['acme v(\\d+\\.\\d+)'], examples: {true: [{text: 'acme v1.2 ', version: '1.2'}], false: ['acme']}}\n"}, `rule id "telnetd"`},
	} {
		_, err := rulesets.Load(writeRules(t, c.files))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
	big := writeRules(t, map[string]string{"tokens.yaml": "# " + strings.Repeat("x", rulesets.MaxFileSize) + "\n"})
	if _, err := rulesets.Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a rule file over the bound: %v", err)
	}
	if _, err := rulesets.Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing folder must be an error")
	}
}
