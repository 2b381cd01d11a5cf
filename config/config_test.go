package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const full = `# every key
fail_on: critical
fail_on_guideline: [1, 3]
disable_rules: [eol-component, "extraction-anomaly", "opaque-*"]
compliance_threshold: high
outputs: [json, markdown, sarif]
baseline: .fwaudit-baseline.yaml
scan_date: 2026-01-15
stale_years: 7
passwords: [lists/vendor.txt, /abs/list.txt]
passwords_only: true
rules_dir: ci/rules
limits:
  max_depth: 6
  max_total: 2GiB
  max_file_size: 256MiB
  max_ratio: 500
  max_files: 100000
  max_entries: 5000
  max_layers: 300
  layer_timeout: 30s
  image_timeout: 5m
  max_hash_work: 1000000
  carve_min_size: 64KiB
  carve_file_bytes: 32MiB
  carve_image_bytes: 512MiB
vuln_db: db/vulnerability.db
vex: [vex/accepted.openvex.json]
`

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if c.FailOn != "critical" || c.ComplianceThreshold != "high" || c.ScanDate != "2026-01-15" || c.Baseline != ".fwaudit-baseline.yaml" {
		t.Errorf("scalars: %+v", c)
	}
	if !slices.Equal(c.FailOnGuideline, []int{1, 3}) {
		t.Errorf("fail_on_guideline %v", c.FailOnGuideline)
	}
	if !slices.Equal(c.DisableRules, []string{"eol-component", "extraction-anomaly", "opaque-*"}) {
		t.Errorf("disable_rules %v", c.DisableRules)
	}
	if !slices.Equal(c.Outputs, []string{"json", "markdown", "sarif"}) {
		t.Errorf("outputs %v", c.Outputs)
	}
	if c.StaleYears == nil || *c.StaleYears != 7 || c.PasswordsOnly == nil || !*c.PasswordsOnly {
		t.Errorf("stale_years / passwords_only: %v %v", c.StaleYears, c.PasswordsOnly)
	}
	l := c.Limits
	if l.MaxDepth == nil || *l.MaxDepth != 6 || l.MaxTotal != "2GiB" || l.MaxFileSize != "256MiB" ||
		l.MaxRatio == nil || *l.MaxRatio != 500 || l.MaxFiles == nil || *l.MaxFiles != 100000 {
		t.Errorf("limits %+v", l)
	}
	if l.MaxEntries == nil || *l.MaxEntries != 5000 || l.MaxLayers == nil || *l.MaxLayers != 300 ||
		l.LayerTimeout != "30s" || l.ImageTimeout != "5m" || l.MaxHashWork == nil || *l.MaxHashWork != 1000000 {
		t.Errorf("time and work limits %+v", l)
	}
	if l.CarveMinSize != "64KiB" || l.CarveFileBytes != "32MiB" || l.CarveImageBytes != "512MiB" {
		t.Errorf("carving limits %+v", l)
	}
}

// Unset keys stay unset (nil / empty), so they do not override defaults.
func TestParseEmpty(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "fail_on: high\n"} {
		c, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if c.StaleYears != nil || c.Limits.MaxDepth != nil || c.FailOnGuideline != nil || c.Outputs != nil || c.PasswordsOnly != nil {
			t.Errorf("%q: unset keys are set: %+v", doc, c)
		}
	}
}

func TestGuidelineForms(t *testing.T) {
	for doc, want := range map[string][]int{
		"fail_on_guideline: 1\n":        {1},
		"fail_on_guideline: \"1, 3\"\n": {1, 3},
		"fail_on_guideline: [5]\n":      {5},
		"fail_on_guideline:\n  - 13\n":  {13},
	} {
		c, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("%q: %v", doc, err)
			continue
		}
		if !slices.Equal(c.FailOnGuideline, want) {
			t.Errorf("%q: %v, want %v", doc, c.FailOnGuideline, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"fail_on: high\nfial_on_guideline: [1]\n", `unknown key "fial_on_guideline"`},
		{"limits:\n  max_deep: 3\n", `unknown key "limits.max_deep"`},
		{"fail_on: high\nfail_on: low\n", "given twice"},
		{"- fail_on\n", "must be a mapping"},
		{"limits: 3\n", "limits must be a mapping"},
		{"fail_on: severe\n", "fail_on"},
		{"fail_on_guideline: [14]\n", "not a Code of Practice guideline"},
		{"fail_on_guideline: [one]\n", "cannot unmarshal"},
		{"fail_on_guideline: \"1,x\"\n", `"x" is not a guideline number`},
		{"fail_on_guideline: {a: 1}\n", "want a list"},
		{"compliance_threshold: big\n", "compliance_threshold"},
		{"outputs: [json, pdf]\n", `unknown output "pdf"`},
		{"outputs: json\n", "cannot unmarshal"},
		{"scan_date: 15/01/2026\n", "scan_date"},
		{"stale_years: five\n", "cannot unmarshal"},
		{"passwords_only: maybe\n", "cannot unmarshal"},
		{"disable_rules: [\"*\"]\n", "disable_rules"},
		{"disable_rules: [\"\"]\n", "disable_rules"},
		{"limits:\n  max_depth: 0\n", "max_depth"},
		{"limits:\n  max_total: lots\n", "max_total"},
		{"limits:\n  max_file_size: big\n", "max_file_size"},
		{"limits:\n  max_ratio: -1\n", "max_ratio"},
		{"limits:\n  max_files: 0\n", "max_files"},
		{"limits:\n  max_files: many\n", "cannot unmarshal"},
		{"limits:\n  max_entries: 0\n", "max_entries"},
		{"limits:\n  max_layers: 0\n", "max_layers"},
		{"limits:\n  carve_file_bytes: 0\n", "carve_file_bytes"},
		{"limits:\n  carve_min_size: lots\n", "carve_min_size"},
		{"limits:\n  layer_timeout: soon\n", "limits.layer_timeout"},
		{"limits:\n  image_timeout: -5m\n", "limits.image_timeout"},
		{"limits:\n  max_hash_work: 0\n", "max_hash_work"},
		{"fail_on: [high\n", "yaml"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc))
		if err == nil {
			t.Errorf("%q: accepted", c.doc)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q does not mention %q", c.doc, err, c.want)
		}
	}
}

