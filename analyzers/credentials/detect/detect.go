// Package detect is the matching engine of fwaudit's hard-coded credential
// detectors (rules/credentials: credentials.yaml and programs.yaml),
// gitleaks-style: each detector
// is data — which files it reads, line patterns with named groups, and
// examples that must (true) or must not (false) match, checked by one
// generic test.
//
// A detector's patterns run line by line over a text file. Each pattern
// names its groups:
//
//   - secret: the password, key or community (required, except for
//     user_only detectors);
//   - user: the account it belongs to (optional; otherwise the nearest
//     user_patterns match in the same block, or within user_window lines);
//   - key: the field that holds it ("wpa_passphrase", "sysPassword");
//   - realm: the htdigest realm (a secret with a realm is an htdigest hash).
//
// Quotes around a value are removed. Lines starting with one of the
// detector's comment prefixes, and XML comments, are skipped. Values that
// are placeholders ("", "*", "xxxx", "$VAR", "${...}", "%s", "<password>",
// "none", "null", booleans) are dropped; in detectors with vars: true a
// "$VAR" value is first replaced by the literal the same script assigns to
// VAR, or by a pointer to the file it reads with $(cat FILE) (Match.File),
// which the analyzer resolves inside the image.
package detect

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/fwaudit/fwaudit/internal/glob"
	"github.com/fwaudit/fwaudit/rules/credentials"
	"github.com/fwaudit/fwaudit/rules/schema"
)

// Category of every finding.
const Category = "hardcoded-credential"

// Content kinds a detector may select files by (besides its globs).
const (
	// ContentScript: any text file starting with "#!".
	ContentScript = "script"
)

// Bounds on matching.
const (
	// MaxLineLen: longer lines are cut (a minified file's single line).
	MaxLineLen = 64 << 10
	// MaxMatchesPerFile bounds the matches one detector takes from a file.
	MaxMatchesPerFile = 200
	// MaxValueLen: longer values are not credentials.
	MaxValueLen = 512
	maxVarDepth = 4
)

// Example is a text that must give a match with this secret (and user, when
// given). Path, when given, must be selected by the detector's files.
type Example struct {
	Text   string `yaml:"text"`
	Secret string `yaml:"secret"`
	User   string `yaml:"user"`
	File   string `yaml:"file"` // Match.File, for $(cat FILE) values
	Path   string `yaml:"path"`
}

// Rule is one detector. Several detectors can report under one rule name.
type Rule struct {
	// Header: id (unique across all rule sets), title, description,
	// severity (of a literal secret), guidelines, fix, source.
	schema.Header `yaml:",inline"`
	// Rule is the finding's rule name (default: ID); several detectors can
	// report under one.
	Rule     string `yaml:"rule"`
	Category string `yaml:"category"`
	// DefaultSeverity of a well-known default; HashSeverity of a hash that
	// did not crack.
	DefaultSeverity string            `yaml:"default_severity"`
	HashSeverity    string            `yaml:"hash_severity"`
	ValueSeverity   map[string]string `yaml:"value_severity"`
	// RWKey: a key matching it (an SNMP write community) is high.
	RWKey string `yaml:"rw_key"`
	// Files are globs over the path inside the image ("**/ppp/pap-secrets")
	// or, without a "/", over the base name; Exclude removes paths again.
	Files   []string `yaml:"files"`
	Exclude []string `yaml:"exclude"`
	// Content kinds that select a file whatever its name ("script").
	Content []string `yaml:"content"`
	// Keywords: at least one must occur (case-insensitive) in the file.
	Keywords []string `yaml:"keywords"`
	Comments []string `yaml:"comments"`
	Patterns []string `yaml:"patterns"`
	// UserPatterns find the user for a secret (group "user").
	UserPatterns []string `yaml:"user_patterns"`
	UserWindow   int      `yaml:"user_window"`
	// Block starts a new block (UCI "config", netrc "machine"); a match
	// counts only if its block has a line matching Requires.
	Block    string `yaml:"block"`
	Requires string `yaml:"requires"`
	// Only: the secret (or, for user_only, the user) must be one of these
	// (case-insensitive).
	Only []string `yaml:"only"`
	// Defaults: values that are well-known defaults for this detector
	// besides the default-password list.
	Defaults []string `yaml:"defaults"`
	// Reject: secrets matching one of these are not credentials.
	Reject      []string `yaml:"reject"`
	RejectKeys  string   `yaml:"reject_keys"`
	RejectUsers []string `yaml:"reject_users"`
	// Spaces: a value may hold spaces (Wi-Fi passphrases).
	Spaces bool `yaml:"spaces"`
	// Vars: resolve $VAR from assignments in the same script.
	Vars bool `yaml:"vars"`
	// Hashes: the secret may be a password hash to crack.
	Hashes bool `yaml:"hashes"`
	// UserOnly: the detector reports a user name with no password.
	UserOnly bool                             `yaml:"user_only"`
	Examples schema.Examples[Example, string] `yaml:"examples"`

	globs     *glob.Set
	excludes  *glob.Set
	patterns  []*regexp.Regexp
	users     []*regexp.Regexp
	block     *regexp.Regexp
	requires  *regexp.Regexp
	reject    []*regexp.Regexp
	rejectKey *regexp.Regexp
	rwKey     *regexp.Regexp
	only      map[string]bool
	defaults  map[string]bool
	rejUsers  map[string]bool
	keywords  [][]byte
	script    bool
}

