// Package vex decides, for every vulnerability matched on a component's
// version, whether the image actually contains the vulnerable code: from
// the BusyBox applet table and its links, the programs of a multi-call
// binary, a library's exported symbols, the ELF machine of the component's
// files, the kernel configuration and modules, and the release in which
// the code first appeared. The knowledge is data (rules/vex); this package
// gathers the evidence from the image (Collect) and applies the rules
// (Decide). It also writes the OpenVEX document of a scan and reads a
// user's OpenVEX file of accepted vulnerabilities.
package vex

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fwaudit/fwaudit/report"
	rules "github.com/fwaudit/fwaudit/rules/vex"
)

// States (OpenVEX status values).
const (
	Affected           = "affected"
	NotAffected        = "not_affected"
	UnderInvestigation = "under_investigation"
	Fixed              = "fixed"
)

// CodeNotPresent is the OpenVEX justification fwaudit's own decisions use.
const CodeNotPresent = "vulnerable_code_not_present"

// Analysis is the applicability of one vulnerability to one component
// (state, justification, detail, evidence, the deciding rule or user VEX
// file): the report's own type, so a decision is carried into report.json
// as it is made.
type Analysis = report.Applicability

// Names is a set of names with where it was read and whether it is the
// whole set (so that a missing name shows the code is absent).
type Names struct {
	Set map[string]bool
	// Complete: the set is known in full (an applet table was read, the
	// whole file was searched).
	Complete bool
	// Source describes where the names were read ("applet table of
	// /bin/busybox (41 applets) and 22 links").
	Source string
}

// Has reports whether any of names is in the set, and which.
func (n Names) Has(names []string) (string, bool) {
	for _, s := range names {
		if n.Set[s] {
			return s, true
		}
	}
	return "", false
}

// Arch is one ELF file's machine.
type Arch struct {
	Path    string
	Machine string // "mips", "arm", ... (debug/elf name without EM_, lower case)
	Endian  string // "big" or "little"
	Class   int    // 32 or 64
}

func (a Arch) String() string {
	return fmt.Sprintf("%s is ELF %d-bit %s %s-endian", a.Path, a.Class, strings.ToUpper(a.Machine), a.Endian)
}

// Facts is what the image shows about one component.
type Facts struct {
	Component string
	Version   string
	Applets   Names
	Programs  Names
	Symbols   Names
	// Arch are the machines of the component's ELF files (or, when it has
	// none, of the image's other ELF files).
	Arch []Arch
	// KernelConfig maps CONFIG_ options to y, m or n; nil when the image
	// holds no kernel configuration. KernelConfigSource says where it was
	// read.
	KernelConfig       map[string]string
	KernelConfigSource string
	// Modules are the kernel modules in the image (names without .ko,
	// '-' as '_').
	Modules Names
}

// Rules is a compiled rule set: rules by component and CVE.
type Rules struct {
	byKey map[string]*rules.Rule
}

// Compile indexes a rule set.
func Compile(f *rules.File) *Rules {
	r := &Rules{byKey: map[string]*rules.Rule{}}
	for i := range f.Rules {
		rr := &f.Rules[i]
		for _, c := range rr.Components {
			for _, id := range rr.CVEs {
				r.byKey[c+"\x00"+id] = rr
			}
		}
	}
	return r
}

// DefaultRules are the embedded rules (rules/vex/vex.yaml), compiled.
func DefaultRules() *Rules { return Compile(rules.Default()) }

// Rule returns the rule for a component and CVE, if any.
func (r *Rules) Rule(component, cve string) *rules.Rule {
	if r == nil {
		return nil
	}
	return r.byKey[component+"\x00"+cve]
}

// verdict of one condition
type verdict int

const (
	unknown verdict = iota
	present
	absent
)

// Decide judges one CVE matched on the component the facts describe.
func (r *Rules) Decide(cve string, f Facts) Analysis {
	rule := r.Rule(f.Component, cve)
	if rule == nil {
		return Analysis{State: Affected, By: "fwaudit",
			Detail: fmt.Sprintf("%s %s is within the vulnerable version range; no applicability rule narrows it to a part of %s", f.Component, f.Version, f.Component)}
	}
	a := Analysis{Rule: rule.ID, Source: rule.Source, By: "fwaudit"}
	var missing []string
	var absentWhy []string
	add := func(v verdict, ev, miss string) {
		switch v {
		case present:
			a.Evidence = append(a.Evidence, ev)
		case absent:
			absentWhy = append(absentWhy, ev)
		default:
			missing = append(missing, miss)
		}
	}
	n := rule.Needs
	if len(n.Applets) > 0 {
		v, ev := names(f.Applets, n.Applets, "applet")
		add(v, ev, "the BusyBox applet list")
	}
	if len(n.Programs) > 0 {
		v, ev := names(f.Programs, n.Programs, "program")
		add(v, ev, "the programs of the multi-call binary")
	}
	if len(n.Symbols) > 0 {
		v, ev := names(f.Symbols, n.Symbols, "symbol")
		add(v, ev, "the library's exported symbols")
	}
	if len(n.Arch) > 0 {
		v, ev := arch(f.Arch, n.Arch)
		add(v, ev, "the ELF machine of its files")
	}
	if n.Introduced != "" {
		v, ev := introduced(f.Component, f.Version, n.Introduced)
		add(v, ev, "a comparable version")
	}
	if len(n.KernelConfig) > 0 {
		v, ev := kernel(f, n.KernelConfig, n.KernelModules)
		add(v, ev, "the kernel configuration (no config.gz / IKCONFIG in the image, and no module showing the option)")
	}
	switch {
	case len(absentWhy) > 0:
		a.State = NotAffected
		a.Justification = CodeNotPresent
		a.Evidence = append(absentWhy, a.Evidence...)
		a.Detail = "not compiled in: " + rule.Why
	case len(missing) > 0:
		a.State = UnderInvestigation
		a.Detail = "the image does not show " + strings.Join(missing, " or ") + ": " + rule.Why
	default:
		a.State = Affected
		a.Detail = "present in the image: " + rule.Why
	}
	return a
}

