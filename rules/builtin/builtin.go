// Package builtin holds the documentation of fwaudit's rules whose
// matching lives in code (accounts, keys, certificates, end of life,
// vulnerability matching, software integrity, extraction): builtin.yaml,
// embedded at build time, with the same fields the rule files use — title,
// description, fix — plus the category and the emitting analyzer (source).
// It also holds fallbacks by category for rules nothing else documents.
//
// Every rule has the shared rule header (rules/schema): its severity and
// guidelines here are the only place they are written; the analyzers look
// them up (Guidelines, Severity) when they build a finding.
//
// Format:
//
//	format: 1
//	rules:
//	  - id: default-password
//	    title: ...          # one line
//	    category: hardcoded-credential
//	    source: analyzers/accounts
//	    severity: critical  # the base severity
//	    guidelines: [1]     # Code of Practice guidelines; [] for none
//	    description: ...    # what it finds and why it matters
//	    fix: ...            # what to do about it
//	categories:
//	  - id: api-token
//	    title: ...
//	    guidelines: [4]     # of rules in the category nothing documents
//	    description: ...
//	    fix: ...
package builtin

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/fwaudit/fwaudit/rules/schema"
)

//go:embed builtin.yaml
var defaultYAML []byte

// FormatVersion is the layout version of builtin.yaml.
const FormatVersion = 1

// Doc documents one rule (the shared header, its category) or one
// category (id, title, description, fix and, optionally, guidelines).
type Doc struct {
	schema.Header `yaml:",inline"`
	Category      string `yaml:"category"`
}

// Set is a parsed builtin.yaml.
type Set struct {
	Format     int    `yaml:"format"`
	Rules      []*Doc `yaml:"rules"`
	Categories []*Doc `yaml:"categories"`

	rules, cats map[string]*Doc
}

// Parse parses and checks the data: every rule has a valid header
// (rules/schema), a category and a source; every category an id, a title,
// a description and a fix; ids are unique.
func Parse(b []byte) (*Set, error) {
	var s Set
	if err := schema.Decode("builtin rules", b, &s); err != nil {
		return nil, err
	}
	if s.Format != FormatVersion {
		return nil, fmt.Errorf("builtin rules: format %d, want %d", s.Format, FormatVersion)
	}
	err := schema.Check("builtin rules", s.Rules, func(d *Doc) error {
		if d.Category == "" || d.Source == "" {
			return fmt.Errorf("needs category and source")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.rules, s.cats = map[string]*Doc{}, map[string]*Doc{}
	for _, d := range s.Rules {
		s.rules[d.ID] = d
	}
	for _, d := range s.Categories {
		if d == nil || d.ID == "" || d.Title == "" || strings.TrimSpace(d.Description) == "" || strings.TrimSpace(d.Fix) == "" {
			return nil, fmt.Errorf("builtin rules: category needs id, title, description and fix")
		}
		if s.cats[d.ID] != nil {
			return nil, fmt.Errorf("builtin rules: category %q twice", d.ID)
		}
		if err := schema.CheckGuidelines(d.Guidelines); err != nil {
			return nil, fmt.Errorf("builtin rules: category %q: %w", d.ID, err)
		}
		s.cats[d.ID] = d
	}
	return &s, nil
}

// Rule returns the rule with this id (nil if none).
func (s *Set) Rule(id string) *Doc { return s.rules[id] }

// Category returns the category with this id (nil if none).
func (s *Set) Category(id string) *Doc { return s.cats[id] }

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

// Guidelines returns a copy of the guidelines of the built-in rule id (a
// new empty slice for a rule that bears on none). It panics on an id
// builtin.yaml does not document: every rule an analyzer emits is
// documented, which the validator test (rules/validate) checks.
func Guidelines(id string) []int {
	return append([]int{}, mustRule(id).Guidelines...)
}

// Severity returns the base severity of the built-in rule id; it panics on
// an undocumented id, like Guidelines.
func Severity(id string) string { return mustRule(id).Severity }

// CategoryGuidelines returns a copy of the guidelines of a category (for
// rules of it that no rule data documents, such as gitleaks' token rules);
// nil if the category has none.
func CategoryGuidelines(id string) []int {
	if c := Default().Category(id); c != nil && c.Guidelines != nil {
		return append([]int{}, c.Guidelines...)
	}
	return nil
}

func mustRule(id string) *Doc {
	d := Default().Rule(id)
	if d == nil {
		panic(fmt.Sprintf("builtin: rule %q is not documented in builtin.yaml", id))
	}
	return d
}
