package scan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/vulns"
)

// applyMatches attaches grype's matches to the components they belong to
// and returns one vulnerable-component finding per component: its CVEs
// with severity and fixed version, severity the worst CVE's (guideline 3).
func applyMatches(comps []report.Component, ms []vulns.Match) []analyzers.Finding {
	byComp := map[string][]vulns.Match{}
	for _, m := range ms {
		k := m.Component + "\x00" + m.Version
		byComp[k] = append(byComp[k], m)
	}
	var out []analyzers.Finding
	for i := range comps {
		c := &comps[i]
		list := byComp[c.Name+"\x00"+c.Version]
		if len(list) == 0 {
			continue
		}
		sort.SliceStable(list, func(a, b int) bool {
			ra, rb := sevRank(list[a].Severity), sevRank(list[b].Severity)
			if ra != rb {
				return ra > rb
			}
			if list[a].CVSS != list[b].CVSS {
				return list[a].CVSS > list[b].CVSS
			}
			return list[a].ID < list[b].ID
		})
		seen := map[string]bool{}
		var ids []string
		for _, m := range list {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			c.Vulnerabilities = append(c.Vulnerabilities, report.Vulnerability{ID: m.ID, Severity: m.Severity, CVSS: m.CVSS, Fixed: m.Fixed, URL: m.URL})
			s := m.ID + " (" + m.Severity
			if m.Fixed != "" {
				s += ", fixed in " + m.Fixed
			}
			ids = append(ids, s+")")
		}
		worst := list[0]
		sev := analyzers.Severity(worst.Severity)
		if sev.Rank() < 0 {
			sev = analyzers.Low
		}
		path, layer := "", ""
		if len(c.Paths) > 0 {
			path = c.Paths[0]
		}
		if len(c.Layers) > 0 {
			layer = c.Layers[0]
		}
		if layer == "" {
			layer = "image"
		}
		shown := ids
		if len(shown) > 5 {
			shown = append(append([]string{}, ids[:5]...), fmt.Sprintf("and %d more", len(ids)-5))
		}
		f := analyzers.Finding{
			Rule:     "vulnerable-component",
			Category: "vulnerable-component",
			Severity: sev,
			Layer:    layer,
			Path:     path,
			Evidence: fmt.Sprintf("%s %s: %d known vulnerabilities, worst %s (%s, CVSS %.1f)", c.Name, c.Version, len(ids), worst.ID, worst.Severity, worst.CVSS),
			Message: fmt.Sprintf("%s %s (found at %s) has known vulnerabilities: %s. Update it to a maintained release that fixes them.",
				c.Name, c.Version, strings.Join(c.Paths, ", "), strings.Join(shown, "; ")),
			Fingerprint: analyzers.Fingerprint(c.Name + "@" + c.Version),
			Guidelines:  []int{3},
			Analyzer:    "vulns",
		}
		f.SetID()
		out = append(out, f)
	}
	return out
}

func sevRank(s string) int {
	r := analyzers.Severity(s).Rank()
	if r < 0 {
		return 0
	}
	return r
}

// applyEOL marks each component the eol analyzer judged: its finding's
// fingerprint is that of "name@version".
func applyEOL(comps []report.Component, fs []analyzers.Finding) {
	byFP := map[string]analyzers.Finding{}
	for _, f := range fs {
		if f.Rule == "eol-component" || f.Rule == "stale-component" {
			byFP[f.Fingerprint] = f
		}
	}
	for i := range comps {
		f, ok := byFP[analyzers.Fingerprint(comps[i].Name+"@"+comps[i].Version)]
		if !ok {
			continue
		}
		st := "end-of-life"
		if f.Rule == "stale-component" {
			st = "stale"
		}
		comps[i].EOL = &report.EOL{Status: st, Detail: f.Evidence, Finding: f.ID}
	}
}
