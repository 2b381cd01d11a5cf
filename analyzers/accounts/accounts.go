// Package accounts is the analyzer for Code of Practice guideline 1 ("no
// universal default passwords"). It reads the passwd, shadow and
// master.passwd files (and their backup copies) of every unpacked file-system
// layer and reports
//
//   - default-password: an account whose password hash matches a password of
//     the default-password dictionary (rules/passwords), or its own user name
//     (optionally followed by "123");
//   - empty-password: a login account with an empty password field.
//
// Locked accounts ("*", "!", "!!", "!<hash>"), hashes that do not crack and
// hash formats it does not know produce nothing.
//
// Each distinct hash is cracked once, however many files and layers carry it,
// by a pool of workers over (hash, candidate) spans; every occurrence is then
// reported with its own layer, path and line.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"sort"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/rules/builtin"
	"github.com/fwaudit/fwaudit/rules/passwords"
)

// Rule names.
const (
	RuleDefaultPassword = "default-password"
	RuleEmptyPassword   = "empty-password"
)

// Category of every finding.
const Category = "hardcoded-credential"

// ReadBound is the most the analyzer reads of one account file.
const ReadBound = 1 << 20

// maxEntries bounds the accounts taken from one file.
const maxEntries = 10000

// Options configure the analyzer.
type Options struct {
	// Passwords is the dictionary, most likely first; nil means
	// passwords.Defaults().
	Passwords []string
	// SlowCap is how many dictionary words (from the top) are tried against
	// slow hash kinds (bcrypt, yescrypt, sha-crypt with many rounds; see
	// hashes.SlowHash). 0 means 50.
	SlowCap int
	// Workers is the size of the cracking pool; 0 means runtime.GOMAXPROCS.
	Workers int
	// MaxHashes bounds how many distinct hashes are cracked (a hostile
	// image can carry thousands); 0 means 100. Hashes beyond it are not
	// tried and Analyze says so in its error.
	MaxHashes int
	// MaxWork bounds the cracking work for one image, in units of one
	// sha-crypt round (hashes.Work): a shadow file of many costly hashes,
	// each under the per-hash cost cap, must not hold the scan for
	// minutes. When the dictionary would cost more, every hash gets its
	// likeliest words first, as many as the budget allows, and Analyze
	// says so in its error. 0 means extract.DefaultLimits().MaxHashWork;
	// negative means no bound.
	MaxWork int64
}

type analyzer struct {
	opt     Options
	list    []string
	rank    map[string]int // 1-based rank in list
	builtin bool
}

// New returns the accounts analyzer.
func New(opts Options) analyzers.Analyzer {
	a := &analyzer{opt: opts, list: opts.Passwords}
	if a.list == nil {
		a.list = passwords.Defaults()
		a.builtin = true
	}
	if a.opt.SlowCap <= 0 {
		a.opt.SlowCap = 50
	}
	if a.opt.Workers <= 0 {
		a.opt.Workers = runtime.GOMAXPROCS(0)
	}
	if a.opt.MaxHashes <= 0 {
		a.opt.MaxHashes = 100
	}
	if a.opt.MaxWork == 0 {
		a.opt.MaxWork = extract.DefaultLimits().MaxHashWork
	}
	a.rank = make(map[string]int, len(a.list))
	for i, p := range a.list {
		if _, dup := a.rank[p]; !dup {
			a.rank[p] = i + 1
		}
	}
	return a
}

func (a *analyzer) Name() string { return "accounts" }

// Examines implements analyzers.Scoped.
func (*analyzer) Examines() string { return "account databases" }

// acctFile is one parsed account file.
type acctFile struct {
	f       analyzers.File
	kind    fileKind
	entries []entry
	byUser  map[string]*entry
}

