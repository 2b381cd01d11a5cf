// Package eol reports components that are past their end of life or have
// not been updated for years (Code of Practice guideline 3: keep software
// updated), from the data in rules/eol: endoflife.date's release cycles
// (OpenSSL, Linux, OpenWrt, ...) and known release dates of the components it
// does not cover (BusyBox, dropbear, uClibc, hostapd, ...).
//
//   - eol-component: the version's release cycle reached its end of life
//     before the scan date, the version is older than every cycle
//     endoflife.date still lists, or the project is discontinued (uClibc).
//     Severity high; medium when the end of life is less than a year before
//     the scan.
//   - stale-component: the version was released more than Policy.StaleYears
//     years before the scan date. Severity medium.
//
// One finding per component (name, version), at its first location, with the
// others listed in the message. The scan date is an input, so results are
// reproducible.
package eol

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	cmatch "github.com/fwaudit/fwaudit/analyzers/components/match"
	"github.com/fwaudit/fwaudit/rules/builtin"
	rules "github.com/fwaudit/fwaudit/rules/eol"
)

// Rule names and the category of the findings.
const (
	RuleEOL   = "eol-component"
	RuleStale = "stale-component"
	Category  = "outdated-component"
	// Name is the analyzer's name.
	Name = "eol"
)

// maxListed bounds the other locations named in a message.
const maxListed = 10

// Policy says when a component is stale.
type Policy struct {
	// StaleYears: a version released more than this many years before the
	// scan date is stale. 0 means the data's default (rules/eol
	// releases.yaml: 5); negative disables stale findings.
	StaleYears int
	// DB is the data; nil means the embedded rules/eol data.
	DB *rules.DB
}

// DefaultPolicy is the embedded data with its default staleness threshold.
func DefaultPolicy() Policy { return Policy{} }

func (p Policy) db() *rules.DB {
	if p.DB != nil {
		return p.DB
	}
	return rules.Default()
}

func (p Policy) staleYears(db *rules.DB) int {
	if p.StaleYears != 0 {
		return p.StaleYears
	}
	return db.StaleYears
}

// verdict is what the data says about one component.
type verdict struct {
	rule     string
	severity analyzers.Severity
	// evidence is the short reason, message the full explanation.
	evidence string
	message  string
}

// Evaluate returns an eol-component or stale-component finding for each
// component the data says is past its end of life or too old on scanDate,
// sorted. Components the data does not know, or without a version, give
// nothing.
func Evaluate(comps []components.Component, scanDate time.Time, policy Policy) []analyzers.Finding {
	db := policy.db()
	day := dayOf(scanDate)
	var out []analyzers.Finding
	for _, c := range comps {
		if c.Name == "" || c.Version == "" {
			continue
		}
		v, ok := judge(db, c.Name, c.Version, day, policy.staleYears(db))
		if !ok {
			continue
		}
		f := analyzers.Finding{
			Rule:        v.rule,
			Category:    Category,
			Severity:    v.severity,
			Evidence:    v.evidence,
			Message:     v.message,
			Fingerprint: analyzers.Fingerprint(c.Name + "@" + c.Version),
			Guidelines:  builtin.Guidelines(v.rule),
			Analyzer:    Name,
		}
		locs := append([]components.Location(nil), c.Locations...)
		sort.SliceStable(locs, func(i, j int) bool {
			if locs[i].Layer != locs[j].Layer {
				return locs[i].Layer < locs[j].Layer
			}
			return locs[i].Path < locs[j].Path
		})
		locs = uniqueLocations(locs)
		if len(locs) > 0 {
			f.Layer, f.Path = locs[0].Layer, locs[0].Path
			if len(locs) > 1 {
				f.Message += " Also found in: " + listLocations(locs[1:]) + "."
			}
		}
		f.SetID()
		out = append(out, f)
	}
	analyzers.SortFindings(out)
	return out
}

