package scan

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/CycloneDX/cyclonedx-go"
	grypecdx "github.com/anchore/grype/grype/presenter/cyclonedx"
	"github.com/anchore/grype/grype/presenter/models"
	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"

	"github.com/fwaudit/fwaudit/vulns"
)

// VulnsCycloneDX encodes the SBOM with its vulnerabilities as a CycloneDX
// 1.6 JSON document (vulns.cdx.json), the way grype's CycloneDX presenter
// writes one: the components as syft encodes them, then one vulnerability
// per match and affected package, rendered by grype's own
// presenter/cyclonedx.NewVulnerability (ratings, source, advisories,
// affected and fixed versions). Each vulnerability's affects[].ref is the
// bom-ref of the component it was matched on.
func VulnsCycloneDX(s *sbom.SBOM, ms []vulns.Match) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("vulns.cdx.json: no SBOM")
	}
	bom := cyclonedxhelpers.ToFormatModel(*s)
	// packages by name and version, for the bom-refs the matches affect
	byKey := map[string][]pkg.Package{}
	if s.Artifacts.Packages != nil {
		for _, p := range s.Artifacts.Packages.Sorted() {
			k := p.Name + "\x00" + p.Version
			byKey[k] = append(byKey[k], p)
		}
	}
	list := make([]cyclonedx.Vulnerability, 0, len(ms))
	for _, m := range ms {
		ps := byKey[m.Component+"\x00"+m.Version]
		if m.PURL != "" {
			// prefer the package the match was made on when the name and
			// version are ambiguous
			var same []pkg.Package
			for _, p := range ps {
				if p.PURL == m.PURL {
					same = append(same, p)
				}
			}
			if len(same) > 0 {
				ps = same
			}
		}
		if len(ps) == 0 {
			// a match on a package that is not in this SBOM: nothing to
			// point affects[].ref at
			continue
		}
		for _, p := range ps {
			v, err := grypecdx.NewVulnerability(presenterMatch(m, p))
			if err != nil {
				return nil, fmt.Errorf("vulns.cdx.json: %s: %w", m.ID, err)
			}
			// no advisories: leave the key out rather than write []
			if v.Advisories != nil && len(*v.Advisories) == 0 {
				v.Advisories = nil
			}
			list = append(list, v)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		ra, rb := (*a.Affects)[0].Ref, (*b.Affects)[0].Ref
		if ra != rb {
			return ra < rb
		}
		return idLessCDX(a.ID, b.ID)
	})
	bom.Vulnerabilities = &list
	var buf bytes.Buffer
	enc := cyclonedx.NewBOMEncoder(&buf, cyclonedx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cyclonedx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("vulns.cdx.json: %w", err)
	}
	return buf.Bytes(), nil
}

// presenterMatch rebuilds the part of grype's presenter model that
// NewVulnerability reads from one of our matches and the package it is on.
func presenterMatch(m vulns.Match, p pkg.Package) models.Match {
	md := models.VulnerabilityMetadata{
		ID:          m.ID,
		DataSource:  m.URL,
		Namespace:   namespace(m),
		Severity:    grypeSeverity(m.Severity),
		URLs:        []string{},
		Description: m.Description,
		Cvss:        []models.Cvss{},
	}
	if m.URL != "" {
		md.URLs = append(md.URLs, m.URL)
	}
	if m.Vector != "" || m.CVSS > 0 {
		md.Cvss = append(md.Cvss, models.Cvss{
			Type:    "Primary",
			Version: cvssVersion(m.Vector),
			Vector:  m.Vector,
			Metrics: models.CvssMetrics{BaseScore: m.CVSS},
		})
	}
	fix := models.Fix{Versions: []string{}, State: "unknown"}
	if m.Fixed != "" {
		fix.State = "fixed"
		for _, v := range strings.Split(m.Fixed, ",") {
			if v = strings.TrimSpace(v); v != "" {
				fix.Versions = append(fix.Versions, v)
			}
		}
	}
	return models.Match{
		Vulnerability: models.Vulnerability{VulnerabilityMetadata: md, Fix: fix},
		Artifact: models.Package{
			ID:      string(p.ID()),
			Name:    p.Name,
			Version: p.Version,
			Type:    p.Type,
			PURL:    p.PURL,
		},
	}
}

// namespace is grype's namespace of the record, as its presenter names the
// source ("nvd:cpe" becomes "nvd-cpe").
func namespace(m vulns.Match) string {
	if strings.HasPrefix(m.MatchedBy, "cpe:") {
		return "nvd:cpe"
	}
	if strings.HasPrefix(m.ID, "CVE-") && strings.Contains(m.URL, "nvd.nist.gov") {
		return "nvd:cpe"
	}
	return ""
}

// grypeSeverity turns our lower-case severities back into grype's.
func grypeSeverity(s string) string {
	switch s {
	case "critical", "high", "medium", "low":
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return "Unknown"
}

// cvssVersion reads the CVSS version off a vector: "CVSS:3.1/AV:N/..." is
// 3.1; a vector without the prefix ("AV:N/AC:L/Au:N/...") is CVSS 2.0.
func cvssVersion(vector string) string {
	if rest, ok := strings.CutPrefix(vector, "CVSS:"); ok {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			return rest[:i]
		}
		return rest
	}
	if vector == "" {
		return ""
	}
	return "2.0"
}

func idLessCDX(a, b string) bool {
	ya, na, oka := cveParts(a)
	yb, nb, okb := cveParts(b)
	if oka && okb && (ya != yb || na != nb) {
		if ya != yb {
			return ya < yb
		}
		return na < nb
	}
	return a < b
}

func cveParts(id string) (int, int, bool) {
	var y, n int
	if _, err := fmt.Sscanf(id, "CVE-%d-%d", &y, &n); err != nil {
		return 0, 0, false
	}
	return y, n, true
}
