// Package baseline reads, writes and applies fwaudit baselines: the list of
// findings a project has looked at and accepted, each with a justification
// and an optional expiry date.
//
// A baseline entry matches a finding by its stable id (report.json
// findings[].id). A matched finding is moved from the report's findings to
// its suppressed list: it stays visible (report.json, report.md) but no
// longer fails the run or the compliance verdicts. An entry that has
// expired does not suppress; an entry that matches no finding is reported
// too, so the baseline does not rot.
package baseline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/report"
)

// Version is the baseline file format version.
const Version = 1

// MaxSize bounds a baseline file.
const MaxSize = 16 << 20

// TODO is the justification `fwaudit baseline create` writes when none is
// given; Load rejects it, so that every entry is looked at by a person.
const TODO = "TODO: justify"

// File is a baseline file.
type File struct {
	Version int     `yaml:"version"`
	Entries []Entry `yaml:"entries"`
	// Name (the file's base name) and SHA256 (of its bytes) identify the
	// file a scan applied; Load sets them, reports record them.
	Name   string `yaml:"-"`
	SHA256 string `yaml:"-"`
}

// Entry accepts one finding.
type Entry struct {
	// ID is the finding's stable id (FW-…); it alone decides the match.
	ID string `yaml:"id"`
	// Rule, Path and Layer describe the finding for people.
	Rule  string `yaml:"rule,omitempty"`
	Path  string `yaml:"path,omitempty"`
	Layer string `yaml:"layer,omitempty"`
	// Justification says why the finding is accepted (required).
	Justification string `yaml:"justification"`
	// Expires (YYYY-MM-DD, optional) is the last day the entry
	// suppresses its finding.
	Expires string `yaml:"expires,omitempty"`
	// Added (YYYY-MM-DD) is when the entry was written.
	Added string `yaml:"added,omitempty"`
}

var idRe = regexp.MustCompile(`^FW-[0-9A-F]{12}$`)

// describe names an entry in messages: "FW-… (default-password, /etc/shadow)".
func (e Entry) describe() string {
	var parts []string
	for _, s := range []string{e.Rule, e.Path} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return e.ID
	}
	return e.ID + " (" + strings.Join(parts, ", ") + ")"
}

// Load reads and checks a baseline file (see Parse).
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("baseline %s: larger than %d bytes", path, MaxSize)
	}
	bl, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	bl.Name = filepath.Base(path)
	bl.SHA256 = hex.EncodeToString(sum[:])
	return bl, nil
}

// Parse decodes and checks a baseline: version 1, unknown keys refused,
// every entry with a well-formed id (given once), a justification that is
// neither empty nor a "TODO" placeholder, and dates as YYYY-MM-DD.
func Parse(b []byte) (*File, error) {
	var bl File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&bl); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty file (want version: %d and entries)", Version)
		}
		return nil, err
	}
	if bl.Version != Version {
		return nil, fmt.Errorf("version %d is not supported (want version: %d)", bl.Version, Version)
	}
	seen := map[string]int{}
	for i, e := range bl.Entries {
		n := i + 1
		if !idRe.MatchString(e.ID) {
			return nil, fmt.Errorf("entry %d: id %q is not a finding id (FW- and 12 hex digits, from report.json)", n, e.ID)
		}
		if j, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("entry %d: %s is already entry %d", n, e.ID, j)
		}
		seen[e.ID] = n
		j := strings.TrimSpace(e.Justification)
		switch {
		case j == "":
			return nil, fmt.Errorf("entry %s: justification is empty: say why this finding is accepted", e.describe())
		case strings.HasPrefix(strings.ToUpper(j), "TODO"):
			return nil, fmt.Errorf("entry %s: justification is still %q: replace it with why this finding is accepted, or remove the entry", e.describe(), j)
		}
		if e.Expires != "" {
			if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
				return nil, fmt.Errorf("entry %s: expires: want YYYY-MM-DD, not %q", e.describe(), e.Expires)
			}
		}
		if e.Added != "" {
			if _, err := time.Parse(time.DateOnly, e.Added); err != nil {
				return nil, fmt.Errorf("entry %s: added: want YYYY-MM-DD, not %q", e.describe(), e.Added)
			}
		}
	}
	return &bl, nil
}

