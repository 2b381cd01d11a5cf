package accounts

import (
	"testing"

	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
)

func TestKindOf(t *testing.T) {
	cases := map[string]fileKind{
		"shadow": kindShadow, "shadow-": kindShadow, "shadow.bak": kindShadow, "shadow.old": kindShadow,
		"passwd": kindPasswd, "passwd-": kindPasswd, "passwd.bak": kindPasswd, "passwd.old": kindPasswd,
		"master.passwd": kindMaster,
		"gshadow":       kindNone, "shadowsocks": kindNone, "passwd.sh": kindNone, "htpasswd": kindNone,
		"group": kindNone, "shadow.c": kindNone, "opasswd": kindNone,
	}
	for name, want := range cases {
		if got := kindOf(name); got != want {
			t.Errorf("kindOf(%q) = %v, want %v", name, got, want)
		}
	}
	if s := suffixOf("shadow-"); s != "-" {
		t.Errorf("suffixOf(shadow-) = %q", s)
	}
	if s := suffixOf("shadow.bak"); s != ".bak" {
		t.Errorf("suffixOf(shadow.bak) = %q", s)
	}
}

func TestParseLine(t *testing.T) {
	type want struct {
		ok       bool
		user, pw string
		shell    string
	}
	cases := []struct {
		name string
		kind fileKind
		line string
		want want
	}{
		{"shadow md5", kindShadow, "root:$1$fwaudit1$KzEBUhgDBHUpNHrZquX1T/:16503:0:99999:7:::", want{true, "root", "$1$fwaudit1$KzEBUhgDBHUpNHrZquX1T/", ""}},
		{"shadow star locked", kindShadow, "root:*:16503:0:99999:7:::", want{true, "root", "*", ""}},
		{"shadow double bang", kindShadow, "admin:!!:16503:0:99999:7:::", want{true, "admin", "!!", ""}},
		{"shadow empty", kindShadow, "guest::19000:0:99999:7:::", want{true, "guest", "", ""}},
		{"shadow bare name:hash", kindShadow, "root:abWMpd9uBwR.g", want{true, "root", "abWMpd9uBwR.g", ""}},
		{"shadow bare name: is junk", kindShadow, "Note:", want{}},
		{"shadow comment", kindShadow, "# root::0:0:99999:7:::", want{}},
		{"shadow NIS plus", kindShadow, "+::::::::", want{}},
		{"shadow NIS plus user", kindShadow, "+bob::0:0:99999:7:::", want{}},
		{"shadow NIS minus", kindShadow, "-alice:::::::", want{}},
		{"shadow junk text", kindShadow, "this is not a shadow line", want{}},
		{"shadow bad lastchg", kindShadow, "key::value:0", want{}},
		{"shadow too many fields", kindShadow, "a:b:1:2:3:4:5:6:7:8:9", want{}},
		{"shadow bad user", kindShadow, "ro ot::0:0:99999:7:::", want{}},
		{"passwd x", kindPasswd, "root:x:0:0:root:/root:/bin/sh", want{true, "root", "x", "/bin/sh"}},
		{"passwd hash in field 2", kindPasswd, "admin:$1$aa$hnW8HcW7oE/zKWcRaWfpM.:0:0:admin:/:/bin/sh", want{true, "admin", "$1$aa$hnW8HcW7oE/zKWcRaWfpM.", "/bin/sh"}},
		{"passwd DES in field 2", kindPasswd, "root:abOV.DfJmdnYw:0:0::/root:/bin/ash", want{true, "root", "abOV.DfJmdnYw", "/bin/ash"}},
		{"passwd empty", kindPasswd, "guest::1001:1001::/home/guest:/bin/sh", want{true, "guest", "", "/bin/sh"}},
		{"passwd empty shell", kindPasswd, "op::1:1:::", want{true, "op", "", ""}},
		{"passwd bash shell", kindPasswd, "root:x:0:0:root:/root:/bin/bash", want{true, "root", "x", "/bin/bash"}},
		{"passwd 10 fields (BSD)", kindPasswd, "root:$1$aa$hnW8HcW7oE/zKWcRaWfpM.:0:0::0:0:Charlie:/root:/bin/csh", want{true, "root", "$1$aa$hnW8HcW7oE/zKWcRaWfpM.", "/bin/csh"}},
		{"master.passwd", kindMaster, "toor:*:0:0::0:0:Bourne-again Superuser:/root:", want{true, "toor", "*", ""}},
		{"passwd non-numeric uid", kindPasswd, "root:x:zero:0:root:/root:/bin/sh", want{}},
		{"passwd short", kindPasswd, "root:x:0:0", want{}},
		{"passwd NIS", kindPasswd, "+@netgroup::::::", want{}},
		{"passwd comment", kindPasswd, "#root::0:0:root:/root:/bin/sh", want{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok := parseLine(c.kind, c.line)
			if ok != c.want.ok {
				t.Fatalf("parseLine(%q) ok = %v, want %v", c.line, ok, c.want.ok)
			}
			if !ok {
				return
			}
			if e.User != c.want.user || e.Password != c.want.pw || e.Shell != c.want.shell {
				t.Errorf("parseLine(%q) = user %q pw %q shell %q; want %q %q %q", c.line, e.User, e.Password, e.Shell, c.want.user, c.want.pw, c.want.shell)
			}
			if c.kind != kindShadow && !e.HasShell {
				t.Errorf("passwd line without HasShell")
			}
		})
	}
}

