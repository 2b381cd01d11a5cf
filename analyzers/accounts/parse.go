package accounts

import (
	"bytes"
	"path"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
)

// fileKind is the layout of an account file, from its name.
type fileKind int

const (
	kindNone   fileKind = iota
	kindPasswd          // user:pw:uid:gid:gecos:home:shell (7 fields)
	kindShadow          // user:pw:lastchg:min:max:warn:inactive:expire:flag
	kindMaster          // BSD master.passwd: user:pw:uid:gid:class:change:expire:gecos:home:shell
)

func (k fileKind) String() string {
	switch k {
	case kindPasswd:
		return "passwd"
	case kindShadow:
		return "shadow"
	case kindMaster:
		return "master.passwd"
	}
	return "none"
}

// backupSuffixes are the suffixes under which tools (shadow-utils, vipw,
// BusyBox, people) leave copies of passwd and shadow.
var backupSuffixes = []string{"", "-", ".bak", ".old", ".orig", ".save", ".default", "~"}

// kindOf tells from a file's base name whether it is an account file:
// passwd, shadow or master.passwd, plus the usual backup copies of each
// ("shadow-", "passwd.bak", ...).
func kindOf(base string) fileKind {
	for _, s := range backupSuffixes {
		switch base {
		case "shadow" + s:
			return kindShadow
		case "passwd" + s:
			return kindPasswd
		case "master.passwd" + s:
			return kindMaster
		}
	}
	return kindNone
}

// suffixOf returns the backup suffix of an account file's base name ("-" for
// "shadow-", "" for "shadow").
func suffixOf(base string) string {
	for _, p := range []string{"master.passwd", "shadow", "passwd"} {
		if s, ok := strings.CutPrefix(base, p); ok {
			return s
		}
	}
	return ""
}

// entry is one account line of a passwd, shadow or master.passwd file.
type entry struct {
	User string
	// Password is the second field as written (a hash, "x", "*", "!…", "").
	Password string
	// Shell is the login shell (passwd and master.passwd only); HasShell
	// says whether the line carried one.
	Shell    string
	HasShell bool
	// Line is the 1-based line number in the file.
	Line int
	// Text is the line itself (for evidence of lines without secrets).
	Text string
}

// maxLine is the longest line the parsers look at; longer ones are junk.
const maxLine = 4096

// parse returns the account lines of data laid out as kind. Comments, blank
// lines, NIS "+"/"-" lines and lines that do not have the shape of the
// file's kind are skipped; they never stop parsing.
func parse(kind fileKind, data []byte) []entry {
	var out []entry
	line := 0
	for len(data) > 0 {
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		line++
		if len(raw) > maxLine {
			continue
		}
		s := strings.TrimSuffix(string(raw), "\r")
		if e, ok := parseLine(kind, s); ok {
			e.Line = line
			out = append(out, e)
		}
	}
	return out
}

func parseLine(kind fileKind, s string) (entry, bool) {
	if s == "" || s[0] == '#' || s[0] == '+' || s[0] == '-' {
		return entry{}, false
	}
	f := strings.Split(s, ":")
	if len(f) < 2 || !validUser(f[0]) {
		return entry{}, false
	}
	e := entry{User: f[0], Password: f[1], Text: s}
	switch kind {
	case kindShadow:
		// lastchg, when present, is a day count or empty.
		if len(f) > 9 || (len(f) > 2 && !numOrEmpty(f[2])) {
			return entry{}, false
		}
		// "name:" alone is more likely junk than an account; a bare
		// "name:hash" is accepted.
		if st, _ := classify(f[1]); len(f) == 2 && st != pwHash {
			return entry{}, false
		}
	case kindPasswd, kindMaster:
		// Accept both layouts in either file: some systems ship a
		// master.passwd-style file under the name passwd and vice versa.
		switch len(f) {
		case 7:
			e.Shell = f[6]
		case 10:
			e.Shell = f[9]
		default:
			return entry{}, false
		}
		if !isNum(f[2]) || !isNum(f[3]) {
			return entry{}, false
		}
		e.HasShell = true
	default:
		return entry{}, false
	}
	return e, true
}

// validUser accepts the user names found in practice (POSIX portable names
// plus "$" for Samba machine accounts and "@" seen on some devices).
func validUser(u string) bool {
	if u == "" || len(u) > 64 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '.' || c == '-' || c == '$' || c == '@':
		default:
			return false
		}
	}
	return true
}

func isNum(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func numOrEmpty(s string) bool { return s == "" || isNum(s) }

// pwState is what the password field of an account means.
type pwState int

const (
	pwEmpty   pwState = iota // no password: anyone may log in
	pwLocked                 // "*", "!", "!!", "!<hash>", "*LK*", ...
	pwShadow                 // "x": the password is in shadow
	pwHash                   // a crypt(3) hash of a supported kind
	pwUnknown                // something else (unsupported hash, junk)
)

// classify says what a password field means and, for a hash, its kind.
func classify(pw string) (pwState, hashes.Kind) {
	switch {
	case pw == "":
		return pwEmpty, hashes.Unknown
	case pw[0] == '!' || pw[0] == '*':
		return pwLocked, hashes.Unknown
	case pw == "x" || pw == "##":
		return pwShadow, hashes.Unknown
	}
	if k := hashes.Identify(pw); k != hashes.Unknown {
		return pwHash, k
	}
	return pwUnknown, hashes.Unknown
}

// nologinShells are shells that refuse an interactive login.
var nologinShells = map[string]bool{
	"false": true, "nologin": true, "sync": true, "shutdown": true,
	"halt": true, "true": true, "null": true, "noshell": true,
}

// loginShell reports whether shell lets a user log in. An empty shell means
// /bin/sh.
func loginShell(shell string) bool {
	shell = strings.TrimSpace(shell)
	if shell == "" {
		return true
	}
	return !nologinShells[path.Base(shell)]
}
