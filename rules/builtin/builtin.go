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
//	    examples:           # run through the analyzer by rules/validate
//	      true:
//	        - path: /etc/shadow   # where the content is placed
//	          text: "root:$1$...:19000:0:99999:7:::"
//	      false:
//	        - {path: /etc/shadow, text: "root:*:19000:0:99999:7:::"}
//	    # or, for a rule whose input is not file content:
//	    # examples: "none: <why, and which tests cover it instead>"
//	categories:
//	  - id: api-token
//	    title: ...
//	    guidelines: [4]     # of rules in the category nothing documents
//	    description: ...
//	    fix: ...
package builtin

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fwaudit/fwaudit/rules/schema"
	"gopkg.in/yaml.v3"
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
	// Examples are the rule's inline examples, run through the emitting
	// analyzer by rules/validate; or an explicit "none: <reason>" for a
	// rule whose input is not file content.
	Examples Examples `yaml:"examples"`
}

// Example is one example of a rule matched in code: content placed at an
// image path of a file-system layer, judged on a scan date.
type Example struct {
	// Path is the image path the content is placed at (/etc/shadow).
	Path string `yaml:"path"`
	// Text is the content; Base64 is binary content instead (white space
	// in it is ignored, so it can be folded over lines).
	Text   string `yaml:"text"`
	Base64 string `yaml:"base64"`
	// Unpack says the content is a whole firmware image (a container
	// header, not a file in a tree): rules/validate unpacks it with
	// extract and runs the analyzer on its layers; Path then names the
	// image file.
	Unpack bool `yaml:"unpack"`
	// Date is the scan date (YYYY-MM-DD) the example is judged on, for
	// rules that depend on it (certificate validity, end of life); empty
	// means DefaultExampleDate.
	Date string `yaml:"date"`
}

// DefaultExampleDate is the scan date of an example that names none.
const DefaultExampleDate = "2026-01-01"

// Examples are a code-matched rule's examples: content that must (True)
// or must not (False) produce a finding of the rule, or None, the reason
// the rule has none (written "examples: none: <reason>" — its input is not
// file content).
type Examples struct {
	True  []Example
	False []Example
	None  string
}

// UnmarshalYAML reads either {true: [...], false: [...]} or the string
// "none: <reason>".
func (e *Examples) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		reason, ok := strings.CutPrefix(n.Value, "none:")
		if !ok || strings.TrimSpace(reason) == "" {
			return fmt.Errorf("line %d: examples: want {true, false} or \"none: <reason>\", got %q", n.Line, n.Value)
		}
		e.None = strings.TrimSpace(reason)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: examples: want {true, false} or \"none: <reason>\"", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *[]Example
		switch k.Value {
		case "true":
			dst = &e.True
		case "false":
			dst = &e.False
		default:
			return fmt.Errorf("line %d: examples: unknown key %q", k.Line, k.Value)
		}
		// strict: a misspelt example field is an error, as in the rules
		var raw []map[string]any
		if err := v.Decode(&raw); err != nil {
			return fmt.Errorf("line %d: examples.%s: %w", k.Line, k.Value, err)
		}
		for _, m := range raw {
			for key := range m {
				switch key {
				case "path", "text", "base64", "date", "unpack":
				default:
					return fmt.Errorf("line %d: examples.%s: unknown field %q", k.Line, k.Value, key)
				}
			}
		}
		if err := v.Decode(dst); err != nil {
			return fmt.Errorf("line %d: examples.%s: %w", k.Line, k.Value, err)
		}
	}
	return nil
}

// check: an example names its path and holds content; a rule has true and
// false examples or a reasoned none, not both.
func (e *Examples) check() error {
	if e.None != "" {
		if len(e.True)+len(e.False) > 0 {
			return fmt.Errorf("examples: both none and examples")
		}
		return nil
	}
	for _, ex := range append(append([]Example{}, e.True...), e.False...) {
		if !strings.HasPrefix(ex.Path, "/") {
			return fmt.Errorf("examples: example path %q is not an absolute image path", ex.Path)
		}
		if (ex.Text == "") == (ex.Base64 == "") {
			return fmt.Errorf("examples: example at %s needs exactly one of text and base64", ex.Path)
		}
		if ex.Base64 != "" {
			if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(ex.Base64), "")); err != nil {
				return fmt.Errorf("examples: example at %s: %w", ex.Path, err)
			}
		}
		if ex.Date != "" {
			if _, err := time.Parse(time.DateOnly, ex.Date); err != nil {
				return fmt.Errorf("examples: example at %s: date: %w", ex.Path, err)
			}
		}
	}
	return nil
}

// Content returns the example's bytes.
func (ex Example) Content() []byte {
	if ex.Base64 != "" {
		b, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(ex.Base64), ""))
		return b
	}
	return []byte(ex.Text)
}

// ScanDate returns the date the example is judged on.
func (ex Example) ScanDate() time.Time {
	d := ex.Date
	if d == "" {
		d = DefaultExampleDate
	}
	t, _ := time.Parse(time.DateOnly, d)
	return t
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
		return d.Examples.check()
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
