// Package tokens is the analyzer for cloud and API credentials shipped in
// an image (Code of Practice guideline 4, "securely store credentials and
// security-sensitive data"): AWS, GCP, Azure, GitHub, Slack, Stripe,
// Twilio and the other services gitleaks' default configuration knows,
// JWTs, generic high-entropy secrets next to key/secret/token names, and
// fwaudit's own IoT-platform rules (rules/tokens: Azure IoT Hub connection
// strings, Tuya and Alibaba IoT secrets, AWS secret keys by name).
//
// Text files are read line by line, binaries as printable strings of at
// least MinString bytes (the first ReadBound bytes of a file). Only lines
// and strings that hold a rule keyword reach the regular expressions: the
// candidates of one file are joined and passed to gitleaks once, which
// keeps the analyzer fast on whole images.
//
// Suppressions (each is also in the allow list of rules/tokens or below):
//   - documentation examples and placeholders (AKIAIOSFODNN7EXAMPLE,
//     "your-api-key", "xxxx", ${VAR}, <token>, %s) — rules/tokens allow;
//   - gitleaks' private-key and pkcs12-file rules: private keys are the
//     keys analyzer's job;
//   - curl-auth-user and generic secrets whose name is a password
//     (password=, passwd:, pwd=) are the credentials analyzer's job;
//   - generic-api-key matches in binaries are dropped unless the value
//     mixes letters and digits and has entropy of at least 4 bits per
//     character: printable strings of a binary are mostly symbol names
//     and format strings ("api_key_set_default_value");
//   - a generic secret made only of hex digits of a length of a hash
//     (32, 40, 64) next to "md5", "sha", "hash" or "checksum" is a digest.
package tokens

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/tokens/match"
	"github.com/fwaudit/fwaudit/rules/builtin"
)

// Category of every finding.
const Category = rules.Category

// ReadBound: only the first ReadBound bytes of a file are scanned.
const ReadBound = 8 << 20

// maxFindingsPerFile bounds the findings of one file.
const maxFindingsPerFile = 50

// dropped gitleaks rules, and why.
var droppedRules = map[string]string{
	"private-key":    "private keys are reported by the keys analyzer",
	"pkcs12-file":    "a path-only rule; PKCS#12 files are the keys analyzer's",
	"curl-auth-user": "a user:password pair is the credentials analyzer's",
}

type engine struct {
	det      *detect.Detector
	rules    []ruleDet        // one detector per gitleaks rule
	kwRules  map[string][]int // prefilter keyword → indexes in rules
	always   []int            // rules without keywords: every candidate
	generic  int              // generic-api-key's index in rules when genericJoin applies, else -1
	own      *rules.Set
	trie     *ahocorasick.Trie
	err      error
	describe map[string]string
	gkw      []string // gitleaks' prefilter keywords
}

var (
	engOnce sync.Once
	eng     engine
)

func loadEngine() (*engine, error) {
	engOnce.Do(func() {
		logging.Logger = zerolog.Nop()
		v := viper.New()
		v.SetConfigType("toml")
		if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
			eng.err = fmt.Errorf("tokens: gitleaks config: %w", err)
			return
		}
		var vc config.ViperConfig
		if err := v.Unmarshal(&vc); err != nil {
			eng.err = fmt.Errorf("tokens: gitleaks config: %w", err)
			return
		}
		cfg, err := vc.Translate()
		if err != nil {
			eng.err = fmt.Errorf("tokens: gitleaks config: %w", err)
			return
		}
		for id := range droppedRules {
			delete(cfg.Rules, id)
		}
		eng.describe = map[string]string{}
		kw := map[string]bool{}  // our prefilter's keywords
		gkw := map[string]bool{} // gitleaks' own
		keep := cfg.OrderedRules[:0]
		for _, id := range cfg.OrderedRules {
			r, ok := cfg.Rules[id]
			if !ok {
				continue
			}
			keep = append(keep, id)
			eng.describe[id] = r.Description
			for _, k := range r.Keywords {
				gkw[strings.ToLower(k)] = true
				kw[prefilterKeyword(k)] = true
			}
		}
		cfg.OrderedRules = keep
		cfg.Keywords = map[string]struct{}{}
		for k := range gkw {
			cfg.Keywords[k] = struct{}{}
		}
		eng.det = detect.NewDetector(cfg)
		eng.buildRules(cfg)
		for k := range kw {
			eng.gkw = append(eng.gkw, k)
		}
		eng.own = rules.Default()
		eng.trie = prefilter(eng.gkw, eng.own)
	})
	return &eng, eng.err
}

