// Package match is the matching engine of fwaudit's tokens rules
// (rules/tokens/tokens.yaml) for credentials gitleaks' default configuration
// does not know — IoT platform connection strings and device secrets —
// and the allow list every token finding passes through (documentation
// examples and placeholders). Rules are data, gitleaks-style: keywords
// for a cheap prefilter, one RE2 pattern with a group "secret", a minimum
// Shannon entropy, and examples that must (true) or must not (false)
// match, checked by one generic test.
package match

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"

	"github.com/fwaudit/fwaudit/rules/schema"
	"github.com/fwaudit/fwaudit/rules/tokens"
)

// Category of every token finding.
const Category = "api-token"

// MaxSegment bounds the text one Scan looks at.
const MaxSegment = 64 << 10

// Example is a text that must give a match with this secret.
type Example struct {
	Text   string `yaml:"text"`
	Secret string `yaml:"secret"`
}

// Rule is one detector.
type Rule struct {
	// Header: id, title, description, severity, guidelines, fix, source.
	schema.Header `yaml:",inline"`
	Keywords      []string `yaml:"keywords"`
	Pattern       string   `yaml:"pattern"`
	// Require: the text must also match this (a vendor name nearby).
	Require string `yaml:"require"`
	// Entropy: minimum Shannon entropy (bits per char) of the secret.
	Entropy  float64                          `yaml:"entropy"`
	Examples schema.Examples[Example, string] `yaml:"examples"`

	re      *regexp.Regexp
	require *regexp.Regexp
	allow   *Allow
}

// Allow is the allow list.
type Allow struct {
	Examples []string `yaml:"examples"`
	Regexes  []string `yaml:"regexes"`
	MaxRun   int      `yaml:"max_run"`

	examples map[string]bool
	res      []*regexp.Regexp
}

// Set is the parsed rule file.
type Set struct {
	Rules []*Rule `yaml:"rules"`
	Allow *Allow  `yaml:"allow"`
}

// Match is one secret a rule found.
type Match struct {
	Rule   *Rule
	Secret string
	// Start and End are the secret's byte range in the scanned text.
	Start, End int
	Entropy    float64
}

var (
	defOnce sync.Once
	defSet  *Set
)

// Default returns the embedded rule set; it panics if the embedded file is
// broken (the tests make sure it is not).
func Default() *Set {
	defOnce.Do(func() {
		s, err := Parse(tokens.YAML)
		if err != nil {
			panic(err)
		}
		defSet = s
	})
	return defSet
}

// Parse parses and compiles a rule file. With more than one file, the
// later ones override the first (a user's rule files over the embedded
// one): a rule with an id already loaded replaces it, others are added,
// and their allow lists are added to the first's (MaxRun: the first file's
// unless it has none).
func Parse(files ...[]byte) (*Set, error) {
	var s Set
	for i, b := range files {
		var f Set
		if err := schema.Decode("tokens rules", b, &f); err != nil {
			if i > 0 {
				return nil, fmt.Errorf("override file %d: %w", i, err)
			}
			return nil, err
		}
		s.Rules = schema.Merge(s.Rules, f.Rules)
		if f.Allow != nil {
			if s.Allow == nil {
				s.Allow = &Allow{}
			}
			s.Allow.Examples = append(s.Allow.Examples, f.Allow.Examples...)
			s.Allow.Regexes = append(s.Allow.Regexes, f.Allow.Regexes...)
			if s.Allow.MaxRun == 0 {
				s.Allow.MaxRun = f.Allow.MaxRun
			}
		}
	}
	if s.Allow == nil {
		s.Allow = &Allow{}
	}
	a := s.Allow
	a.examples = map[string]bool{}
	for _, e := range a.Examples {
		a.examples[e] = true
	}
	for _, r := range a.Regexes {
		re, err := regexp.Compile(r)
		if err != nil {
			return nil, fmt.Errorf("tokens allow regex %q: %w", r, err)
		}
		a.res = append(a.res, re)
	}
	err := schema.Check("tokens rules", s.Rules, func(r *Rule) error {
		if len(r.Keywords) == 0 {
			return fmt.Errorf("no keywords")
		}
		for i, k := range r.Keywords {
			r.Keywords[i] = strings.ToLower(k)
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return err
		}
		if re.SubexpIndex("secret") < 0 {
			return fmt.Errorf("pattern has no group \"secret\"")
		}
		r.re = re
		if r.Require != "" {
			if r.require, err = regexp.Compile(r.Require); err != nil {
				return fmt.Errorf("require: %w", err)
			}
		}
		r.allow = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Keywords returns every rule's keywords (lower case).
func (s *Set) Keywords() []string {
	var out []string
	for _, r := range s.Rules {
		out = append(out, r.Keywords...)
	}
	return out
}

// Scan runs every rule over text.
func (s *Set) Scan(text string) []Match {
	var out []Match
	for _, r := range s.Rules {
		out = append(out, r.Scan(text)...)
	}
	return out
}

// Scan returns the rule's matches in text that pass its keyword, entropy
// and allow-list checks. Text longer than MaxSegment is cut.
func (r *Rule) Scan(text string) []Match {
	if len(text) > MaxSegment {
		text = text[:MaxSegment]
	}
	low := strings.ToLower(text)
	hit := false
	for _, k := range r.Keywords {
		if strings.Contains(low, k) {
			hit = true
			break
		}
	}
	if !hit {
		return nil
	}
	if r.require != nil && !r.require.MatchString(text) {
		return nil
	}
	gi := r.re.SubexpIndex("secret")
	var out []Match
	for _, m := range r.re.FindAllStringSubmatchIndex(text, 100) {
		if m[2*gi] < 0 {
			continue
		}
		sec := text[m[2*gi]:m[2*gi+1]]
		e := Entropy(sec)
		if e < r.Entropy || r.allow.Allowed(sec) {
			continue
		}
		out = append(out, Match{Rule: r, Secret: sec, Start: m[2*gi], End: m[2*gi+1], Entropy: e})
	}
	return out
}

// Allowed reports whether secret is a documentation example or a
// placeholder, not a credential.
func (a *Allow) Allowed(secret string) bool {
	if a == nil {
		return false
	}
	if a.examples[secret] {
		return true
	}
	for _, re := range a.res {
		if re.MatchString(secret) {
			return true
		}
	}
	if a.MaxRun > 0 && longestRun(secret) >= a.MaxRun {
		return true
	}
	return false
}

// Why returns the allow-list entry that suppresses secret, or "".
func (a *Allow) Why(secret string) string {
	if a == nil {
		return ""
	}
	if a.examples[secret] {
		return "documentation example"
	}
	for _, re := range a.res {
		if re.MatchString(secret) {
			return "placeholder: " + re.String()
		}
	}
	if a.MaxRun > 0 && longestRun(secret) >= a.MaxRun {
		return fmt.Sprintf("a run of %d identical characters", longestRun(secret))
	}
	return ""
}

func longestRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i] == s[i-1] {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var e float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			e -= p * math.Log2(p)
		}
	}
	return e
}
