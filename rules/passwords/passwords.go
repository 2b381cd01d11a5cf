// Package passwords provides fwaudit's built-in default-password dictionary
// (defaults.txt, embedded at build time) and a parser for user-supplied lists
// in the same format.
//
// The format is one password per line, most likely first. Lines whose first
// character is '#' are comments, blank lines are ignored, and leading and
// trailing whitespace (including a Windows "\r") is not part of a password.
// Duplicates are dropped, keeping the first (most likely) occurrence.
package passwords

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

//go:embed defaults.txt
var defaultsTxt string

// MaxLineLen is the longest line Parse accepts.
const MaxLineLen = 4096

var defaults = sync.OnceValue(func() []string {
	list, err := Parse(strings.NewReader(defaultsTxt))
	if err != nil {
		panic("passwords: embedded defaults.txt: " + err.Error())
	}
	return list
})

// Defaults returns the built-in dictionary in likelihood order (most likely
// first), without comments, blank lines or duplicates. The caller owns the
// returned slice.
func Defaults() []string {
	return slices.Clone(defaults())
}

// Parse reads a password list in the defaults.txt format and returns its
// entries in file order, de-duplicated (first occurrence kept). It fails on a
// read error or on a line longer than MaxLineLen bytes.
func Parse(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), MaxLineLen+2) // room for "\r\n"
	var (
		out  []string
		seen = map[string]struct{}{}
		line int
	)
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if len(s) > MaxLineLen {
			return nil, fmt.Errorf("passwords: line %d: longer than %d bytes", line, MaxLineLen)
		}
		if _, dup := seen[s]; dup {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("passwords: after line %d: %w", line, err)
	}
	return out, nil
}
