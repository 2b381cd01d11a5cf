// Package config reads .fwaudit.yaml, the project configuration of
// `fwaudit scan`: the CI gate (fail_on, fail_on_guideline), rules to
// disable, the compliance threshold, the outputs written with --out, the
// baseline, the rule data options and the extraction limits. Every key is
// optional; unknown keys are an error that names the key, so that a typo
// does not silently turn a gate off. Command-line flags override the file.
//
// Paths in the file (baseline, passwords, vuln_db, rules_dir) are relative to the
// folder holding the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"gopkg.in/yaml.v3"

	"github.com/fwaudit/fwaudit/analyzers"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

// FileName is the configuration file looked for in the current directory.
const FileName = ".fwaudit.yaml"

// MaxSize bounds the configuration file.
const MaxSize = 1 << 20

// Outputs are the report formats --out can write.
var Outputs = []string{"json", "markdown", "sarif", "html", "sbom"}

// Config is .fwaudit.yaml. A nil pointer or empty value means "not set".
type Config struct {
	// FailOn: exit 1 when a finding is at or above this severity (or
	// "none").
	FailOn string `yaml:"fail_on"`
	// FailOnGuideline: exit 1 when one of these Code of Practice
	// guidelines fails. A list ([1, 3]), one number or a string "1,3".
	FailOnGuideline Guidelines `yaml:"fail_on_guideline"`
	// DisableRules: findings of these rules are dropped. An entry names a
	// rule ("default-password"), which also covers its sub-rules
	// ("extraction-anomaly" covers "extraction-anomaly/traversal"); an
	// entry ending in "*" is a prefix ("eol-*").
	DisableRules []string `yaml:"disable_rules"`
	// ComplianceThreshold: findings at or above it fail the compliance
	// items they map to.
	ComplianceThreshold string `yaml:"compliance_threshold"`
	// Outputs: the files --out writes (json, markdown, sarif, html, sbom).
	Outputs []string `yaml:"outputs"`
	// Baseline: the baseline file (relative to the configuration file).
	Baseline string `yaml:"baseline"`
	// ScanDate (YYYY-MM-DD) for reproducible reports.
	ScanDate string `yaml:"scan_date"`
	// StaleYears: see --stale-years.
	StaleYears *int `yaml:"stale_years"`
	// Passwords: extra default-password lists.
	Passwords []string `yaml:"passwords"`
	// PasswordsOnly: use only Passwords, not the embedded dictionary.
	PasswordsOnly *bool `yaml:"passwords_only"`
	// RulesDir: a folder of rule files that add to or override the
	// embedded rules (see --rules).
	RulesDir string `yaml:"rules_dir"`
	// Limits on extraction.
	Limits Limits `yaml:"limits"`
	// VulnDB: the grype v6 database to match against.
	VulnDB string `yaml:"vuln_db"`
	// VEX: OpenVEX files of the user's own vulnerability decisions.
	VEX []string `yaml:"vex"`

	// Path is the file the configuration was read from ("" when none).
	Path string `yaml:"-"`
}

// Limits are the extraction limits; sizes are strings such as "10GiB".
type Limits struct {
	MaxDepth    *int     `yaml:"max_depth"`
	MaxTotal    string   `yaml:"max_total"`
	MaxFileSize string   `yaml:"max_file_size"`
	MaxRatio    *float64 `yaml:"max_ratio"`
	MaxFiles    *int64   `yaml:"max_files"`
	// Time and work bounds (see docs/configuration.md).
	MaxEntries   *int64 `yaml:"max_entries"`
	MaxLayers    *int   `yaml:"max_layers"`
	LayerTimeout string `yaml:"layer_timeout"`
	ImageTimeout string `yaml:"image_timeout"`
	MaxHashWork  *int64 `yaml:"max_hash_work"`
	// AnalyzerTimeout bounds one analyzer's time on an image ("10m").
	AnalyzerTimeout string `yaml:"analyzer_timeout"`
	// Carving budget (sizes such as "16KiB"; see docs/configuration.md).
	CarveMinSize    string `yaml:"carve_min_size"`
	CarveFileBytes  string `yaml:"carve_file_bytes"`
	CarveImageBytes string `yaml:"carve_image_bytes"`
}