func TestParseLineNumbersAndJunk(t *testing.T) {
	data := "# header\r\n\r\nroot:$1$aa$hnW8HcW7oE/zKWcRaWfpM.:1:0:99999:7:::\r\n\x00\x01garbage:::\n+::::::::\nold:abOV.DfJmdnYw:1:0:99999:7:::" // no final newline
	es := parse(kindShadow, []byte(data))
	if len(es) != 2 {
		t.Fatalf("got %d entries, want 2: %+v", len(es), es)
	}
	if es[0].User != "root" || es[0].Line != 3 || es[0].Password != "$1$aa$hnW8HcW7oE/zKWcRaWfpM." {
		t.Errorf("first entry %+v, want root on line 3 without \\r", es[0])
	}
	if es[1].User != "old" || es[1].Line != 6 {
		t.Errorf("second entry %+v, want old on line 6", es[1])
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		pw    string
		state pwState
		kind  hashes.Kind
	}{
		{"", pwEmpty, hashes.Unknown},
		{"*", pwLocked, hashes.Unknown},
		{"!", pwLocked, hashes.Unknown},
		{"!!", pwLocked, hashes.Unknown},
		{"!$1$aa$hnW8HcW7oE/zKWcRaWfpM.", pwLocked, hashes.Unknown},
		{"*LK*", pwLocked, hashes.Unknown},
		{"x", pwShadow, hashes.Unknown},
		{"$1$aa$hnW8HcW7oE/zKWcRaWfpM.", pwHash, hashes.MD5Crypt},
		{"abOV.DfJmdnYw", pwHash, hashes.DES},
		{"$2b$05$wZtUS5wfwy4VHEUq5vudx.Bb9eOaPu7.dV5JXtM73PRadJBz8spqe", pwHash, hashes.BCrypt},
		{"$9$unknownformat", pwUnknown, hashes.Unknown},
		{"NP", pwUnknown, hashes.Unknown},
	}
	for _, c := range cases {
		s, k := classify(c.pw)
		if s != c.state || k != c.kind {
			t.Errorf("classify(%q) = %v, %v; want %v, %v", c.pw, s, k, c.state, c.kind)
		}
	}
}

func TestLoginShell(t *testing.T) {
	for sh, want := range map[string]bool{
		"/bin/sh": true, "/bin/ash": true, "": true, "/bin/bash": true, "/usr/bin/zsh": true,
		"/bin/false": false, "/sbin/nologin": false, "/usr/sbin/nologin": false, "/bin/sync": false,
		"/usr/bin/false": false, "/sbin/shutdown": false, "/dev/null": false,
	} {
		if got := loginShell(sh); got != want {
			t.Errorf("loginShell(%q) = %v, want %v", sh, got, want)
		}
	}
}
