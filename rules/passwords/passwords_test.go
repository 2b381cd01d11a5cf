package passwords

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// miraiPasswords are the passwords of the credential table in Mirai's
// scanner.c (2016 source release), in table order; the empty password
// ("root"/"admin" with no password) is left to the caller.
var miraiPasswords = []string{
	"xc3511", "vizxv", "admin", "888888", "xmhdipc", "default", "juantech",
	"123456", "54321", "support", "root", "12345", "user", "password",
	"pass", "admin1234", "1111", "smcadmin", "666666", "1234", "klv123",
	"service", "supervisor", "guest", "ubnt", "klv1234", "Zte521", "hi3518",
	"jvbzd", "anko", "zlxx.", "7ujMko0vizxv", "7ujMko0admin", "system",
	"ikwb", "dreambox", "00000000", "1111111", "meinsm", "tech", "realtek",
	"fucker",
}

func TestDefaults(t *testing.T) {
	list := Defaults()
	if len(list) < 1000 {
		t.Errorf("Defaults() has %d entries, want >= 1000", len(list))
	}
	rank := map[string]int{}
	for i, p := range list {
		if p == "" || strings.TrimSpace(p) != p {
			t.Errorf("entry %d %q: empty or surrounded by whitespace", i+1, p)
		}
		if strings.HasPrefix(p, "#") {
			t.Errorf("entry %d %q starts with '#'", i+1, p)
		}
		rank[p] = i + 1
	}
	for _, p := range miraiPasswords {
		if _, ok := rank[p]; !ok {
			t.Errorf("Mirai password %q missing", p)
		}
	}
	for _, p := range []string{"5up", "admin", "xc3511", "vizxv", "xmhdipc", "888888", "Zte521"} {
		if r, ok := rank[p]; !ok || r > 50 {
			t.Errorf("%q ranked %d, want within the first 50", p, r)
		}
	}
	for _, p := range []string{"12345", "666666", "ubnt", "1234", "Admin@huawei", "oelinux123", "123456", "password", "qwerty", "12345678"} {
		if _, ok := rank[p]; !ok {
			t.Errorf("%q missing", p)
		}
	}
	// Defaults returns a copy.
	list[0] = "mutated"
	if Defaults()[0] == "mutated" {
		t.Error("Defaults() shares its backing array")
	}
}

// The file itself, not only the parsed list, has no duplicates, no stray
// whitespace and comments only at the top.
func TestDefaultsFile(t *testing.T) {
	sc := bufio.NewScanner(strings.NewReader(defaultsTxt))
	seen := map[string]int{}
	n, entries := 0, 0
	inHeader := true
	for sc.Scan() {
		n++
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			if !inHeader {
				t.Errorf("line %d: comment after the header", n)
			}
			continue
		}
		inHeader = false
		if l == "" || strings.TrimSpace(l) != l {
			t.Errorf("line %d %q: blank or surrounded by whitespace", n, l)
			continue
		}
		if prev, dup := seen[l]; dup {
			t.Errorf("line %d %q duplicates line %d", n, l, prev)
		}
		seen[l] = n
		entries++
	}
	if n < 10 || !strings.HasPrefix(defaultsTxt, "#") {
		t.Error("defaults.txt lacks its comment header")
	}
	if got := len(Defaults()); got != entries {
		t.Errorf("Defaults() has %d entries, file has %d", got, entries)
	}
}

func TestParse(t *testing.T) {
	in := "# my list\n\nfoo\r\n  bar  \n#not a password\nfoo\n\tbaz\nBar\n\n"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"foo", "bar", "baz", "Bar"}; !slices.Equal(got, want) {
		t.Errorf("Parse = %q, want %q", got, want)
	}

	if got, err := Parse(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("Parse(empty) = %q, %v", got, err)
	}

	long := strings.Repeat("x", MaxLineLen+1)
	if _, err := Parse(strings.NewReader("a\n" + long + "\n")); err == nil {
		t.Error("Parse accepted an over-long line")
	}
	if got, err := Parse(strings.NewReader(strings.Repeat("y", MaxLineLen) + "\r\n")); err != nil || len(got) != 1 {
		t.Errorf("Parse of a MaxLineLen line: %d entries, %v", len(got), err)
	}

	errBoom := errors.New("boom")
	if _, err := Parse(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(errBoom))); !errors.Is(err, errBoom) {
		t.Errorf("Parse read error = %v, want %v", err, errBoom)
	}
}