// Match is one credential found by a detector.
type Match struct {
	Rule *Rule
	// Line is 1-based.
	Line   int
	Key    string
	User   string
	Secret string
	Realm  string
	// HasRealm: the pattern has a realm group that matched (htdigest).
	HasRealm bool
	// Var is the variable the secret came from, assigned at VarLine.
	Var     string
	VarLine int
	// File: the secret is the content of this file (a path inside the
	// image, from $(cat FILE)); Secret is empty until resolved.
	File string
}

var defaults = sync.OnceValues(func() ([]*Rule, error) { return Parse(credentials.YAML) })

// Default returns the built-in detectors, compiled. They are shared: do not
// modify them.
func Default() []*Rule {
	r, err := defaults()
	if err != nil {
		panic("credentials: embedded credentials.yaml: " + err.Error())
	}
	return r
}

// Parse reads and compiles detectors in the credentials.yaml format.
//
// With more than one file, the later ones override the first (a user's
// rule files over the embedded one): a detector with an id already loaded
// replaces it, others are added (schema.Load).
func Parse(files ...[]byte) ([]*Rule, error) {
	return schema.Load("credentials", (*Rule).compile, files...)
}

func (r *Rule) compile() error {
	if r.Rule == "" {
		r.Rule = r.ID
	}
	if r.Category == "" {
		r.Category = Category
	}
	if r.DefaultSeverity == "" {
		r.DefaultSeverity = r.Severity
	}
	if r.HashSeverity == "" {
		r.HashSeverity = "low"
	}
	for _, s := range []string{r.DefaultSeverity, r.HashSeverity} {
		if !schema.ValidSeverity(s) {
			return fmt.Errorf("severity %q", s)
		}
	}
	for v, s := range r.ValueSeverity {
		if !schema.ValidSeverity(s) {
			return fmt.Errorf("value_severity %s: %q", v, s)
		}
	}
	if len(r.Guidelines) == 0 {
		return fmt.Errorf("no guidelines")
	}
	if len(r.Files) == 0 && len(r.Content) == 0 {
		return fmt.Errorf("no files and no content kinds")
	}
	var err error
	if r.globs, err = glob.CompileSet(r.Files); err != nil {
		return err
	}
	if r.excludes, err = glob.CompileSet(r.Exclude); err != nil {
		return err
	}
	for _, c := range r.Content {
		if c != ContentScript {
			return fmt.Errorf("content %q (want script)", c)
		}
		r.script = true
	}
	if r.Comments == nil {
		r.Comments = []string{"#", "//", ";", "--", "/*", "<!--"}
	}
	if len(r.Patterns) == 0 {
		return fmt.Errorf("no patterns")
	}
	for _, src := range r.Patterns {
		re, err := regexp.Compile(src)
		if err != nil {
			return fmt.Errorf("pattern %q: %w", src, err)
		}
		if r.UserOnly {
			if re.SubexpIndex("user") < 0 {
				return fmt.Errorf("pattern %q: user_only needs a user group", src)
			}
		} else if re.SubexpIndex("secret") < 0 {
			return fmt.Errorf("pattern %q has no secret group", src)
		}
		r.patterns = append(r.patterns, re)
	}
	for _, src := range r.UserPatterns {
		re, err := regexp.Compile(src)
		if err != nil {
			return fmt.Errorf("user pattern %q: %w", src, err)
		}
		if re.SubexpIndex("user") < 0 {
			return fmt.Errorf("user pattern %q has no user group", src)
		}
		r.users = append(r.users, re)
	}
	if r.UserWindow <= 0 {
		r.UserWindow = 3
	}
	if r.block, err = optRegexp(r.Block); err != nil {
		return err
	}
	if r.requires, err = optRegexp(r.Requires); err != nil {
		return err
	}
	if r.rejectKey, err = optRegexp(r.RejectKeys); err != nil {
		return err
	}
	if r.rwKey, err = optRegexp(r.RWKey); err != nil {
		return err
	}
	if r.requires != nil && r.block == nil {
		return fmt.Errorf("requires without block")
	}
	for _, src := range r.Reject {
		re, err := regexp.Compile(src)
		if err != nil {
			return fmt.Errorf("reject %q: %w", src, err)
		}
		r.reject = append(r.reject, re)
	}
	r.only = lowerSet(r.Only)
	r.defaults = lowerSet(r.Defaults)
	r.rejUsers = lowerSet(r.RejectUsers)
	for _, k := range r.Keywords {
		if k == "" {
			return fmt.Errorf("empty keyword")
		}
		r.keywords = append(r.keywords, []byte(strings.ToLower(k)))
	}
	if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
		return fmt.Errorf("needs true and false examples")
	}
	return nil
}