// prefilter is the keyword trie of gitleaks' keywords and the own rules'.
func prefilter(gkw []string, own *rules.Set) *ahocorasick.Trie {
	kw := map[string]bool{}
	for _, k := range gkw {
		kw[k] = true
	}
	for _, k := range own.Keywords() {
		kw[k] = true
	}
	list := make([]string, 0, len(kw))
	for k := range kw {
		list = append(list, k)
	}
	sort.Strings(list)
	return ahocorasick.NewTrieBuilder().AddStrings(list).Build()
}

// withOwn returns the engine with other own rules (the embedded ones
// overridden by a user's rule files): gitleaks' part is shared, the
// prefilter is rebuilt.
func (e *engine) withOwn(own *rules.Set) *engine {
	d := *e
	d.own = own
	d.trie = prefilter(e.gkw, own)
	return &d
}

// ruleDet is a gitleaks detector of one rule: each rule's regular
// expression runs only over the candidates that hold one of its keywords,
// not over every candidate of a file that holds any keyword of any rule.
// A rule that needs other rules (RequiredRules) keeps the whole detector.
type ruleDet struct {
	id  string
	det *detect.Detector
}

// prefilterKeyword is a gitleaks keyword as the prefilter trie holds it.
func prefilterKeyword(k string) string {
	k = strings.ToLower(k)
	if k == "ey" { // JWT: every header starts "eyJ"
		k = "eyj"
	}
	return k
}

func (e *engine) buildRules(cfg config.Config) {
	e.kwRules = map[string][]int{}
	e.generic = -1
	for _, id := range cfg.OrderedRules {
		r := cfg.Rules[id]
		one := cfg
		one.Rules = map[string]config.Rule{id: r}
		one.OrderedRules = []string{id}
		one.Keywords = map[string]struct{}{}
		for _, k := range r.Keywords {
			one.Keywords[strings.ToLower(k)] = struct{}{}
		}
		det := detect.NewDetector(one)
		if len(r.RequiredRules) > 0 {
			det = e.det
		}
		i := len(e.rules)
		e.rules = append(e.rules, ruleDet{id: id, det: det})
		if id == "generic-api-key" && r.Regex != nil && r.Regex.String() == genericAPIKeyRegex && det != e.det && len(r.Keywords) > 0 {
			e.generic = i
		}
		if len(r.Keywords) == 0 || len(r.RequiredRules) > 0 {
			e.always = append(e.always, i)
			continue
		}
		seen := map[string]bool{}
		for _, k := range r.Keywords {
			k = prefilterKeyword(k)
			if !seen[k] {
				seen[k] = true
				e.kwRules[k] = append(e.kwRules[k], i)
			}
		}
	}
}

// onSuppress, when set (by tests), sees every suppressed gitleaks finding.
var onSuppress func(rule, secret, why string)

type analyzer struct {
	// own: the own rules when not the embedded ones, and the engine made
	// for them
	own    *rules.Set
	engine func() (*engine, error)
}

// New returns the tokens analyzer.
func New() analyzers.Analyzer { return analyzer{} }

// NewWithRules returns the tokens analyzer with other own rules (see
// rules.Parse for overriding the embedded ones); gitleaks' rules stay.
func NewWithRules(own *rules.Set) analyzers.Analyzer {
	return analyzer{own: own, engine: sync.OnceValues(func() (*engine, error) {
		e, err := loadEngine()
		if err != nil {
			return nil, err
		}
		return e.withOwn(own), nil
	})}
}

func (analyzer) Name() string { return "tokens" }

// Examines implements analyzers.Scoped.
func (analyzer) Examines() string { return "files searched for tokens" }

// segment is one line of a text file or one printable string of a binary.
type segment struct {
	off  int
	line int // 1-based, text only
	text string
}

// hit is one secret found in a file.
type hit struct {
	rule, title string
	severity    analyzers.Severity
	guidelines  []int
	secret      string
	entropy     float64
	off, line   int
	why         string
	count       int
}

