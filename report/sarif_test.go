package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fwaudit/fwaudit/analyzers"
)

// sarifSchemaID is the id of the committed OASIS schema.
const sarifSchemaID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// offlineLoader refuses every URL: the schema and its meta-schema (draft-04,
// built into jsonschema) must resolve without the network.
type offlineLoader struct{}

func (offlineLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("no network: refusing to load %s", u)
}

var sarifSchemaOnce = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SARIFSchema()))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{})
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaID, doc); err != nil {
		return nil, err
	}
	return c.Compile(sarifSchemaID)
})

func validateSARIF(t testing.TB, doc []byte) {
	t.Helper()
	sch, err := sarifSchemaOnce()
	if err != nil {
		t.Fatalf("SARIF schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("findings.sarif is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("findings.sarif does not match SARIF 2.1.0: %v", err)
	}
}

func writeSARIF(b *bytes.Buffer, r *Report) error { return WriteSARIF(b, r) }

// sarifLog is the part of SARIF the tests read.
type sarifLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct{ Text string }
					FullDescription  struct{ Text string }
					Help             struct{ Text, Markdown string }
					HelpURI          string                 `json:"helpUri"`
					Default          struct{ Level string } `json:"defaultConfiguration"`
					Properties       map[string]any         `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]any `json:"originalUriBaseIds"`
		Results            []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine  *int `json:"startLine"`
						ByteOffset *int `json:"byteOffset"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name               string `json:"name"`
					FullyQualifiedName string `json:"fullyQualifiedName"`
				} `json:"logicalLocations"`
				Properties map[string]any `json:"properties"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          map[string]any    `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t testing.TB, doc []byte) *sarifLog {
	t.Helper()
	var l sarifLog
	if err := json.Unmarshal(doc, &l); err != nil {
		t.Fatal(err)
	}
	if l.Version != "2.1.0" || len(l.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with one run", l.Version, len(l.Runs))
	}
	return &l
}

func TestGoldenSARIF(t *testing.T) {
	golden(t, "findings.sarif", render(t, writeSARIF, complianceFixture()))
}