func newAcctFile(f analyzers.File, kind fileKind, data []byte) *acctFile {
	af := &acctFile{f: f, kind: kind, entries: parse(kind, data), byUser: map[string]*entry{}}
	if len(af.entries) > maxEntries {
		af.entries = af.entries[:maxEntries]
	}
	for i := range af.entries {
		e := &af.entries[i]
		if _, ok := af.byUser[e.User]; !ok {
			af.byUser[e.User] = e
		}
	}
	return af
}

// occurrence is one account line whose hash is to be cracked.
type occurrence struct {
	af *acctFile
	e  entry
}

// shellInfo says where an account's shell came from.
type shellInfo struct {
	known bool
	shell string
	from  string // "/etc/passwd line 3"
	pw    string // the passwd entry's password field
}

// state is the per-run state of Analyze.
type state struct {
	t      *analyzers.Target
	byPath map[*extract.Layer]map[string]*acctFile // passwd-kind files
	cut    []string                                // files read only up to ReadBound
}

func (a *analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	st := &state{t: t, byPath: map[*extract.Layer]map[string]*acctFile{}}
	out, err := a.analyze(ctx, t, st)
	if len(st.cut) > 0 && ctx.Err() == nil {
		sort.Strings(st.cut)
		st.cut = slices.Compact(st.cut)
		cutErr := fmt.Sprintf("accounts: limit reached: %d account files hold more than %d bytes of lines (first %s); the lines after that were not checked", len(st.cut), ReadBound, st.cut[0])
		if err == nil {
			err = errors.New(cutErr)
		} else {
			err = fmt.Errorf("%w; %s", err, cutErr)
		}
	}
	return out, err
}

func (a *analyzer) analyze(ctx context.Context, t *analyzers.Target, st *state) ([]analyzers.Finding, error) {
	var files []*acctFile
	sel := analyzers.Selector{
		FileSystems: true,
		Match:       func(f analyzers.File) bool { return kindOf(path.Base(f.Path)) != kindNone },
		Analyzer:    "accounts", What: "account databases",
	}
	err := t.Walk(ctx, sel, func(f analyzers.File) error {
		af := st.load(f, kindOf(path.Base(f.Path)))
		if af == nil {
			return analyzers.Skip
		}
		files = append(files, af)
		return nil
	})
	if err != nil {
		return nil, err
	}

	var (
		out    []analyzers.Finding
		order  []string
		byHash = map[string][]occurrence{}
	)
	for _, af := range files {
		for _, e := range af.entries {
			s, _ := classify(e.Password)
			switch s {
			case pwEmpty:
				if f, ok := a.emptyFinding(st, af, e); ok {
					out = append(out, f)
				}
			case pwHash:
				if _, seen := byHash[e.Password]; !seen {
					order = append(order, e.Password)
				}
				byHash[e.Password] = append(byHash[e.Password], occurrence{af, e})
			}
		}
	}

	var jobs []*crackJob
	skipped, costly := 0, 0
	for _, h := range order {
		v, err := hashes.NewVerifier(h)
		if err != nil {
			continue // malformed hash of a known kind: nothing to say
		}
		if len(jobs) >= a.opt.MaxHashes {
			skipped++
			continue
		}
		if hashes.TooCostly(h) {
			costly++
			continue
		}
		jobs = append(jobs, newCrackJob(h, v, a.candidates(h, byHash[h]), hashes.SlowHash(h)))
	}
	budgetCut := budgetJobs(jobs, a.opt.MaxWork)
	if err := crack(ctx, jobs, a.opt.Workers); err != nil {
		return out, err
	}
	for _, j := range jobs {
		pw, ok := j.hit()
		if !ok {
			continue
		}
		for _, o := range byHash[j.hash] {
			out = append(out, a.defaultFinding(st, o, j.v.Kind(), pw))
		}
	}
	if budgetCut > 0 {
		return out, fmt.Errorf("accounts: limit reached: the cracking work for this image is bounded (%d sha-crypt-round units); %d of %d password hashes were tried against only the likeliest part of the dictionary", a.opt.MaxWork, budgetCut, len(jobs))
	}
	if costly > 0 && skipped == 0 {
		return out, fmt.Errorf("accounts: %d password hashes ask for so much work per guess (bcrypt cost above %d, sha-crypt above %d rounds, or an unusual yescrypt setting) that they were not tried", costly, hashes.MaxBcryptCost, hashes.MaxShaRounds)
	}
	if skipped > 0 {
		return out, fmt.Errorf("accounts: %d distinct password hashes found; only the first %d were tried against the dictionary, %d were not checked", len(jobs)+skipped, len(jobs), skipped)
	}
	return out, nil
}