func (a analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	load := loadEngine
	if a.engine != nil {
		load = a.engine
	}
	e, err := load()
	if err != nil {
		return nil, err
	}
	type located struct {
		f    analyzers.File
		text bool
		h    hit
	}
	// files are scanned by a worker per core; results come back in the
	// order of t.Files(), so the output does not depend on scheduling
	type result struct {
		hits []hit
		text bool
	}
	var (
		mu     sync.Mutex
		unread = map[string]bool{} // host paths
	)
	scratch := sync.Pool{New: func() any { return new([]byte) }}
	// a file with the bytes of one already scanned has its hits
	same := analyzers.NewSameContent[[]hit]()
	sel := analyzers.Selector{MinSize: 1, Analyzer: "tokens", What: "files searched for tokens"}
	res, err := analyzers.WalkParallel(ctx, t, sel, min(runtime.GOMAXPROCS(0), 4), func(f analyzers.File) (result, error) {
		class := t.Classify(f)
		data, err := t.ReadHead(f, ReadBound)
		if err != nil {
			mu.Lock()
			unread[f.HostPath] = true
			mu.Unlock()
			return result{}, analyzers.Skip
		}
		text := class == analyzers.ClassText
		kind := uint8(0)
		if text {
			kind = 1
		}
		hits := same.Get(data, kind, func() []hit {
			buf := scratch.Get().(*[]byte)
			defer scratch.Put(buf)
			return e.scan(ctx, data, buf, text)
		})
		return result{hits, text}, nil
	})
	if err != nil {
		return nil, err
	}
	var all []located
	var unreadPaths []string
	for _, f := range t.Files() {
		if unread[f.HostPath] {
			unreadPaths = append(unreadPaths, f.Path)
		}
	}
	for _, r := range res {
		for _, h := range r.Value.hits {
			all = append(all, located{f: r.File, text: r.Value.text, h: h})
		}
	}
	all = analyzers.DropUnpackedCopies(t, all, func(l located) (string, string, string) {
		id := ""
		if l.f.Layer != nil {
			id = l.f.Layer.ID
		}
		return id, l.f.Path, analyzers.Fingerprint(l.h.secret)
	})
	out := make([]analyzers.Finding, 0, len(all))
	for _, l := range all {
		out = append(out, finding(l.f, l.text, l.h))
	}
	if len(unreadPaths) > 0 {
		return out, fmt.Errorf("tokens: %d files could not be read (first: %s)", len(unreadPaths), unreadPaths[0])
	}
	return out, nil
}

// Shortest run of token characters (with a letter and a digit) a text
// line or a binary's string must hold to be looked at: generic secrets are
// at least 10 characters; in binaries, real tokens are longer than the
// identifiers and format strings around them.
const (
	minRunText   = 10
	minRunBinary = 16
)

