package detect

import (
	"slices"
	"strings"
	"testing"
)

func show(ms []Match) string {
	var b strings.Builder
	b.WriteString("[")
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{key=" + m.Key + " user=" + m.User + " secret=" + m.Secret + " file=" + m.File + "}")
	}
	b.WriteString("]")
	return b.String()
}

func TestDefaultRules(t *testing.T) {
	rules := Default()
	// RuleNames: one name per finding rule, sorted, none twice (several
	// detectors report under one rule name: more detectors than names).
	names := RuleNames(rules)
	if len(names) == 0 || len(names) >= len(rules) || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("rule names %v of %d detectors", names, len(rules))
	}
	for _, r := range rules {
		if !slices.Contains(names, r.Rule) {
			t.Errorf("%s: rule name %q not in RuleNames", r.ID, r.Rule)
		}
	}
	for _, r := range rules {
		if r.Source == "" {
			t.Errorf("%s: no source", r.ID)
		}
		if r.Category != Category {
			t.Errorf("%s: category %q", r.ID, r.Category)
		}
		if r.Comments == nil {
			t.Errorf("%s: nil comments", r.ID)
		}
	}
	// uboot-env has no comment syntax: "#" values must count.
	for _, r := range rules {
		if r.ID == "uboot-env-password" {
			if len(r.Comments) != 0 {
				t.Errorf("uboot-env-password comments %v, want none", r.Comments)
			}
			if ms := r.Scan([]byte("password=#secret")); len(ms) != 1 {
				t.Errorf("password=#secret: %s", show(ms))
			}
		}
	}
}

// TestCrossDetectors runs every detector over every other rule's true
// examples: a string of one kind must not be taken by a detector of
// another rule when the file path would select both.
func TestCrossDetectors(t *testing.T) {
	rules := Default()
	for _, r := range rules {
		for _, o := range rules {
			if o.Rule == r.Rule {
				continue
			}
			for _, ex := range o.Examples.True {
				if ex.Path == "" || !r.MatchesPath(ex.Path) {
					continue
				}
				for _, m := range r.Scan([]byte(ex.Text)) {
					if m.Secret == ex.Secret {
						// allowed only when the analyzer's first-wins
						// order gives it to o
						if index(rules, r) < index(rules, o) {
							t.Errorf("detector %s (before %s) takes %s's example %q", r.ID, o.ID, o.ID, ex.Text)
						}
					}
				}
			}
		}
	}
}

func index(rules []*Rule, r *Rule) int {
	for i, x := range rules {
		if x == r {
			return i
		}
	}
	return -1
}

func TestPathSelection(t *testing.T) {
	cases := []struct {
		id, path string
		want     bool
	}{
		{"config-password", "/etc/nsswitch.conf", false}, // "passwd: compat"
		{"config-password", "/etc/pam.d/login", false},
		{"config-password", "/www/login.html", false},
		{"config-password", "/webs/password.html", false},
		{"config-password", "/etc/default.cfg", true},
		{"config-password", "/etc/config/network", true},
		{"config-password", "/usr/share/app/settings.json", true},
		{"wifi-uci", "/etc/config/wireless", true},
		{"wifi-uci", "/etc/wireless", false},
		{"ppp-secret", "/etc/ppp/chap-secrets", true},
		{"uboot-env-password", "/uboot-env.txt", true},
		{"snmp-config", "/etc/snmpd.conf", false}, // snmpd-conf reads it
		{"curl-user", "/etc/init.d/cloud", true},
	}
	for _, c := range cases {
		if got := byID(t, c.id).MatchesPath(c.path); got != c.want {
			t.Errorf("%s.MatchesPath(%s) = %v, want %v", c.id, c.path, got, c.want)
		}
	}
	// content kind: any "#!" script, unless excluded
	var ids []string
	for _, r := range Selected(Default(), "/usr/libexec/tool", true) {
		ids = append(ids, r.ID)
	}
	if !strings.Contains(strings.Join(ids, ","), "curl-user") || !strings.Contains(strings.Join(ids, ","), "sshpass") {
		t.Errorf("script selects %v", ids)
	}
	for _, r := range Selected(Default(), "/www/cgi.js", true) {
		if r.ID == "url-userinfo" {
			t.Errorf("url-userinfo reads an excluded web file")
		}
	}
}

