// Package match is the matching engine of fwaudit's components rules
// (rules/components/components.yaml): how to recognise BusyBox,
// dropbear, OpenSSL, the Linux kernel, U-Boot and other components that
// firmware ships without any package database, and which CPE and PURL name
// each one.
//
// A rule names one component and says where to look (Files globs and Scan
// kinds) and what to look for: Patterns, regular expressions over the raw
// bytes of a file whose literal prefix (at least 4 bytes, the product's own
// string) is searched with bytes.Index before the expression is tried on a
// small window at the hit, and/or Filename, an expression over the base name
// (ld-uClibc-0.9.30.so). The version is the "version" named group, else the
// first group; an optional "update" group (OpenSSH's "p1") is appended to the
// version and fills the CPE update field.
//
// Every rule carries examples, strings cut from real binaries that must
// (true) or must not (false) match; the package test checks them all.
package match

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/fwaudit/fwaudit/internal/glob"
	"github.com/fwaudit/fwaudit/rules/components"
)

// Scan kinds: which files a rule's patterns are run on.
const (
	// ScanELF: ELF files (executables, libraries, kernel modules).
	ScanELF = "elf"
	// ScanBinary: any file that is not text (ELF or raw binary).
	ScanBinary = "binary"
	// ScanBlob: any file of a layer that is not a file-system tree (kernel
	// payloads, boot loaders, partitions, the image itself).
	ScanBlob = "blob"
)

// Component types: what the component is, which the SBOMs write as the
// CycloneDX component type (binary → application, os → operating-system,
// library → library, firmware → firmware).
const (
	TypeBinary   = "binary"
	TypeOS       = "os"
	TypeLibrary  = "library"
	TypeFirmware = "firmware"
)

// MaxWindow is how many bytes after an anchor hit a pattern may match.
const MaxWindow = 256

// maxHits bounds the anchor hits tried per pattern per file.
const maxHits = 256

// Example is a string that must match a rule with the given version.
type Example struct {
	// Text is a byte string cut from a real binary (NULs included), matched
	// like file content; File is a base name, matched by Filename.
	Text    string `yaml:"text"`
	File    string `yaml:"file"`
	Version string `yaml:"version"`
}

// Rule recognises one component.
type Rule struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Files are globs over the path inside the image ("**/libcrypto.so*")
	// or, without a "/", over the base name ("*" = every file).
	Files []string `yaml:"files"`
	// Scan lists the file kinds patterns run on (default: elf).
	Scan     []string `yaml:"scan"`
	Patterns []string `yaml:"patterns"`
	Filename string   `yaml:"filename"`
	// UnlessNeeds: content matches do not count in an ELF file that links
	// one of these libraries dynamically (DT_NEEDED globs): hostapd built
	// against libcrypto.so.3 quotes OPENSSL_VERSION_TEXT, the version it
	// was compiled against, not a copy of OpenSSL.
	UnlessNeeds []string `yaml:"unless_needs"`
	// CPEs and PURL are templates with {version} and {update}.
	CPEs []string `yaml:"cpes"`
	PURL string   `yaml:"purl"`
	// CPEVersion rewrites the version for the CPE (Boa's "0.94.14rc21" is
	// "0.94.14.21" in NVD): every From becomes To.
	CPEVersion *struct {
		From string `yaml:"from"`
		To   string `yaml:"to"`
	} `yaml:"cpe_version"`
	// Source says where the examples were cut from.
	Source   string `yaml:"source"`
	Examples struct {
		True  []Example `yaml:"true"`
		False []string  `yaml:"false"`
	} `yaml:"examples"`

	patterns []pattern
	filename *regexp.Regexp
	globs    *glob.Set
	needs    *glob.Set
	scan     map[string]bool
}

type pattern struct {
	src    string
	anchor []byte
	re     *regexp.Regexp // anchored at the hit: ^(?:src)
	ver    int            // submatch index of the version
	upd    int            // submatch index of the update, or -1
}

// Match is one version found by a rule.
type Match struct {
	// Version is the full version ("5.2p1"); Update the CPE update part.
	Version string
	Update  string
	// Offset of the hit in the data (0 for a file-name match).
	Offset int64
	// Evidence is the matched text made readable (non-printable runs shown
	// as " … ").
	Evidence string
}

var defaults = sync.OnceValues(func() ([]*Rule, error) { return Parse(components.YAML) })

// Default returns the built-in rules, compiled. The rules are shared: do not
// modify them.
func Default() []*Rule {
	r, err := defaults()
	if err != nil {
		panic("components: embedded components.yaml: " + err.Error())
	}
	return r
}

