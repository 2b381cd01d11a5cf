// Package vulns holds fwaudit's curated vulnerability feed (feed.yaml,
// embedded at build time): NVD CVE records for the components firmware
// ships without a package database (BusyBox, dropbear, dnsmasq, OpenSSL,
// the Linux kernel, U-Boot, ...), reduced to what offline matching needs —
// the CVE id, its CVSS severity, score and vector, the affected CPE ranges
// and exact versions, the fixed version when NVD's ranges give one, the
// first sentence of the description and where the record came from.
//
// feed.yaml is generated from NVD JSON records by gen/main.go (go generate)
// and may be extended by hand: add a record with the same fields. The
// vulns package (github.com/fwaudit/fwaudit/vulns) compiles the feed into a
// grype v6 database for matching.
//
// NVD data is a work of the US government and in the public domain.
package vulns

//go:generate go run gen/main.go -in ../../../shared/nvd,gen/input -out feed.yaml

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed feed.yaml
var defaultYAML []byte

// FormatVersion is the feed layout version (Feed.Format).
const FormatVersion = 1

// Feed is a list of vulnerability records.
type Feed struct {
	// Format is the feed layout version (FormatVersion).
	Format int `yaml:"format"`
	// Collected is when the records were read from NVD (YYYY-MM-DD).
	Collected string `yaml:"collected"`
	// Source describes where the records came from.
	Source          string          `yaml:"source"`
	Vulnerabilities []Vulnerability `yaml:"vulnerabilities"`
}

// Vulnerability is one CVE record.
type Vulnerability struct {
	ID string `yaml:"id"`
	// Published is NVD's publication date (YYYY-MM-DD).
	Published string `yaml:"published,omitempty"`
	// Status is "" (active) or "disputed".
	Status string `yaml:"status,omitempty"`
	// CVSS is NVD's primary CVSS v3.x score, else v2.0; nil when NVD had
	// not scored the record.
	CVSS *CVSS `yaml:"cvss,omitempty"`
	// CWE lists the weaknesses (CWE-nnn).
	CWE []string `yaml:"cwe,omitempty,flow"`
	// Description is the first sentence of NVD's description.
	Description string `yaml:"description"`
	// Affected lists the vulnerable products; empty when NVD had not
	// assigned CPEs (such a record never matches).
	Affected []Affected `yaml:"affected,omitempty"`
	// URL is the record's NVD page.
	URL string `yaml:"url"`
	// Source is the NVD record the entry was derived from.
	Source     string   `yaml:"source,omitempty"`
	References []string `yaml:"references,omitempty"`
}

// CVSS is one CVSS score.
type CVSS struct {
	Version  string  `yaml:"version"`
	Score    float64 `yaml:"score"`
	Severity string  `yaml:"severity"`
	Vector   string  `yaml:"vector"`
}

// Affected is one product (CPE part, vendor and product, as NVD names it)
// and the versions of it that are vulnerable.
type Affected struct {
	// Part is "a" (application), "o" (operating system) or "h".
	Part    string `yaml:"part"`
	Vendor  string `yaml:"vendor"`
	Product string `yaml:"product"`
	// Ranges are version ranges (NVD's versionStart/End fields).
	Ranges []Range `yaml:"ranges,omitempty,flow"`
	// Versions are exact vulnerable versions; a CPE update field is
	// appended after a colon ("1.0.0:pre1", "5.2:p1").
	Versions []string `yaml:"versions,omitempty,flow"`
}

// Range is one vulnerable version range; an empty bound is open.
type Range struct {
	StartIncluding string `yaml:"start_including,omitempty"`
	StartExcluding string `yaml:"start_excluding,omitempty"`
	EndIncluding   string `yaml:"end_including,omitempty"`
	EndExcluding   string `yaml:"end_excluding,omitempty"`
	// Fixed is the first fixed version when it is known (NVD's
	// versionEndExcluding, or set by hand).
	Fixed string `yaml:"fixed,omitempty"`
}

// Constraint renders the range as a grype version constraint
// (">= 1.16.0, < 1.34.0").
func (r Range) Constraint() string {
	var c []string
	if r.StartIncluding != "" {
		c = append(c, ">= "+r.StartIncluding)
	} else if r.StartExcluding != "" {
		c = append(c, "> "+r.StartExcluding)
	}
	if r.EndExcluding != "" {
		c = append(c, "< "+r.EndExcluding)
	} else if r.EndIncluding != "" {
		c = append(c, "<= "+r.EndIncluding)
	}
	return strings.Join(c, ", ")
}

