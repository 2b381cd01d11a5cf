// Package compliance turns a scan's findings into verdicts on the items of
// the compliance frameworks in rules/compliance (UK Code of Practice, ETSI
// EN 303 645, UK PSTI, EU CRA Annex I).
//
// Verdicts, in the order they are decided for each item:
//
//   - fail: a finding at or above the threshold is mapped to the item (by
//     the rule data, or — for Code of Practice guidelines — by the
//     guideline numbers the analyzer put on the finding). The findings are
//     listed. A finding is evidence whatever else went wrong.
//   - pass-with-exceptions: every finding that would fail the item was
//     accepted (by a baseline); the item is never a plain pass then. The
//     accepted findings are listed in Accepted.
//   - needs-evidence: the item has no static checks, only an ask; the image
//     cannot decide it and the manufacturer must supply what Needs says.
//   - not-assessed: an analyzer among the item's checks did not run or
//     failed; or nothing of the image could be unpacked (Input.Unassessable);
//     or a layer could not be fully unpacked (status failed, partial,
//     unsupported, encrypted or opaque data), so what it holds was not
//     checked; or none of the item's checks found content it applies to
//     (no account database or configuration file for the password checks,
//     no component for the update checks: Input.Coverage). The note names
//     the analyzers, layers or missing content.
//   - needs-evidence: the checks ran over every layer and found nothing, but
//     the item also asks for something only the manufacturer has.
//   - pass: every check ran over every layer, at least one of them examined
//     content it applies to, and none found anything at or above the
//     threshold. A pass is about the image, not the whole product.
//
// The default threshold is medium: low and info findings (stale-ish
// hints, extraction notes) are listed in the note but never fail an item.
package compliance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

// Verdict on one item.
type Verdict string

const (
	Fail               Verdict = "fail"
	PassWithExceptions Verdict = "pass-with-exceptions"
	Pass               Verdict = "pass"
	NeedsEvidence      Verdict = "needs-evidence"
	NotAssessed        Verdict = "not-assessed"
)

// DefaultThreshold is the severity from which a mapped finding fails an item.
const DefaultThreshold = analyzers.Medium

// Item is the verdict on one guideline, provision or requirement.
type Item struct {
	Framework string  `json:"framework"`
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Verdict   Verdict `json:"verdict"`
	// Findings are the IDs of the findings that fail the item, worst first.
	Findings []string `json:"findings"`
	// Accepted are the IDs of findings that would fail the item but were
	// accepted by a baseline, worst first.
	Accepted []string `json:"accepted,omitempty"`
	// Checks are the item's static checks that ran.
	Checks []string `json:"checks"`
	// Needs is what the manufacturer must supply.
	Needs string `json:"needs,omitempty"`
	// Hints are what the image contains towards the item ("hint-id: path").
	Hints []string `json:"hints,omitempty"`
	Note  string   `json:"note,omitempty"`
}

// Result holds the verdicts by framework id (items in the order of the rule
// data) and the overall PSTI line.
type Result struct {
	Frameworks map[string][]Item `json:"frameworks"`
	// Order lists the framework ids in the order of the rule data.
	Order []string `json:"order"`
	// PSTI is one line on the UK PSTI requirements.
	PSTI string `json:"psti"`
	// Threshold is the severity from which a mapped finding failed an
	// item, and Hints what the image contains towards the items (hint id
	// → paths, as FindHints found them): the judgement's inputs that the
	// rest of a report does not carry, recorded so that a stored report
	// can be judged again with added findings (scan.Rejudge).
	Threshold analyzers.Severity  `json:"threshold,omitempty"`
	Hints     map[string][]string `json:"hints,omitempty"`
}