func optRegexp(s string) (*regexp.Regexp, error) {
	if s == "" {
		return nil, nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return re, nil
}

func lowerSet(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, v := range list {
		m[strings.ToLower(v)] = true
	}
	return m
}

// globSet is a compiled list of globs: literal base names in a map, base
// name globs and path globs each as one alternation.

// MatchesPath reports whether the detector's globs select the image path p
// (and its excludes do not remove it).
func (r *Rule) MatchesPath(p string) bool {
	p = strings.TrimPrefix(p, "/")
	return !r.excludes.Match(p) && r.globs.Match(p)
}

// Excluded reports whether the detector's excludes remove p.
func (r *Rule) Excluded(p string) bool {
	return r.excludes.Match(strings.TrimPrefix(p, "/"))
}

// Scripts reports whether the detector reads any "#!" script.
func (r *Rule) Scripts() bool { return r.script }

// IsDefault reports whether v is one of the detector's own defaults.
func (r *Rule) IsDefault(v string) bool { return r.defaults[strings.ToLower(v)] }

// IsRW reports whether key names a write access (rw_key).
func (r *Rule) IsRW(key string) bool { return r.rwKey != nil && r.rwKey.MatchString(key) }

// Text is a file prepared once for every detector.
type Text struct {
	lower    []byte
	lines    []string
	vars     map[string][]assign
	varsOnce bool
}

type assign struct {
	line  int
	value string
}

var xmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)

// NewText prepares data: XML comments blanked (newlines kept), lines split
// (a trailing "\r" removed, long lines cut).
func NewText(data []byte) *Text {
	t := &Text{lower: bytes.ToLower(data)}
	s := string(data)
	if strings.Contains(s, "<!--") {
		s = xmlComment.ReplaceAllStringFunc(s, func(c string) string {
			return strings.Map(func(r rune) rune {
				if r == '\n' {
					return r
				}
				return ' '
			}, c)
		})
		// an unterminated comment hides the rest
		if i := strings.Index(s, "<!--"); i >= 0 {
			s = s[:i] + strings.Map(func(r rune) rune {
				if r == '\n' {
					return r
				}
				return ' '
			}, s[i:])
		}
	}
	t.lines = strings.Split(s, "\n")
	for i, l := range t.lines {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > MaxLineLen {
			l = l[:MaxLineLen]
		}
		t.lines[i] = l
	}
	return t
}

// Scan runs the detector over data.
func (r *Rule) Scan(data []byte) []Match { return r.ScanText(NewText(data)) }

