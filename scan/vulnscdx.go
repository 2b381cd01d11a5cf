package scan

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	grypecdx "github.com/anchore/grype/grype/presenter/cyclonedx"
	"github.com/anchore/grype/grype/presenter/models"
	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"
	"github.com/google/uuid"

	"github.com/fwaudit/fwaudit/vex"
	"github.com/fwaudit/fwaudit/vulns"
)

// VulnsMeta is what vulns.cdx.json needs besides the SBOM and matches.
type VulnsMeta struct {
	// ImageSHA256 (hex) and Date (the scan date) make the serial number
	// and timestamp: the same scan gives the same document.
	ImageSHA256 string
	Date        time.Time
	// Analyses are the applicability decisions by matchKey.
	Analyses map[string]vex.Analysis
}

// VulnsCycloneDX encodes the SBOM with its vulnerabilities as a CycloneDX
// 1.6 JSON document (vulns.cdx.json): the components as syft encodes them,
// then one vulnerability per CVE, rendered by grype's own
// presenter/cyclonedx.NewVulnerability (ratings, source, advisories,
// fixed versions), whose affects[] lists every component it was matched on
// (by bom-ref) with the version's status (affected, unaffected, unknown)
// from the applicability analysis, and whose analysis (state,
// justification, detail) sums it up: exploitable if any component is
// affected, in_triage if any is under investigation, else not_affected
// (or resolved). The serial number, timestamp and vulnerability bom-refs
// derive from the image hash, the scan date and the CVE id.
func VulnsCycloneDX(s *sbom.SBOM, ms []vulns.Match, meta VulnsMeta) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("vulns.cdx.json: no SBOM")
	}
	bom := cyclonedxhelpers.ToFormatModel(*s)
	day := meta.Date.UTC()
	if day.IsZero() {
		day = time.Now().UTC()
	}
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	bom.SerialNumber = uuid.NewSHA1(uuid.NameSpaceURL, []byte("fwaudit:vulns.cdx.json:"+meta.ImageSHA256+":"+day.Format("2006-01-02"))).URN()
	if bom.Metadata != nil {
		bom.Metadata.Timestamp = day.Format(time.RFC3339)
	}
	// packages by name and version, for the bom-refs the matches affect
	byKey := map[string][]pkg.Package{}
	if s.Artifacts.Packages != nil {
		for _, p := range s.Artifacts.Packages.Sorted() {
			k := p.Name + "\x00" + p.Version
			byKey[k] = append(byKey[k], p)
		}
	}
	type entry struct {
		v      cyclonedx.Vulnerability
		affect map[string]cyclonedx.Affects
		states []string // per component: "name version: state - detail"
		an     []vex.Analysis
	}
	byID := map[string]*entry{}
	var order []string
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
		a, judged := meta.Analyses[matchKey(m.Component, m.Version, m.ID)]
		e := byID[m.ID]
		for _, p := range ps {
			v, err := grypecdx.NewVulnerability(presenterMatch(m, p))
			if err != nil {
				return nil, fmt.Errorf("vulns.cdx.json: %s: %w", m.ID, err)
			}
			if v.Affects == nil || len(*v.Affects) == 0 {
				return nil, fmt.Errorf("vulns.cdx.json: %s: no affected component", m.ID)
			}
			ref := (*v.Affects)[0].Ref
			if e == nil {
				// no advisories: leave the key out rather than write []
				if v.Advisories != nil && len(*v.Advisories) == 0 {
					v.Advisories = nil
				}
				v.BOMRef = "vulnerability:" + m.ID
				e = &entry{v: v, affect: map[string]cyclonedx.Affects{}}
				byID[m.ID] = e
				order = append(order, m.ID)
			}
			status := cyclonedx.VulnerabilityStatusAffected
			if judged {
				switch a.State {
				case vex.NotAffected, vex.Fixed:
					status = cyclonedx.VulnerabilityStatusNotAffected
				case vex.UnderInvestigation:
					status = cyclonedx.VulnerabilityStatusUnknown
				}
			}
			e.affect[ref] = cyclonedx.Affects{Ref: ref, Range: &[]cyclonedx.AffectedVersions{{Version: p.Version, Status: status}}}
		}
		if judged {
			line := fmt.Sprintf("%s %s: %s - %s", m.Component, m.Version, a.State, a.Detail)
			if len(a.Evidence) > 0 {
				line += " (evidence: " + strings.Join(a.Evidence, "; ") + ")"
			}
			e.states = append(e.states, line)
			e.an = append(e.an, a)
		}
	}
	sort.Slice(order, func(i, j int) bool { return idLessCDX(order[i], order[j]) })
	list := make([]cyclonedx.Vulnerability, 0, len(order))
	for _, id := range order {
		e := byID[id]
		refs := make([]string, 0, len(e.affect))
		for r := range e.affect {
			refs = append(refs, r)
		}
		sort.Strings(refs)
		affects := make([]cyclonedx.Affects, 0, len(refs))
		for _, r := range refs {
			affects = append(affects, e.affect[r])
		}
		e.v.Affects = &affects
		if len(e.an) > 0 {
			sort.Strings(e.states)
			e.v.Analysis = cdxAnalysis(e.an, strings.Join(e.states, "\n"))
		}
		list = append(list, e.v)
	}
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

// cdxAnalysis sums up the analyses of one CVE over its components.
func cdxAnalysis(as []vex.Analysis, detail string) *cyclonedx.VulnerabilityAnalysis {
	state := cyclonedx.IASNotAffected
	rank := 0
	just := ""
	for _, a := range as {
		switch a.State {
		case vex.Affected:
			if rank < 3 {
				state, rank = cyclonedx.IASExploitable, 3
			}
		case vex.UnderInvestigation:
			if rank < 2 {
				state, rank = cyclonedx.IASInTriage, 2
			}
		case vex.Fixed:
			if rank < 1 {
				state, rank = cyclonedx.IASResolved, 1
			}
		case vex.NotAffected:
			if just == "" {
				just = a.Justification
			}
		}
	}
	out := &cyclonedx.VulnerabilityAnalysis{State: state, Detail: detail}
	if state == cyclonedx.IASNotAffected {
		out.Justification = cdxJustification(just)
	}
	return out
}

// cdxJustification maps an OpenVEX justification to CycloneDX's.
func cdxJustification(j string) cyclonedx.ImpactAnalysisJustification {
	switch j {
	case "vulnerable_code_not_present", "component_not_present":
		return cyclonedx.IAJCodeNotPresent
	case "vulnerable_code_not_in_execute_path":
		return cyclonedx.IAJCodeNotReachable
	case "vulnerable_code_cannot_be_controlled_by_adversary":
		return cyclonedx.IAJRequiresEnvironment
	case "inline_mitigations_already_exist":
		return cyclonedx.IAJProtectedByMitigatingControl
	}
	return ""
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
