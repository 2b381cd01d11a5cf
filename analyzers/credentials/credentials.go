// Package credentials is the analyzer for hard-coded credentials in the
// text files of an image (Code of Practice guidelines 1, "no universal
// default passwords", and 4, "securely store credentials"). Its detectors
// are data (rules/credentials): which files each reads, line patterns and
// true/false examples.
//
// Rules:
//
//   - ppp-secret: pap-secrets / chap-secrets entries;
//   - wifi-psk: wpa_supplicant, hostapd, OpenWrt UCI (encryption psk*/sae*),
//     NVRAM and XML factory Wi-Fi keys;
//   - web-user-password: htpasswd, htdigest, lighttpd/boa/mini_httpd user
//     files and BusyBox httpd.conf: hashes are cracked with the
//     default-password dictionary (rules/passwords) through
//     analyzers/accounts/hashes, plus {SHA} and htdigest MD5;
//   - script-credential: .netrc, curl -u, wget --password, user:pass@host
//     URLs, telnetd -u, chpasswd, sshpass, ftpput, mysql -p; "$VAR" values
//     are resolved from the same script, and $(cat FILE) from the file in
//     the same layer;
//   - snmp-default-community: public/private in snmpd.conf and factory
//     configurations (high for a write community or "private");
//   - mqtt-password-file: mosquitto password files ($6$ and $7$ hashes are
//     cracked);
//   - uboot-env-password: passwords and autoboot stop keys in the U-Boot
//     environment (/uboot-env.txt, written by the extractor);
//   - config-password: passwords in UCI/INI/XML/JSON configuration, paired
//     with the nearest user name; a factory configuration that names the
//     administrator and sets no password is reported too;
//   - note-password: the login and password a note shipped beside the
//     firmware (an update package's read-me) gives;
//   - binary-password: a web (CGI) program that compares the password with
//     a literal next to its "password"/"passwd" strings
//     (rules/credentials/programs.yaml, program.go).
//
// A secret that is a well-known default (in the top of the default-password
// list, equal to its user name, or a detector's own default such as SNMP
// "public") is shown in clear and rated higher; any other secret appears
// only redacted (analyzers.Redact). Finding.Fingerprint is
// analyzers.Fingerprint of the secret (of the hash when it did not crack),
// so the same secret is recognised across images.
package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	credrules "github.com/fwaudit/fwaudit/analyzers/credentials/detect"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/rules/passwords"
)

// ReadBound is the most the analyzer reads of one file.
const ReadBound = 1 << 20

// secretFileBound bounds a file read for $(cat FILE).
const secretFileBound = 4 << 10

// Options configure the analyzer.
type Options struct {
	// Rules are the detectors; nil means detect.Default() (rules/credentials/credentials.yaml).
	Rules []*credrules.Rule
	// Passwords is the dictionary, most likely first; nil means
	// passwords.Defaults().
	Passwords []string
	// DefaultTop: a plaintext secret among the first DefaultTop words of
	// the dictionary is a well-known default. 0 means 200.
	DefaultTop int
	// SlowCap words are tried against slow hashes; 0 means 50.
	SlowCap int
	// MaxHashes bounds the distinct hashes cracked per run; 0 means 64.
	MaxHashes int
	// Programs are the detectors of passwords compared as literals in
	// programs; nil means detect.DefaultPrograms() (rules/credentials/programs.yaml).
	Programs []*credrules.ProgramRule
}

type analyzer struct {
	opt  Options
	list []string
	rank map[string]int
}

// New returns the credentials analyzer with the built-in detectors and
// dictionary.
func New() analyzers.Analyzer { return NewWith(Options{}) }

// NewWith returns the analyzer with options.
func NewWith(opt Options) analyzers.Analyzer {
	a := &analyzer{opt: opt, list: opt.Passwords}
	if a.opt.Rules == nil {
		a.opt.Rules = credrules.Default()
	}
	if a.opt.Programs == nil {
		a.opt.Programs = credrules.DefaultPrograms()
	}
	if a.list == nil {
		a.list = passwords.Defaults()
	}
	if a.opt.DefaultTop <= 0 {
		a.opt.DefaultTop = 200
	}
	if a.opt.SlowCap <= 0 {
		a.opt.SlowCap = 50
	}
	if a.opt.MaxHashes <= 0 {
		a.opt.MaxHashes = 64
	}
	a.rank = map[string]int{}
	for i, p := range a.list {
		if _, dup := a.rank[p]; !dup {
			a.rank[p] = i + 1
		}
	}
	return a
}

func (a *analyzer) Name() string { return "credentials" }

// Examines implements analyzers.Scoped.
func (*analyzer) Examines() string { return "configuration files and scripts" }

// hit is one match in one file.
type hit struct {
	f analyzers.File
	m credrules.Match
}

