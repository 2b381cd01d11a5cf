package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// Severities lists the severities worst first.
var Severities = []analyzers.Severity{analyzers.Critical, analyzers.High, analyzers.Medium, analyzers.Low, analyzers.Info}

// layerStatuses lists layer statuses in the order summaries show them.
var layerStatuses = []extract.Status{extract.StatusOK, extract.StatusPartial, extract.StatusFailed, extract.StatusUnsupported, extract.StatusOpaque}

// SeverityCounts counts r's findings by severity. Every known severity has a
// key (0 when absent); a finding with an unknown severity is counted under
// its own name.
func SeverityCounts(r *Report) map[string]int {
	m := make(map[string]int, len(Severities))
	for _, s := range Severities {
		m[string(s)] = 0
	}
	if r == nil {
		return m
	}
	for _, f := range r.Findings {
		m[string(f.Severity)]++
	}
	return m
}

// AtOrAbove counts the findings of severity s or worse.
func AtOrAbove(r *Report, s analyzers.Severity) int {
	n := 0
	if r == nil {
		return 0
	}
	for _, f := range r.Findings {
		if f.Severity.Rank() >= s.Rank() && f.Severity.Rank() >= 0 {
			n++
		}
	}
	return n
}

// verdict is the one-line summary of the findings, e.g.
// "1 critical, 2 high, 0 medium, 0 low, 3 info; 3 findings at or above high".
func verdict(r *Report) string {
	c := SeverityCounts(r)
	parts := make([]string, 0, len(Severities)+1)
	for _, s := range Severities {
		parts = append(parts, fmt.Sprintf("%d %s", c[string(s)], s))
	}
	if other := len(r.Findings) - sumKnown(c); other > 0 {
		parts = append(parts, fmt.Sprintf("%d of unknown severity", other))
	}
	n := AtOrAbove(r, analyzers.High)
	return fmt.Sprintf("%s; %d %s at or above high", strings.Join(parts, ", "), n, plural(n, "finding", "findings"))
}

func sumKnown(c map[string]int) int {
	n := 0
	for _, s := range Severities {
		n += c[string(s)]
	}
	return n
}

// layerSummary is e.g. "12 layers (10 ok, 1 failed, 1 opaque)".
func layerSummary(r *Report) string {
	counts := map[extract.Status]int{}
	total := 0
	for _, l := range r.Layers {
		if l == nil {
			continue
		}
		counts[l.Status]++
		total++
	}
	var parts []string
	for _, s := range layerStatuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
		delete(counts, s)
	}
	if len(counts) > 0 {
		n := 0
		for _, v := range counts {
			n += v
		}
		parts = append(parts, fmt.Sprintf("%d other", n))
	}
	s := fmt.Sprintf("%d %s", total, plural(total, "layer", "layers"))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// humanSize renders a byte count as "512 B", "1.5 KiB", "3.2 MiB" ...
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// location is "line 12", "offset 0x1f0" or "".
func location(f *analyzers.Finding) string {
	switch {
	case f.Line > 0 && f.Offset != nil:
		return fmt.Sprintf("line %d, offset 0x%x", f.Line, *f.Offset)
	case f.Line > 0:
		return fmt.Sprintf("line %d", f.Line)
	case f.Offset != nil:
		return fmt.Sprintf("offset 0x%x", *f.Offset)
	}
	return ""
}

// cop renders guideline numbers as "CoP 1, CoP 5".
func cop(g []int) string {
	parts := make([]string, len(g))
	for i, n := range g {
		parts[i] = fmt.Sprintf("CoP %d", n)
	}
	return strings.Join(parts, ", ")
}

// layerTree returns the layers in tree order (each parent followed by its
// children, siblings in report order) with their nesting level. Layers whose
// parent is unknown start a tree of their own; every layer appears once.
func layerTree(layers []*extract.Layer) []treeNode {
	byID := map[string]bool{}
	for _, l := range layers {
		if l != nil && l.ID != "" {
			byID[l.ID] = true
		}
	}
	children := map[string][]int{}
	var roots []int
	for i, l := range layers {
		if l == nil {
			continue
		}
		if l.Parent != "" && byID[l.Parent] && l.Parent != l.ID {
			children[l.Parent] = append(children[l.Parent], i)
		} else {
			roots = append(roots, i)
		}
	}
	var out []treeNode
	seen := make([]bool, len(layers))
	var walk func(i, level int)
	walk = func(i, level int) {
		if seen[i] {
			return
		}
		seen[i] = true
		out = append(out, treeNode{layers[i], level})
		if id := layers[i].ID; id != "" {
			for _, c := range children[id] {
				walk(c, level+1)
			}
		}
	}
	for _, i := range roots {
		walk(i, 0)
	}
	// layers caught in a parent cycle: list them flat
	for i, l := range layers {
		if l != nil && !seen[i] {
			walk(i, 0)
		}
	}
	return out
}

type treeNode struct {
	*extract.Layer
	level int
}

// groupBySeverity groups findings by severity and returns the groups' order:
// the known severities worst first, then any unknown ones, sorted.
func groupBySeverity(fs []analyzers.Finding) (map[string][]*analyzers.Finding, []string) {
	groups := map[string][]*analyzers.Finding{}
	var unknown []string
	for i := range fs {
		f := &fs[i]
		s := string(f.Severity)
		if f.Severity.Rank() < 0 {
			if _, ok := groups[s]; !ok {
				unknown = append(unknown, s)
			}
		}
		groups[s] = append(groups[s], f)
	}
	sort.Strings(unknown)
	order := make([]string, 0, len(Severities)+len(unknown))
	for _, s := range Severities {
		order = append(order, string(s))
	}
	return groups, append(order, unknown...)
}
