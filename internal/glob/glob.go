// Package glob compiles the file globs rule files use to select paths
// inside an image.
package glob

import (
	"fmt"
	"regexp"
	"strings"
)

// Compile turns a glob into an anchored expression over the path inside
// the image without its leading "/": "**" spans folders, "*" and "?" do
// not. A glob without "/" matches the base name.
func Compile(g string) (*regexp.Regexp, error) {
	if g == "" {
		return nil, fmt.Errorf("empty glob")
	}
	g = strings.TrimPrefix(g, "/")
	prefix := ""
	if !strings.Contains(g, "/") {
		prefix = "(?:.*/)?"
	}
	return regexp.Compile("^" + prefix + Expr(g) + "$")
}

// Expr is the unanchored expression for a glob, for callers that join
// many globs into one alternation.
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
