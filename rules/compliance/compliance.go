// Package compliance holds fwaudit's compliance data (compliance.yaml,
// embedded at build time): the frameworks a firmware image is judged
// against — the UK Code of Practice for Consumer IoT Security (13
// guidelines), ETSI EN 303 645 V2.1.1 provisions, the three security
// requirements of the UK PSTI regulations and the EU Cyber Resilience Act
// Annex I — and the mapping from finding rules and categories to their
// ETSI, PSTI and CRA items (Code of Practice items are the findings' own
// guidelines, from the rule data). The verdict engine is the top-level compliance package; this one
// only loads and checks the data. Sources are cited in the YAML header.
//
// Format:
//
//	format: 1
//	hints:            # what the image may hold towards an item
//	  - id: security-txt
//	    title: ...
//	    files: [security.txt]         # base names
//	    patterns: ["security@"]       # case-insensitive substrings of text files
//	    protections: [signature]      # container protection kinds (layer headers)
//	frameworks:
//	  - id: cop                       # framework id (cop, etsi, psti, cra)
//	    name: ...
//	    items:
//	      - id: "1"                   # unique in the framework
//	        number: 1                 # CoP guideline / PSTI requirement number
//	        clause: "5.1"             # ETSI clause
//	        title: ...
//	        summary: ...              # one line, our own words
//	        checks: [accounts]        # analyzers that decide it from the image
//	        cannot_check: ...         # what a static image scan cannot decide
//	        ask: ...                  # what the manufacturer must supply
//	        image_hints: [security-txt]
//	        related: {etsi: ["5.1-1"]}
//	mappings:                         # ETSI, PSTI and CRA items only: a
//	  - rules: [default-password, "extraction-anomaly/*"]  # finding's Code of
//	    categories: [hardcoded-credential]                 # Practice items are
//	    items: {etsi: ["5.1-1"], psti: ["1"]}              # its rule's guidelines
//
// An item needs checks or an ask (or both): with checks only it can pass on
// the image alone; with an ask it can at best need evidence.
package compliance

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed compliance.yaml
var defaultYAML []byte

// FormatVersion is the layout version of compliance.yaml.
const FormatVersion = 1

// Framework ids used by the embedded data.
const (
	CoP  = "cop"
	ETSI = "etsi"
	PSTI = "psti"
	CRA  = "cra"
)

// Set is a parsed and checked compliance file.
type Set struct {
	Format     int          `yaml:"format"`
	Hints      []*Hint      `yaml:"hints"`
	Frameworks []*Framework `yaml:"frameworks"`
	Mappings   []*Mapping   `yaml:"mappings"`

	hints map[string]*Hint
	fws   map[string]*Framework
}

// Hint is something the image may contain towards an item that needs
// evidence (a security.txt, a security@ address, a support-period text).
type Hint struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	// Files are base names matched exactly (case-insensitive).
	Files []string `yaml:"files"`
	// Patterns are case-insensitive substrings of a text file.
	Patterns []string `yaml:"patterns"`
	// Protections are kinds of container protection (extract.Protection
	// kinds: "signature", "checksum", "none"): a layer whose header records
	// one of them is a hint.
	Protections []string `yaml:"protections"`
}

// Framework is one set of guidelines, provisions or requirements.
type Framework struct {
	ID      string  `yaml:"id"`
	Name    string  `yaml:"name"`
	Short   string  `yaml:"short"`
	Version string  `yaml:"version"`
	Items   []*Item `yaml:"items"`

	items map[string]*Item
}

// Item is one guideline, provision or requirement.
type Item struct {
	ID      string `yaml:"id"`
	Number  int    `yaml:"number"`
	Clause  string `yaml:"clause"`
	Title   string `yaml:"title"`
	Summary string `yaml:"summary"`
	// Checks are the analyzers whose silence decides the item for the image.
	Checks []string `yaml:"checks"`
	// CannotCheck says what a static scan of the image cannot decide.
	CannotCheck string `yaml:"cannot_check"`
	// Ask is what the manufacturer must supply.
	Ask        string              `yaml:"ask"`
	ImageHints []string            `yaml:"image_hints"`
	Related    map[string][]string `yaml:"related"`
}

// Mapping says which items the findings of some rules or categories are
// evidence against.
type Mapping struct {
	// Rules are exact rule names, or prefixes ending in "*".
	Rules      []string            `yaml:"rules"`
	Categories []string            `yaml:"categories"`
	Items      map[string][]string `yaml:"items"`
	Note       string              `yaml:"note"`
}

// Ref names one item of one framework.
type Ref struct {
	Framework string
	ID        string
}

var defaults = sync.OnceValues(func() (*Set, error) { return Parse(defaultYAML) })

// Default returns the embedded data. It panics if the embedded file is
// invalid, which the package tests rule out.
func Default() *Set {
	s, err := defaults()
	if err != nil {
		panic("rules/compliance: embedded compliance.yaml: " + err.Error())
	}
	return s
}

// Parse reads and checks a compliance file.
func Parse(data []byte) (*Set, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Set
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("compliance rules: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("compliance rules: %w", err)
	}
	return &s, nil
}