// ScanText runs the detector over a prepared text.
func (r *Rule) ScanText(t *Text) []Match {
	if len(r.keywords) > 0 {
		found := false
		for _, k := range r.keywords {
			if bytes.Contains(t.lower, k) {
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	}
	var blockOf []int
	var blockOK map[int]bool
	if r.block != nil {
		blockOf = make([]int, len(t.lines))
		blockOK = map[int]bool{}
		b := 0
		for i, l := range t.lines {
			if r.block.MatchString(l) {
				b = i + 1
			}
			blockOf[i] = b
			if r.requires != nil && !r.comment(l) && r.requires.MatchString(l) {
				blockOK[b] = true
			}
		}
	}
	var out []Match
	for i, line := range t.lines {
		if len(out) >= MaxMatchesPerFile {
			break
		}
		if strings.TrimSpace(line) == "" || r.comment(line) {
			continue
		}
		if r.requires != nil && !blockOK[blockOf[i]] {
			continue
		}
		for _, re := range r.patterns {
			for _, sm := range re.FindAllStringSubmatchIndex(line, 16) {
				m, ok := r.build(t, re, line, sm, i)
				if !ok {
					continue
				}
				if m.User == "" && len(r.users) > 0 && !r.UserOnly {
					m.User = r.findUser(t, i, blockOf)
					if r.rejUsers[strings.ToLower(m.User)] {
						continue
					}
				}
				out = append(out, m)
			}
		}
	}
	return dedupe(out)
}

func dedupe(ms []Match) []Match {
	seen := map[string]bool{}
	out := ms[:0]
	for _, m := range ms {
		k := fmt.Sprintf("%d\x00%s\x00%s\x00%s\x00%s", m.Line, m.Key, m.User, m.Secret, m.File)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, m)
	}
	return out
}

func (r *Rule) comment(line string) bool {
	s := strings.TrimLeft(line, " \t")
	for _, c := range r.Comments {
		if strings.HasPrefix(s, c) {
			return true
		}
	}
	return false
}

func group(re *regexp.Regexp, line string, sm []int, name string) (string, bool) {
	i := re.SubexpIndex(name)
	if i < 0 || sm[2*i] < 0 {
		return "", false
	}
	return line[sm[2*i]:sm[2*i+1]], true
}

func (r *Rule) build(t *Text, re *regexp.Regexp, line string, sm []int, i int) (Match, bool) {
	m := Match{Rule: r, Line: i + 1}
	m.Key, _ = group(re, line, sm, "key")
	m.Key = Unquote(m.Key)
	if r.rejectKey != nil && m.Key != "" && r.rejectKey.MatchString(m.Key) {
		return m, false
	}
	u, _ := group(re, line, sm, "user")
	m.User = Unquote(u)
	m.Realm, m.HasRealm = group(re, line, sm, "realm")
	if r.UserOnly {
		if m.User == "" || Placeholder(m.User) || len(m.User) > MaxValueLen {
			return m, false
		}
		if r.only != nil && !r.only[strings.ToLower(m.User)] {
			return m, false
		}
		return m, true
	}
	s, _ := group(re, line, sm, "secret")
	m.Secret = Unquote(s)
	if r.Vars {
		if !r.resolveVar(t, &m, i) {
			return m, false
		}
		if v, ok := varName(m.User); ok {
			if val, _, ok := t.lookup(v, i, 0); ok && !strings.HasPrefix(val, "\x00") {
				m.User = val
			}
		}
	}
	if m.File != "" {
		return m, true
	}
	return m, r.Accept(m.Key, m.User, m.Secret)
}

// Accept applies the detector's value filters to a secret: placeholders,
// spaces, reject expressions, only values and reject_users.
func (r *Rule) Accept(key, user, secret string) bool {
	if len(secret) > MaxValueLen || Placeholder(secret) {
		return false
	}
	if !r.Spaces && strings.ContainsAny(secret, " \t") {
		return false
	}
	for _, re := range r.reject {
		if re.MatchString(secret) {
			return false
		}
	}
	if r.only != nil && !r.only[strings.ToLower(secret)] {
		return false
	}
	if r.rejUsers[strings.ToLower(user)] {
		return false
	}
	if Placeholder(user) && user != "" && user != "*" {
		return false
	}
	return true
}

var varRef = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$`)

func varName(s string) (string, bool) {
	m := varRef.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

// resolveVar replaces a "$VAR" secret by its value; false if it cannot.
func (r *Rule) resolveVar(t *Text, m *Match, i int) bool {
	v, ok := varName(m.Secret)
	if !ok {
		return true
	}
	val, line, ok := t.lookup(v, i, 0)
	if !ok {
		return false
	}
	m.Var, m.VarLine = v, line
	if f, ok := strings.CutPrefix(val, "\x00"); ok {
		m.File, m.Secret = f, ""
		return true
	}
	m.Secret = val
	return true
}

var (
	assignRe = regexp.MustCompile(`^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	catRe    = regexp.MustCompile("^(?:\\$\\(|`)\\s*cat\\s+['\"]?(/[^\\s'\"`)]+)['\"]?\\s*(?:\\)|`)$")
)