func TestPlaceholder(t *testing.T) {
	for _, s := range []string{"", " ", "*", "***", "xxxx", "XXXXXXXX", "$PASS", "${PW}", "$(cat /x)", "`cat /x`", "%s", "<password>", "none", "NULL", "{{ pw }}", "@ADMIN_PW@", "__PASSWORD__", "on", "0", "-"} {
		if !Placeholder(s) {
			t.Errorf("Placeholder(%q) = false", s)
		}
	}
	for _, s := range []string{"admin", "changeme", "password", "1234", "12345678", "$1$abc$def", "$apr1$x$y", "$y$j9T$a$b", "p@ss", "0000"} {
		if Placeholder(s) {
			t.Errorf("Placeholder(%q) = true", s)
		}
	}
}

func TestVarResolution(t *testing.T) {
	r := byID(t, "curl-user")
	script := "#!/bin/sh\nPW='one'\ncurl -u a:$PW http://x\nPW=\"two\"\ncurl -u b:${PW} http://y\nP2=$PW\ncurl -u c:$P2 http://z\nK=`cat /etc/k`\ncurl -u d:$K http://w\nU=$(nvram get pw)\ncurl -u e:$U http://v\n"
	ms := r.Scan([]byte(script))
	got := map[string]string{}
	for _, m := range ms {
		got[m.User] = m.Secret + "|" + m.File + "|" + m.Var
	}
	want := map[string]string{"a": "one||PW", "b": "two||PW", "c": "two||P2", "d": "|/etc/k|K"}
	for u, w := range want {
		if got[u] != w {
			t.Errorf("user %s: got %q, want %q", u, got[u], w)
		}
	}
	if _, ok := got["e"]; ok {
		t.Errorf("$(nvram get) resolved: %q", got["e"])
	}
}

func TestUserPairingStaysInBlock(t *testing.T) {
	r := byID(t, "config-password")
	text := "config a\n\toption user 'alice'\nconfig b\n\toption password 'S3cret-b'\n"
	ms := r.Scan([]byte(text))
	if len(ms) != 1 || ms[0].User != "" {
		t.Fatalf("got %s, want one match without user (alice is another section's)", show(ms))
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{
		`- {id: x}`,
		"- id: x\n  title: t\n  description: d\n  fix: f\n  severity: medium\n  guidelines: [1]\n  files: [a]\n  patterns: ['(?P<user>a)']\n  examples: {true: [{text: a}], false: [b]}\n",
		"- id: x\n  title: t\n  description: d\n  fix: f\n  severity: bogus\n  guidelines: [1]\n  files: [a]\n  patterns: ['(?P<secret>a)']\n  examples: {true: [{text: a}], false: [b]}\n",
		"- id: x\n  title: t\n  description: d\n  fix: f\n  severity: low\n  guidelines: [1]\n  files: [a]\n  patterns: ['(?P<secret>a']\n  examples: {true: [{text: a}], false: [b]}\n",
	}
	for _, b := range bad {
		if _, err := Parse([]byte(b)); err == nil {
			t.Errorf("Parse accepted %q", b)
		}
	}
}

func TestLongLinesAndBounds(t *testing.T) {
	r := byID(t, "config-password")
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		b.WriteString("password=Secret-")
		b.WriteString(strings.Repeat("a", i%7+1))
		b.WriteString("\n")
	}
	if ms := r.Scan([]byte(b.String())); len(ms) > MaxMatchesPerFile {
		t.Errorf("%d matches, bound %d", len(ms), MaxMatchesPerFile)
	}
	long := strings.Repeat("x", MaxLineLen*2) + "password=abc123\n"
	if ms := r.Scan([]byte(long)); len(ms) != 0 {
		t.Errorf("match past the line cut: %s", show(ms))
	}
}

func byID(t *testing.T, id string) *Rule {
	t.Helper()
	for _, r := range Default() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no detector %s", id)
	return nil
}
