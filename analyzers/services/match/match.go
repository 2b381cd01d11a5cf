// Package match is the rule engine of the services and transport analyzers:
// it compiles the rule files rules/services/services.yaml and
// rules/transport/transport.yaml and matches them against boot commands,
// text lines, URLs, OpenWrt UCI sections and XML elements (with the UCI
// parser, the XML matcher and argv normalisation they need).
//
// A rule has the shared rule header (rules/schema: id, title, description,
// severity, guidelines, fix, source, examples), a kind and the match fields
// of its kind; rules/validate runs every rule's examples through the
// analyzers.
//
// Kinds:
//
//   - command: a service start found by following the boot sequence. The
//     rule applies to argv[0]'s base name in Programs; one of Patterns must
//     match the command line (argv joined by spaces) and none of Not. The
//     first rule in file order that fires wins, so the worst variant of a
//     service (telnetd -l /bin/sh) comes before the plain one. Context
//     console rules apply only to what inittab respawns on a console.
//   - line: lines of the files selected by Files (comments skipped); with
//     UnlessFile the rule is silent when any line of the file matches one of
//     those, and otherwise fires once per file.
//   - url: plain-HTTP URLs to public hosts in lines that match Require and
//     whose URL does not match Exclude (and matches Patterns, if any).
//   - uci: sections of OpenWrt UCI files whose type matches Section and whose
//     options satisfy all of Match and none of Unless (a missing option has
//     the empty value). The first rule that fires wins per section.
//   - xml: elements of an XML vendor configuration named like Section whose
//     attributes satisfy Match and not Unless. Every xml rule fires on its
//     own (one element can switch on several services).
//
// A named group "secret" in a pattern marks a credential the analyzer must
// redact; Secrets finds common ones (password=..., -p pass, user:pw@).
package match

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/fwaudit/fwaudit/internal/glob"
	"github.com/fwaudit/fwaudit/rules/schema"
	"github.com/fwaudit/fwaudit/rules/services"
	"github.com/fwaudit/fwaudit/rules/transport"
)

// Rule kinds.
const (
	// KindCommand rules match a service start: a command line the boot
	// sequence runs (init scripts, inittab, procd, systemd, inetd).
	KindCommand = "command"
	// KindLine rules match lines of a text file.
	KindLine = "line"
	// KindURL rules match plain-HTTP URLs in lines of a text file.
	KindURL = "url"
	// KindUCI rules match sections of an OpenWrt UCI file (/etc/config/*).
	KindUCI = "uci"
	// KindXML rules match elements of an XML vendor configuration.
	KindXML = "xml"
)

// Command contexts.
const (
	// ContextBoot: any command the boot sequence starts (the default).
	ContextBoot = "boot"
	// ContextConsole: the process of an inittab respawn/askfirst line or a
	// getty unit, i.e. what sits on a console.
	ContextConsole = "console"
)

// Cond is one condition of a UCI or XML rule: some option (attribute)
// whose name matches Option has a value matching Value; a missing option
// counts as the empty value.
type Cond struct {
	Option string `yaml:"option"`
	Value  string `yaml:"value"`

	opt, val *regexp.Regexp
}