// Input is what Evaluate judges.
type Input struct {
	Findings []analyzers.Finding
	// Ran lists the analyzers (and stages: components, vulns) that
	// completed; Failed those that failed. Anything in neither did not run.
	Ran    []string
	Failed []string
	Layers []*extract.Layer
	// Threshold: findings at or above it fail the items they map to; the
	// zero value means DefaultThreshold (medium).
	Threshold analyzers.Severity
	// Hints maps hint ids to the paths found (FindHints).
	Hints map[string][]string
	// Accepted are findings a baseline accepted: they do not fail an item,
	// but an item they would fail is pass-with-exceptions, never pass.
	Accepted []analyzers.Finding
	// Coverage says what content each check examined. When it is not nil,
	// an item passes only if at least one of its checks examined something
	// (a check missing from the map examined nothing).
	Coverage map[string]analyzers.Coverage
	// Unassessable, when set, says why nothing of the image could be
	// unpacked and analysed (empty, text, random or encrypted data, an
	// unsupported container): every item with checks is then not-assessed
	// unless a finding fails it.
	Unassessable string
}

type ref = rulescompliance.Ref

// Evaluate judges the image against every framework of rules (nil means
// the embedded rules).
func Evaluate(in Input, rules *rulescompliance.Set) Result {
	if rules == nil {
		rules = rulescompliance.Default()
	}
	thr := in.Threshold
	if thr.Rank() < 0 {
		thr = DefaultThreshold
	}
	fs := slices.Clone(in.Findings)
	analyzers.SortFindings(fs)

	fails := map[ref][]*analyzers.Finding{}
	below := map[ref][]*analyzers.Finding{}
	for i := range fs {
		f := &fs[i]
		for _, r := range refsOf(rules, f) {
			if f.Severity.Rank() >= thr.Rank() {
				fails[r] = appendUnique(fails[r], f)
			} else {
				below[r] = appendUnique(below[r], f)
			}
		}
	}

	accepted := map[ref][]*analyzers.Finding{}
	acc := slices.Clone(in.Accepted)
	analyzers.SortFindings(acc)
	for i := range acc {
		f := &acc[i]
		if f.Severity.Rank() < thr.Rank() {
			continue
		}
		for _, r := range refsOf(rules, f) {
			accepted[r] = appendUnique(accepted[r], f)
		}
	}

	ran, failed := set(in.Ran), set(in.Failed)
	incomplete := incompleteLayers(in.Layers)
	ctx := judgeContext{ran: ran, failed: failed, incomplete: incomplete, hints: in.Hints, thr: thr,
		coverage: in.Coverage, unassessable: in.Unassessable}

	res := Result{Frameworks: map[string][]Item{}, Order: []string{}}
	for _, fw := range rules.Frameworks {
		res.Order = append(res.Order, fw.ID)
		items := make([]Item, 0, len(fw.Items))
		for _, it := range fw.Items {
			r := ref{Framework: fw.ID, ID: it.ID}
			items = append(items, ctx.judge(fw, it, fails[r], accepted[r], below[r]))
		}
		res.Frameworks[fw.ID] = items
	}
	res.PSTI = pstiLine(res.Frameworks[rulescompliance.PSTI], fails)
	res.Threshold = thr
	for h, paths := range in.Hints {
		if len(paths) == 0 {
			continue
		}
		if res.Hints == nil {
			res.Hints = map[string][]string{}
		}
		res.Hints[h] = slices.Clone(paths)
	}
	return res
}

// Refs returns the items a finding bears on: ETSI, PSTI and CRA items by
// the compliance data's mappings, Code of Practice items by the finding's
// guidelines (which come from its rule's data).
func Refs(rules *rulescompliance.Set, f *analyzers.Finding) []rulescompliance.Ref {
	return refsOf(rules, f)
}