// Load makes paths relative to the file's folder; Find takes the file in
// the folder given, or none.
func TestLoadAndFind(t *testing.T) {
	dir := t.TempDir()
	if c, err := Find("", dir); err != nil || c.Path != "" || c.FailOn != "" {
		t.Fatalf("no file: %+v, %v", c, err)
	}
	if _, err := Find(filepath.Join(dir, "missing.yaml"), dir); err == nil {
		t.Error("an explicit missing file was accepted")
	}
	p := filepath.Join(dir, FileName)
	if err := os.WriteFile(p, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Find("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != p {
		t.Errorf("path %q", c.Path)
	}
	if c.Baseline != filepath.Join(dir, ".fwaudit-baseline.yaml") || c.VulnDB != filepath.Join(dir, "db", "vulnerability.db") {
		t.Errorf("relative paths not resolved: %q %q", c.Baseline, c.VulnDB)
	}
	if !slices.Equal(c.VEX, []string{filepath.Join(dir, "vex", "accepted.openvex.json")}) {
		t.Errorf("vex paths not resolved: %v", c.VEX)
	}
	if !slices.Equal(c.Passwords, []string{filepath.Join(dir, "lists", "vendor.txt"), "/abs/list.txt"}) {
		t.Errorf("passwords %v", c.Passwords)
	}
	if c.RulesDir != filepath.Join(dir, "ci", "rules") {
		t.Errorf("rules_dir %q not resolved", c.RulesDir)
	}
	os.WriteFile(p, []byte("colour: blue\n"), 0o644)
	if _, err := Find("", dir); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"colour"`) {
		t.Errorf("error does not name the file and the key: %v", err)
	}
}

func TestRuleDisabled(t *testing.T) {
	pats := []string{"eol-component", "extraction-anomaly", "opaque-*"}
	for rule, want := range map[string]bool{
		"eol-component":                true,
		"eol-component-stale":          false,
		"extraction-anomaly/traversal": true,
		"extraction-anomaly":           true,
		"extraction-anomalyx":          false,
		"opaque-data":                  true,
		"default-password":             false,
		"extraction-partial":           false,
		"eol-component/sub":            true,
	} {
		if got := RuleDisabled(rule, pats); got != want {
			t.Errorf("RuleDisabled(%q) = %v, want %v", rule, got, want)
		}
	}
	if RuleDisabled("anything", nil) {
		t.Error("no patterns disabled a rule")
	}
}

// docs/configuration.md documents every key, and its example file parses.
func TestDocsDescribeEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range topKeys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/configuration.md does not describe `%s`", k)
		}
	}
	for _, k := range limitKeys {
		if !strings.Contains(string(doc), "`limits."+k+"`") {
			t.Errorf("docs/configuration.md does not describe `limits.%s`", k)
		}
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n# .fwaudit.yaml")
	if !ok {
		t.Fatal("docs/configuration.md has no example .fwaudit.yaml")
	}
	example, _, _ := strings.Cut(rest, "```")
	example = "#" + example
	c, err := Parse([]byte(example))
	if err != nil {
		t.Fatalf("the documented example does not parse: %v", err)
	}
	set := 0
	for _, k := range topKeys {
		if strings.Contains(example, "\n"+k+":") {
			set++
		}
	}
	if set != len(topKeys) || c.Limits.MaxFiles == nil {
		t.Errorf("the example sets %d of %d keys", set, len(topKeys))
	}
}

// FuzzParse: any document gives a configuration or an error, never a panic,
// and an accepted one passes its own checks.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("fail_on_guideline: \"1,3\"\nlimits:\n  max_depth: 2\n"))
	f.Add([]byte("limits: ~\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		if err := c.check(); err != nil {
			t.Errorf("accepted a configuration that fails its checks: %v", err)
		}
	})
}