// Rule is one rule of a rule file (services.yaml, transport.yaml).
type Rule struct {
	// Header: id, title, description, severity, guidelines, fix, source.
	schema.Header `yaml:",inline"`
	Kind          string `yaml:"kind"`

	// Context of a command rule: boot (default) or console.
	Context string `yaml:"context"`
	// Programs are the base names a command rule applies to ("telnetd").
	Programs []string `yaml:"programs"`
	// Files are globs over the path inside the image ("/etc/config/upnpd",
	// "**/sshd_config"); without "/" they match the base name.
	Files []string `yaml:"files"`
	// Keywords: a line must contain one of them (case-insensitive) before
	// the patterns are tried.
	Keywords []string `yaml:"keywords"`
	// Patterns: one must match (command line, or file line). A named group
	// "secret" marks a credential to redact.
	Patterns []string `yaml:"patterns"`
	// Not: none may match.
	Not []string `yaml:"not"`
	// UnlessFile (line rules): the rule is silent for a file with a line
	// matching one of these; with it the rule fires once per file.
	UnlessFile []string `yaml:"unless_file"`
	// Section: section type (UCI) or element name (XML) expression.
	Section string `yaml:"section"`
	// Match (UCI, XML): all must hold; Unless: none may.
	Match  []Cond `yaml:"match"`
	Unless []Cond `yaml:"unless"`
	// Require (URL rules): the line must match it; Exclude: the URL must
	// not (and Not: the line must not; Patterns: the URL must).
	Require string `yaml:"require"`
	Exclude string `yaml:"exclude"`

	// Examples: text that must (true) or must not (false) fire the rule:
	// command lines for command rules, file content for the others.
	Examples schema.Examples[string, string] `yaml:"examples"`

	programs   map[string]bool
	patterns   []*regexp.Regexp
	not        []*regexp.Regexp
	unlessFile []*regexp.Regexp
	globs      *glob.Set
	keywords   []string
	section    *regexp.Regexp
	require    *regexp.Regexp
	exclude    *regexp.Regexp
}

// Set is a compiled rule file.
type Set struct {
	Rules []*Rule
}

// Hit is one match of a rule.
type Hit struct {
	Rule *Rule
	// Line (1-based) in the file; 0 for command hits.
	Line int
	// Text is the matched line, element or command (not redacted).
	Text string
	// Secrets are credentials in Text to redact.
	Secrets []string
}

// Parse reads and compiles a rule file.
//
// With more than one file, the later ones override the first (a user's
// rule files over the embedded one): a rule with an id already loaded
// replaces it in place, others are appended (schema.Load).
func Parse(files ...[]byte) (*Set, error) {
	rules, err := schema.Load("rules", (*Rule).compile, files...)
	if err != nil {
		return nil, err
	}
	return &Set{Rules: rules}, nil
}

