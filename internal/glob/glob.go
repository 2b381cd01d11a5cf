// Package glob compiles the file globs rule files use to select paths
// inside an image.
package glob

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a compiled glob over the path inside the image without its
// leading "/": "**" spans folders, "*" and "?" do not. A glob without "/"
// matches the base name.
//
// Matching is called for every file of an image by every rule, so a
// pattern first checks what its literal head and tail demand (cheap
// string comparisons that reject almost every path) and runs the full
// expression only on the paths that pass them.
type Pattern struct {
	re *regexp.Regexp
	// base: the glob has no "/" (and no "**"), so it is matched against
	// the base name
	base bool
	// literal: the glob has no wildcard; the subject must equal head
	literal bool
	// head and tail are the literal text before the first and after the
	// last wildcard: every match starts with head and ends with tail
	head, tail string
	// mid is the longest literal run of the glob: every match holds it
	mid string
}

// Compile compiles one glob.
func Compile(g string) (*Pattern, error) {
	if g == "" {
		return nil, fmt.Errorf("empty glob")
	}
	g = strings.TrimPrefix(g, "/")
	p := &Pattern{base: !strings.Contains(g, "/") && !strings.Contains(g, "**")}
	runs, wild := literalRuns(g)
	if !wild {
		p.literal, p.head = true, g
	} else {
		p.head, p.tail = runs[0], runs[len(runs)-1]
		for _, run := range runs {
			if len(run) > len(p.mid) {
				p.mid = run
			}
		}
	}
	prefix := ""
	if !strings.Contains(g, "/") && !p.base {
		// "foo**" without a folder: any depth, "**" may span folders
		prefix = "(?:.*/)?"
	}
	re, err := regexp.Compile("^" + prefix + Expr(g) + "$")
	if err != nil {
		return nil, err
	}
	p.re = re
	if prefix != "" {
		p.head = "" // the match may start anywhere in the path
	}
	return p, nil
}

// Match reports whether path (without its leading "/") matches.
func (p *Pattern) Match(path string) bool {
	s := path
	if p.base {
		if i := strings.LastIndexByte(s, '/'); i >= 0 {
			s = s[i+1:]
		}
	}
	if p.literal {
		return s == p.head
	}
	if len(s) < len(p.head)+len(p.tail) || !strings.HasPrefix(s, p.head) || !strings.HasSuffix(s, p.tail) ||
		!strings.Contains(s, p.mid) {
		return false
	}
	return p.re.MatchString(s)
}

// String is the compiled expression.
func (p *Pattern) String() string { return p.re.String() }

// literalRuns splits g at its wildcards ("**/", "**", "*", "?"; the "/"
// of "**/" is optional, so it belongs to the wildcard) into the literal
// text between them: runs[0] comes before the first wildcard and the last
// run after the last one. wild is false when g has no wildcard.
func literalRuns(g string) (runs []string, wild bool) {
	var cur strings.Builder
	for i := 0; i < len(g); i++ {
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			i++
		case g[i] == '*' || g[i] == '?':
		default:
			cur.WriteByte(g[i])
			continue
		}
		wild = true
		runs = append(runs, cur.String())
		cur.Reset()
	}
	return append(runs, cur.String()), wild
}

// Expr is the unanchored expression for a glob.
func Expr(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Set is a compiled list of globs: a path matches when any of them does.
// Globs that are plain base names ("busybox", "shadow") are looked up in a
// map, the others matched one by one.
type Set struct {
	names map[string]bool
	pats  []*Pattern
	n     int
}

// CompileSet compiles globs (none: a set that matches nothing).
func CompileSet(globs []string) (*Set, error) {
	s := &Set{n: len(globs)}
	for _, g := range globs {
		p, err := Compile(g)
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", g, err)
		}
		if p.base && p.literal {
			if s.names == nil {
				s.names = map[string]bool{}
			}
			s.names[p.head] = true
			continue
		}
		s.pats = append(s.pats, p)
	}
	return s, nil
}

// Len is the number of globs the set was compiled from.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Match reports whether path (without its leading "/") matches a glob.
func (s *Set) Match(path string) bool {
	if s == nil {
		return false
	}
	if len(s.names) > 0 {
		base := path
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			base = path[i+1:]
		}
		if s.names[base] {
			return true
		}
	}
	for _, p := range s.pats {
		if p.Match(path) {
			return true
		}
	}
	return false
}