// load reads and parses an account file (bounded), or returns nil when it
// is not text or cannot be read.
func (st *state) load(f analyzers.File, kind fileKind) *acctFile {
	if m := st.byPath[f.Layer]; m != nil {
		if af, ok := m[f.Path]; ok {
			return af
		}
	}
	switch st.t.Classify(f) {
	case analyzers.ClassEmpty, analyzers.ClassELF:
		return nil // e.g. /usr/bin/passwd
	}
	// overlong lines are blanked, so a huge first line hides nothing
	data, _, err := st.t.ReadLines(f, ReadBound)
	if errors.Is(err, analyzers.ErrTooBig) {
		st.cut = append(st.cut, f.Path)
	} else if err != nil {
		return nil
	}
	af := newAcctFile(f, kind, data)
	if kind != kindShadow {
		m := st.byPath[f.Layer]
		if m == nil {
			m = map[string]*acctFile{}
			st.byPath[f.Layer] = m
		}
		m[f.Path] = af
	}
	return af
}

// shell finds the passwd entry of a shadow account: in the passwd with the
// same backup suffix in the same folder ("passwd-" for "shadow-"), then the
// folder's passwd, then the layer's /etc/passwd, following symlinks inside
// the layer.
func (st *state) shell(af *acctFile, e entry) shellInfo {
	if af.kind != kindShadow {
		return shellInfo{known: e.HasShell, shell: e.Shell, from: fmt.Sprintf("%s line %d", af.f.Path, e.Line), pw: e.Password}
	}
	user := e.User
	dir := path.Dir(af.f.Path)
	suffix := suffixOf(path.Base(af.f.Path))
	tried := map[string]bool{}
	for _, p := range []string{path.Join(dir, "passwd"+suffix), path.Join(dir, "passwd"), "/etc/passwd"} {
		if tried[p] {
			continue
		}
		tried[p] = true
		f, ok := st.t.Resolve(af.f.Layer, p)
		if !ok {
			continue
		}
		pf := st.load(f, kindPasswd)
		if pf == nil {
			continue
		}
		if e := pf.byUser[user]; e != nil {
			return shellInfo{known: true, shell: e.Shell, from: fmt.Sprintf("%s line %d", pf.f.Path, e.Line), pw: e.Password}
		}
	}
	return shellInfo{}
}

// candidates lists the words tried against hash: the dictionary (its top
// SlowCap words for slow kinds), then each account's user name and user
// name + "123" when not already in it.
func (a *analyzer) candidates(hash string, occ []occurrence) []string {
	base := a.list
	if hashes.SlowHash(hash) && len(base) > a.opt.SlowCap {
		base = base[:a.opt.SlowCap]
	}
	in := make(map[string]bool, len(base))
	for _, p := range base {
		in[p] = true
	}
	cands := base[:len(base):len(base)]
	for _, o := range occ {
		for _, g := range []string{o.e.User, o.e.User + "123"} {
			if !in[g] {
				in[g] = true
				cands = append(cands, g)
			}
		}
	}
	return cands
}