func compileAll(srcs []string, ci bool) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, s := range srcs {
		if ci {
			s = "(?i)" + s
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

func (r *Rule) compile() error {
	if len(r.Guidelines) == 0 {
		return fmt.Errorf("no guidelines")
	}
	if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
		return fmt.Errorf("needs true and false examples")
	}
	var err error
	if r.patterns, err = compileAll(r.Patterns, false); err != nil {
		return err
	}
	if r.not, err = compileAll(r.Not, false); err != nil {
		return err
	}
	if r.unlessFile, err = compileAll(r.UnlessFile, false); err != nil {
		return err
	}
	for _, k := range r.Keywords {
		r.keywords = append(r.keywords, strings.ToLower(k))
	}
	if r.globs, err = glob.CompileSet(r.Files); err != nil {
		return err
	}
	compileConds := func(cs []Cond) error {
		for i := range cs {
			c := &cs[i]
			if c.Option == "" {
				return fmt.Errorf("condition without option")
			}
			if c.opt, err = regexp.Compile("^(?:" + c.Option + ")$"); err != nil {
				return err
			}
			if c.val, err = regexp.Compile(c.Value); err != nil {
				return err
			}
		}
		return nil
	}
	if err := compileConds(r.Match); err != nil {
		return err
	}
	if err := compileConds(r.Unless); err != nil {
		return err
	}
	switch r.Kind {
	case KindCommand:
		if len(r.Programs) == 0 {
			return fmt.Errorf("command rule without programs")
		}
		r.programs = map[string]bool{}
		for _, p := range r.Programs {
			r.programs[p] = true
		}
		switch r.Context {
		case "":
			r.Context = ContextBoot
		case ContextBoot, ContextConsole:
		default:
			return fmt.Errorf("context %q", r.Context)
		}
	case KindLine:
		if len(r.Patterns) == 0 || len(r.Files) == 0 {
			return fmt.Errorf("line rule needs patterns and files")
		}
	case KindURL:
		if len(r.Files) == 0 || r.Require == "" {
			return fmt.Errorf("url rule needs files and require")
		}
		if r.require, err = regexp.Compile(r.Require); err != nil {
			return err
		}
		if r.Exclude != "" {
			if r.exclude, err = regexp.Compile(r.Exclude); err != nil {
				return err
			}
		}
	case KindUCI, KindXML:
		if len(r.Files) == 0 || r.Section == "" || len(r.Match) == 0 {
			return fmt.Errorf("%s rule needs files, section and match", r.Kind)
		}
		if r.section, err = regexp.Compile("^(?:" + r.Section + ")$"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("kind %q", r.Kind)
	}
	return nil
}

// MatchesPath reports whether the rule's file globs select image path p.
func (r *Rule) MatchesPath(p string) bool {
	return r.globs.Match(strings.TrimPrefix(p, "/"))
}

// Wants reports whether any file rule of the set selects image path p.
func (s *Set) Wants(p string) bool {
	for _, r := range s.Rules {
		if r.Kind != KindCommand && r.MatchesPath(p) {
			return true
		}
	}
	return false
}

// secretOf returns the "secret" group of re's match in s, if any.
func secretOf(re *regexp.Regexp, m []int, s string) string {
	i := re.SubexpIndex("secret")
	if i <= 0 || m[2*i] < 0 {
		return ""
	}
	return s[m[2*i]:m[2*i+1]]
}

// matchText applies Patterns (one must match) and Not (none may) to s.
func (r *Rule) matchText(s string) (bool, []string) {
	var secrets []string
	ok := len(r.patterns) == 0
	for _, re := range r.patterns {
		if m := re.FindStringSubmatchIndex(s); m != nil {
			ok = true
			if sec := secretOf(re, m, s); sec != "" {
				secrets = append(secrets, sec)
			}
			break
		}
	}
	if !ok {
		return false, nil
	}
	for _, re := range r.not {
		if re.MatchString(s) {
			return false, nil
		}
	}
	return true, secrets
}

// MatchCommand finds the first command rule (in file order) that fires on
// argv in the given context. In the console context console rules are
// tried first, then boot rules.
func (s *Set) MatchCommand(context string, argv []string) (Hit, bool) {
	argv = Normalize(argv)
	if len(argv) == 0 {
		return Hit{}, false
	}
	prog := path.Base(strings.TrimPrefix(argv[0], "-"))
	line := strings.Join(argv, " ")
	ctxs := []string{ContextBoot}
	if context == ContextConsole {
		ctxs = []string{ContextConsole, ContextBoot}
	}
	for _, c := range ctxs {
		for _, r := range s.Rules {
			if r.Kind != KindCommand || r.Context != c || !r.programs[prog] {
				continue
			}
			if ok, secrets := r.matchText(line); ok {
				return Hit{Rule: r, Text: line, Secrets: secrets}, true
			}
		}
	}
	return Hit{}, false
}

// maxHitsPerRule bounds the hits of one rule in one file.
const maxHitsPerRule = 50

// MatchFile runs the file rules selected by path p (all file rules when p
// is "") over data. At most one rule fires per line (or UCI section or XML
// element attribute set): the first in file order.
func (s *Set) MatchFile(p string, data []byte) []Hit {
	var rules []*Rule
	for _, r := range s.Rules {
		if r.Kind != KindCommand && (p == "" || r.MatchesPath(p)) {
			rules = append(rules, r)
		}
	}
	return matchRules(rules, data)
}

// MatchRule runs one rule over data (file globs ignored); for a command
// rule data is a command line, split on spaces.
func (s *Set) MatchRule(r *Rule, data []byte) []Hit {
	if r.Kind == KindCommand {
		ctx := r.Context
		h, ok := s.MatchCommand(ctx, strings.Fields(string(data)))
		if !ok || h.Rule != r {
			return nil
		}
		return []Hit{h}
	}
	var rules []*Rule
	for _, o := range s.Rules {
		if o.Kind == r.Kind {
			rules = append(rules, o)
		}
	}
	var out []Hit
	for _, h := range matchRules(rules, data) {
		if h.Rule == r {
			out = append(out, h)
		}
	}
	return out
}

func matchRules(rules []*Rule, data []byte) []Hit {
	var lineRules []*Rule
	var uci, xml []*Rule
	for _, r := range rules {
		switch r.Kind {
		case KindLine, KindURL:
			lineRules = append(lineRules, r)
		case KindUCI:
			uci = append(uci, r)
		case KindXML:
			xml = append(xml, r)
		}
	}
	var out []Hit
	if len(lineRules) > 0 {
		out = append(out, matchLines(lineRules, string(data))...)
	}
	if len(uci) > 0 {
		out = append(out, matchUCI(uci, ParseUCI(string(data)))...)
	}
	if len(xml) > 0 && looksXML(data) {
		out = append(out, matchXML(xml, string(data))...)
	}
	return out
}

func looksXML(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n', 0xef, 0xbb, 0xbf:
			continue
		case '<':
			return true
		}
		return false
	}
	return false
}