func names(have Names, want []string, kind string) (verdict, string) {
	if s, ok := have.Has(want); ok {
		return present, fmt.Sprintf("%s %q present (%s)", kind, s, have.Source)
	}
	if have.Complete {
		if len(have.Set) > 400 {
			return absent, fmt.Sprintf("no %s %s in %s", kind, strings.Join(want, "/"), have.Source)
		}
		return absent, fmt.Sprintf("no %s %s in %s: %s", kind, strings.Join(want, "/"), have.Source, list(have.Set, 400))
	}
	return unknown, ""
}

func arch(have []Arch, want []string) (verdict, string) {
	if len(have) == 0 {
		return unknown, ""
	}
	for _, a := range have {
		for _, w := range want {
			if a.Machine == w {
				return present, a.String()
			}
		}
	}
	var ds []string
	for i, a := range have {
		if i == 3 {
			ds = append(ds, fmt.Sprintf("and %d more", len(have)-3))
			break
		}
		ds = append(ds, a.String())
	}
	return absent, fmt.Sprintf("%s; the vulnerable code is %s only", strings.Join(ds, "; "), strings.ToUpper(strings.Join(want, "/")))
}

func introduced(comp, ver, first string) (verdict, string) {
	c, ok := CompareVersions(ver, first)
	if !ok {
		return unknown, ""
	}
	if c < 0 {
		return absent, fmt.Sprintf("%s %s predates %s, the first release with this code", comp, ver, first)
	}
	return present, fmt.Sprintf("%s %s is not older than %s, the first release with this code", comp, ver, first)
}

func kernel(f Facts, opts, mods []string) (verdict, string) {
	for _, o := range opts {
		if v := f.KernelConfig[o]; v == "y" || v == "m" {
			return present, fmt.Sprintf("%s=%s in %s", o, v, f.KernelConfigSource)
		}
	}
	if s, ok := f.Modules.Has(mods); ok {
		return present, fmt.Sprintf("module %s.ko present (%s)", s, f.Modules.Source)
	}
	if f.KernelConfig != nil {
		return absent, fmt.Sprintf("%s not set in %s", strings.Join(opts, ", "), f.KernelConfigSource)
	}
	return unknown, ""
}

// list renders a set sorted, cut after max names.
func list(set map[string]bool, max int) string {
	all := make([]string, 0, len(set))
	for s := range set {
		all = append(all, s)
	}
	sort.Strings(all)
	if len(all) == 0 {
		return "(none)"
	}
	if len(all) > max {
		return strings.Join(all[:max], " ") + fmt.Sprintf(" ... (%d in all)", len(all))
	}
	return strings.Join(all, " ")
}

// CompareVersions compares dotted versions numerically field by field
// ("0.5.9" < "0.7.3" < "2.10"); a field with letters compares its number
// then the rest as text. ok is false when a version has no number.
func CompareVersions(a, b string) (int, bool) {
	fa, fb := fields(a), fields(b)
	if len(fa) == 0 || len(fb) == 0 {
		return 0, false
	}
	for i := 0; i < len(fa) || i < len(fb); i++ {
		var x, y field
		if i < len(fa) {
			x = fa[i]
		}
		if i < len(fb) {
			y = fb[i]
		}
		if x.n != y.n {
			if x.n < y.n {
				return -1, true
			}
			return 1, true
		}
		if x.s != y.s {
			if x.s < y.s {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

type field struct {
	n int
	s string
}

func fields(v string) []field {
	var out []field
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		i := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		if i == 0 {
			if len(out) == 0 {
				return nil
			}
			out = append(out, field{s: p})
			continue
		}
		n, err := strconv.Atoi(p[:i])
		if err != nil {
			return nil
		}
		out = append(out, field{n: n, s: p[i:]})
	}
	return out
}
