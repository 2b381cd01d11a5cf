// Package builtin holds the documentation of fwaudit's rules whose
// matching lives in code (accounts, keys, certificates, end of life,
// vulnerability matching, software integrity, extraction): builtin.yaml,
// embedded at build time, with the same fields the rule files use — title,
// description, fix — plus the category and the emitting analyzer (source).
// It also holds fallbacks by category for rules nothing else documents.
//
// Format:
//
//	format: 1
//	rules:
//	  - id: default-password
//	    title: ...          # one line
//	    category: hardcoded-credential
//	    source: analyzers/accounts
//	    description: ...    # what it finds and why it matters
//	    fix: ...            # what to do about it
//	categories:
//	  - id: api-token
//	    title: ...
//	    description: ...
//	    fix: ...
package builtin

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed builtin.yaml
var defaultYAML []byte

// FormatVersion is the layout version of builtin.yaml.
const FormatVersion = 1

// Doc documents one rule or category.
type Doc struct {
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	Category    string `yaml:"category"`
	Source      string `yaml:"source"`
	Description string `yaml:"description"`
	Fix         string `yaml:"fix"`
}

// Set is a parsed builtin.yaml.
type Set struct {
	Format     int    `yaml:"format"`
	Rules      []*Doc `yaml:"rules"`
	Categories []*Doc `yaml:"categories"`
}

// Parse parses and checks the data: every entry needs an id, a title, a
// description and a fix; rules need a category and a source; ids are
// unique.
func Parse(b []byte) (*Set, error) {
	var s Set
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("builtin rules: %w", err)
	}
	if s.Format != FormatVersion {
		return nil, fmt.Errorf("builtin rules: format %d, want %d", s.Format, FormatVersion)
	}
	seen := map[string]bool{}
	check := func(kind string, d *Doc, rule bool) error {
		if d.ID == "" || d.Title == "" || strings.TrimSpace(d.Description) == "" || strings.TrimSpace(d.Fix) == "" {
			return fmt.Errorf("builtin rules: %s %q needs id, title, description and fix", kind, d.ID)
		}
		if rule && (d.Category == "" || d.Source == "") {
			return fmt.Errorf("builtin rules: rule %q needs category and source", d.ID)
		}
		if seen[kind+d.ID] {
			return fmt.Errorf("builtin rules: %s %q twice", kind, d.ID)
		}
		seen[kind+d.ID] = true
		return nil
	}
	for _, d := range s.Rules {
		if err := check("rule", d, true); err != nil {
			return nil, err
		}
	}
	for _, d := range s.Categories {
		if err := check("category", d, false); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

var defaults = sync.OnceValues(func() (*Set, error) { return Parse(defaultYAML) })

// Default returns the embedded data; it panics if the embedded file is
// invalid, which the package test rules out.
func Default() *Set {
	s, err := defaults()
	if err != nil {
		panic(err)
	}
	return s
}