var (
	idRe      = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
	nameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9._\-]*$`)
	versionRe = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._\-+~]*(:[0-9A-Za-z._\-]+)?$`)
)

// Validate checks a feed: known layout, well-formed unique ids, CPE names
// and versions, and a CVSS severity that agrees with its score.
func (f *Feed) Validate() error {
	if f.Format != FormatVersion {
		return fmt.Errorf("feed format %d, want %d", f.Format, FormatVersion)
	}
	seen := map[string]bool{}
	for i, v := range f.Vulnerabilities {
		where := fmt.Sprintf("record %d (%s)", i, v.ID)
		if !idRe.MatchString(v.ID) {
			return fmt.Errorf("%s: bad id", where)
		}
		if seen[v.ID] {
			return fmt.Errorf("%s: duplicate id", where)
		}
		seen[v.ID] = true
		if v.Status != "" && v.Status != "disputed" {
			return fmt.Errorf("%s: unknown status %q", where, v.Status)
		}
		if c := v.CVSS; c != nil {
			switch c.Version {
			case "2.0", "3.0", "3.1", "4.0":
			default:
				return fmt.Errorf("%s: unknown CVSS version %q", where, c.Version)
			}
			if c.Score < 0 || c.Score > 10 || c.Vector == "" {
				return fmt.Errorf("%s: bad CVSS score %v / vector %q", where, c.Score, c.Vector)
			}
			if want := SeverityOf(c.Version, c.Score); !strings.EqualFold(c.Severity, want) {
				return fmt.Errorf("%s: severity %q does not match CVSS %s score %v (%s)", where, c.Severity, c.Version, c.Score, want)
			}
		}
		for _, a := range v.Affected {
			if a.Part != "a" && a.Part != "o" && a.Part != "h" {
				return fmt.Errorf("%s: bad CPE part %q", where, a.Part)
			}
			if !nameRe.MatchString(a.Vendor) || !nameRe.MatchString(a.Product) {
				return fmt.Errorf("%s: bad vendor/product %q/%q", where, a.Vendor, a.Product)
			}
			if len(a.Ranges) == 0 && len(a.Versions) == 0 {
				return fmt.Errorf("%s: %s:%s has no ranges or versions", where, a.Vendor, a.Product)
			}
			for _, r := range a.Ranges {
				for _, s := range []string{r.StartIncluding, r.StartExcluding, r.EndIncluding, r.EndExcluding, r.Fixed} {
					if s != "" && !versionRe.MatchString(s) {
						return fmt.Errorf("%s: bad version %q", where, s)
					}
				}
				if r.StartIncluding != "" && r.StartExcluding != "" || r.EndIncluding != "" && r.EndExcluding != "" {
					return fmt.Errorf("%s: range with both including and excluding bounds", where)
				}
			}
			for _, s := range a.Versions {
				if !versionRe.MatchString(s) {
					return fmt.Errorf("%s: bad version %q", where, s)
				}
			}
		}
	}
	return nil
}

// SeverityOf is NVD's qualitative rating of a CVSS base score ("CRITICAL",
// "HIGH", "MEDIUM", "LOW", "NONE"); CVSS v2 has no CRITICAL or NONE.
func SeverityOf(version string, score float64) string {
	if version == "2.0" {
		switch {
		case score >= 7:
			return "HIGH"
		case score >= 4:
			return "MEDIUM"
		default:
			return "LOW"
		}
	}
	switch {
	case score >= 9:
		return "CRITICAL"
	case score >= 7:
		return "HIGH"
	case score >= 4:
		return "MEDIUM"
	case score > 0:
		return "LOW"
	default:
		return "NONE"
	}
}

// Parse decodes and validates a feed; unknown fields are errors.
func Parse(b []byte) (*Feed, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f Feed
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vulnerability feed: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("vulnerability feed: %w", err)
	}
	return &f, nil
}

var (
	defOnce sync.Once
	defFeed *Feed
	defErr  error
)

// Default returns the embedded feed (parsed once; do not modify it).
func Default() (*Feed, error) {
	defOnce.Do(func() { defFeed, defErr = Parse(defaultYAML) })
	return defFeed, defErr
}

// Digest is "sha256:<hex>" of the embedded feed: a database compiled from
// the feed records it, so a stale one is rebuilt.
func Digest() string {
	h := sha256.Sum256(defaultYAML)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Raw returns the embedded feed's bytes.
func Raw() []byte { return bytes.Clone(defaultYAML) }
