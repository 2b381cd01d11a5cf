// Package transport is the analyzer for Code of Practice guideline 5
// ("communicate securely"): it reads the text scripts and configuration
// files of every file-system layer and reports TLS certificate checks
// switched off (curl -k, wget --no-check-certificate, verify=false, ...),
// firmware, update, download and cloud endpoints over plain HTTP (public
// hosts only: not localhost, private addresses, XML namespaces or
// documentation links), and Wi-Fi shipped open or with WEP (OpenWrt UCI
// wireless, hostapd.conf, NVRAM defaults, vendor XML). The rules are data:
// rules/transport.
package transport

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/services/match"
)

// Category of every finding.
const Category = "insecure-config"

// ReadBound is the most read of one file.
const ReadBound = 1 << 20

type analyzer struct{ rules *rules.Set }

// New returns the transport analyzer with the built-in rules.
func New() analyzers.Analyzer { return &analyzer{rules: rules.Transport()} }

// NewWithRules returns the analyzer with other rules.
func NewWithRules(s *rules.Set) analyzers.Analyzer { return &analyzer{rules: s} }

func (a *analyzer) Name() string { return "transport" }

// Examines implements analyzers.Scoped.
func (*analyzer) Examines() string { return "service configuration files" }

// Folders whose files are not scripts or configuration (web pages are
// read only when they are CGI scripts with a #! line).
var skipDirs = []string{
	"/usr/share/man/", "/usr/share/doc/", "/usr/share/info/", "/usr/share/locale/", "/usr/share/i18n/",
	"/usr/share/zoneinfo/", "/usr/share/terminfo/", "/usr/share/misc/", "/usr/share/mime/",
	"/usr/include/", "/usr/lib/python", "/usr/share/licenses/", "/www/", "/web/", "/webs/", "/htdocs/", "/usr/www/",
	"/etc/ssl/", "/etc/pki/", "/usr/share/ca-certificates/",
}

var skipExt = map[string]bool{
	".htm": true, ".html": true, ".shtml": true, ".asp": true, ".js": true, ".css": true, ".txt": true, ".md": true,
	".rst": true, ".po": true, ".pot": true, ".mo": true, ".svg": true, ".h": true, ".c": true, ".pem": true,
	".crt": true, ".der": true, ".key": true, ".csr": true, ".map": true, ".gif": true, ".png": true, ".jpg": true,
}

var configExt = map[string]bool{
	".sh": true, ".conf": true, ".cfg": true, ".ini": true, ".json": true, ".xml": true, ".lua": true,
	".config": true, ".rc": true, ".service": true, ".yaml": true, ".yml": true, ".cnf": true, ".list": true,
	".uci": true, ".py": true, ".pl": true, ".tcl": true, ".ucode": true, ".uc": true, ".default": true,
}

var binDirs = []string{"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/libexec/", "/lib/", "/usr/lib/", "/usr/share/", "/opt/", "/usr/local/"}

// candidate says from the path alone whether a file may be a script or a
// configuration file; "maybe" files are read when they start with "#!".
func candidate(p string) (yes, maybe bool) {
	low := strings.ToLower(p)
	ext := path.Ext(low)
	for _, d := range skipDirs {
		if strings.HasPrefix(low, d) {
			return false, true
		}
	}
	if skipExt[ext] {
		return false, true
	}
	if strings.HasPrefix(low, "/etc/") || configExt[ext] {
		return true, false
	}
	for _, d := range binDirs {
		if strings.HasPrefix(low, d) {
			// scripts in bin folders have no extension; libraries do
			if ext == "" || strings.HasPrefix(low, "/lib/functions") || strings.HasPrefix(low, "/lib/netifd") || strings.HasPrefix(low, "/lib/upgrade") {
				return true, false
			}
			return false, true
		}
	}
	return false, true
}

func (a *analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	var out []analyzers.Finding
	var cut, skipped []string
	sel := analyzers.Selector{
		FileSystems: true, MinSize: 1,
		Match: func(f analyzers.File) bool {
			yes, maybe := candidate(f.Path)
			return yes || maybe
		},
		Analyzer: "transport", What: "service configuration files",
	}
	err := t.Walk(ctx, sel, func(f analyzers.File) error {
		yes, _ := candidate(f.Path)
		if f.Size > 16*ReadBound {
			if yes {
				skipped = append(skipped, f.Path)
			}
			return analyzers.Skip
		}
		if !yes && !a.rules.Wants(f.Path) {
			return analyzers.Skip
		}
		if t.Classify(f) != analyzers.ClassText {
			return analyzers.Skip
		}
		if !yes {
			if head, _ := t.ReadFile(f, 2); string(head) != "#!" {
				return analyzers.Skip
			}
		}
		// overlong lines are blanked, so a huge first line hides nothing
		data, _, err := t.ReadLines(f, ReadBound)
		if errors.Is(err, analyzers.ErrTooBig) {
			cut = append(cut, f.Path)
		} else if err != nil {
			return analyzers.Skip
		}
		for _, h := range a.rules.MatchFile(f.Path, data) {
			ev, first := rules.RedactText(h.Text, h.Secrets, analyzers.Redact)
			if len(ev) > 400 {
				ev = ev[:400] + "…"
			}
			fp := analyzers.Fingerprint(h.Rule.ID + "\x00" + ev)
			if first != "" {
				fp = analyzers.Fingerprint(first)
			}
			out = append(out, analyzers.Finding{
				Rule:        h.Rule.ID,
				Category:    Category,
				Severity:    analyzers.Severity(h.Rule.Severity),
				Layer:       f.Layer.Path,
				LayerID:     f.Layer.ID,
				Path:        f.Path,
				Line:        h.Line,
				Evidence:    ev,
				Message:     fmt.Sprintf("%s: %s (%s line %d, layer %s). %s", h.Rule.Title, ev, f.Path, h.Line, f.Layer.Path, h.Rule.Fix),
				Fingerprint: fp,
				Guidelines:  append([]int(nil), h.Rule.Guidelines...),
			})
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if len(skipped) > 0 {
		return out, fmt.Errorf("transport: limit reached: %d configuration files larger than %d bytes were not read (first %s)", len(skipped), 16*ReadBound, skipped[0])
	}
	if len(cut) > 0 {
		return out, fmt.Errorf("transport: limit reached: %d files hold more than %d bytes of lines (first %s); the lines after that were not checked", len(cut), ReadBound, cut[0])
	}
	return out, nil
}
