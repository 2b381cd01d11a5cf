package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/ruledoc"
)

// findings.sarif: SARIF 2.1.0 for GitHub code scanning and other SARIF
// viewers. One run; the driver is fwaudit with one rule per fwaudit rule id;
// one result per finding, located by its path inside the image (relative to
// the uriBaseId IMAGEROOT, the root of the unpacked file system) and by its
// layer (a logical location).

// SARIFImageRoot is the uriBaseId of the paths inside the image.
const SARIFImageRoot = "IMAGEROOT"

// SARIFFingerprintKey is the partialFingerprints key carrying the finding ID.
const SARIFFingerprintKey = "fwaudit/v1"

//go:embed schema/sarif-2.1.0.json
var sarifSchemaJSON []byte

// SARIFSchema returns the OASIS SARIF 2.1.0 JSON Schema (draft-04), as
// committed in report/schema (see report/schema/README.md for its origin).
func SARIFSchema() []byte { return bytes.Clone(sarifSchemaJSON) }

// sarifMaxMessage bounds the result message text (message and evidence).
const sarifMaxMessage = 4000

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s analyzers.Severity) string {
	switch s {
	case analyzers.Critical, analyzers.High:
		return "error"
	case analyzers.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the score GitHub code scanning reads from a rule's
// properties["security-severity"] (a number from 0.0 to 10.0, written as a
// string as GitHub's documentation and CodeQL do): over 9.0 is critical,
// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
func securitySeverity(s analyzers.Severity) string {
	switch s {
	case analyzers.Critical:
		return "9.5"
	case analyzers.High:
		return "8.0"
	case analyzers.Medium:
		return "5.5"
	case analyzers.Low:
		return "3.0"
	}
	return "1.0"
}

// sarifEscape escapes the characters SARIF gives a meaning in message text:
// "[" and "]" start embedded links (SARIF 2.1.0 §3.11.6), so literal ones
// are written \[ and \] (and a backslash as \\, so that an escape from the
// data cannot combine with ours).
func sarifEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

// sarifURI renders a path inside the image as a relative URI reference
// (no leading slash, percent-encoded). A path that climbs out of the root
// ("../../etc/x", as in a path-traversal anomaly) is cleaned to stay inside;
// the raw path is kept in the location's properties.
func sarifURI(p string) string {
	clean := strings.TrimPrefix(path.Clean("/"+p), "/")
	if clean == "" {
		clean = "."
	}
	u := url.URL{Path: clean}
	return u.String()
}

type sarifRuleInfo struct {
	id         string
	category   string
	worst      analyzers.Severity
	guidelines map[int]bool
}

// sarifDefaults are properties SARIF 2.1.0 gives a default value: written
// with that value they say nothing (§3.27.9 kind "fail", §3.52.5 rank -1,
// §3.50.2 enabled true, §3.50.3 level "warning" of a reporting
// configuration, §3.14.x run language "en-US", newlineSequences, the
// driver's contents, isComprehensive false; -1 for every index, id and
// offset that was not set).
var sarifDefaults = map[string]func(v any, parent map[string]any) bool{
	"index":            isNum(-1),
	"parentIndex":      isNum(-1),
	"rank":             isNum(-1),
	"id":               isNum(-1),
	"byteOffset":       isNum(-1),
	"charOffset":       isNum(-1),
	"isComprehensive":  func(v any, _ map[string]any) bool { return v == false },
	"enabled":          func(v any, _ map[string]any) bool { return v == true },
	"language":         func(v any, _ map[string]any) bool { return v == "en-US" },
	"newlineSequences": func(v any, _ map[string]any) bool { return fmt.Sprint(v) == "[\r\n \n]" },
	"contents":         func(v any, _ map[string]any) bool { return fmt.Sprint(v) == "[localizedData nonLocalizedData]" },
	"kind": func(v any, p map[string]any) bool {
		_, isResult := p["ruleId"]
		return isResult && v == "fail"
	},
}

func isNum(n float64) func(any, map[string]any) bool {
	return func(v any, _ map[string]any) bool { f, ok := v.(float64); return ok && f == n }
}

// pruneSARIF drops default-valued properties, empty arrays and empty
// objects (after pruning), except a run's results: an empty results array
// says the run found nothing.
func pruneSARIF(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if d, ok := sarifDefaults[k]; ok && d(c, x) {
				delete(x, k)
				continue
			}
			// "level": "warning" is the default only of a reporting
			// configuration; a result's level is kept
			if key == "defaultConfiguration" && k == "level" && c == "warning" {
				delete(x, k)
				continue
			}
			p := pruneSARIF(c, k)
			if p == nil && k != "results" {
				delete(x, k)
				continue
			}
			x[k] = p
		}
		if len(x) == 0 && key != "" {
			return nil
		}
		return x
	case []any:
		out := x[:0]
		for _, c := range x {
			if p := pruneSARIF(c, key+"[]"); p != nil {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			if key == "results" {
				return []any{}
			}
			return nil
		}
		return out
	}
	return v
}

// WriteSARIF writes findings.sarif. The output is deterministic: rules are
// sorted by id and results keep the order of r.Findings.
func WriteSARIF(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	rep := sarif.NewReport()
	rep.Schema = "https://json.schemastore.org/sarif-2.1.0.json"
	// go-sarif's NewReport sets an empty property bag that would be written
	// as "properties": {}; drop it.
	rep.Properties = sarif.PropertyBag{}

	name := r.Tool.Name
	if name == "" {
		name = "fwaudit"
	}
	run := sarif.NewRunWithInformationURI(name, "https://github.com/fwaudit/fwaudit")
	if r.Tool.Version != "" {
		run.Tool.Driver.WithVersion(r.Tool.Version)
		if isSemver(r.Tool.Version) {
			run.Tool.Driver.WithSemanticVersion(strings.TrimPrefix(r.Tool.Version, "v"))
		}
	}
	imageName := r.Image.Name
	if imageName == "" {
		imageName = path.Base(r.Image.Path)
	}
	run.WithOriginalUriBaseIds(map[string]sarif.ArtifactLocation{SARIFImageRoot: *sarif.NewArtifactLocation().WithDescription(
		sarif.NewTextMessage("root of the file system unpacked from the firmware image " + sarifEscape(quoteLine(imageName))))})
	props := sarif.NewPropertyBag()
	props.Add("image", map[string]any{"name": r.Image.Name, "sha256": r.Image.SHA256, "size": r.Image.Size})
	if r.Compliance != nil && r.Compliance.PSTI != "" {
		props.Add("psti", r.Compliance.PSTI)
	}
	run.WithProperties(props)

	// the findings and those accepted by the baseline (kept as results with
	// an external suppression, so code scanning shows them as dismissed,
	// never hides them)
	all := make([]*analyzers.Finding, 0, len(r.Findings)+len(r.Suppressed))
	for i := range r.Findings {
		all = append(all, &r.Findings[i])
	}
	for i := range r.Suppressed {
		all = append(all, &r.Suppressed[i].Finding)
	}

	// rules, sorted by id
	infos := map[string]*sarifRuleInfo{}
	var ids []string
	for _, f := range all {
		ri := infos[f.Rule]
		if ri == nil {
			ri = &sarifRuleInfo{id: f.Rule, category: f.Category, worst: f.Severity, guidelines: map[int]bool{}}
			infos[f.Rule] = ri
			ids = append(ids, f.Rule)
		}
		if f.Severity.Rank() > ri.worst.Rank() {
			ri.worst = f.Severity
		}
		if ri.category == "" {
			ri.category = f.Category
		}
		for _, g := range f.Guidelines {
			ri.guidelines[g] = true
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		ri := infos[id]
		// what the rule means comes from its own data (ruledoc), never
		// from one finding: every alert of the rule shows the same text
		doc := ruledoc.Lookup(id, ri.category)
		rule := run.AddRule(id)
		rule.WithName(ruleName(id))
		rule.WithShortDescription(sarif.NewMultiformatMessageString().WithText(truncate(quoteLine(doc.Title), 200)))
		rule.WithFullDescription(sarif.NewMultiformatMessageString().WithText(truncate(quoteLine(doc.Description), 1000)))
		rule.WithHelp(sarif.NewMultiformatMessageString().WithText(doc.HelpText()).WithMarkdown(doc.HelpMarkdown()))
		rule.WithHelpURI(doc.HelpURI())
		rule.WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(ri.worst)))
		rp := sarif.NewPropertyBag()
		rp.AddTag("security")
		if ri.category != "" {
			rp.AddTag(ri.category)
		}
		gs := make([]int, 0, len(ri.guidelines))
		for g := range ri.guidelines {
			gs = append(gs, g)
		}
		sort.Ints(gs)
		for _, g := range gs {
			rp.AddTag("CoP-" + strconv.Itoa(g))
		}
		rp.Add("security-severity", securitySeverity(ri.worst))
		rp.Add("severity", string(ri.worst))
		rule.WithProperties(rp)
	}

	for i := range r.Findings {
		run.AddResult(sarifResult(run, &r.Findings[i], imageName))
	}
	for i := range r.Suppressed {
		s := &r.Suppressed[i]
		res := sarifResult(run, &s.Finding, imageName)
		sup := sarif.NewSuppression().WithKind("external").WithStatus("accepted").
			WithJustification(truncate(quoteLine(s.Justification), 1000))
		sp := sarif.NewPropertyBag()
		if r.Baseline != nil {
			sp.Add("baseline", r.Baseline.File)
			sp.Add("baselineSha256", r.Baseline.SHA256)
		}
		if s.Expires != "" {
			sp.Add("expires", s.Expires)
		}
		if len(sp.Properties) > 0 {
			sup.WithProperties(sp)
		}
		res.AddSuppression(sup)
		run.AddResult(res)
	}
	if a := r.Assessment; a != nil && a.Status == NotAssessed {
		// the image could not be assessed: say so where code scanning
		// shows tool problems
		inv := sarif.NewInvocation().WithExecutionSuccessful(true)
		inv.AddToolExecutionNotification(sarif.NewNotification().WithLevel("error").
			WithMessage(sarif.NewTextMessage(truncate(quoteLine("the image could not be assessed: "+a.Reason), 1000))))
		run.AddInvocation(inv)
	}
	rep.AddRun(run)

	// go-sarif writes every optional field with its default value (empty
	// arrays, index -1, kind "fail", language "en-US", ...); pruneSARIF
	// drops them, and encoding/json writes the rest with sorted keys. We
	// indent it ourselves so the output ends with a newline.
	raw, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	raw, err = json.Marshal(pruneSARIF(doc, ""))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

func sarifResult(run *sarif.Run, f *analyzers.Finding, imageName string) *sarif.Result {
	res := sarif.NewRuleResult(f.Rule).WithRuleIndex(run.GetRuleIndex(f.Rule))
	res.WithLevel(sarifLevel(f.Severity))
	text := quoteLine(f.Message)
	if text == "" {
		text = strings.ReplaceAll(f.Rule, "-", " ")
	}
	if f.Evidence != "" {
		text += " Evidence: " + quoteLine(f.Evidence)
	}
	res.WithMessage(sarif.NewTextMessage(sarifEscape(truncate(text, sarifMaxMessage))))

	loc := sarif.NewLocation()
	pl := sarif.NewPhysicalLocation()
	lp := sarif.NewPropertyBag()
	if f.Path != "" {
		al := sarif.NewArtifactLocation().WithURI(sarifURI(f.Path)).WithURIBaseID(SARIFImageRoot)
		pl.WithArtifactLocation(al)
		lp.Add("path", f.Path)
		if f.Line > 0 || f.Offset != nil {
			reg := sarif.NewRegion()
			if f.Line > 0 {
				reg.WithStartLine(f.Line)
			}
			if f.Offset != nil && *f.Offset >= 0 {
				reg.WithByteOffset(int(*f.Offset))
			}
			pl.WithRegion(reg)
		}
	} else {
		// no file: the finding is about a chunk of the image itself
		pl.WithArtifactLocation(sarif.NewArtifactLocation().WithURI(sarifURI(imageName)))
		if f.Offset != nil {
			lp.Add("offset", *f.Offset)
		}
	}
	loc.WithPhysicalLocation(pl)
	if f.Layer != "" || f.LayerID != "" {
		// names are for display (escaped); the properties keep the raw text
		ll := sarif.NewLogicalLocation().WithKind("module").WithFullyQualifiedName(quoteLine(f.Layer))
		if f.LayerID != "" {
			ll.WithName(quoteLine(f.LayerID))
		} else {
			ll.WithName(quoteLine(f.Layer))
		}
		loc.WithLogicalLocations([]*sarif.LogicalLocation{ll})
		lp.Add("layer", f.Layer)
		if f.LayerID != "" {
			lp.Add("layer_id", f.LayerID)
		}
	}
	loc.WithProperties(lp)
	res.WithLocations([]*sarif.Location{loc})

	if f.ID != "" {
		res.WithPartialFingerprints(map[string]string{SARIFFingerprintKey: f.ID})
	}
	rp := sarif.NewPropertyBag()
	rp.Add("severity", string(f.Severity))
	if f.Category != "" {
		rp.Add("category", f.Category)
	}
	if f.Analyzer != "" {
		rp.Add("analyzer", f.Analyzer)
	}
	if f.Fingerprint != "" {
		rp.Add("fingerprint", f.Fingerprint)
	}
	if len(f.Guidelines) > 0 {
		rp.Add("cop", f.Guidelines)
		for _, g := range f.Guidelines {
			rp.AddTag("CoP-" + strconv.Itoa(g))
		}
	}
	res.WithProperties(rp)
	return res
}

// ruleName turns "default-password" into "DefaultPassword" and
// "extraction-anomaly/path-traversal" into "ExtractionAnomalyPathTraversal".
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z':
			if up {
				c -= 'a' - 'A'
			}
			b.WriteRune(c)
			up = false
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 {
		return "Rule"
	}
	return b.String()
}

// isSemver reports whether v looks like a semantic version ("1.2.3",
// "v1.2.3-rc1").
func isSemver(v string) bool {
	v = strings.TrimPrefix(v, "v")
	core, _, _ := strings.Cut(v, "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
	}
	return true
}