func TestSARIFValidAndMapped(t *testing.T) {
	r := complianceFixture()
	doc := render(t, writeSARIF, r)
	validateSARIF(t, doc)
	l := decodeSARIF(t, doc)
	run := l.Runs[0]
	if run.Tool.Driver.Name != "fwaudit" {
		t.Errorf("driver %q", run.Tool.Driver.Name)
	}
	if _, ok := run.OriginalURIBaseIDs[SARIFImageRoot]; !ok {
		t.Errorf("no originalUriBaseIds[%s]", SARIFImageRoot)
	}
	// one rule per rule id, sorted
	rules := map[string]int{}
	for i, ru := range run.Tool.Driver.Rules {
		if _, dup := rules[ru.ID]; dup {
			t.Fatalf("rule %s twice", ru.ID)
		}
		rules[ru.ID] = i
		if i > 0 && run.Tool.Driver.Rules[i-1].ID > ru.ID {
			t.Errorf("rules not sorted: %s after %s", ru.ID, run.Tool.Driver.Rules[i-1].ID)
		}
		if ru.Name == "" || ru.ShortDescription.Text == "" || ru.FullDescription.Text == "" || ru.Help.Text == "" || ru.Help.Markdown == "" || ru.HelpURI == "" {
			t.Errorf("rule %s without name, descriptions, help or helpUri: %+v", ru.ID, ru)
		}
		// the rule's meaning, never one finding's details
		for _, f := range r.Findings {
			if f.Rule == ru.ID && f.Message != "" && (strings.Contains(ru.FullDescription.Text, f.Message) || strings.Contains(ru.Help.Text, f.Message)) {
				t.Errorf("rule %s describes itself with a finding's message %q", ru.ID, f.Message)
			}
		}
	}
	// documented rules take their text from the rule data
	dp := run.Tool.Driver.Rules[rules["default-password"]]
	if !strings.Contains(dp.ShortDescription.Text, "default password") || !strings.Contains(dp.FullDescription.Text, "dictionary") ||
		!strings.Contains(dp.Help.Markdown, "**Fix:**") || !strings.HasSuffix(dp.HelpURI, "docs/rules.md#rule-default-password") {
		t.Errorf("default-password descriptor not from its rule data: %+v", dp)
	}
	want := map[string]bool{}
	for _, f := range r.Findings {
		want[f.Rule] = true
	}
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	ruleProps := func(id string) map[string]any { return run.Tool.Driver.Rules[rules[id]].Properties }
	// severity mapping, security-severity and guideline tags
	for _, tc := range []struct {
		rule, level, score string
		tags               []string
	}{
		{"default-password", "error", "9.5", []string{"security", "credentials", "CoP-1"}},
		{"eol-component", "error", "8.0", []string{"security", "outdated-component", "CoP-3"}},
		{"telnet-enabled", "", "5.5", []string{"security", "services", "CoP-6"}}, // "warning" is the default, not written
		{"extraction-failed", "note", "3.0", []string{"security", "extraction-anomaly"}},
		{"opaque-data", "note", "1.0", []string{"security", "extraction-anomaly"}},
	} {
		ru := run.Tool.Driver.Rules[rules[tc.rule]]
		if ru.Default.Level != tc.level {
			t.Errorf("rule %s level %q, want %q", tc.rule, ru.Default.Level, tc.level)
		}
		if got := ruleProps(tc.rule)["security-severity"]; got != tc.score {
			t.Errorf("rule %s security-severity %v, want %s", tc.rule, got, tc.score)
		}
		tags := fmt.Sprint(ruleProps(tc.rule)["tags"])
		if tags != fmt.Sprint(tc.tags) {
			t.Errorf("rule %s tags %s, want %v", tc.rule, tags, tc.tags)
		}
	}
	// one result per finding, in order
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(r.Findings))
	}
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.RuleID != f.Rule || res.RuleIndex != rules[f.Rule] {
			t.Errorf("result %d: rule %s (%d), want %s (%d)", i, res.RuleID, res.RuleIndex, f.Rule, rules[f.Rule])
		}
		if res.Level != sarifLevel(f.Severity) {
			t.Errorf("result %d: level %s for %s", i, res.Level, f.Severity)
		}
		if res.PartialFingerprints[SARIFFingerprintKey] != f.ID || f.ID == "" {
			t.Errorf("result %d: partialFingerprints %v, want %s", i, res.PartialFingerprints, f.ID)
		}
		if !strings.HasPrefix(res.Message.Text, sarifEscape(quoteLine(f.Message))[:20]) {
			t.Errorf("result %d: message %q", i, res.Message.Text)
		}
		if f.Evidence != "" && !strings.Contains(res.Message.Text, "Evidence: ") {
			t.Errorf("result %d: no evidence in %q", i, res.Message.Text)
		}
		if len(res.Locations) != 1 {
			t.Fatalf("result %d: %d locations", i, len(res.Locations))
		}
		loc := res.Locations[0]
		al := loc.PhysicalLocation.ArtifactLocation
		if f.Path != "" {
			if al.URIBaseID != SARIFImageRoot || strings.HasPrefix(al.URI, "/") {
				t.Errorf("result %d: uri %q base %q", i, al.URI, al.URIBaseID)
			}
			if loc.Properties["path"] != f.Path {
				t.Errorf("result %d: path property %v, want %q", i, loc.Properties["path"], f.Path)
			}
		}
		reg := loc.PhysicalLocation.Region
		if f.Line > 0 && (reg == nil || reg.StartLine == nil || *reg.StartLine != f.Line) {
			t.Errorf("result %d: region %+v, want line %d", i, reg, f.Line)
		}
		if f.Path != "" && f.Offset != nil && (reg == nil || reg.ByteOffset == nil || int64(*reg.ByteOffset) != *f.Offset) {
			t.Errorf("result %d: region %+v, want byte offset %d", i, reg, *f.Offset)
		}
		if len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].FullyQualifiedName != quoteLine(f.Layer) || loc.LogicalLocations[0].Name != f.LayerID {
			t.Errorf("result %d: logical locations %+v, want layer %s (%s)", i, loc.LogicalLocations, f.LayerID, f.Layer)
		}
	}
	// specific URIs
	uris := map[string]string{}
	for i, res := range run.Results {
		uris[r.Findings[i].Rule] = res.Locations[0].PhysicalLocation.ArtifactLocation.URI
	}
	for rule, want := range map[string]string{
		"default-password":                  "etc/shadow",
		"extraction-anomaly/path-traversal": "etc/cron.d/x", // kept inside the root
		"opaque-data":                       "Archer_C7v5.bin",
	} {
		if uris[rule] != want {
			t.Errorf("%s: uri %q, want %q", rule, uris[rule], want)
		}
	}
}

func TestSARIFHostile(t *testing.T) {
	r := complianceFixture()
	paths := []string{"/www/" + hostileHTML, "/a b/c%d?e#f", "/x:y/z", "\xff\xfe/bad", "../../../../etc/passwd", "/", "relative/p"}
	for i := range r.Findings {
		r.Findings[i].Evidence = hostile + " [x](1) \\[y](2)"
		r.Findings[i].Message = "msg [link](3) " + hostileHTML
		r.Findings[i].Path = paths[i%len(paths)]
		r.Findings[i].Layer = hostile
	}
	r.Image.Name = hostile
	doc := render(t, writeSARIF, r)
	validateSARIF(t, doc)
	if bytes.Contains(doc, []byte("<script")) {
		t.Error("raw <script in findings.sarif (encoding/json escapes < as \\u003c)")
	}
	l := decodeSARIF(t, doc)
	for i, res := range l.Runs[0].Results {
		uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "..") {
			t.Errorf("result %d: uri %q is not a relative reference inside the root (%v)", i, uri, err)
		}
		// no unescaped bracket: SARIF would read it as an embedded link
		text := res.Message.Text
		for j := 0; j < len(text); j++ {
			switch text[j] {
			case '\\':
				j++ // escaped character
			case '[', ']':
				t.Fatalf("result %d: unescaped %q at %d in %q", i, text[j], j, text)
			}
		}
		if !utf8.ValidString(text) {
			t.Errorf("result %d: message is not UTF-8", i)
		}
		// what viewers display is escaped; properties keep the raw text
		checkNoControl(t, "message", []byte(text))
		for _, ll := range res.Locations[0].LogicalLocations {
			checkNoControl(t, "logical location", []byte(ll.Name+ll.FullyQualifiedName))
		}
	}
}