// FromReport makes a baseline of every finding of r, and keeps the
// findings r already had suppressed with their justification and expiry.
// justification empty means TODO; expires and added are YYYY-MM-DD or
// empty.
func FromReport(r *report.Report, justification, expires, added string) *File {
	if justification == "" {
		justification = TODO
	}
	bl := &File{Version: Version, Entries: []Entry{}}
	seen := map[string]bool{}
	add := func(f analyzers.Finding, just, exp string) {
		if f.ID == "" || seen[f.ID] {
			return
		}
		seen[f.ID] = true
		bl.Entries = append(bl.Entries, Entry{ID: f.ID, Rule: f.Rule, Path: f.Path, Layer: f.Layer,
			Justification: just, Expires: exp, Added: added})
	}
	for _, f := range r.Findings {
		add(f, justification, expires)
	}
	for _, s := range r.Suppressed {
		exp := s.Expires
		if expires != "" {
			exp = expires
		}
		add(s.Finding, s.Justification, exp)
	}
	return bl
}

// header is written at the top of a baseline file.
const header = `# fwaudit baseline: findings accepted for this project.
# Each entry matches a finding by its stable id (report.json findings[].id).
# A matched finding is reported as suppressed and does not fail the run.
# Every entry needs a justification: replace each "TODO: justify" with the
# reason the finding is accepted (or delete the entry) before using the file
# with --baseline. "expires: YYYY-MM-DD" (optional) is the last day an entry
# applies.
`

// Write encodes bl as YAML with an explanatory header.
func Write(w io.Writer, bl *File) error {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(bl); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Outcome is what Apply did.
type Outcome struct {
	// Suppressed counts the findings the baseline suppressed.
	Suppressed int
	// Problems are the expired and unmatched entries (also added to the
	// report's BaselineProblems).
	Problems []string
}

// Apply moves the findings bl accepts from r.Findings to r.Suppressed and
// records expired and unmatched entries in r.BaselineProblems. today
// decides expiry: an entry applies through its expires day. The severity
// counts in r.Stats are recounted over the remaining findings. Compliance
// verdicts are not touched: scan.Run judges compliance once, after Apply.
func Apply(r *report.Report, bl *File, today time.Time) Outcome {
	var out Outcome
	if r == nil || bl == nil {
		return out
	}
	day := today.Format(time.DateOnly)
	byID := make(map[string]*Entry, len(bl.Entries))
	for i := range bl.Entries {
		byID[bl.Entries[i].ID] = &bl.Entries[i]
	}
	matched := map[string]bool{}
	kept := r.Findings[:0:0]
	for _, f := range r.Findings {
		e := byID[f.ID]
		if e == nil {
			kept = append(kept, f)
			continue
		}
		matched[f.ID] = true
		if expired(e, day) {
			kept = append(kept, f)
			continue
		}
		r.Suppressed = append(r.Suppressed, report.SuppressedFinding{Finding: f, Justification: e.Justification, Expires: e.Expires})
		out.Suppressed++
	}
	if kept == nil {
		kept = []analyzers.Finding{}
	}
	r.Findings = kept
	for _, e := range bl.Entries {
		switch {
		case !matched[e.ID] && expired(&e, day):
			out.Problems = append(out.Problems, fmt.Sprintf("entry %s matched no finding (and expired on %s)", e.describe(), e.Expires))
		case !matched[e.ID]:
			out.Problems = append(out.Problems, fmt.Sprintf("entry %s matched no finding", e.describe()))
		case expired(&e, day):
			out.Problems = append(out.Problems, fmt.Sprintf("entry %s expired on %s: its finding is reported again", e.describe(), e.Expires))
		}
	}
	r.BaselineProblems = append(r.BaselineProblems, out.Problems...)
	Recount(r)
	return out
}

func expired(e *Entry, day string) bool {
	// YYYY-MM-DD strings compare like dates
	return e.Expires != "" && e.Expires < day
}

// Recount recomputes r.Stats.FindingCount over r.Findings (suppressed and
// dropped findings are not counted).
func Recount(r *report.Report) {
	r.Stats.FindingCount = map[string]int{}
	for _, f := range r.Findings {
		r.Stats.FindingCount[string(f.Severity)]++
	}
}
