// Package vulns is fwaudit's vulnerability matching stage: it matches an
// image's SBOM (syft packages, including the firmware components fwaudit's
// classifiers found, which carry NVD CPEs) against a grype v6 vulnerability
// database with grype's own matchers, offline.
//
// The database is, in order of preference: the one Options.DBPath names;
// a grype database imported into fwaudit's cache (Import, `fwaudit db
// import`); grype's own database in its standard cache location
// ($GRYPE_DB_CACHE_DIR or $XDG_CACHE_HOME/grype/db, as `grype db update`
// leaves it); and fwaudit's embedded feed (rules/vulns: curated NVD records
// for embedded components), compiled into the cache on first use (BuildDB,
// `fwaudit db build`). Nothing here downloads anything: a grype database is
// only ever read where it already is.
//
// Firmware components are binary packages without a package ecosystem, so
// they match by CPE: grype's stock matcher runs with CPE matching on.
// Packages syft found in package databases match with grype's default
// matchers as `grype` would.
package vulns

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/anchore/grype/grype"
	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/anchore/grype/grype/distro"
	"github.com/anchore/grype/grype/match"
	"github.com/anchore/grype/grype/matcher"
	"github.com/anchore/grype/grype/matcher/stock"
	grypepkg "github.com/anchore/grype/grype/pkg"
	"github.com/anchore/grype/grype/version"
	"github.com/anchore/grype/grype/vulnerability"
	"github.com/anchore/syft/syft/sbom"
)

// Options selects the vulnerability database.
type Options struct {
	// DBPath is a grype v6 database (--vuln-db): a directory holding
	// vulnerability.db, a grype DB root holding 6/vulnerability.db, or the
	// file itself. "" selects, in order, a database imported into the
	// cache, grype's own cached database, and the embedded feed compiled
	// into the cache.
	DBPath string
	// CacheDir is fwaudit's cache directory ("" = $XDG_CACHE_HOME/fwaudit).
	CacheDir string
}

