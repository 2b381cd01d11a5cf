package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text from the image (evidence, paths, names, error details) is hostile: it
// may hold newlines, ANSI escapes, backticks, pipes, HTML or invalid UTF-8.
// These helpers make it safe for one line of a terminal or Markdown.

// quoteLine renders s on a single line with every control or invisible
// character escaped, Go style: backslash as \\, newline as \n, tab as \t,
// ESC as \x1b, U+202E (right-to-left override) as \u202e and any byte of
// invalid UTF-8 as \xNN. Printable characters are kept as they are, so the
// result never contains a raw control byte.
func quoteLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += n
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && !visible(r):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// visible reports whether r is safe to print as is: graphic and not a
// format character (bidi overrides, zero-width joiners, BOM, ...) nor a line
// or paragraph separator.
func visible(r rune) bool {
	if r == ' ' {
		return true
	}
	if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
		return false
	}
	return unicode.IsGraphic(r) && r != utf8.RuneError
}

// truncate cuts s (already escaped) to at most max runes, ending with "…".
func truncate(s string, max int) string {
	if max < 1 || utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	return string(rs[:max-1]) + "…"
}

// truncateLeft keeps the end of s (paths are most telling at the end).
func truncateLeft(s string, max int) string {
	if max < 1 || utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	return "…" + string(rs[len(rs)-max+1:])
}

// mdCode renders s as a Markdown code span that cannot break out: the text
// is put on one line (quoteLine), the fence is one backtick longer than the
// longest run of backticks inside, and a space pads content that starts or
// ends with a backtick or space (CommonMark strips exactly one on each side).
// Inside a table cell, pipes are escaped as \| (GFM removes the backslash
// before parsing the span, also inside code spans). HTML inside a code span
// is shown literally. An empty string gives an italic "(empty)".
func mdCode(s string, inTable bool) string { return mdCodeMax(s, inTable, 0) }

// mdCodeMax is mdCode with the (escaped) text cut to max runes; 0 means no
// limit.
func mdCodeMax(s string, inTable bool, max int) string {
	s = truncate(quoteLine(s), max)
	if s == "" {
		return "*(empty)*"
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' || s[len(s)-1] == ' ' {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdText renders s as plain Markdown text on one line: control characters are
// escaped (quoteLine) and every character that could start inline markup,
// HTML, an entity, a link or a table cell boundary is backslash-escaped.
func mdText(s string) string {
	s = quoteLine(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#', '!':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