// Lines splits text into lines, dropping a trailing "\r".
func Lines(text string) []string {
	ls := strings.Split(text, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

func isComment(t string) bool {
	return strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "<!--")
}

func matchLines(rules []*Rule, text string) []Hit {
	lines := Lines(text)
	silent := map[*Rule]bool{}
	for _, r := range rules {
		if len(r.unlessFile) == 0 {
			continue
		}
		for _, l := range lines {
			t := strings.TrimSpace(l)
			if t == "" || isComment(t) {
				continue
			}
			for _, re := range r.unlessFile {
				if re.MatchString(t) {
					silent[r] = true
				}
			}
		}
	}
	var out []Hit
	count := map[*Rule]int{}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || isComment(t) {
			continue
		}
		var low string
		for _, r := range rules {
			if silent[r] || count[r] >= maxHitsPerRule || (len(r.unlessFile) > 0 && count[r] > 0) {
				continue
			}
			if len(r.keywords) > 0 {
				if low == "" {
					low = strings.ToLower(t)
				}
				found := false
				for _, k := range r.keywords {
					if strings.Contains(low, k) {
						found = true
						break
					}
				}
				if !found {
					continue
				}
			}
			var ok bool
			var secrets []string
			if r.Kind == KindURL {
				ok = r.matchURL(t)
			} else {
				ok, secrets = r.matchText(t)
			}
			if ok {
				count[r]++
				out = append(out, Hit{Rule: r, Line: i + 1, Text: t, Secrets: secrets})
				break
			}
		}
	}
	return out
}

var urlRe = regexp.MustCompile(`(?i)\bhttp://[^\s"'<>()\\{}|^` + "`" + `]+`)

// matchURL reports whether t holds a plain-HTTP URL to a public host that
// the rule's Require (over the line) and Exclude (over the URL) accept.
func (r *Rule) matchURL(t string) bool {
	if !r.require.MatchString(t) {
		return false
	}
	for _, re := range r.not {
		if re.MatchString(t) {
			return false
		}
	}
	for _, u := range urlRe.FindAllString(t, 8) {
		if !PublicURL(u) {
			continue
		}
		if r.exclude != nil && r.exclude.MatchString(u) {
			continue
		}
		ok := len(r.patterns) == 0
		for _, re := range r.patterns {
			ok = ok || re.MatchString(u)
		}
		if ok {
			return true
		}
	}
	return false
}