func (s *Set) check() error {
	if s.Format != FormatVersion {
		return fmt.Errorf("format %d, want %d", s.Format, FormatVersion)
	}
	s.hints = map[string]*Hint{}
	for _, h := range s.Hints {
		if h == nil || h.ID == "" {
			return fmt.Errorf("hint without id")
		}
		if s.hints[h.ID] != nil {
			return fmt.Errorf("hint %q defined twice", h.ID)
		}
		if len(h.Files) == 0 && len(h.Patterns) == 0 && len(h.Protections) == 0 {
			return fmt.Errorf("hint %q has neither files, patterns nor protections", h.ID)
		}
		for _, p := range h.Patterns {
			if strings.TrimSpace(p) == "" {
				return fmt.Errorf("hint %q: empty pattern", h.ID)
			}
		}
		s.hints[h.ID] = h
	}
	s.fws = map[string]*Framework{}
	for _, fw := range s.Frameworks {
		if fw == nil || fw.ID == "" || fw.Name == "" {
			return fmt.Errorf("framework without id or name")
		}
		if s.fws[fw.ID] != nil {
			return fmt.Errorf("framework %q defined twice", fw.ID)
		}
		s.fws[fw.ID] = fw
		fw.items = map[string]*Item{}
		for _, it := range fw.Items {
			if it == nil || it.ID == "" || it.Title == "" {
				return fmt.Errorf("%s: item without id or title", fw.ID)
			}
			if fw.items[it.ID] != nil {
				return fmt.Errorf("%s: item %q defined twice", fw.ID, it.ID)
			}
			if len(it.Checks) == 0 && strings.TrimSpace(it.Ask) == "" {
				return fmt.Errorf("%s %s: neither checks nor ask", fw.ID, it.ID)
			}
			seen := map[string]bool{}
			for _, c := range it.Checks {
				if c == "" || seen[c] {
					return fmt.Errorf("%s %s: empty or repeated check %q", fw.ID, it.ID, c)
				}
				seen[c] = true
			}
			for _, h := range it.ImageHints {
				if s.hints[h] == nil {
					return fmt.Errorf("%s %s: unknown image hint %q", fw.ID, it.ID, h)
				}
			}
			fw.items[it.ID] = it
		}
	}
	// related and mapping references may point forwards: check them last
	for _, fw := range s.Frameworks {
		for _, it := range fw.Items {
			for rfw, ids := range it.Related {
				if err := s.checkRefs(rfw, ids); err != nil {
					return fmt.Errorf("%s %s: related: %w", fw.ID, it.ID, err)
				}
			}
		}
	}
	for i, m := range s.Mappings {
		if m == nil || (len(m.Rules) == 0 && len(m.Categories) == 0) {
			return fmt.Errorf("mapping %d names no rule and no category", i+1)
		}
		for _, r := range m.Rules {
			if r == "" || r == "*" || strings.Contains(strings.TrimSuffix(r, "*"), "*") {
				return fmt.Errorf("mapping %d: bad rule %q", i+1, r)
			}
		}
		for fw, ids := range m.Items {
			if fw == CoP {
				return fmt.Errorf("mapping %d maps to Code of Practice items: a finding's guidelines come from its rule's data (the guidelines of its rule file or rules/builtin), not from mappings", i+1)
			}
			if err := s.checkRefs(fw, ids); err != nil {
				return fmt.Errorf("mapping %d: %w", i+1, err)
			}
		}
	}
	return nil
}

func (s *Set) checkRefs(fw string, ids []string) error {
	f := s.fws[fw]
	if f == nil {
		return fmt.Errorf("unknown framework %q", fw)
	}
	for _, id := range ids {
		if f.items[id] == nil {
			return fmt.Errorf("unknown %s item %q", fw, id)
		}
	}
	return nil
}

// Framework returns the framework with the given id, or nil.
func (s *Set) Framework(id string) *Framework { return s.fws[id] }

// Hint returns the hint with the given id, or nil.
func (s *Set) Hint(id string) *Hint { return s.hints[id] }

// Item returns the item with the given id, or nil.
func (f *Framework) Item(id string) *Item {
	if f == nil {
		return nil
	}
	return f.items[id]
}

// matchRule reports whether pattern (exact, or a prefix ending in "*")
// matches rule.
func matchRule(pattern, rule string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(rule, p)
	}
	return pattern == rule
}

// Match returns the items a finding of this rule and category is evidence
// against: the union of every mapping naming the rule or the category,
// sorted by framework order and then item order in the file.
func (s *Set) Match(rule, category string) []Ref {
	seen := map[Ref]bool{}
	for _, m := range s.Mappings {
		hit := false
		for _, r := range m.Rules {
			if matchRule(r, rule) {
				hit = true
				break
			}
		}
		if !hit && category != "" {
			for _, c := range m.Categories {
				if c == category {
					hit = true
					break
				}
			}
		}
		if !hit {
			continue
		}
		for fw, ids := range m.Items {
			for _, id := range ids {
				seen[Ref{fw, id}] = true
			}
		}
	}
	out := make([]Ref, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	s.SortRefs(out)
	return out
}

// Mapped reports whether some mapping names the rule or the category (even
// one that maps to no item).
func (s *Set) Mapped(rule, category string) bool {
	for _, m := range s.Mappings {
		for _, r := range m.Rules {
			if matchRule(r, rule) {
				return true
			}
		}
		for _, c := range m.Categories {
			if c == category {
				return true
			}
		}
	}
	return false
}

// SortRefs orders refs by framework order, then item order, in the file.
func (s *Set) SortRefs(refs []Ref) {
	fwPos := map[string]int{}
	for i, f := range s.Frameworks {
		fwPos[f.ID] = i
	}
	itemPos := func(r Ref) int {
		f := s.fws[r.Framework]
		if f == nil {
			return -1
		}
		for i, it := range f.Items {
			if it.ID == r.ID {
				return i
			}
		}
		return -1
	}
	sort.SliceStable(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		if fwPos[a.Framework] != fwPos[b.Framework] {
			return fwPos[a.Framework] < fwPos[b.Framework]
		}
		return itemPos(a) < itemPos(b)
	})
}