func (a *analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	anyScript := false
	for _, r := range a.opt.Rules {
		anyScript = anyScript || r.Scripts()
	}
	cr := &cracker{list: a.list, slowCap: a.opt.SlowCap, max: a.opt.MaxHashes, cache: map[string]crackResult{}}
	var out []analyzers.Finding
	skipped := 0
	var cut []string
	walk := analyzers.Selector{
		FileSystems: true, MinSize: 1, Classes: []analyzers.Class{analyzers.ClassText},
		Match: func(f analyzers.File) bool {
			maybeScript := anyScript && (f.Mode&0o111 != 0 || path.Ext(f.Path) == "")
			return maybeScript || len(credrules.Selected(a.opt.Rules, f.Path, false)) > 0
		},
		Analyzer: "credentials", What: "configuration files and scripts",
	}
	if err := t.Walk(ctx, walk, func(f analyzers.File) error {
		// overlong lines are blanked, so a huge first line hides nothing
		data, _, err := t.ReadLines(f, ReadBound)
		if errors.Is(err, analyzers.ErrTooBig) {
			cut = append(cut, f.Path)
		} else if err != nil {
			return analyzers.Skip
		}
		sel := credrules.Selected(a.opt.Rules, f.Path, anyScript && bytes.HasPrefix(data, []byte("#!")))
		if len(sel) == 0 {
			return nil
		}
		fs, sk := a.file(ctx, t, cr, f, sel, data)
		out = append(out, fs...)
		skipped += sk
		return nil
	}); err != nil {
		return out, err
	}
	out = append(out, a.programs(ctx, t)...)
	if len(cut) > 0 {
		return out, fmt.Errorf("credentials: limit reached: %d files hold more than %d bytes of lines (first %s); the lines after that were not checked", len(cut), ReadBound, cut[0])
	}
	if skipped > 0 {
		return out, fmt.Errorf("credentials: %d password hash findings: %d were not tried against the dictionary (more than %d distinct hashes, or the %s cracking budget ran out); they are reported as uncracked", skipped, skipped, a.opt.MaxHashes, runBudget)
	}
	return out, nil
}

// file runs the selected detectors over one file's text.
func (a *analyzer) file(ctx context.Context, t *analyzers.Target, cr *cracker, f analyzers.File, sel []*credrules.Rule, data []byte) ([]analyzers.Finding, int) {
	text := credrules.NewText(data)
	seen := map[string]bool{}
	var hits, userOnly []hit
	for _, r := range sel {
		for _, m := range r.ScanText(text) {
			if r.UserOnly {
				userOnly = append(userOnly, hit{f, m})
				continue
			}
			if m.File != "" {
				s, ok := readSecretFile(t, f.Layer, m.File)
				if !ok || !r.Accept(m.Key, m.User, s) {
					continue
				}
				m.Secret = s
			}
			k := fmt.Sprintf("%d\x00%s", m.Line, m.Secret)
			if seen[k] {
				continue
			}
			seen[k] = true
			hits = append(hits, hit{f, m})
		}
	}
	var out []analyzers.Finding
	skipped := 0
	hasConfigPassword := false
	for _, h := range hits {
		fd, sk := a.finding(ctx, cr, h)
		if sk {
			skipped++
		}
		out = append(out, fd)
		if h.m.Rule.Rule == "config-password" {
			hasConfigPassword = true
		}
	}
	if !hasConfigPassword {
		users := map[string]bool{}
		for _, h := range userOnly {
			if users[h.m.User] {
				continue
			}
			users[h.m.User] = true
			out = append(out, a.userOnlyFinding(h))
		}
	}
	return out, skipped
}