// why explains where a cracked password comes from.
func (a *analyzer) why(user, pw string) string {
	if r, ok := a.rank[pw]; ok {
		if a.builtin {
			return fmt.Sprintf("rank %d in the default-password list", r)
		}
		return fmt.Sprintf("rank %d in the password list", r)
	}
	if pw == user {
		return "the user name itself"
	}
	return "the user name followed by 123"
}

func describeShell(si shellInfo) string {
	switch {
	case !si.known:
		return "no passwd entry found for it, so it is treated as a login account"
	case loginShell(si.shell):
		sh := si.shell
		if sh == "" {
			sh = "(empty, i.e. /bin/sh)"
		}
		return fmt.Sprintf("login shell %s (%s)", sh, si.from)
	default:
		return fmt.Sprintf("shell %s (%s): no interactive login, but services that check passwords (FTP, su, web or PAM logins) may still accept it", si.shell, si.from)
	}
}

func (a *analyzer) defaultFinding(st *state, o occurrence, kind hashes.Kind, pw string) analyzers.Finding {
	f := o.af.f
	why := a.why(o.e.User, pw)
	si := st.shell(o.af, o.e)
	return analyzers.Finding{
		Rule:     RuleDefaultPassword,
		Category: Category,
		Severity: analyzers.Severity(builtin.Severity(RuleDefaultPassword)),
		Layer:    f.Layer.Path,
		LayerID:  f.Layer.ID,
		Path:     f.Path,
		Line:     o.e.Line,
		Evidence: fmt.Sprintf("%s = %q (%s hash %s) — %s", o.e.User, pw, kind, analyzers.Redact(o.e.Password), why),
		Message: fmt.Sprintf("Account %q in %s (line %d, layer %s) has a password hash (%s) that matches %q, %s; %s. "+
			"Every device running this firmware accepts the same password for this account: a universal default password. "+
			"Give each device a unique password (or require one to be set at first use), or lock the account.",
			o.e.User, f.Path, o.e.Line, f.Layer.Path, kind, pw, why, describeShell(si)),
		Fingerprint: analyzers.Fingerprint(o.e.Password),
		Guidelines:  builtin.Guidelines(RuleDefaultPassword),
	}
}

func (a *analyzer) emptyFinding(st *state, af *acctFile, e entry) (analyzers.Finding, bool) {
	si := st.shell(af, e)
	if af.kind == kindShadow && si.known && !defersToShadow(si.pw, e.User) {
		// The passwd entry does not defer to shadow: its own field counts
		// (and is reported from passwd when empty).
		return analyzers.Finding{}, false
	}
	if si.known && !loginShell(si.shell) {
		return analyzers.Finding{}, false
	}
	f := af.f
	text := e.Text
	if len(text) > 120 {
		text = text[:120] + "…"
	}
	return analyzers.Finding{
		Rule:     RuleEmptyPassword,
		Category: Category,
		Severity: analyzers.Severity(builtin.Severity(RuleEmptyPassword)),
		Layer:    f.Layer.Path,
		LayerID:  f.Layer.ID,
		Path:     f.Path,
		Line:     e.Line,
		Evidence: fmt.Sprintf("%s — empty password field for %q; %s", text, e.User, describeShell(si)),
		Message: fmt.Sprintf("Account %q in %s (line %d, layer %s) has an empty password field: it logs in with no password at all, on every device running this firmware. "+
			"Set a unique per-device password (or require one at first use), or lock the account ('*' or '!') and give it a no-login shell.",
			e.User, f.Path, e.Line, f.Layer.Path),
		Fingerprint: analyzers.Fingerprint("empty-password:" + e.User),
		Guidelines:  builtin.Guidelines(RuleEmptyPassword),
	}, true
}

// defersToShadow reports whether a passwd password field sends login to the
// shadow file: "x" everywhere, "##user" on Solaris, and "*" for BusyBox's
// login, su and passwd (the usual tools in firmware), which treat a lone "*"
// like "x".
func defersToShadow(pw, user string) bool {
	return pw == "x" || pw == "*" || pw == "##"+user
}