func TestSARIFEmptyAndNil(t *testing.T) {
	doc := render(t, writeSARIF, &Report{})
	validateSARIF(t, doc)
	l := decodeSARIF(t, doc)
	if n := len(l.Runs[0].Results); n != 0 {
		t.Fatalf("%d results for an empty report", n)
	}
	if !bytes.Contains(doc, []byte(`"results": []`)) {
		t.Error("an empty run must still have results: [] (GitHub requires it)")
	}
	if err := WriteSARIF(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("nil report accepted")
	}
	// the schema check itself rejects a broken log
	sch, err := sarifSchemaOnce()
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}},"results":[{"level":"fatal","message":{"text":"x"}}]}]}`))
	if sch.Validate(bad) == nil {
		t.Fatal("the SARIF schema accepted a driver without a name and level \"fatal\"")
	}
}

func TestSARIFHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"default-password":                  "DefaultPassword",
		"extraction-anomaly/path-traversal": "ExtractionAnomalyPathTraversal",
		"x509-weak":                         "X509Weak",
		"":                                  "Rule",
		"--":                                "Rule",
	} {
		if got := ruleName(in); got != want {
			t.Errorf("ruleName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/etc/shadow": "etc/shadow", "etc/x": "etc/x", "/a b": "a%20b", "/x:y": "./x:y",
		"../../etc/p": "etc/p", "/": ".", "/a/./b/../c": "a/c", "/q?#%": "q%3F%23%25",
	} {
		if got := sarifURI(in); got != want {
			t.Errorf("sarifURI(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sarifEscape(`a[b]\c`); got != `a\[b\]\\c` {
		t.Errorf("sarifEscape = %q", got)
	}
	for _, v := range []string{"1.2.3", "v0.1.0-rc1", "10.20.30+build"} {
		if !isSemver(v) {
			t.Errorf("isSemver(%q) = false", v)
		}
	}
	for _, v := range []string{"dev", "1.2", "1.2.x", "(devel)", ""} {
		if isSemver(v) {
			t.Errorf("isSemver(%q) = true", v)
		}
	}
	for s, want := range map[analyzers.Severity]string{analyzers.Critical: "error", analyzers.High: "error", analyzers.Medium: "warning", analyzers.Low: "note", analyzers.Info: "note", "bogus": "note"} {
		if got := sarifLevel(s); got != want {
			t.Errorf("sarifLevel(%s) = %s, want %s", s, got, want)
		}
	}
}

// FuzzSARIF puts arbitrary text where an image controls it and checks that
// findings.sarif stays valid SARIF 2.1.0 with relative URIs.
func FuzzSARIF(f *testing.F) {
	f.Add(hostile, "/etc/passwd", "busybox", "msg [x](1)")
	f.Add("\\]", "../../x", "a:b", "")
	f.Add("\xff", "/%zz/\x00", "\u202e", "\\\\[")
	f.Fuzz(func(t *testing.T, evidence, path, name, message string) {
		// Keep each execution fast: every string is repeated in every
		// result and the whole log is schema-validated; longer strings
		// exercise nothing shorter ones do not.
		if len(evidence)+len(path)+len(name)+len(message) > 2048 {
			return
		}
		r := complianceFixture()
		for i := range r.Findings {
			r.Findings[i].Evidence = evidence
			r.Findings[i].Path = path
			r.Findings[i].Message = message
			r.Findings[i].Layer = name
		}
		r.Image.Name = name
		r.Tool.Version = name
		doc := render(t, writeSARIF, r)
		validateSARIF(t, doc)
		l := decodeSARIF(t, doc)
		if len(l.Runs[0].Results) != len(r.Findings) {
			t.Fatalf("%d results, want %d", len(l.Runs[0].Results), len(r.Findings))
		}
		for _, res := range l.Runs[0].Results {
			uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
			if u, err := url.Parse(uri); err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(uri, "/") {
				t.Fatalf("uri %q from path %q (%v)", uri, path, err)
			}
			checkNoControl(t, "message", []byte(res.Message.Text))
		}
	})
}