func refsOf(rules *rulescompliance.Set, f *analyzers.Finding) []ref {
	refs := rules.Match(f.Rule, f.Category)
	if cop := rules.Framework(rulescompliance.CoP); cop != nil {
		for _, g := range f.Guidelines {
			r := ref{Framework: rulescompliance.CoP, ID: fmt.Sprint(g)}
			if cop.Item(r.ID) != nil && !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// judgeContext is what every item is judged against.
type judgeContext struct {
	ran, failed  map[string]bool
	incomplete   []string
	hints        map[string][]string
	thr          analyzers.Severity
	coverage     map[string]analyzers.Coverage
	unassessable string
}

// uncovered returns, when none of checks examined any content, why ("accounts
// found no account databases, credentials found no configuration files");
// empty when at least one did, or when coverage is not tracked.
func (c judgeContext) uncovered(checks []string) string {
	if c.coverage == nil || len(checks) == 0 {
		return ""
	}
	var parts []string
	for _, ch := range checks {
		cv := c.coverage[ch]
		if cv.Examined > 0 {
			return ""
		}
		what := cv.What
		if what == "" {
			what = "content it applies to"
		}
		parts = append(parts, ch+" found no "+what)
	}
	return strings.Join(parts, ", ")
}

func (c judgeContext) judge(fw *rulescompliance.Framework, it *rulescompliance.Item, fail, accepted, below []*analyzers.Finding) Item {
	ran, failed, incomplete, hints, thr := c.ran, c.failed, c.incomplete, c.hints, c.thr
	out := Item{Framework: fw.ID, ID: it.ID, Title: it.Title, Findings: []string{}, Checks: []string{}, Needs: it.Ask}
	var missing []string
	for _, c := range it.Checks {
		switch {
		case ran[c]:
			out.Checks = append(out.Checks, c)
		case failed[c]:
			missing = append(missing, c+" failed")
		default:
			missing = append(missing, c+" did not run")
		}
	}
	for _, h := range it.ImageHints {
		for _, p := range hints[h] {
			out.Hints = append(out.Hints, h+": "+p)
		}
	}
	for _, f := range accepted {
		out.Accepted = append(out.Accepted, f.ID)
	}
	var notes []string
	switch {
	case len(fail) > 0:
		out.Verdict = Fail
		for _, f := range fail {
			out.Findings = append(out.Findings, f.ID)
		}
		notes = append(notes, fmt.Sprintf("%d finding(s) at or above %s: %s", len(fail), thr, describe(fail[0])))
	case len(accepted) > 0:
		out.Verdict = PassWithExceptions
		notes = append(notes, fmt.Sprintf("passes only because %d finding(s) at or above %s were accepted by the baseline: %s",
			len(accepted), thr, describe(accepted[0])))
		if len(missing) > 0 {
			notes = append(notes, "also not assessed: "+strings.Join(missing, ", "))
		}
	case len(it.Checks) == 0:
		out.Verdict = NeedsEvidence
		notes = append(notes, "a static scan of the image cannot decide this; the manufacturer must supply evidence")
	case len(missing) > 0:
		out.Verdict = NotAssessed
		notes = append(notes, "not assessed: "+strings.Join(missing, ", "))
	case c.unassessable != "":
		out.Verdict = NotAssessed
		notes = append(notes, "not assessed: "+c.unassessable)
	case len(incomplete) > 0:
		out.Verdict = NotAssessed
		notes = append(notes, "not assessed: layer(s) "+strings.Join(incomplete, "; ")+
			" could not be fully unpacked, so what they hold was not checked")
	case c.uncovered(out.Checks) != "":
		out.Verdict = NotAssessed
		notes = append(notes, "not assessed: the image holds nothing these checks apply to: "+c.uncovered(out.Checks))
	case it.Ask != "":
		out.Verdict = NeedsEvidence
		notes = append(notes, fmt.Sprintf("%s found nothing at or above %s in the image; the rest needs evidence from the manufacturer",
			strings.Join(it.Checks, ", "), thr))
	default:
		out.Verdict = Pass
		notes = append(notes, fmt.Sprintf("about the image, not the whole product: %s found nothing at or above %s over every layer",
			strings.Join(it.Checks, ", "), thr))
		if it.CannotCheck != "" {
			notes = append(notes, "not checked: "+it.CannotCheck)
		}
	}
	if out.Verdict == Fail && len(missing) > 0 {
		notes = append(notes, "also: "+strings.Join(missing, ", "))
	}
	if len(below) > 0 {
		ids := make([]string, 0, len(below))
		for _, f := range below {
			ids = append(ids, f.ID)
		}
		notes = append(notes, fmt.Sprintf("%d finding(s) below %s not counted: %s", len(below), thr, strings.Join(ids, ", ")))
	}
	out.Note = strings.Join(notes, "; ")
	return out
}

// describe renders a finding for a note: "default password found at
// /etc/shadow in layer L2".
func describe(f *analyzers.Finding) string {
	s := strings.ReplaceAll(f.Rule, "-", " ")
	if f.Path != "" {
		s += " found at " + f.Path
	} else if f.Layer != "" {
		s += " found in " + f.Layer
	}
	if f.LayerID != "" {
		s += " in layer " + f.LayerID
	}
	return s
}

// incompleteLayers names the layers whose content was not (fully) analysed.
func incompleteLayers(layers []*extract.Layer) []string {
	var out []string
	for _, l := range layers {
		if l == nil {
			continue
		}
		switch l.Status {
		case extract.StatusFailed, extract.StatusPartial, extract.StatusUnsupported, extract.StatusOpaque:
			name := l.ID
			if name == "" {
				name = l.Path
			}
			state := string(l.Status)
			if l.Encryption != "" {
				state = "encrypted with " + l.Encryption + ": cannot be assessed without the vendor key"
			}
			out = append(out, fmt.Sprintf("%s (%s, %s)", name, l.Format, state))
		}
	}
	return out
}

// pstiLine summarises the PSTI verdicts in one line.
func pstiLine(items []Item, fails map[ref][]*analyzers.Finding) string {
	if len(items) == 0 {
		return ""
	}
	var parts, evidence, passed []string
	for _, it := range items {
		switch it.Verdict {
		case Fail:
			fs := fails[ref{Framework: rulescompliance.PSTI, ID: it.ID}]
			d := describe(fs[0])
			if len(fs) > 1 {
				d += fmt.Sprintf(" and %d more", len(fs)-1)
			}
			parts = append(parts, fmt.Sprintf("would fail requirement %s (%s)", it.ID, d))
		case PassWithExceptions:
			parts = append(parts, fmt.Sprintf("requirement %s passes only with %d finding(s) accepted by a baseline", it.ID, len(it.Accepted)))
		case NotAssessed:
			parts = append(parts, fmt.Sprintf("requirement %s not assessed (%s)", it.ID, strings.TrimPrefix(it.Note, "not assessed: ")))
		case NeedsEvidence:
			evidence = append(evidence, it.ID)
		case Pass:
			passed = append(passed, it.ID)
		}
	}
	if len(passed) > 0 {
		parts = append(parts, fmt.Sprintf("no evidence against %s in the image", plural("requirement", passed)))
	}
	if len(evidence) > 0 {
		verb := "needs"
		if len(evidence) > 1 {
			verb = "need"
		}
		parts = append(parts, fmt.Sprintf("%s %s evidence from the manufacturer", plural("requirement", evidence), verb))
	}
	return "PSTI: " + strings.Join(parts, "; ")
}

func plural(word string, ids []string) string {
	switch len(ids) {
	case 1:
		return word + " " + ids[0]
	case 2:
		return word + "s " + ids[0] + " and " + ids[1]
	}
	return word + "s " + strings.Join(ids[:len(ids)-1], ", ") + " and " + ids[len(ids)-1]
}

func appendUnique(fs []*analyzers.Finding, f *analyzers.Finding) []*analyzers.Finding {
	for _, g := range fs {
		if g == f || (g.ID != "" && g.ID == f.ID) {
			return fs
		}
	}
	return append(fs, f)
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Counts returns, per framework, how many items have each verdict.
func (r Result) Counts() map[string]map[Verdict]int {
	out := map[string]map[Verdict]int{}
	for id, items := range r.Frameworks {
		m := map[Verdict]int{}
		for _, it := range items {
			m[it.Verdict]++
		}
		out[id] = m
	}
	return out
}