// judge applies the data to one (name, version).
func judge(db *rules.DB, name, version string, day time.Time, staleYears int) (verdict, bool) {
	label := name + " " + version
	rel, relSource, hasRel := db.ReleaseDate(name, version)
	released := ""
	if hasRel {
		released = fmt.Sprintf("released %s, %s before the scan", rel, yearsText(rel.Latest(), day))
	}
	join := func(parts ...string) string {
		var keep []string
		for _, p := range parts {
			if p != "" {
				keep = append(keep, p)
			}
		}
		return label + " (" + strings.Join(keep, "; ") + ")"
	}
	relNote := ""
	if hasRel {
		relNote = fmt.Sprintf(" Release date %s (source: %s).", rel, relSource)
	}

	// 1. discontinued project
	if cr := db.Releases(name); cr != nil && cr.Discontinued != nil && !day.Before(cr.Discontinued.Date.Latest()) {
		d := cr.Discontinued
		return verdict{
			rule:     RuleEOL,
			severity: eolSeverity(d.Date.Latest(), day),
			evidence: join(released, "project discontinued "+d.Date.String()),
			message: fmt.Sprintf("%s is end-of-life: %s (source: %s).%s It receives no security fixes; replace it with a maintained alternative.",
				label, d.Note, d.Source, relNote),
		}, true
	}

	// 2. endoflife.date release cycles
	if p := db.Product(name); p != nil {
		src := fmt.Sprintf("endoflife.date %s, %s, commit %s", p.Link(), db.Source.Date, db.Source.Commit)
		if cy, ok := p.Match(version); ok {
			if cy.EOL.EndedBy(day) {
				ev := "cycle " + cy.Cycle + " end of life"
				ended := "has reached end of life"
				sev := analyzers.High
				if !cy.EOL.Date.IsZero() {
					ago := yearsText(cy.EOL.Date.Latest(), day)
					ev = fmt.Sprintf("cycle %s end of life %s, %s before the scan", cy.Cycle, cy.EOL.Date, ago)
					ended = fmt.Sprintf("reached end of life on %s (%s before the scan)", cy.EOL.Date, ago)
					sev = eolSeverity(cy.EOL.Date.Latest(), day)
				}
				latest := ""
				if cy.Latest != "" {
					latest = fmt.Sprintf(" The last release of the cycle was %s.", cy.Latest)
				}
				return verdict{
					rule:     RuleEOL,
					severity: sev,
					evidence: join(released, ev),
					message: fmt.Sprintf("%s is end-of-life: its release cycle %s %s and no longer receives security fixes (source: %s).%s%s Update to a supported release.",
						label, cy.Cycle, ended, src, latest, relNote),
				}, true
			}
		} else if old := p.Oldest(); old != nil && rules.CompareVersions(version, old.Cycle) < 0 {
			oldEOL := ""
			if !old.EOL.Date.IsZero() {
				oldEOL = fmt.Sprintf(", itself end of life %s", old.EOL.Date)
			}
			return verdict{
				rule:     RuleEOL,
				severity: analyzers.High,
				evidence: join(released, "older than the oldest tracked cycle "+old.Cycle+oldEOL),
				message: fmt.Sprintf("%s is end-of-life: it is older than every release cycle %s tracks (the oldest, %s%s), so its line has long stopped receiving security fixes (source: %s).%s Update to a supported release.",
					label, "endoflife.date", old.Cycle, oldEOL, src, relNote),
			}, true
		}
	}

	// 3. staleness
	if hasRel && staleYears > 0 && rel.Latest().AddDate(staleYears, 0, 0).Before(day) {
		return verdict{
			rule:     RuleStale,
			severity: analyzers.Medium,
			evidence: join(released),
			message: fmt.Sprintf("%s was released %s, %s before the scan, more than the policy's %d years: it has not been updated and misses years of security fixes (release date source: %s). Update it.",
				label, rel, yearsText(rel.Latest(), day), staleYears, relSource),
		}, true
	}
	return verdict{}, false
}

// eolSeverity is high, or medium when the end of life is less than a year
// before day.
func eolSeverity(eol, day time.Time) analyzers.Severity {
	if eol.AddDate(1, 0, 0).After(day) {
		return analyzers.Medium
	}
	return analyzers.High
}

// dayOf truncates t to its UTC day.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// fullYears counts whole years from a to b (0 if b is before a).
func fullYears(a, b time.Time) int {
	n := b.Year() - a.Year()
	if n > 0 && b.Before(a.AddDate(n, 0, 0)) {
		n--
	}
	return max(n, 0)
}

// yearsText renders the whole years (or months, under a year) from a to b.
func yearsText(a, b time.Time) string {
	if y := fullYears(a, b); y >= 1 {
		if y == 1 {
			return "1 year"
		}
		return fmt.Sprintf("%d years", y)
	}
	m := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day() {
		m--
	}
	switch {
	case m <= 0:
		return "less than a month"
	case m == 1:
		return "1 month"
	}
	return fmt.Sprintf("%d months", m)
}

func uniqueLocations(ls []components.Location) []components.Location {
	out := ls[:0]
	for i, l := range ls {
		if i > 0 && l.Layer == ls[i-1].Layer && l.Path == ls[i-1].Path {
			continue
		}
		out = append(out, l)
	}
	return out
}

func listLocations(ls []components.Location) string {
	var parts []string
	for i, l := range ls {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(ls)-maxListed))
			break
		}
		parts = append(parts, l.Path+" (layer "+l.Layer+")")
	}
	return strings.Join(parts, ", ")
}

// Analyzer runs the component catalog (shared with the SBOM through the
// Target's cache) and Evaluate.
type Analyzer struct {
	// ScanDate is the date the scan is judged on (the scan's own date).
	ScanDate time.Time
	Policy   Policy
	// Components are the component rules the catalogue runs (a rule
	// folder's components.yaml merged into the embedded ones,
	// analyzers/rulesets); nil means the embedded rules.
	Components []*cmatch.Rule
}

// ComponentRules implements components.RulesUser: the scan's components
// stage builds its catalogue with the same rules (one catalogue per
// Target).
func (a *Analyzer) ComponentRules() []*cmatch.Rule { return a.Components }

// New returns the analyzer for a scan date and policy.
func New(scanDate time.Time, policy Policy) *Analyzer {
	return &Analyzer{ScanDate: scanDate, Policy: policy}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Examines implements analyzers.Scoped.
func (*Analyzer) Examines() string { return "versioned components" }

// Analyze implements analyzers.Analyzer. A component catalog error is
// returned together with the findings for the components that were found.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	comps, err := components.Catalog(ctx, t, a.Components)
	for _, c := range comps {
		if c.Name != "" && c.Version != "" {
			t.ExaminedItem(Name, "versioned components", c.Name+" "+c.Version)
		}
	}
	return Evaluate(comps, a.ScanDate, a.Policy), err
}
