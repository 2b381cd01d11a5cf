// Package schema is the one rule header every fwaudit rule set shares, and
// its validation. A rule file (rules/credentials, rules/services,
// rules/transport, rules/tokens, rules/builtin) embeds Header inline and
// adds only its own match fields; Load decodes a set strictly (unknown keys
// are errors) and checks every header, and Registry checks that rule ids
// are unique across every set.
//
// The header:
//
//	id: telnetd            # unique across all rule sets
//	title: ...             # one line
//	description: ...       # what it finds and why it matters
//	severity: high         # critical, high, medium, low or info
//	guidelines: [5, 6]     # UK Code of Practice guidelines (1-13) it bears
//	                       # on; [] when it bears on none (extraction)
//	fix: ...               # what to do about it
//	source: ...            # provenance: where the pattern and examples
//	                       # come from
//	examples:              # set-specific shapes, run by rules/validate
//	  true: [...]
//	  false: [...]
//
// A rule's guidelines and severity live only here: analyzers take them
// from the rule data, never from Go.
package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Severities valid in rule data, worst first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// Guideline numbers of the UK Code of Practice for Consumer IoT Security.
const (
	MinGuideline = 1
	MaxGuideline = 13
)

// Header is the part every rule of every set has.
type Header struct {
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	Severity    string `yaml:"severity"`
	Guidelines  []int  `yaml:"guidelines"`
	Fix         string `yaml:"fix"`
	Source      string `yaml:"source"`
}

// Examples are a rule's inline examples: texts (or set-specific shapes)
// that must (True) or must not (False) produce a finding of the rule.
type Examples[T, F any] struct {
	True  []T `yaml:"true"`
	False []F `yaml:"false"`
}

// ValidSeverity reports whether s is one of Severities.
func ValidSeverity(s string) bool { return slices.Contains(Severities, s) }

// CheckGuidelines checks that every number is a Code of Practice guideline
// and that none repeats.
func CheckGuidelines(g []int) error {
	for i, n := range g {
		if n < MinGuideline || n > MaxGuideline {
			return fmt.Errorf("guideline %d is not a Code of Practice guideline (%d-%d)", n, MinGuideline, MaxGuideline)
		}
		if slices.Contains(g[:i], n) {
			return fmt.Errorf("guideline %d twice", n)
		}
	}
	return nil
}

// Check checks the header: id, title, description, fix and a valid
// severity are required; guidelines must be given (an explicit [] says the
// rule bears on none) and valid.
func (h *Header) Check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"id", h.ID}, {"title", h.Title}, {"description", h.Description}, {"fix", h.Fix}, {"severity", h.Severity},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if h.Guidelines == nil {
		missing = append(missing, "guidelines")
	}
	if len(missing) > 0 {
		return fmt.Errorf("rule %q: missing %s", h.ID, strings.Join(missing, ", "))
	}
	if !ValidSeverity(h.Severity) {
		return fmt.Errorf("rule %q: severity %q (want one of %s)", h.ID, h.Severity, strings.Join(Severities, ", "))
	}
	if err := CheckGuidelines(h.Guidelines); err != nil {
		return fmt.Errorf("rule %q: %w", h.ID, err)
	}
	return nil
}

// Rule is what Load needs of a set's rule type: its header.
type Rule interface{ Head() *Header }

// Head returns the header itself; a rule type embedding Header gets it.
func (h *Header) Head() *Header { return h }

// Decode decodes YAML strictly into v: an unknown key is an error, so a
// misspelt field does not silently switch a condition off.
func Decode(set string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", set, err)
	}
	return nil
}

// Check checks the headers of a set's rules — each valid, ids unique in the
// set — then runs compile on each rule (the set's own fields). Errors name
// the set and the rule.
func Check[R Rule](set string, rules []R, compile func(R) error) error {
	seen := map[string]bool{}
	for i, r := range rules {
		var zero R
		if any(r) == any(zero) {
			return fmt.Errorf("%s: rule %d is empty", set, i)
		}
		h := r.Head()
		if err := h.Check(); err != nil {
			return fmt.Errorf("%s: %w", set, err)
		}
		if seen[h.ID] {
			return fmt.Errorf("%s: rule %q twice", set, h.ID)
		}
		seen[h.ID] = true
		if compile != nil {
			if err := compile(r); err != nil {
				return fmt.Errorf("%s: rule %s: %w", set, h.ID, err)
			}
		}
	}
	return nil
}

// Registry records which set defines each rule id, so that ids are unique
// across every rule set.
type Registry struct {
	mu  sync.Mutex
	ids map[string]string
}

// Add records the ids of a set's rules; an id another set (or this one)
// already has is an error naming both.
func (g *Registry) Add(set string, ids ...string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ids == nil {
		g.ids = map[string]string{}
	}
	for _, id := range ids {
		if other, ok := g.ids[id]; ok {
			return fmt.Errorf("rule id %q in %s is already used in %s", id, set, other)
		}
		g.ids[id] = set
	}
	return nil
}

// Len is the number of ids recorded.
func (g *Registry) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.ids)
}

// Set returns the set that defines id ("" if none).
func (g *Registry) Set(id string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ids[id]
}

// Merge returns base with the rules of over merged in: a rule whose id base
// already has replaces it in place (so a user's file can change an
// embedded rule without reordering first-match-wins sets), any other is
// appended in order.
func Merge[R Rule](base, over []R) []R {
	out := slices.Clone(base)
	at := map[string]int{}
	for i, r := range out {
		var zero R
		if any(r) != any(zero) {
			at[r.Head().ID] = i
		}
	}
	for _, r := range over {
		var zero R
		if any(r) != any(zero) {
			if i, ok := at[r.Head().ID]; ok {
				out[i] = r
				continue
			}
			at[r.Head().ID] = len(out)
		}
		out = append(out, r)
	}
	return out
}

// Load is the common loader of a list-shaped rule file: it decodes the
// first file (the embedded rules) and then each further file (a user's
// overrides) strictly, merges them (Merge), and checks and compiles every
// rule (Check).
func Load[R Rule](set string, compile func(R) error, files ...[]byte) ([]R, error) {
	var all []R
	for i, data := range files {
		var rs []R
		if err := Decode(set, data, &rs); err != nil {
			if i > 0 {
				return nil, fmt.Errorf("override file %d: %w", i, err)
			}
			return nil, err
		}
		all = Merge(all, rs)
	}
	if err := Check(set, all, compile); err != nil {
		return nil, err
	}
	return all, nil
}