// lookup finds the value of v assigned in the script: the last assignment
// before line i, else the first one after it. A value read from a file
// comes back as "\x00" + path.
func (t *Text) lookup(v string, i, depth int) (string, int, bool) {
	if !t.varsOnce {
		t.varsOnce = true
		t.vars = map[string][]assign{}
		for n, l := range t.lines {
			m := assignRe.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			val := strings.TrimSpace(m[2])
			if c := strings.Index(val, " #"); c >= 0 && !strings.HasPrefix(val, "\"") && !strings.HasPrefix(val, "'") {
				val = strings.TrimSpace(val[:c])
			}
			val = strings.TrimSuffix(val, ";")
			t.vars[m[1]] = append(t.vars[m[1]], assign{n, val})
		}
	}
	as := t.vars[v]
	if len(as) == 0 {
		return "", 0, false
	}
	a := as[0]
	for _, x := range as {
		if x.line < i {
			a = x
		}
	}
	val := a.value
	if strings.HasPrefix(val, "\"") && strings.HasSuffix(val, "\"") && len(val) >= 2 {
		val = val[1 : len(val)-1]
	} else if strings.HasPrefix(val, "'") && strings.HasSuffix(val, "'") && len(val) >= 2 {
		return val[1 : len(val)-1], a.line + 1, true
	}
	if m := catRe.FindStringSubmatch(val); m != nil {
		return "\x00" + m[1], a.line + 1, true
	}
	if w, ok := varName(val); ok && depth < maxVarDepth {
		return t.lookup(w, a.line, depth+1)
	}
	if strings.ContainsAny(val, "$`") || strings.ContainsAny(val, " \t") && !strings.HasPrefix(a.value, "\"") {
		return "", 0, false
	}
	return val, a.line + 1, true
}

func (r *Rule) findUser(t *Text, i int, blockOf []int) string {
	lo, hi := i-r.UserWindow, i+r.UserWindow
	if blockOf != nil {
		lo, hi = i, i
		for lo > 0 && blockOf[lo-1] == blockOf[i] {
			lo--
		}
		for hi+1 < len(t.lines) && blockOf[hi+1] == blockOf[i] {
			hi++
		}
	}
	lo, hi = max(lo, 0), min(hi, len(t.lines)-1)
	// nearest first: the line itself, then i-1, i+1, i-2, ...
	for d := 0; d <= max(i-lo, hi-i); d++ {
		for _, j := range []int{i - d, i + d} {
			if j < lo || j > hi || (d == 0 && j != i) || r.comment(t.lines[j]) {
				continue
			}
			for _, re := range r.users {
				sm := re.FindStringSubmatchIndex(t.lines[j])
				if sm == nil {
					continue
				}
				u, _ := group(re, t.lines[j], sm, "user")
				u = Unquote(u)
				if u != "" && !Placeholder(u) && len(u) <= MaxValueLen {
					return u
				}
			}
			if d == 0 {
				break
			}
		}
	}
	return ""
}

// Unquote removes one pair of matching surrounding quotes.
func Unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

var placeholders = map[string]bool{
	"none": true, "null": true, "nil": true, "undefined": true, "n/a": true, "empty": true,
	"unset": true, "notset": true, "not_set": true, "todo": true, "tbd": true,
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"enable": true, "enabled": true, "disable": true, "disabled": true,
	"your_password": true, "yourpassword": true, "your-password": true, "your_passphrase": true,
	"password_here": true, "your_secret": true, "secret_here": true, "<password>": true,
	"0": true, "1": true,
}

var placeholderRe = regexp.MustCompile(`^(?:[*xX.#?_-]{2,}|\*|-|<[^<>]*>|\{\{.*\}\}|@[A-Za-z_]+@|__[A-Za-z_]+__|%[0-9.-]*[sdxq]|\[[A-Za-z _-]+\])$|\$\{|\$\(|` + "`" + `|^\$[A-Za-z_{(]|%[0-9]*s`)

var hashPrefix = regexp.MustCompile(`^\$(?:1|2[aby]|5|6|7|apr1|y|gy|sha1|md5)\$`)

// Placeholder reports whether s is not a real value: empty, a mask, a
// template or variable reference, a boolean, or a well-known filler.
func Placeholder(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	if placeholders[strings.ToLower(s)] {
		return true
	}
	if hashPrefix.MatchString(s) {
		return false
	}
	return placeholderRe.MatchString(s)
}

// Selected reports, for a file's path and whether it starts with "#!",
// which detectors read it.
func Selected(rules []*Rule, p string, script bool) []*Rule {
	var out []*Rule
	for _, r := range rules {
		if r.MatchesPath(p) || (script && r.script && !r.Excluded(p)) {
			out = append(out, r)
		}
	}
	return out
}

// RuleNames lists the distinct finding rule names, sorted.
func RuleNames(rules []*Rule) []string {
	var out []string
	for _, r := range rules {
		if !slices.Contains(out, r.Rule) {
			out = append(out, r.Rule)
		}
	}
	slices.Sort(out)
	return out
}