// scan finds the secrets in one file's bytes; scratch is a reusable buffer.
func (e *engine) scan(ctx context.Context, data []byte, scratch *[]byte, text bool) []hit {
	var cands []segment
	// bySeg[i]: the candidates (indexes in cands) holding a keyword of
	// rule i; last[i]: the last candidate added there
	bySeg := make([][]int, len(e.rules))
	last := make([]int, len(e.rules))
	for i := range last {
		last[i] = -1
	}
	minRun := minRunText
	if !text {
		minRun = minRunBinary
	}
	add := func(off, line int, s []byte) {
		if len(s) < MinString {
			return
		}
		if len(s) > MaxString {
			s = s[:MaxString]
		}
		if !tokenish(s, minRun) {
			return
		}
		*scratch = append((*scratch)[:0], s...)
		toLower(*scratch, s)
		ms := e.trie.Match(*scratch)
		if len(ms) == 0 {
			return
		}
		ci := len(cands)
		for _, m := range ms {
			for _, r := range e.kwRules[string(m.Match())] {
				if last[r] != ci {
					last[r] = ci
					bySeg[r] = append(bySeg[r], ci)
				}
			}
		}
		cands = append(cands, segment{off: off, line: line, text: string(s)})
	}
	if text {
		line := 1
		for off := 0; off < len(data); line++ {
			end := bytes.IndexByte(data[off:], '\n')
			if end < 0 {
				end = len(data) - off
			}
			add(off, line, bytes.TrimRight(data[off:off+end], "\r"))
			off += end + 1
		}
	} else {
		Strings(data, MinString, func(off int, s []byte) { add(off, 0, s) })
	}
	if len(cands) == 0 {
		return nil
	}
	var hits []hit
	seen := map[string]int{} // rule+secret → index in hits
	emit := func(h hit) {
		k := h.rule + "\x00" + h.secret
		if i, ok := seen[k]; ok {
			hits[i].count++
			return
		}
		if len(hits) >= maxFindingsPerFile {
			return
		}
		h.count = 1
		seen[k] = len(hits)
		hits = append(hits, h)
	}
	// our own rules, segment by segment
	for _, c := range cands {
		for _, m := range e.own.Scan(c.text) {
			emit(hit{rule: m.Rule.ID, title: m.Rule.Title, severity: analyzers.Severity(m.Rule.Severity), guidelines: m.Rule.Guidelines,
				secret: m.Secret, entropy: m.Entropy, off: c.off + m.Start, line: c.line,
				why: fmt.Sprintf("fwaudit rule %s (%s), entropy %.2f bits/char", m.Rule.ID, m.Rule.Title, m.Entropy)})
		}
	}
	// gitleaks, rule by rule, over the joined candidates that hold one of
	// the rule's keywords
	if len(e.always) > 0 {
		all := make([]int, len(cands))
		for i := range all {
			all[i] = i
		}
		for _, r := range e.always {
			bySeg[r] = all
		}
	}
	var b []byte
	var sub []segment
	var found []gfound
	done := map[*detect.Detector]bool{}
	for r, idx := range bySeg {
		if len(idx) == 0 || done[e.rules[r].det] || ctx.Err() != nil {
			continue
		}
		done[e.rules[r].det] = true
		sub = sub[:0]
		if r == e.generic && genericReduce {
			// only the lines that can hold a match (generic.go)
			b, sub = genericJoin(b[:0], sub, cands, idx)
		} else {
			for _, ci := range idx {
				sub = append(sub, cands[ci])
			}
		}
		found = e.detect(ctx, r, sub, &b, found)
	}
	if ctx.Err() != nil {
		return nil
	}
	// the order the whole detector gave: by line, then rule
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].c.off != found[j].c.off {
			return found[i].c.off < found[j].c.off
		}
		if found[i].pos != found[j].pos {
			return found[i].pos < found[j].pos
		}
		return found[i].f.RuleID < found[j].f.RuleID
	})
	for _, l := range found {
		f, c, pos := l.f, l.c, l.pos
		if why := e.suppress(f, c.text, text); why != "" {
			if onSuppress != nil {
				onSuppress(f.RuleID, f.Secret, why)
			}
			continue
		}
		sev := analyzers.High
		if f.RuleID == "generic-api-key" || f.RuleID == "jwt" || f.RuleID == "jwt-base64" {
			sev = analyzers.Medium
		}
		emit(hit{rule: f.RuleID, title: f.Description, severity: sev, guidelines: builtin.CategoryGuidelines(Category), secret: f.Secret,
			entropy: float64(f.Entropy), off: c.off + pos, line: c.line,
			why: fmt.Sprintf("gitleaks rule %s, entropy %.2f bits/char", f.RuleID, f.Entropy)})
	}
	// a secret a specific rule found is not also a generic one
	specific := map[string]bool{}
	for _, h := range hits {
		if h.rule != "generic-api-key" {
			specific[h.secret] = true
		}
	}
	out := hits[:0]
	for _, h := range hits {
		if h.rule == "generic-api-key" && specific[h.secret] {
			continue
		}
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].off < out[j].off })
	return out
}

// A file's candidates for one rule are passed to gitleaks joined with "\n",
// at once when they are at most joinMaxLines lines and joinMaxBytes bytes,
// as nearly every file's are. More go in batches of about that size: gitleaks'
// work per call grows with the square of its matches (its filter compares
// every finding with every other, its line lookup walks every newline for
// every match), so one crafted 8 MiB text of matching lines took the
// analyzer many minutes. Each batch owns its lines and is passed with
// joinOverlap lines before and after them, so that a match running over a
// newline (at most a few lines: its names, operators and quotes) is seen
// whole by the batch that owns its first line and is reported once.
var (
	joinMaxLines = 4096
	joinMaxBytes = 1 << 20
)

const joinOverlap = 8

// onDetect, when set (by tests), sees the size of every gitleaks call.
var onDetect func(lines, bytes int)

// detect runs rule r over the candidates sub, in batches when they are
// many (joinMaxLines), and adds what it finds to found; b is a reusable
// buffer. It stops when ctx is done.
func (e *engine) detect(ctx context.Context, r int, sub []segment, b *[]byte, found []gfound) []gfound {
	for s := 0; s < len(sub) && ctx.Err() == nil; {
		// the lines [s, end) this batch owns
		end, n := s, 0
		for end < len(sub) && end-s < joinMaxLines && (end == s || n+len(sub[end].text)+1 <= joinMaxBytes) {
			n += len(sub[end].text) + 1
			end++
		}
		from, to := max(0, s-joinOverlap), min(len(sub), end+joinOverlap)
		t := (*b)[:0]
		for i := from; i < to; i++ {
			if i > from {
				t = append(t, '\n')
			}
			t = append(t, sub[i].text...)
		}
		*b = t
		if onDetect != nil {
			onDetect(to-from, len(t))
		}
		for _, f := range e.rules[r].det.DetectString(string(t)) {
			if line := from + f.StartLine; line < s || line >= end {
				continue // another batch's
			}
			c, pos, ok := locate(sub[from:to], f)
			if ok {
				found = append(found, gfound{f: f, c: c, pos: pos})
			}
		}
		s = end
	}
	return found
}