// PublicURL reports whether the host of an http:// URL is a public name or
// address: not localhost, a private, loopback or link-local address, a
// placeholder ("%s", "$HOST", "<ip>") or a bare word without a dot.
func PublicURL(u string) bool {
	rest := u[len("http://"):]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host := rest
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			host = host[1:i]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || strings.ContainsAny(host, "%$<>*") {
		return false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() ||
			(a.Is4() && a.As4()[0] == 100 && a.As4()[1]&0xc0 == 64)) // CGNAT
	}
	if !strings.Contains(host, ".") || host == "localhost" || strings.HasSuffix(host, ".localhost") ||
		strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".lan") || strings.HasSuffix(host, ".home") ||
		strings.HasSuffix(host, ".example") || strings.HasSuffix(host, ".invalid") || strings.HasSuffix(host, ".test") ||
		host == "example.com" || strings.HasSuffix(host, ".example.com") || host == "example.org" || host == "example.net" {
		return false
	}
	// the last label must look like a TLD
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if len(tld) < 2 {
		return false
	}
	for _, c := range tld {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// UCI is a parsed UCI file.
type UCI struct {
	Sections []UCISection
}

// UCISection is one "config TYPE [NAME]" section.
type UCISection struct {
	Type, Name string
	Line       int
	Options    []UCIOption
}

// UCIOption is an "option" or "list" line.
type UCIOption struct {
	Name, Value string
	Line        int
	Text        string
	List        bool
}

// ParseUCI parses UCI syntax leniently: unknown lines are skipped, quotes
// removed, and a "#" comment after a value dropped.
func ParseUCI(text string) UCI {
	var u UCI
	for i, l := range Lines(text) {
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' {
			continue
		}
		f := uciFields(t)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "config":
			s := UCISection{Line: i + 1}
			if len(f) > 1 {
				s.Type = f[1]
			}
			if len(f) > 2 {
				s.Name = f[2]
			}
			u.Sections = append(u.Sections, s)
		case "option", "list":
			if len(u.Sections) == 0 || len(f) < 2 {
				continue
			}
			o := UCIOption{Name: f[1], Line: i + 1, Text: t, List: f[0] == "list"}
			if len(f) > 2 {
				o.Value = f[2]
			}
			s := &u.Sections[len(u.Sections)-1]
			if len(s.Options) < 10000 {
				s.Options = append(s.Options, o)
			}
		}
		if len(u.Sections) > 10000 {
			break
		}
	}
	return u
}

// uciFields splits a UCI line into words, honouring quotes and stopping at
// an unquoted "#".
func uciFields(t string) []string {
	var out []string
	var cur strings.Builder
	in := false
	var q byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			q = c
			in = true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '#' && !in:
			return out
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// holds reports whether condition c holds in the options, and the option
// that made it hold (nil when it held through a missing option).
func (c *Cond) holds(opts []UCIOption) (bool, *UCIOption) {
	seen := false
	for i := range opts {
		o := &opts[i]
		if !c.opt.MatchString(o.Name) {
			continue
		}
		seen = true
		if c.val.MatchString(o.Value) {
			return true, o
		}
	}
	if !seen && c.val.MatchString("") {
		return true, nil
	}
	return false, nil
}

func matchUCI(rules []*Rule, u UCI) []Hit {
	var out []Hit
	for _, s := range u.Sections {
		for _, r := range rules { // the first rule that fires wins
			if !r.section.MatchString(s.Type) {
				continue
			}
			ok, first := allHold(r, s.Options)
			if !ok {
				continue
			}
			h := Hit{Rule: r, Line: s.Line, Text: strings.TrimSpace(fmt.Sprintf("config %s %s", s.Type, quoteName(s.Name)))}
			if first != nil {
				h.Line, h.Text = first.Line, first.Text
			}
			out = append(out, h)
			break
		}
	}
	return out
}

func quoteName(n string) string {
	if n == "" {
		return ""
	}
	return "'" + n + "'"
}

func allHold(r *Rule, opts []UCIOption) (bool, *UCIOption) {
	var first *UCIOption
	for i := range r.Match {
		ok, o := r.Match[i].holds(opts)
		if !ok {
			return false, nil
		}
		if first == nil {
			first = o
		}
	}
	for i := range r.Unless {
		if ok, _ := r.Unless[i].holds(opts); ok {
			return false, nil
		}
	}
	return true, first
}

var (
	tagRe  = regexp.MustCompile(`<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*/?>`)
	attrRe = regexp.MustCompile(`([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

// maxTags bounds the elements read from one XML file.
const maxTags = 100000

func matchXML(rules []*Rule, text string) []Hit {
	var out []Hit
	line, last := 1, 0
	for _, m := range tagRe.FindAllStringSubmatchIndex(text, maxTags) {
		name := text[m[2]:m[3]]
		var opts []UCIOption
		line += strings.Count(text[last:m[0]], "\n")
		last = m[0]
		tag := text[m[0]:m[1]]
		for _, a := range attrRe.FindAllStringSubmatch(text[m[4]:m[5]], -1) {
			v := a[2]
			if a[3] != "" {
				v = a[3]
			}
			opts = append(opts, UCIOption{Name: a[1], Value: v, Line: line})
		}
		for _, r := range rules {
			if !r.section.MatchString(name) {
				continue
			}
			if ok, _ := allHold(r, opts); ok {
				t := tag
				if len(t) > 300 {
					t = t[:300] + "…"
				}
				out = append(out, Hit{Rule: r, Line: line, Text: t})
			}
		}
	}
	return out
}

// credRes find credentials in evidence text: option values of password
// flags and settings, and user:password@ in URLs.
var credRes = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b[a-z0-9_]*(?:pass(?:wd|word)?|pwd|secret|token|psk|community|key)[a-z0-9_]*\s*[=:]\s*["']?(?P<secret>[^\s"'&;]{1,128})`),
	regexp.MustCompile(`(?i)(?:^|\s)--?(?:pass(?:word)?|pw|pwd|passwd|secret|token|key)[= ]\s*["']?(?P<secret>[^\s"']{1,128})`),
	regexp.MustCompile(`(?i)(?:^|\s)--user[= ]["']?[^\s:"']+:(?P<secret>[^\s"']{1,128})`),
	regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@"']+:(?P<secret>[^\s/@"']{1,128})@`),
}

// trivialValue: setting values that are never secrets.
func trivialValue(v string) bool {
	switch strings.ToLower(strings.Trim(v, `"'`)) {
	case "", "0", "1", "yes", "no", "on", "off", "true", "false", "enable", "enabled", "disable", "disabled", "none", "null", "nil", "auto", "required", "optional":
		return true
	}
	return strings.HasPrefix(v, "$") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "%")
}

