// Package eol holds fwaudit's end-of-life and release-date data, embedded at
// build time:
//
//   - eol.yaml: release cycles and end-of-life dates of the products
//     endoflife.date tracks (OpenSSL, the Linux kernel, OpenWrt, ...),
//     generated from endoflife.date's product files by ./gen (see Derive) and
//     mapped to fwaudit component names. endoflife.date is MIT-licensed; its
//     licence is in LICENSE.endoflife.
//   - releases.yaml: hand-kept release dates of versions of components
//     endoflife.date does not cover (BusyBox, dropbear, uClibc, hostapd, ...),
//     each with its source, and the projects that are discontinued.
//
// Dates carry their precision (a year, a month or a day): an age computed
// from one counts from the end of that period, so it never overstates how
// old a version is.
package eol

//go:generate go run ./gen -src ../../../shared/eol -out eol.yaml

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed eol.yaml
var eolYAML []byte

//go:embed releases.yaml
var releasesYAML []byte

// Date is a calendar date known to a year, a month or a day.
type Date struct {
	Year, Month, Day int // Month/Day 0 when unknown
}

var dateRE = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$`)

// ParseDate parses "2005", "2005-08" or "2005-08-17".
func ParseDate(s string) (Date, error) {
	m := dateRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Date{}, fmt.Errorf("bad date %q (want YYYY, YYYY-MM or YYYY-MM-DD)", s)
	}
	var d Date
	d.Year, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		d.Month, _ = strconv.Atoi(m[2])
		if d.Month < 1 || d.Month > 12 {
			return Date{}, fmt.Errorf("bad month in %q", s)
		}
	}
	if m[3] != "" {
		d.Day, _ = strconv.Atoi(m[3])
		t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
		if t.Day() != d.Day {
			return Date{}, fmt.Errorf("bad day in %q", s)
		}
	}
	return d, nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.Year == 0 }

// String renders the date at its precision.
func (d Date) String() string {
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Earliest is the first day the date can mean (UTC midnight).
func (d Date) Earliest() time.Time {
	m, day := max(d.Month, 1), max(d.Day, 1)
	return time.Date(d.Year, time.Month(m), day, 0, 0, 0, 0, time.UTC)
}

// Latest is the last day the date can mean (UTC midnight): the day itself,
// the month's last day or 31 December.
func (d Date) Latest() time.Time {
	switch {
	case d.Month == 0:
		return time.Date(d.Year, 12, 31, 0, 0, 0, 0, time.UTC)
	case d.Day == 0:
		return time.Date(d.Year, time.Month(d.Month)+1, 0, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
}

// UnmarshalYAML reads a date scalar (quoted or not).
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: date must be a scalar", n.Line)
	}
	v, err := ParseDate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// EOL is a cycle's end of life: a date, or just true/false when
// endoflife.date gives no date.
type EOL struct {
	// Date is set when the end of life is a date.
	Date Date
	// Ended is the boolean form (true: ended, date unknown).
	Ended bool
}

// String renders the value as eol.yaml does.
func (e EOL) String() string {
	if !e.Date.IsZero() {
		return e.Date.String()
	}
	return strconv.FormatBool(e.Ended)
}

// UnmarshalYAML reads a date, true or false.
func (e *EOL) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: eol must be a date, true or false", n.Line)
	}
	switch strings.ToLower(n.Value) {
	case "true":
		*e = EOL{Ended: true}
		return nil
	case "false":
		*e = EOL{}
		return nil
	}
	d, err := ParseDate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: eol: %w", n.Line, err)
	}
	*e = EOL{Date: d}
	return nil
}

// EndedBy reports whether the cycle is past its end of life on day t.
func (e EOL) EndedBy(t time.Time) bool {
	if !e.Date.IsZero() {
		// A month- or year-precise date has passed once its last day has.
		return !t.Before(e.Date.Latest())
	}
	return e.Ended
}

// Cycle is one release cycle (branch) of a product.
type Cycle struct {
	Cycle             string `yaml:"cycle"`
	ReleaseDate       Date   `yaml:"releaseDate"`
	EOL               EOL    `yaml:"eol"`
	Latest            string `yaml:"latest"`
	LatestReleaseDate Date   `yaml:"latestReleaseDate"`
}

// Product is one endoflife.date product.
type Product struct {
	// Product is endoflife.date's name (its page: https://endoflife.date/<product>).
	Product string `yaml:"product"`
	Title   string `yaml:"title"`
	// Components are the fwaudit component names it maps to.
	Components []string `yaml:"components"`
	Cycles     []Cycle  `yaml:"cycles"`
}

// Link is the product's endoflife.date page.
func (p *Product) Link() string { return "https://endoflife.date/" + p.Product }

// Match returns the cycle a version belongs to: the longest cycle name that
// is the version or a prefix of it followed by a non-digit ("1.1.1" for
// "1.1.1w", "3.0" for "3.0.16"; "2.4" is not the cycle of "2.40.1").
func (p *Product) Match(version string) (*Cycle, bool) {
	var best *Cycle
	for i := range p.Cycles {
		c := &p.Cycles[i]
		if !InLine(version, c.Cycle) {
			continue
		}
		if best == nil || len(c.Cycle) > len(best.Cycle) {
			best = c
		}
	}
	return best, best != nil
}

// Oldest returns the oldest cycle (by version order), nil if none.
func (p *Product) Oldest() *Cycle {
	var o *Cycle
	for i := range p.Cycles {
		if o == nil || CompareVersions(p.Cycles[i].Cycle, o.Cycle) < 0 {
			o = &p.Cycles[i]
		}
	}
	return o
}

// InLine reports whether version is line or starts with line followed by a
// non-digit.
func InLine(version, line string) bool {
	if line == "" || !strings.HasPrefix(version, line) {
		return false
	}
	if len(version) == len(line) {
		return true
	}
	c := version[len(line)]
	return c < '0' || c > '9'
}

// Release is the release date of one version.
type Release struct {
	Version string `yaml:"version"`
	Date    Date   `yaml:"date"`
	// Source names where the date comes from (project news page,
	// changelog file).
	Source string `yaml:"source"`
}

// Discontinued marks a project that no longer makes releases.
type Discontinued struct {
	Date   Date   `yaml:"date"`
	Note   string `yaml:"note"`
	Source string `yaml:"source"`
}

// ComponentReleases is releases.yaml's entry for one component.
type ComponentReleases struct {
	Name string `yaml:"name"`
	// Scheme "yyyy.mm": the version is its release month (U-Boot 2023.10).
	Scheme       string        `yaml:"scheme"`
	SchemeSource string        `yaml:"scheme_source"`
	Discontinued *Discontinued `yaml:"discontinued"`
	Releases     []Release     `yaml:"releases"`
}

// Source is eol.yaml's note on where its data comes from.
type Source struct {
	Name    string `yaml:"name"`
	URL     string `yaml:"url"`
	Commit  string `yaml:"commit"`
	Date    string `yaml:"date"`
	License string `yaml:"license"`
}

type eolFile struct {
	Source   Source    `yaml:"source"`
	Products []Product `yaml:"products"`
}

type releasesFile struct {
	StaleYears int                 `yaml:"stale_years"`
	Components []ComponentReleases `yaml:"components"`
}

// DB is the parsed data.
type DB struct {
	Source Source
	// StaleYears is releases.yaml's default staleness threshold.
	StaleYears int
	Products   []Product
	Components []ComponentReleases

	byProduct map[string]*Product
	byComp    map[string]*ComponentReleases
}

// Parse parses eol.yaml and releases.yaml content and checks it.
func Parse(eolData, releasesData []byte) (*DB, error) {
	var ef eolFile
	if err := yaml.Unmarshal(eolData, &ef); err != nil {
		return nil, fmt.Errorf("eol.yaml: %w", err)
	}
	var rf releasesFile
	if err := yaml.Unmarshal(releasesData, &rf); err != nil {
		return nil, fmt.Errorf("releases.yaml: %w", err)
	}
	db := &DB{Source: ef.Source, StaleYears: rf.StaleYears, Products: ef.Products, Components: rf.Components,
		byProduct: map[string]*Product{}, byComp: map[string]*ComponentReleases{}}
	if db.StaleYears <= 0 {
		return nil, fmt.Errorf("releases.yaml: stale_years must be positive")
	}
	for i := range db.Products {
		p := &db.Products[i]
		if p.Product == "" || len(p.Components) == 0 || len(p.Cycles) == 0 {
			return nil, fmt.Errorf("eol.yaml: product %q needs components and cycles", p.Product)
		}
		for _, c := range p.Components {
			if _, dup := db.byProduct[c]; dup {
				return nil, fmt.Errorf("eol.yaml: component %q mapped twice", c)
			}
			db.byProduct[c] = p
		}
		for _, c := range p.Cycles {
			if c.Cycle == "" || !startsWithDigit(c.Cycle) {
				return nil, fmt.Errorf("eol.yaml: %s: bad cycle %q", p.Product, c.Cycle)
			}
		}
	}
	for i := range db.Components {
		c := &db.Components[i]
		if c.Name == "" {
			return nil, fmt.Errorf("releases.yaml: component without a name")
		}
		if _, dup := db.byComp[c.Name]; dup {
			return nil, fmt.Errorf("releases.yaml: component %q listed twice", c.Name)
		}
		db.byComp[c.Name] = c
		if c.Scheme != "" && (c.Scheme != "yyyy.mm" || c.SchemeSource == "") {
			return nil, fmt.Errorf("releases.yaml: %s: scheme must be yyyy.mm, with scheme_source", c.Name)
		}
		if d := c.Discontinued; d != nil && (d.Date.IsZero() || d.Note == "" || d.Source == "") {
			return nil, fmt.Errorf("releases.yaml: %s: discontinued needs date, note and source", c.Name)
		}
		seen := map[string]bool{}
		for _, r := range c.Releases {
			if r.Version == "" || r.Date.IsZero() || r.Source == "" {
				return nil, fmt.Errorf("releases.yaml: %s %q: version, date and source are required", c.Name, r.Version)
			}
			if seen[r.Version] {
				return nil, fmt.Errorf("releases.yaml: %s %s listed twice", c.Name, r.Version)
			}
			seen[r.Version] = true
		}
	}
	return db, nil
}

var (
	defOnce sync.Once
	defDB   *DB
	defErr  error
)

// Default returns the embedded data (parsed once). It panics if the
// embedded files do not parse, which the package test rules out.
func Default() *DB {
	defOnce.Do(func() { defDB, defErr = Parse(eolYAML, releasesYAML) })
	if defErr != nil {
		panic(defErr)
	}
	return defDB
}

// EOLYAML returns the embedded eol.yaml.
func EOLYAML() []byte { return eolYAML }

// Product returns the endoflife.date product a component name maps to.
func (db *DB) Product(component string) *Product { return db.byProduct[component] }

// Releases returns releases.yaml's entry for a component.
func (db *DB) Releases(component string) *ComponentReleases { return db.byComp[component] }

var yyyymmRE = regexp.MustCompile(`^(\d{4})\.(\d{2})(?:$|[^0-9])`)

// ReleaseDate returns when a version was released and the source, from
// releases.yaml (an exact version, or the component's version scheme), else
// from eol.yaml when the version is a cycle's latest release.
func (db *DB) ReleaseDate(component, version string) (Date, string, bool) {
	if c := db.byComp[component]; c != nil {
		for _, r := range c.Releases {
			if r.Version == version {
				return r.Date, r.Source, true
			}
		}
		if c.Scheme == "yyyy.mm" {
			if m := yyyymmRE.FindStringSubmatch(version); m != nil {
				y, _ := strconv.Atoi(m[1])
				mo, _ := strconv.Atoi(m[2])
				if y >= 1990 && mo >= 1 && mo <= 12 {
					return Date{Year: y, Month: mo}, c.SchemeSource, true
				}
			}
		}
	}
	if p := db.byProduct[component]; p != nil {
		if c, ok := p.Match(version); ok && c.Latest == version && !c.LatestReleaseDate.IsZero() {
			return c.LatestReleaseDate, "endoflife.date " + p.Product + " (latest release of cycle " + c.Cycle + ")", true
		}
	}
	return Date{}, "", false
}

// ComponentNames lists every component name the data knows, sorted.
func (db *DB) ComponentNames() []string {
	var out []string
	for n := range db.byProduct {
		out = append(out, n)
	}
	for n := range db.byComp {
		if db.byProduct[n] == nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// CompareVersions orders dotted versions with letter suffixes: numeric
// fields compare as numbers, letters as strings, a missing field is
// smaller ("0.9.7f" < "0.9.8" < "0.9.8a" < "1.0", "2.6.31" < "4.9").
func CompareVersions(a, b string) int {
	ta, tb := tokens(a), tokens(b)
	for i := 0; i < len(ta) && i < len(tb); i++ {
		x, y := ta[i], tb[i]
		xn, yn := isNum(x), isNum(y)
		switch {
		case xn && yn:
			x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				if len(x) < len(y) {
					return -1
				}
				return 1
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		case xn != yn:
			// a number sorts after a letter suffix at the same place
			if xn {
				return 1
			}
			return -1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(ta) < len(tb):
		return -1
	case len(ta) > len(tb):
		return 1
	}
	return 0
}

// tokens splits "0.9.7f" into ["0" "9" "7" "f"].
func tokens(v string) []string {
	var out []string
	i := 0
	for i < len(v) {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			out = append(out, v[i:j])
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(v) && (v[j] >= 'a' && v[j] <= 'z' || v[j] >= 'A' && v[j] <= 'Z') {
				j++
			}
			out = append(out, strings.ToLower(v[i:j]))
			i = j
		default:
			i++
		}
	}
	return out
}

func isNum(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