// keys lists the keys of each mapping, for the unknown-key check.
var (
	topKeys   = yamlKeys(Config{})
	limitKeys = yamlKeys(Limits{})
)

// Find returns the configuration to use: the file given (explicit, which
// must exist), else FileName in dir if it exists, else an empty
// configuration.
func Find(explicit, dir string) (*Config, error) {
	if explicit != "" {
		return Load(explicit)
	}
	p := filepath.Join(dir, FileName)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return &Config{}, nil
	}
	return Load(p)
}

// Load reads and checks a configuration file. Relative paths in it are
// made relative to the file's folder.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxSize)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Baseline = rel(c.Baseline)
	c.VulnDB = rel(c.VulnDB)
	c.RulesDir = rel(c.RulesDir)
	for i, p := range c.Passwords {
		c.Passwords[i] = rel(p)
	}
	for i, p := range c.VEX {
		c.VEX[i] = rel(p)
	}
	return c, nil
}

// Parse decodes and checks a configuration document. An empty document is
// an empty configuration.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	if len(root.Content) == 0 {
		return c, nil // empty or comments only
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the configuration must be a mapping of keys (fail_on: high, ...)", doc.Line)
	}
	if err := checkKeys(doc, topKeys, ""); err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "limits" {
			v := doc.Content[i+1]
			if v.Kind != yaml.MappingNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				return nil, fmt.Errorf("line %d: limits must be a mapping (max_depth: 8, ...)", v.Line)
			}
			if err := checkKeys(v, limitKeys, "limits."); err != nil {
				return nil, err
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func checkKeys(m *yaml.Node, known []string, prefix string) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("line %d: unknown key %q (known keys: %s)", k.Line, prefix+k.Value, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return fmt.Errorf("line %d: key %q given twice", k.Line, prefix+k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}

// check validates the values.
func (c *Config) check() error {
	if c.FailOn != "" && c.FailOn != "none" {
		if _, err := analyzers.ParseSeverity(c.FailOn); err != nil {
			return fmt.Errorf("fail_on: %v (or none)", err)
		}
	}
	if err := CheckGuidelines(c.FailOnGuideline); err != nil {
		return fmt.Errorf("fail_on_guideline: %v", err)
	}
	for _, r := range c.DisableRules {
		if strings.TrimSpace(r) == "" || r == "*" {
			return fmt.Errorf("disable_rules: %q would disable nothing or everything; name rules or rule prefixes", r)
		}
	}
	if c.ComplianceThreshold != "" {
		if _, err := analyzers.ParseSeverity(c.ComplianceThreshold); err != nil {
			return fmt.Errorf("compliance_threshold: %v", err)
		}
	}
	if err := CheckOutputs(c.Outputs); err != nil {
		return fmt.Errorf("outputs: %v", err)
	}
	if c.ScanDate != "" {
		if _, err := time.Parse(time.DateOnly, c.ScanDate); err != nil {
			return fmt.Errorf("scan_date: want YYYY-MM-DD, not %q", c.ScanDate)
		}
	}
	for _, p := range c.Passwords {
		if p == "" {
			return fmt.Errorf("passwords: empty file name")
		}
	}
	for _, p := range c.VEX {
		if p == "" {
			return fmt.Errorf("vex: empty file name")
		}
	}
	l := c.Limits
	if l.MaxDepth != nil && *l.MaxDepth < 1 {
		return fmt.Errorf("limits.max_depth must be at least 1")
	}
	if l.MaxTotal != "" && l.MaxTotal != "auto" {
		if _, err := humanize.ParseBytes(l.MaxTotal); err != nil {
			return fmt.Errorf("limits.max_total: %v", err)
		}
	}
	if l.MaxFileSize != "" {
		if _, err := humanize.ParseBytes(l.MaxFileSize); err != nil {
			return fmt.Errorf("limits.max_file_size: %v", err)
		}
	}
	if l.MaxRatio != nil && *l.MaxRatio <= 0 {
		return fmt.Errorf("limits.max_ratio must be positive")
	}
	if l.MaxFiles != nil && *l.MaxFiles < 1 {
		return fmt.Errorf("limits.max_files must be at least 1")
	}
	if l.MaxEntries != nil && *l.MaxEntries < 1 {
		return fmt.Errorf("limits.max_entries must be at least 1")
	}
	if l.MaxLayers != nil && *l.MaxLayers < 1 {
		return fmt.Errorf("limits.max_layers must be at least 1")
	}
	for k, v := range map[string]string{"layer_timeout": l.LayerTimeout, "image_timeout": l.ImageTimeout, "analyzer_timeout": l.AnalyzerTimeout} {
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err != nil || d < 0 {
			return fmt.Errorf("limits.%s: want a duration such as 60s or 10m (0 for none), not %q", k, v)
		}
	}
	if l.MaxHashWork != nil && (*l.MaxHashWork == 0 || *l.MaxHashWork < -1) {
		return fmt.Errorf("limits.max_hash_work must be positive (or -1 for no bound)")
	}
	for _, c := range []struct{ key, val string }{
		{"carve_min_size", l.CarveMinSize}, {"carve_file_bytes", l.CarveFileBytes}, {"carve_image_bytes", l.CarveImageBytes},
	} {
		if c.val == "" {
			continue
		}
		if n, err := humanize.ParseBytes(c.val); err != nil || n == 0 || n > 1<<62 {
			return fmt.Errorf("limits.%s: want a positive size such as 64KiB or 512MiB, not %q", c.key, c.val)
		}
	}
	return nil
}

// CheckGuidelines checks that every number is a Code of Practice guideline.
func CheckGuidelines(gs []int) error {
	cop := rulescompliance.Default().Framework(rulescompliance.CoP)
	for _, g := range gs {
		if cop == nil || cop.Item(strconv.Itoa(g)) == nil {
			return fmt.Errorf("%d is not a Code of Practice guideline number (1 to %d)", g, len(copItems(cop)))
		}
	}
	return nil
}

func copItems(fw *rulescompliance.Framework) []*rulescompliance.Item {
	if fw == nil {
		return nil
	}
	return fw.Items
}

// CheckOutputs checks output format names.
func CheckOutputs(outs []string) error {
	for _, o := range outs {
		if !slices.Contains(Outputs, o) {
			return fmt.Errorf("unknown output %q (want %s)", o, strings.Join(Outputs, ", "))
		}
	}
	return nil
}

// RuleDisabled reports whether rule is covered by one of the disable_rules
// patterns: the rule itself, a parent of it ("extraction-anomaly" covers
// "extraction-anomaly/traversal"), or a prefix ending in "*".
func RuleDisabled(rule string, patterns []string) bool {
	for _, p := range patterns {
		if pre, ok := strings.CutSuffix(p, "*"); ok {
			if pre != "" && strings.HasPrefix(rule, pre) {
				return true
			}
			continue
		}
		if rule == p || strings.HasPrefix(rule, p+"/") {
			return true
		}
	}
	return false
}

// yamlKeys lists the yaml names of a struct's fields.
func yamlKeys(v any) []string {
	var out []string
	t := reflect.TypeOf(v)
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// Guidelines is a list of Code of Practice guideline numbers. In YAML it is
// a list ([1, 3]), one number (1) or a comma-separated string ("1,3").
type Guidelines []int

// UnmarshalYAML accepts the three forms.
func (g *Guidelines) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		var xs []int
		if err := n.Decode(&xs); err != nil {
			return err
		}
		*g = xs
		return nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*g = nil
			return nil
		}
		xs, err := ParseGuidelines(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: fail_on_guideline: %v", n.Line, err)
		}
		*g = xs
		return nil
	}
	return fmt.Errorf("line %d: fail_on_guideline: want a list of guideline numbers", n.Line)
}

// ParseGuidelines parses "1,3" (spaces allowed).
func ParseGuidelines(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a guideline number", part)
		}
		out = append(out, n)
	}
	return out, nil
}
