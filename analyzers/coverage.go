package analyzers

import (
	"sort"
	"sync"
)

// MaxCoverageExamples bounds the example paths kept per analyzer.
const MaxCoverageExamples = 5

// Coverage says what content of the image an analyzer examined: the files
// its rules apply to (account databases for accounts, configuration files
// for credentials, ...), counted. Compliance uses it so that a guideline
// never passes on checks that found nothing to look at.
type Coverage struct {
	// Examined counts the files (or items: components, boot scripts) the
	// analyzer looked into.
	Examined int `json:"examined"`
	// Examples are the first paths examined, sorted ("L2:/etc/shadow").
	Examples []string `json:"examples,omitempty"`
	// What names the kind of content ("account databases").
	What string `json:"what,omitempty"`
}

// coverage is the Target's thread-safe recorder.
type coverage struct {
	mu   sync.Mutex
	by   map[string]*Coverage
	seen map[string]map[string]bool
}

// Examined records that analyzer looked into f, which its rules apply to.
// Call it once the file was read and checked, not when it was skipped.
func (t *Target) Examined(analyzer, what string, f File) {
	name := f.Path
	if f.Layer != nil && f.Layer.ID != "" {
		name = f.Layer.ID + ":" + f.Path
	}
	t.ExaminedItem(analyzer, what, name)
}

// ExaminedItem records an examined item that is not a file (a component,
// a boot sequence) by a name a person can find.
func (t *Target) ExaminedItem(analyzer, what, name string) {
	c := &t.cov
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = map[string]*Coverage{}
		c.seen = map[string]map[string]bool{}
	}
	cv := c.by[analyzer]
	if cv == nil {
		cv = &Coverage{What: what}
		c.by[analyzer] = cv
		c.seen[analyzer] = map[string]bool{}
	}
	if c.seen[analyzer][name] {
		return
	}
	c.seen[analyzer][name] = true
	cv.Examined++
	cv.Examples = append(cv.Examples, name)
	sort.Strings(cv.Examples)
	if len(cv.Examples) > MaxCoverageExamples {
		cv.Examples = cv.Examples[:MaxCoverageExamples]
	}
}

// CoverageOf returns what analyzer examined (zero when nothing).
func (t *Target) CoverageOf(analyzer string) Coverage {
	c := &t.cov
	c.mu.Lock()
	defer c.mu.Unlock()
	if cv := c.by[analyzer]; cv != nil {
		out := *cv
		out.Examples = append([]string(nil), cv.Examples...)
		return out
	}
	return Coverage{}
}
