package scan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/rules/builtin"
	"github.com/fwaudit/fwaudit/vex"
	"github.com/fwaudit/fwaudit/vulns"
)

// matchKey identifies one vulnerability of one component.
func matchKey(component, version, id string) string {
	return component + "\x00" + version + "\x00" + id
}

// analyze judges every match against the image (vex: applets, ELF
// machine, versions, kernel configuration) and then against the user's
// VEX files, later files overriding earlier ones. A user decision keeps
// fwaudit's own analysis in its evidence, so nothing is hidden.
func analyze(t *analyzers.Target, comps []report.Component, ms []vulns.Match, users []*vex.User) (map[string]vex.Analysis, []string) {
	out := map[string]vex.Analysis{}
	if len(ms) == 0 {
		return out, nil
	}
	rs := vex.DefaultRules()
	byComp := map[string]*report.Component{}
	for i := range comps {
		byComp[comps[i].Name+"\x00"+comps[i].Version] = &comps[i]
	}
	col := vex.NewCollector(t)
	facts := map[string]vex.Facts{}
	for _, m := range ms {
		ck := m.Component + "\x00" + m.Version
		f, ok := facts[ck]
		if !ok {
			if c := byComp[ck]; c != nil {
				f = col.Facts(c.Name, c.Version, c.Layers, c.Paths)
			} else {
				f = vex.Facts{Component: m.Component, Version: m.Version}
			}
			facts[ck] = f
		}
		a := rs.Decide(m.ID, f)
		it := vex.Item{Component: m.Component, Version: m.Version, PURL: m.PURL, CVE: m.ID, Fixed: m.Fixed}
		if c := byComp[ck]; c != nil {
			it.CPEs = c.CPEs
		}
		for _, u := range users {
			if ua, ok := u.Decide(it); ok {
				own := fmt.Sprintf("fwaudit's own analysis: %s (%s)", a.State, a.Detail)
				ua.Evidence = append(ua.Evidence, own)
				a = ua
			}
		}
		out[matchKey(m.Component, m.Version, m.ID)] = a
	}
	return out, col.Notes
}

// vexItems are the matches with their analyses, one per component and CVE.
func vexItems(ms []vulns.Match, comps []report.Component, an map[string]vex.Analysis) []vex.Item {
	cpes := map[string][]string{}
	for _, c := range comps {
		cpes[c.Name+"\x00"+c.Version] = c.CPEs
	}
	var out []vex.Item
	for _, m := range ms {
		a, ok := an[matchKey(m.Component, m.Version, m.ID)]
		if !ok {
			continue
		}
		out = append(out, vex.Item{Component: m.Component, Version: m.Version, PURL: m.PURL, CPEs: cpes[m.Component+"\x00"+m.Version], CVE: m.ID, Fixed: m.Fixed, Analysis: a})
	}
	return out
}

// applyMatches attaches grype's matches, with their applicability, to the
// components they belong to and returns one vulnerable-component finding
// per component that has applicable CVEs: those affected or under
// investigation, with severity and fixed version, severity the worst
// applicable CVE's (guideline 3). CVEs the image shows are not applicable
// stay on the component (and in the report's folded section) but neither
// count nor raise the finding's severity.
func applyMatches(comps []report.Component, ms []vulns.Match, an map[string]vex.Analysis) []analyzers.Finding {
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
		var applicable []vulns.Match
		notApplicable := 0
		for _, m := range list {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			v := report.Vulnerability{ID: m.ID, Severity: m.Severity, CVSS: m.CVSS, Fixed: m.Fixed, URL: m.URL}
			if a, ok := an[matchKey(m.Component, m.Version, m.ID)]; ok {
				v.Applicability = &a
			}
			c.Vulnerabilities = append(c.Vulnerabilities, v)
			if !v.Applicable() {
				notApplicable++
				continue
			}
			applicable = append(applicable, m)
			s := m.ID + " (" + m.Severity
			if m.Fixed != "" {
				s += ", fixed in " + m.Fixed
			}
			if v.Applicability != nil && v.Applicability.State == vex.UnderInvestigation {
				s += ", under investigation"
			}
			ids = append(ids, s+")")
		}
		if len(applicable) == 0 {
			continue
		}
		// the worst is the worst CVE the image shows is there; one under
		// investigation only when none is
		worst := applicable[0]
		for _, m := range applicable {
			if a, ok := an[matchKey(m.Component, m.Version, m.ID)]; !ok || a.State == vex.Affected {
				worst = m
				break
			}
		}
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
		na := ""
		if notApplicable > 0 {
			na = fmt.Sprintf(" (%d more not applicable to this image)", notApplicable)
		}
		f := analyzers.Finding{
			Rule:     "vulnerable-component",
			Category: "vulnerable-component",
			Severity: sev,
			Layer:    layer,
			Path:     path,
			Evidence: fmt.Sprintf("%s %s: %d known vulnerabilities%s, worst %s (%s, CVSS %.1f)", c.Name, c.Version, len(ids), na, worst.ID, worst.Severity, worst.CVSS),
			Message: fmt.Sprintf("%s %s (found at %s) has known vulnerabilities: %s. Update it to a maintained release that fixes them.",
				c.Name, c.Version, strings.Join(c.Paths, ", "), strings.Join(shown, "; ")),
			Fingerprint: analyzers.Fingerprint(c.Name + "@" + c.Version),
			Guidelines:  builtin.Guidelines("vulnerable-component"),
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