// Parse reads and compiles rules in the components.yaml format. The first
// file is the base (the embedded rules); each further file (a user's rule
// folder, analyzers/rulesets) replaces the rule with the same id in place
// or adds its rules at the end. Decoding is strict: an unknown key is an
// error, so a misspelt field does not silently switch a pattern off.
func Parse(files ...[]byte) ([]*Rule, error) {
	var rules []*Rule
	for i, data := range files {
		var rs []*Rule
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&rs); err != nil && !errors.Is(err, io.EOF) {
			if i > 0 {
				return nil, fmt.Errorf("components: override file %d: %w", i, err)
			}
			return nil, fmt.Errorf("components: %w", err)
		}
		rules = merge(rules, rs)
	}
	ids := map[string]bool{}
	for i, r := range rules {
		if r == nil {
			return nil, fmt.Errorf("components: rule %d is empty", i)
		}
		if r.ID == "" || ids[r.ID] {
			return nil, fmt.Errorf("components: rule %d: missing or duplicate id %q", i, r.ID)
		}
		ids[r.ID] = true
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("components: rule %s: %w", r.ID, err)
		}
	}
	return rules, nil
}

// merge returns base with over's rules replacing those of the same id (in
// place) or appended. An id twice in one file is kept twice, for Parse to
// refuse.
func merge(base, over []*Rule) []*Rule {
	out := append([]*Rule(nil), base...)
	at := map[string]int{}
	for i, r := range out {
		if r != nil {
			at[r.ID] = i
		}
	}
	inFile := map[string]bool{}
	for _, r := range over {
		if r != nil && r.ID != "" && !inFile[r.ID] {
			inFile[r.ID] = true
			if i, ok := at[r.ID]; ok {
				out[i] = r
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func (r *Rule) compile() error {
	if r.Name == "" {
		return fmt.Errorf("no name")
	}
	switch r.Type {
	case TypeBinary, TypeOS, TypeLibrary, TypeFirmware:
	default:
		return fmt.Errorf("type %q (want binary, os, library or firmware)", r.Type)
	}
	if len(r.Patterns) == 0 && r.Filename == "" {
		return fmt.Errorf("no patterns and no filename")
	}
	if len(r.Files) == 0 {
		return fmt.Errorf("no files globs")
	}
	var err error
	if r.globs, err = glob.CompileSet(r.Files); err != nil {
		return err
	}
	for _, g := range r.UnlessNeeds {
		if strings.Contains(g, "/") {
			return fmt.Errorf("unless_needs %q: a library name, not a path", g)
		}
	}
	if r.needs, err = glob.CompileSet(r.UnlessNeeds); err != nil {
		return err
	}
	if len(r.Scan) == 0 {
		r.Scan = []string{ScanELF}
	}
	r.scan = map[string]bool{}
	for _, s := range r.Scan {
		switch s {
		case ScanELF, ScanBinary, ScanBlob:
			r.scan[s] = true
		default:
			return fmt.Errorf("scan %q (want elf, binary or blob)", s)
		}
	}
	for _, src := range r.Patterns {
		p, err := compilePattern(src)
		if err != nil {
			return err
		}
		r.patterns = append(r.patterns, p)
	}
	if r.Filename != "" {
		re, err := regexp.Compile(`^(?:` + r.Filename + `)$`)
		if err != nil {
			return fmt.Errorf("filename: %w", err)
		}
		if versionIndex(re) < 0 {
			return fmt.Errorf("filename %q has no version group", r.Filename)
		}
		r.filename = re
	}
	if len(r.CPEs) == 0 && r.PURL == "" {
		return fmt.Errorf("neither cpes nor purl")
	}
	for _, c := range r.CPEs {
		if !strings.HasPrefix(c, "cpe:2.3:") || strings.Count(c, ":") != 12 || !strings.Contains(c, "{version}") {
			return fmt.Errorf("cpe %q: want a cpe:2.3 template with 13 fields and {version}", c)
		}
	}
	if r.PURL != "" && (!strings.HasPrefix(r.PURL, "pkg:") || !strings.Contains(r.PURL, "{version}")) {
		return fmt.Errorf("purl %q: want a pkg: template with {version}", r.PURL)
	}
	if len(r.Examples.True) == 0 {
		return fmt.Errorf("no true examples")
	}
	return nil
}

func compilePattern(src string) (pattern, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return pattern{}, fmt.Errorf("pattern %q: %w", src, err)
	}
	prefix, _ := re.LiteralPrefix()
	if len(prefix) < 4 {
		return pattern{}, fmt.Errorf("pattern %q: needs a literal prefix of at least 4 bytes (the product's own string), has %q", src, prefix)
	}
	anchored := regexp.MustCompile(`^(?:` + src + `)`)
	p := pattern{src: src, anchor: []byte(prefix), re: anchored, ver: versionIndex(anchored), upd: anchored.SubexpIndex("update")}
	if p.ver < 0 {
		return pattern{}, fmt.Errorf("pattern %q has no version group", src)
	}
	return p, nil
}

// versionIndex is the "version" group, else the first group.
func versionIndex(re *regexp.Regexp) int {
	if i := re.SubexpIndex("version"); i > 0 {
		return i
	}
	if re.NumSubexp() >= 1 {
		return 1
	}
	return -1
}

// MatchesPath reports whether the rule's globs select the image path p.
func (r *Rule) MatchesPath(p string) bool {
	return r.globs.Match(strings.TrimPrefix(p, "/"))
}

// UsesLinkedCopy reports whether the file base, which dynamically links
// needed (its DT_NEEDED names), gets this rule's component from a shared
// library, so that version strings in the file itself do not count. One of
// those libraries itself (libssl needs libcrypto) is never a linked copy.
func (r *Rule) UsesLinkedCopy(base string, needed []string) bool {
	if r.needs.Match(base) {
		return false
	}
	for _, n := range needed {
		if r.needs.Match(n) {
			return true
		}
	}
	return false
}

// Scans reports whether the rule's patterns run on files of that kind.
func (r *Rule) Scans(kind string) bool { return len(r.patterns) > 0 && r.scan[kind] }

// HasUnlessNeeds reports whether the rule has UnlessNeeds.
func (r *Rule) HasUnlessNeeds() bool { return r.needs.Len() > 0 }

// HasPatterns reports whether the rule reads file content.
func (r *Rule) HasPatterns() bool { return len(r.patterns) > 0 }

// MatchFilename applies the Filename expression to a base name.
func (r *Rule) MatchFilename(base string) (Match, bool) {
	if r.filename == nil {
		return Match{}, false
	}
	m := r.filename.FindStringSubmatchIndex(base)
	if m == nil {
		return Match{}, false
	}
	vi := versionIndex(r.filename)
	if m[2*vi] < 0 {
		return Match{}, false
	}
	v := base[m[2*vi]:m[2*vi+1]]
	if !validVersion(v) {
		return Match{}, false
	}
	return Match{Version: v, Evidence: base}, true
}

// MatchContent finds every version the rule's patterns match in data: one
// Match per distinct version, at its first hit.
func (r *Rule) MatchContent(data []byte) []Match {
	var out []Match
	seen := map[string]bool{}
	for i := range r.patterns {
		p := &r.patterns[i]
		pos, hits := 0, 0
		for pos < len(data) && hits < maxHits {
			j := bytes.Index(data[pos:], p.anchor)
			if j < 0 {
				break
			}
			hit := pos + j
			pos = hit + 1
			if hit > 0 && isWord(data[hit-1]) && isWord(p.anchor[0]) {
				continue // "libuClibc-" is not "uClibc-"
			}
			hits++
			end := min(len(data), hit+MaxWindow)
			m := p.re.FindSubmatchIndex(data[hit:end])
			if m == nil || m[2*p.ver] < 0 {
				continue
			}
			v := string(data[hit+m[2*p.ver] : hit+m[2*p.ver+1]])
			if !validVersion(v) {
				continue
			}
			upd := ""
			if p.upd > 0 && m[2*p.upd] >= 0 {
				upd = string(data[hit+m[2*p.upd] : hit+m[2*p.upd+1]])
			}
			full := v + upd
			if seen[full] || !validVersion(full) { // the update part counts towards the bound too
				continue
			}
			seen[full] = true
			out = append(out, Match{Version: full, Update: upd, Offset: int64(hit), Evidence: evidence(data, hit, hit+m[1])})
		}
	}
	return out
}

// CPEsFor fills the CPE templates for a match.
func (r *Rule) CPEsFor(m Match) []string {
	v := strings.TrimSuffix(m.Version, m.Update)
	if r.CPEVersion != nil && r.CPEVersion.From != "" {
		v = strings.ReplaceAll(v, r.CPEVersion.From, r.CPEVersion.To)
	}
	upd := m.Update
	if upd == "" {
		upd = "*"
	}
	out := make([]string, 0, len(r.CPEs))
	for _, c := range r.CPEs {
		out = append(out, strings.NewReplacer("{version}", cpeEscape(v), "{update}", cpeEscape(upd)).Replace(c))
	}
	return out
}

// PURLFor fills the PURL template for a match.
func (r *Rule) PURLFor(m Match) string {
	if r.PURL == "" {
		return ""
	}
	return strings.ReplaceAll(r.PURL, "{version}", m.Version)
}

// cpeEscape quotes the characters CPE 2.3 formatted strings reserve.
func cpeEscape(s string) string {
	if s == "*" {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// validVersion: starts with a digit, short, printable, no spaces.
func validVersion(v string) bool {
	if v == "" || len(v) > 32 || v[0] < '0' || v[0] > '9' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func printable(c byte) bool { return c >= ' ' && c <= '~' || c == '\t' }

// evidence renders data[a:b] extended to the surrounding printable text
// (at most 40 bytes before, 80 after), with non-printable runs as " … ".
func evidence(data []byte, a, b int) string {
	s := a
	for s > 0 && a-s < 40 && printable(data[s-1]) {
		s--
	}
	e := b
	if e > a && printable(data[e-1]) {
		for e < len(data) && e-b < 80 && printable(data[e]) {
			e++
		}
	}
	var out strings.Builder
	gap := false
	for _, c := range data[s:e] {
		if printable(c) {
			if gap {
				out.WriteString(" … ")
				gap = false
			}
			out.WriteByte(c)
		} else {
			gap = out.Len() > 0
		}
	}
	return strings.TrimSpace(out.String())
}