// readSecretFile reads the first line of an image file (a $(cat FILE)
// value), resolved inside the layer.
func readSecretFile(t *analyzers.Target, l *extract.Layer, p string) (string, bool) {
	f, ok := t.Resolve(l, p)
	if !ok || f.Size <= 0 {
		return "", false
	}
	b, err := t.ReadFile(f, secretFileBound)
	if err != nil && !errors.Is(err, analyzers.ErrTooBig) {
		return "", false
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return "", false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSpace(line)
	return line, line != ""
}

// why says whether pw is a well-known default for user, and why.
func (a *analyzer) why(r *credrules.Rule, user, pw string) (string, bool) {
	if r.IsDefault(pw) {
		return "the well-known default value for this setting", true
	}
	if n, ok := a.rank[pw]; ok && n <= a.opt.DefaultTop {
		return fmt.Sprintf("rank %d in the default-password list", n), true
	}
	if user != "" && user != "*" && pw == user {
		return "the same as the user name", true
	}
	return "", false
}

func (a *analyzer) crackWhy(user, pw string) string {
	if n, ok := a.rank[pw]; ok {
		return fmt.Sprintf("rank %d in the default-password list", n)
	}
	if pw == user {
		return "the same as the user name"
	}
	return "the user name followed by 123"
}

func (a *analyzer) finding(ctx context.Context, cr *cracker, h hit) (analyzers.Finding, bool) {
	r, m, f := h.m.Rule, h.m, h.f
	label := m.Key
	if label == "" {
		label = "secret"
	}
	forUser := ""
	if m.User != "" {
		forUser = fmt.Sprintf(" for user %q", m.User)
	}
	where := fmt.Sprintf("%s (line %d, layer %s)", f.Path, m.Line, f.Layer.Path)
	origin := ""
	if m.Var != "" {
		origin = fmt.Sprintf("; taken from $%s (line %d)", m.Var, m.VarLine)
		if m.File != "" {
			origin += fmt.Sprintf(", which reads %s", m.File)
		}
	}
	var (
		sev             string
		evidence, what  string
		fp              = analyzers.Fingerprint(m.Secret)
		skipped, isHash bool
	)
	var v verifier
	if r.Hashes {
		allowDES := r.Rule != "config-password"
		v, isHash = newVerifier(m.Secret, m.User, m.Realm, m.HasRealm, allowDES)
	}
	switch {
	case isHash:
		key := m.Secret + "\x00" + m.User + "\x00" + m.Realm
		res := cr.crack(ctx, key, m.Secret, v, m.User)
		skipped = res.skipped
		if res.ok {
			why := a.crackWhy(m.User, res.pw)
			sev = r.DefaultSeverity
			fp = analyzers.Fingerprint(res.pw)
			evidence = fmt.Sprintf("%s%s: %s hash %s = %q — a well-known default password (%s)", label, forUser, v.Kind(), analyzers.Redact(m.Secret), res.pw, why)
			what = fmt.Sprintf("the %s hash%s cracks to %q, %s: a universal default password.", v.Kind(), forUser, res.pw, why)
		} else {
			sev = r.HashSeverity
			fp = analyzers.Fingerprint(m.Secret)
			note := "not in the default-password list"
			switch {
			case res.skipped:
				note = "not tried: too many distinct hashes in the image"
			case res.costly:
				note = "not tried: its cost parameters make each guess too slow"
			case res.partial:
				note = "only part of the default-password list tried in the time budget"
			}
			evidence = fmt.Sprintf("%s%s: %s hash %s (%s)", label, forUser, v.Kind(), analyzers.Redact(m.Secret), note)
			what = fmt.Sprintf("a %s password hash%s ships in the image (%s); it is the same on every device and can be attacked offline.", v.Kind(), forUser, note)
		}
	case r.Hashes && isHashLike(m.Secret):
		sev = r.HashSeverity
		evidence = fmt.Sprintf("%s%s: hash %s of a kind fwaudit does not test", label, forUser, analyzers.Redact(m.Secret))
		what = fmt.Sprintf("a password hash%s ships in the image; it is the same on every device and can be attacked offline.", forUser)
	default:
		if why, ok := a.why(r, m.User, m.Secret); ok {
			sev = r.DefaultSeverity
			evidence = fmt.Sprintf("%s = %q%s — a well-known default (%s)%s", label, m.Secret, forUser, why, origin)
			what = fmt.Sprintf("%s%s is %q, %s: a well-known default, shown in clear.", label, forUser, m.Secret, why)
		} else {
			sev = r.Severity
			evidence = fmt.Sprintf("%s = %s%s%s", label, analyzers.Redact(m.Secret), forUser, origin)
			what = fmt.Sprintf("%s%s is a literal secret of %d characters (redacted; fingerprint %s).", label, forUser, len(m.Secret), fp)
		}
	}
	if s, ok := r.ValueSeverity[strings.ToLower(m.Secret)]; ok && !isHash {
		sev = s
	}
	if r.IsRW(m.Key) && analyzers.Severity(sev).Rank() < analyzers.High.Rank() {
		sev = string(analyzers.High)
	}
	return analyzers.Finding{
		Rule:        r.Rule,
		Category:    r.Category,
		Severity:    analyzers.Severity(sev),
		Layer:       f.Layer.Path,
		LayerID:     f.Layer.ID,
		Path:        f.Path,
		Line:        m.Line,
		Evidence:    evidence,
		Message:     fmt.Sprintf("%s in %s: %s %s %s", r.Title, where, what, r.Description, r.Fix),
		Fingerprint: fp,
		Guidelines:  append([]int(nil), r.Guidelines...),
	}, skipped
}

func (a *analyzer) userOnlyFinding(h hit) analyzers.Finding {
	r, m, f := h.m.Rule, h.m, h.f
	return analyzers.Finding{
		Rule:     r.Rule,
		Category: r.Category,
		Severity: analyzers.Severity(r.Severity),
		Layer:    f.Layer.Path,
		LayerID:  f.Layer.ID,
		Path:     f.Path,
		Line:     m.Line,
		Evidence: fmt.Sprintf("%s = %q — administrator account in the factory configuration, no password set in this file", m.Key, m.User),
		Message: fmt.Sprintf("%s in %s (line %d, layer %s): the administrator account is %q. %s %s",
			r.Title, f.Path, m.Line, f.Layer.Path, m.User, r.Description, r.Fix),
		Fingerprint: analyzers.Fingerprint("admin-user:" + m.User),
		Guidelines:  append([]int(nil), r.Guidelines...),
	}
}