// Secrets returns credentials found in text by common patterns (password
// settings and flags, URL user info), for redaction.
func Secrets(text string) []string {
	var out []string
	for _, sp := range secretSpans(text) {
		out = append(out, text[sp[0]:sp[1]])
	}
	return out
}

func secretSpans(text string) [][2]int {
	var out [][2]int
	for _, re := range credRes {
		i := re.SubexpIndex("secret")
		for _, m := range re.FindAllStringSubmatchIndex(text, 16) {
			if m[2*i] >= 0 && !trivialValue(text[m[2*i]:m[2*i+1]]) {
				out = append(out, [2]int{m[2*i], m[2*i+1]})
			}
		}
	}
	return out
}

// RedactText replaces the credentials in text (every occurrence of the
// given secrets, and the values Secrets finds, where it finds them) with
// redact(secret). first is the first secret, for a fingerprint.
func RedactText(text string, secrets []string, redact func(string) string) (out, first string) {
	var spans [][2]int
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for off := 0; off < len(text); {
			j := strings.Index(text[off:], s)
			if j < 0 {
				break
			}
			spans = append(spans, [2]int{off + j, off + j + len(s)})
			off += j + len(s)
		}
	}
	spans = append(spans, secretSpans(text)...)
	if len(spans) == 0 {
		return text, ""
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a][0] < spans[b][0] })
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[0] < last {
			continue // overlaps an earlier span
		}
		s := text[sp[0]:sp[1]]
		if first == "" {
			first = s
		}
		b.WriteString(text[last:sp[0]])
		b.WriteString(redact(s))
		last = sp[1]
	}
	b.WriteString(text[last:])
	return b.String(), first
}

