package glob

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	for _, c := range []struct {
		glob, path string
		want       bool
	}{
		{"busybox", "bin/busybox", true},
		{"busybox", "busybox", true},
		{"busybox", "bin/busybox.bak", false},
		{"**/libcrypto.so*", "lib/libcrypto.so.0.9.7", true},
		{"**/libcrypto.so*", "libcrypto.so", true},
		{"**/libcrypto.so*", "lib/libssl.so", false},
		{"etc/*.conf", "etc/a.conf", true},
		{"etc/*.conf", "etc/x/a.conf", false},
		{"etc/**", "etc/x/a.conf", true},
		{"/etc/pass?d", "etc/passwd", true},
		{"a.b", "axb", false},
		{"*.pem", "etc/ssl/key.pem", true},
		{"*.pem", "etc/ssl.pem/key", false},
		{"lib**", "usr/lib/x/y", true},
		{"lib**", "usr/bin/x", false},
	} {
		p, err := Compile(c.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(c.path); got != c.want {
			t.Errorf("%q on %q = %v, want %v", c.glob, c.path, got, c.want)
		}
	}
	if _, err := Compile(""); err == nil {
		t.Error("empty glob accepted")
	}
}

// TestMatchAgainstExpression checks the literal shortcuts against the
// plain anchored expression (what Compile returned before them) on random
// globs and paths over a small alphabet, where the shortcuts are often
// tempted to answer wrongly.
func TestMatchAgainstExpression(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(parts []string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		return b.String()
	}
	globParts := []string{"a", "b", ".", "/", "*", "?", "**", "**/", "ab", "/a"}
	pathParts := []string{"a", "b", ".", "/", "ab", "ba", "a/b"}
	checked, matched := 0, 0
	for range 4000 {
		g := strings.TrimPrefix(pick(globParts, 1+rng.IntN(5)), "/")
		if g == "" || g[0] == '/' {
			continue
		}
		prefix := ""
		if !strings.Contains(g, "/") {
			prefix = "(?:.*/)?"
		}
		ref := regexp.MustCompile("^" + prefix + Expr(g) + "$")
		p, err := Compile(g)
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			s := strings.TrimPrefix(pick(pathParts, rng.IntN(6)), "/")
			want := ref.MatchString(s)
			if got := p.Match(s); got != want {
				t.Fatalf("glob %q on %q: Match %v, expression %v", g, s, got, want)
			}
			checked++
			if want {
				matched++
			}
		}
	}
	if matched < checked/50 {
		t.Fatalf("only %d of %d random cases match: the comparison is too one-sided to mean much", matched, checked)
	}
}

func BenchmarkMatch(b *testing.B) {
	globs := []string{"**/libcrypto.so*", "etc/config/*", "*.conf", "lighttpd.conf", "etc/init.d/*", "**/*.pem"}
	var ps []*Pattern
	for _, g := range globs {
		p, _ := Compile(g)
		ps = append(ps, p)
	}
	paths := []string{"usr/share/man/man1/ls.1.gz", "usr/lib/x86_64-linux-gnu/libc.so.6", "etc/init.d/rcS", "usr/share/doc/apt/changelog.gz"}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range paths {
			for _, p := range ps {
				p.Match(s)
			}
		}
	}
}

// TestSetIsAnyPattern: a Set matches exactly when one of its globs' own
// Patterns does, plain base names (looked up in a map) included.
func TestSetIsAnyPattern(t *testing.T) {
	globs := []string{"shadow", "/etc/passwd", "*.pem", "etc/config/*", "**/lib*.so*", "a?c"}
	set, err := CompileSet(globs)
	if err != nil {
		t.Fatal(err)
	}
	var ps []*Pattern
	for _, g := range globs {
		p, _ := Compile(g)
		ps = append(ps, p)
	}
	paths := []string{"etc/shadow", "shadow", "etc/shadow-", "etc/passwd", "x/etc/passwd", "k/x.pem", "etc/config/net",
		"etc/config/a/b", "usr/lib/libc.so.6", "abc", "d/abc", "abcd", "", "etc"}
	hits := 0
	for _, p := range paths {
		want := false
		for _, q := range ps {
			want = want || q.Match(p)
		}
		if got := set.Match(p); got != want {
			t.Errorf("%q: set %v, patterns %v", p, got, want)
		}
		if want {
			hits++
		}
	}
	if hits < 6 {
		t.Fatalf("only %d paths match: the cases test little", hits)
	}
	if set.Len() != len(globs) {
		t.Errorf("Len %d", set.Len())
	}
	var none *Set
	if none.Match("etc/shadow") || none.Len() != 0 {
		t.Error("a nil set matched")
	}
	if _, err := CompileSet([]string{"ok", ""}); err == nil {
		t.Error("empty glob accepted")
	}
}