// gfound is a gitleaks finding with the candidate it came from.
type gfound struct {
	f   report.Finding
	c   segment
	pos int
}

// locate finds the candidate a gitleaks finding came from and the secret's
// position in it.
func locate(cands []segment, f report.Finding) (segment, int, bool) {
	if f.Secret == "" {
		return segment{}, 0, false
	}
	// the secret is on the match's first line or, when the match goes on
	// past a newline, on a later one
	for l := max(f.StartLine, 0); l < len(cands); l++ {
		if i := strings.Index(cands[l].text, f.Secret); i >= 0 {
			return cands[l], i, true
		}
	}
	for _, c := range cands {
		if i := strings.Index(c.text, f.Secret); i >= 0 {
			return c, i, true
		}
	}
	return segment{}, 0, false
}

// suppress returns why a gitleaks finding is not reported, or "".
func (e *engine) suppress(f report.Finding, line string, text bool) string {
	if why := e.own.Allow.Why(f.Secret); why != "" {
		return why
	}
	if f.RuleID != "generic-api-key" {
		return ""
	}
	name := strings.ToLower(f.Match)
	if i := strings.Index(name, strings.ToLower(f.Secret)); i > 0 {
		name = name[:i]
	}
	for _, p := range []string{"passw", "pwd", "passphrase"} {
		if strings.Contains(name, p) {
			return "a password: the credentials analyzer's"
		}
	}
	if isHexDigest(f.Secret) {
		for _, p := range []string{"md5", "sha", "hash", "checksum", "digest"} {
			if strings.Contains(name, p) {
				return "a digest, not a secret"
			}
		}
	}
	if !text && (f.Entropy < 4 || !mixed(f.Secret)) {
		return "a string of a binary that does not look random"
	}
	return ""
}

func isHexDigest(s string) bool {
	switch len(s) {
	case 32, 40, 64:
	default:
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// mixed reports whether s holds both letters and digits.
func mixed(s string) bool {
	var l, d bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			l = true
		}
	}
	return l && d
}

func toLower(dst, src []byte) {
	for i, c := range src {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

func finding(f analyzers.File, text bool, h hit) analyzers.Finding {
	fd := analyzers.Finding{
		Rule:        h.rule,
		Category:    Category,
		Severity:    h.severity,
		Path:        f.Path,
		Fingerprint: analyzers.Fingerprint(h.secret),
		Guidelines:  append([]int{}, h.guidelines...),
	}
	if f.Layer != nil {
		fd.Layer, fd.LayerID = f.Layer.Path, f.Layer.ID
	}
	where := fmt.Sprintf("%s (layer %s)", f.Path, fd.Layer)
	if text {
		fd.Line = h.line
		where = fmt.Sprintf("%s line %d (layer %s)", f.Path, h.line, fd.Layer)
	} else {
		fd.Offset = analyzers.Int64(int64(h.off))
		where = fmt.Sprintf("a printable string of %s at offset %#x (layer %s)", f.Path, h.off, fd.Layer)
	}
	fd.Evidence = fmt.Sprintf("%s: %s — %s", h.rule, analyzers.Redact(h.secret), h.why)
	if h.count > 1 {
		fd.Evidence += fmt.Sprintf("; %d occurrences in this file", h.count)
	}
	title := strings.TrimSuffix(h.title, ".")
	fd.Message = fmt.Sprintf("A credential is shipped at %s: %s. Every device running this firmware carries the same one, and anyone who unpacks the image can use it. "+
		"Revoke it, and give each device its own credential at provisioning (or fetch a short-lived one at run time) instead of building it into the image.",
		where, title)
	return fd
}

// GitleaksRules returns the gitleaks rules the analyzer runs, id →
// gitleaks' own description of it (for rule documentation).
func GitleaksRules() (map[string]string, error) {
	e, err := loadEngine()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(e.describe))
	for id, d := range e.describe {
		out[id] = d
	}
	return out, nil
}