// Normalize strips wrappers from a command line so that argv[0] is the
// program that runs: "busybox telnetd", "nohup x &", "env A=1 x",
// "nice -n 5 x", "start-stop-daemon -S -x /usr/sbin/x -- args",
// "tcpsvd 0 23 telnetd", "dropbearmulti dropbear", "chroot /mnt x". A
// start-stop-daemon that stops (-K) gives nil.
func Normalize(argv []string) []string {
	for round := 0; round < 8 && len(argv) > 0; round++ {
		for len(argv) > 0 && isAssignment(argv[0]) {
			argv = argv[1:]
		}
		if len(argv) == 0 {
			return nil
		}
		switch b := path.Base(argv[0]); b {
		case "busybox", "dropbearmulti", "tcpd", "ssu":
			argv = argv[1:]
		case "sudo", "doas":
			argv = skipOpts(argv[1:], "ugCDhprT")
		case "nohup", "exec", "setsid", "command", "builtin", "time", "stdbuf", "ionice":
			argv = skipOpts(argv[1:], "acnoeiN")
		case "nice":
			argv = skipOpts(argv[1:], "n")
		case "env":
			argv = skipOpts(argv[1:], "uCS")
		case "chrt", "taskset", "chroot":
			a := skipOpts(argv[1:], "")
			if len(a) > 1 {
				a = a[1:] // priority, mask or new root
			} else {
				a = nil
			}
			argv = a
		case "tcpsvd", "udpsvd":
			a := skipOpts(argv[1:], "cCbulixt")
			if len(a) >= 2 {
				a = a[2:]
			} else {
				a = nil
			}
			argv = a
		case "start-stop-daemon":
			return ssd(argv[1:])
		default:
			return argv
		}
	}
	return argv
}

func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := w[j]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// skipOpts drops leading options; letters in withArg take a value ("-n 5").
func skipOpts(a []string, withArg string) []string {
	for len(a) > 0 && strings.HasPrefix(a[0], "-") && len(a[0]) > 1 {
		o := a[0]
		a = a[1:]
		if o == "--" {
			break
		}
		if !strings.HasPrefix(o, "--") && len(o) == 2 && strings.IndexByte(withArg, o[1]) >= 0 && len(a) > 0 {
			a = a[1:]
		}
	}
	for len(a) > 0 && isAssignment(a[0]) {
		a = a[1:]
	}
	return a
}

// ssdFlagsWithArg are start-stop-daemon options that take a value.
var ssdFlagsWithArg = map[string]bool{
	"-p": true, "--pidfile": true, "-n": true, "--name": true, "-u": true, "--user": true, "-c": true, "--chuid": true,
	"-g": true, "--group": true, "-r": true, "--chroot": true, "-N": true, "--nicelevel": true, "-P": true, "--procsched": true,
	"-k": true, "--umask": true, "-d": true, "--chdir": true, "-I": true, "--iosched": true, "-s": true, "--signal": true,
	"-R": true, "--retry": true, "--ppid": true, "--output": true, "-O": true,
}

// ssd reads a start-stop-daemon command line.
func ssd(a []string) []string {
	var prog, startas string
	var rest []string
	for i := 0; i < len(a); i++ {
		o := a[i]
		name, val, hasVal := strings.Cut(o, "=")
		if !strings.HasPrefix(o, "--") {
			name, hasVal = o, false
		}
		next := func() string {
			if hasVal {
				return val
			}
			if len(name) > 2 && !strings.HasPrefix(name, "--") {
				return name[2:]
			}
			if i+1 < len(a) {
				i++
				return a[i]
			}
			return ""
		}
		switch {
		case o == "--":
			rest = a[i+1:]
			i = len(a)
		case o == "-K" || o == "--stop":
			return nil
		case name == "--exec" || strings.HasPrefix(name, "-x"):
			prog = next()
		case name == "--startas" || strings.HasPrefix(name, "-a"):
			startas = next()
		case ssdFlagsWithArg[name]:
			if !hasVal {
				next()
			}
		}
	}
	if startas != "" {
		prog = startas
	}
	if prog == "" {
		return nil
	}
	return append([]string{prog}, rest...)
}

var (
	servicesSet  = sync.OnceValues(func() (*Set, error) { return Parse(services.YAML) })
	transportSet = sync.OnceValues(func() (*Set, error) { return Parse(transport.YAML) })
)

// Services returns the built-in service rules (rules/services), compiled
// and shared: do not modify them.
func Services() *Set {
	s, err := servicesSet()
	if err != nil {
		panic("services: embedded services.yaml: " + err.Error())
	}
	return s
}

// Transport returns the built-in transport rules (rules/transport),
// compiled and shared: do not modify them.
func Transport() *Set {
	s, err := transportSet()
	if err != nil {
		panic("transport: embedded transport.yaml: " + err.Error())
	}
	return s
}