// Match is one vulnerability of one component.
type Match struct {
	Component string `json:"component"`
	Version   string `json:"version"`
	PURL      string `json:"purl,omitempty"`
	// ID is the vulnerability id (CVE-YYYY-NNNN; for a grype database
	// also GHSA or distribution advisory ids).
	ID string `json:"id"`
	// Severity is "critical", "high", "medium", "low" or "unknown"
	// (grype's rating of the CVSS score; "negligible" is reported as low).
	Severity string `json:"severity"`
	// CVSS is the primary CVSS base score (0 when none), Vector its vector.
	CVSS   float64 `json:"cvss,omitempty"`
	Vector string  `json:"cvss_vector,omitempty"`
	// Fixed is the first fixed version when the record gives one.
	Fixed       string `json:"fixed,omitempty"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	// MatchedBy is how grype matched: the CPE searched with
	// ("cpe:2.3:a:busybox:busybox:1.01:*:...") or the matcher type.
	MatchedBy string `json:"matched_by"`
	// Status is "" or the record's status ("disputed").
	Status string `json:"status,omitempty"`
	// FoundBy is the cataloger that found the component.
	FoundBy string `json:"found_by,omitempty"`
}

// MatchSBOM matches the SBOM's packages against the database Options
// select (see Options; the embedded feed is compiled into the cache when it
// is the one and is missing or stale) with grype's VulnerabilityMatcher:
// grype's default matchers with CPE matching on for the stock matcher
// (binary components). It never touches the network. The matches are
// sorted by component, version, then descending CVSS score and id, one per
// (component, version, id).
func MatchSBOM(ctx context.Context, s *sbom.SBOM, opt Options) ([]Match, DBInfo, error) {
	if s == nil {
		return nil, DBInfo{}, fmt.Errorf("vulnerability matching: no SBOM")
	}
	rdr, info, err := open(ctx, opt)
	if err != nil {
		return nil, info, err
	}
	prov := v6.NewVulnerabilityProvider(rdr)
	defer prov.Close()
	ms, err := matchPackages(ctx, prov, s)
	return ms, info, err
}

// Matchers are grype's default matchers, with CPE matching on where a
// firmware component needs it: the stock matcher (binary packages and any
// type without a dedicated matcher).
func Matchers() []match.Matcher {
	return matcher.NewDefaultMatchers(matcher.Config{
		Stock: stock.MatcherConfig{UseCPEs: true},
	})
}

func matchPackages(ctx context.Context, prov vulnerability.Provider, s *sbom.SBOM) ([]Match, error) {
	var pkgs []grypepkg.Package
	foundBy := map[grypepkg.ID]string{}
	if s.Artifacts.Packages != nil {
		for p := range s.Artifacts.Packages.Enumerate() {
			foundBy[grypepkg.ID(p.ID())] = p.FoundBy
		}
		for _, p := range grypepkg.FromCollection(s.Artifacts.Packages, s.Relationships, grypepkg.SynthesisConfig{}) {
			pkgs = append(pkgs, *p)
		}
	}
	if len(pkgs) == 0 {
		return nil, ctx.Err()
	}
	pctx := grypepkg.Context{Source: &s.Source}
	if rel := s.Artifacts.LinuxDistribution; rel != nil {
		// the release syft read from /etc/os-release (firmware rarely has
		// one); distribution matchers need it
		pctx.Distro = distro.FromRelease(rel, nil)
	}
	vm := grype.VulnerabilityMatcher{
		VulnerabilityProvider: prov,
		Matchers:              Matchers(),
	}
	found, _, err := vm.FindMatchesContext(ctx, pkgs, pctx)
	if err != nil {
		return nil, fmt.Errorf("vulnerability matching: %w", err)
	}
	seen := map[string]int{}
	var out []Match
	for _, m := range found.Sorted() {
		om := convert(m)
		om.FoundBy = foundBy[m.Package.ID]
		key := om.Component + "\x00" + om.Version + "\x00" + om.ID
		if i, ok := seen[key]; ok {
			// the same CVE through a second CPE (curl and libcurl)
			if out[i].Fixed == "" {
				out[i].Fixed = om.Fixed
			}
			continue
		}
		seen[key] = len(out)
		out = append(out, om)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Component != b.Component {
			return a.Component < b.Component
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.CVSS != b.CVSS {
			return a.CVSS > b.CVSS
		}
		return idLess(a.ID, b.ID)
	})
	return out, ctx.Err()
}

func convert(m match.Match) Match {
	v := m.Vulnerability
	om := Match{
		Component: m.Package.Name,
		Version:   m.Package.Version,
		PURL:      m.Package.PURL,
		ID:        v.ID,
		Severity:  "unknown",
		Status:    v.Status,
	}
	if om.Status == string(v6.VulnerabilityActive) {
		om.Status = ""
	}
	if md := v.Metadata; md != nil {
		om.Severity = severity(md.Severity)
		om.Description = md.Description
		om.URL = md.DataSource
		for _, c := range md.Cvss {
			if c.Type == "Primary" || om.Vector == "" {
				om.CVSS = c.Metrics.BaseScore
				om.Vector = c.Vector
				if c.Type == "Primary" {
					break
				}
			}
		}
	}
	if v.Fix.State == vulnerability.FixStateFixed && len(v.Fix.Versions) > 0 {
		om.Fixed = lowestFix(v.Fix.Versions, m.Package.Version)
	}
	for _, d := range m.Details {
		if q, ok := d.SearchedBy.(match.CPEParameters); ok && len(q.CPEs) > 0 {
			om.MatchedBy = q.CPEs[0]
			break
		}
	}
	if om.MatchedBy == "" && len(m.Details) > 0 {
		om.MatchedBy = string(m.Details[0].Matcher)
	}
	return om
}

// lowestFix picks the fixed version to report. grype lists the fixed
// version of every range of the record (OpenSSL: 0.9.8q and 1.0.0c); the
// one for this version is the lowest fix above it. When the versions do not
// compare, all are listed.
func lowestFix(fixes []string, ver string) string {
	if len(fixes) == 1 {
		return fixes[0]
	}
	have := version.New(ver, version.UnknownFormat)
	best, bestV := "", (*version.Version)(nil)
	for _, f := range fixes {
		fv := version.New(f, version.UnknownFormat)
		if c, err := fv.Compare(have); err != nil || c <= 0 {
			continue
		}
		if bestV != nil {
			if c, err := fv.Compare(bestV); err != nil || c >= 0 {
				continue
			}
		}
		best, bestV = f, fv
	}
	if best != "" {
		return best
	}
	return strings.Join(fixes, ", ")
}

func severity(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "critical"
	case "high":
		return "high"
	case "medium":
		return "medium"
	case "low", "negligible":
		return "low"
	}
	return "unknown"
}

// idLess orders CVE ids by year then number.
func idLess(a, b string) bool {
	ya, na, oka := cveNum(a)
	yb, nb, okb := cveNum(b)
	if oka && okb {
		if ya != yb {
			return ya < yb
		}
		if na != nb {
			return na < nb
		}
	}
	return a < b
}

func cveNum(id string) (int, int, bool) {
	var y, n int
	if _, err := fmt.Sscanf(id, "CVE-%d-%d", &y, &n); err != nil {
		return 0, 0, false
	}
	return y, n, true
}
