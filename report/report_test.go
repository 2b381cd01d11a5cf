package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./report -update if the change is intended.\n--- got:\n%s", name, got)
	}
}

func render(t testing.TB, write func(*bytes.Buffer, *Report) error, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeJSON(b *bytes.Buffer, r *Report) error     { return WriteJSON(b, r) }
func writeMarkdown(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }
func writeTable(b *bytes.Buffer, r *Report) error    { return WriteTable(b, r) }

func TestGoldenJSON(t *testing.T) {
	golden(t, "report.json", render(t, writeJSON, fixture()))
}

func TestGoldenMarkdown(t *testing.T) {
	golden(t, "report.md", render(t, writeMarkdown, fixture()))
}

func TestGoldenTable(t *testing.T) {
	golden(t, "table.txt", render(t, writeTable, fixture()))
}

func TestJSONValidatesAndRoundTrips(t *testing.T) {
	r := fixture()
	doc := render(t, writeJSON, r)
	if err := Validate(doc); err != nil {
		t.Fatalf("fixture report does not validate: %v", err)
	}
	var back Report
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != len(r.Findings) || len(back.Layers) != len(r.Layers) || len(back.Components) != len(r.Components) {
		t.Fatalf("round trip lost entries: %d/%d findings, %d/%d layers, %d/%d components",
			len(back.Findings), len(r.Findings), len(back.Layers), len(r.Layers), len(back.Components), len(r.Components))
	}
	for i := range r.Findings {
		a, b := r.Findings[i], back.Findings[i]
		if a.ID != b.ID || a.Line != b.Line || (a.Offset == nil) != (b.Offset == nil) || (a.Offset != nil && *a.Offset != *b.Offset) {
			t.Errorf("finding %d: %+v came back as %+v", i, a, b)
		}
	}
	for i, l := range r.Layers {
		if back.Layers[i].Path != l.Path || back.Layers[i].Status != l.Status || back.Layers[i].Parent != l.Parent {
			t.Errorf("layer %d: order or content changed: %+v vs %+v", i, l, back.Layers[i])
		}
	}
	// ids are reproducible from the documented recipe
	for _, f := range back.Findings {
		g := f
		g.ID = ""
		g.SetID()
		if g.ID != f.ID {
			t.Errorf("finding %s: recomputed id %s", f.ID, g.ID)
		}
	}
	// hostile text is escaped for HTML contexts and survives intact
	if bytes.Contains(doc, []byte("<script>")) || bytes.Contains(doc, []byte{0x1b}) {
		t.Error("report.json holds a raw <script> or ESC byte")
	}
	if !strings.Contains(back.Findings[3].Evidence, "<script>alert(1)</script>\x1b[31m") {
		t.Errorf("evidence not preserved: %q", back.Findings[3].Evidence)
	}
}

func TestJSONDeterministic(t *testing.T) {
	a := render(t, writeJSON, fixture())
	for i := 0; i < 5; i++ {
		r := fixture()
		// rebuild the maps so their insertion (and iteration) order differs
		ms := map[string]int64{}
		for _, k := range []string{"crypto", "services", "accounts"} {
			ms[k] = r.Stats.AnalyzerMS[k]
		}
		r.Stats.AnalyzerMS = ms
		if b := render(t, writeJSON, r); !bytes.Equal(a, b) {
			t.Fatal("two renderings of the same report differ")
		}
	}
	if i, j := bytes.Index(a, []byte(`"accounts": 12`)), bytes.Index(a, []byte(`"services": 3`)); i < 0 || j < 0 || i > j {
		t.Errorf("analyzer_ms keys not sorted (accounts at %d, services at %d)", i, j)
	}
	if !bytes.HasPrefix(a, []byte("{\n  \"schema\": \"fwaudit.report/v1\",\n")) {
		t.Errorf("not indented as expected: %.60q", a)
	}
}

func TestJSONNormalizesNil(t *testing.T) {
	r := &Report{
		Tool:  Tool{Name: "fwaudit", Version: "dev"},
		Image: Image{Path: "a.bin", Name: "a.bin", SHA256: strings.Repeat("0", 64), Size: 1},
		Layers: []*extract.Layer{nil,
			{ID: "L0", Path: "image", Format: "image", Kind: "image", Size: 1, Status: extract.StatusUnsupported, Entropy: 0.5}},
		Findings:   []analyzers.Finding{{ID: "FW-000000000000", Rule: "r", Category: "c", Severity: analyzers.Low, Layer: "image", Message: "m", Analyzer: "a"}},
		Components: []Component{{Name: "x"}},
	}
	doc := render(t, writeJSON, r)
	if err := Validate(doc); err != nil {
		t.Fatalf("normalised report does not validate: %v\n%s", err, doc)
	}
	for _, want := range []string{`"schema": "fwaudit.report/v1"`, `"cop": []`, `"cpes": []`, `"ran": []`, `"failures": []`, `"analyzer_ms": {}`, `"low": 1`} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, doc)
		}
	}
	if bytes.Contains(doc, []byte("null")) {
		t.Errorf("output holds null:\n%s", doc)
	}
	if r.Findings[0].Guidelines != nil || r.Schema != "" || r.Components[0].CPEs != nil {
		t.Error("WriteJSON modified its input")
	}
}

func TestValidateRejects(t *testing.T) {
	good := render(t, writeJSON, fixture())
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"bad severity", func(m map[string]any) { finding(m, 0)["severity"] = "urgent" }, "severity"},
		{"missing finding id", func(m map[string]any) { delete(finding(m, 1), "id") }, "id"},
		{"malformed finding id", func(m map[string]any) { finding(m, 1)["id"] = "FW-abc" }, "id"},
		{"line zero", func(m map[string]any) { finding(m, 0)["line"] = 0 }, "line"},
		{"negative offset", func(m map[string]any) { finding(m, 1)["offset"] = -1 }, "offset"},
		{"guideline out of range", func(m map[string]any) { finding(m, 0)["cop"] = []any{14} }, "cop"},
		{"bad layer status", func(m map[string]any) { layer(m, 2)["status"] = "broken" }, "status"},
		{"bad layer kind", func(m map[string]any) { layer(m, 2)["kind"] = "disk" }, "kind"},
		{"missing layer path", func(m map[string]any) { delete(layer(m, 3), "path") }, "path"},
		{"bad special kind", func(m map[string]any) {
			layer(m, 2)["specials"].([]any)[0].(map[string]any)["kind"] = "pipe"
		}, "kind"},
		{"wrong schema version", func(m map[string]any) { m["schema"] = "fwaudit.report/v2" }, "schema"},
		{"missing stats", func(m map[string]any) { delete(m, "stats") }, "stats"},
		{"findings null", func(m map[string]any) { m["findings"] = nil }, "findings"},
		{"bad sha256", func(m map[string]any) { m["image"].(map[string]any)["sha256"] = "XYZ" }, "sha256"},
		{"unknown severity key", func(m map[string]any) {
			m["stats"].(map[string]any)["findings_by_severity"].(map[string]any)["severe"] = 1
		}, "severe"},
		{"component without name", func(m map[string]any) { delete(m["components"].([]any)[0].(map[string]any), "name") }, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			c.edit(m)
			doc, _ := json.Marshal(m)
			err := Validate(doc)
			if err == nil {
				t.Fatalf("invalid report accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error does not mention %q: %v", c.want, err)
			}
		})
	}
	if err := Validate([]byte("{not json")); err == nil {
		t.Error("non-JSON accepted")
	}
	// readers must ignore unknown properties: additive changes keep v1
	var m map[string]any
	json.Unmarshal(good, &m)
	m["future_field"] = true
	finding(m, 0)["cvss"] = 9.8
	doc, _ := json.Marshal(m)
	if err := Validate(doc); err != nil {
		t.Errorf("additional property rejected: %v", err)
	}
}

func finding(m map[string]any, i int) map[string]any {
	return m["findings"].([]any)[i].(map[string]any)
}
func layer(m map[string]any, i int) map[string]any { return m["layers"].([]any)[i].(map[string]any) }

// TestSchemaDescribesEveryField keeps the Go types and the schema in step:
// every JSON field of every struct in the report has a property in the
// schema, required exactly when it is not omitempty, and the schema has no
// property the types lack.
func TestSchemaDescribesEveryField(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", schema["$schema"])
	}
	defs := schema["$defs"].(map[string]any)
	objects := map[reflect.Type]map[string]any{reflect.TypeFor[Report](): schema}
	for _, typ := range []reflect.Type{reflect.TypeFor[Tool](), reflect.TypeFor[Image](), reflect.TypeFor[extract.Layer](),
		reflect.TypeFor[extract.Anomaly](), reflect.TypeFor[extract.Special](), reflect.TypeFor[extract.Link](), reflect.TypeFor[extract.Protection](), reflect.TypeFor[extract.Identity](),
		reflect.TypeFor[analyzers.Finding](), reflect.TypeFor[Component](), reflect.TypeFor[AnalyzerSummary](),
		reflect.TypeFor[analyzers.Failure](), reflect.TypeFor[Stats](), reflect.TypeFor[Vulnerability](), reflect.TypeFor[Applicability](), reflect.TypeFor[VulnDB](), reflect.TypeFor[compliance.Result](), reflect.TypeFor[compliance.Item](), reflect.TypeFor[EOL](), reflect.TypeFor[SuppressedFinding](), reflect.TypeFor[analyzers.Coverage](), reflect.TypeFor[BaselineInfo](), reflect.TypeFor[Disabled](), reflect.TypeFor[Assessment]()} {
		d, ok := defs[typ.Name()].(map[string]any)
		if !ok {
			t.Errorf("schema has no $defs/%s", typ.Name())
			continue
		}
		objects[typ] = d
	}
	// every struct reachable from Report must be described
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		obj, ok := objects[typ]
		if !ok {
			t.Errorf("struct %s in the report has no schema definition", typ)
			return
		}
		props, _ := obj["properties"].(map[string]any)
		var req []string
		if rs, ok := obj["required"].([]any); ok {
			for _, r := range rs {
				req = append(req, r.(string))
			}
		}
		fields := map[string]bool{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			fields[name] = true
			if _, ok := props[name]; !ok {
				t.Errorf("%s.%s (json %q) is not in the schema", typ, f.Name, name)
			}
			omit := strings.Contains(opts, "omitempty")
			if in := slices.Contains(req, name); in == omit {
				t.Errorf("%s.%s: required=%v but omitempty=%v", typ, f.Name, in, omit)
			}
			walk(f.Type)
		}
		for name := range props {
			if !fields[name] {
				t.Errorf("schema describes %s.%s, which the type does not have", typ, name)
			}
		}
	}
	walk(reflect.TypeFor[Report]())
}

func TestSchemaEmbedded(t *testing.T) {
	onDisk, err := os.ReadFile(filepath.Join("schema", "report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := Schema()
	if !bytes.Equal(s, onDisk) {
		t.Fatal("Schema() differs from schema/report.schema.json")
	}
	s[0] = 'X'
	if Schema()[0] != '{' {
		t.Error("Schema() returns the embedded slice itself")
	}
	if !bytes.Contains(s, []byte(`"const": "`+SchemaVersion+`"`)) {
		t.Error("schema does not pin SchemaVersion")
	}
}

func TestSeverityCounts(t *testing.T) {
	r := fixture()
	r.Findings = append(r.Findings, analyzers.Finding{Severity: "bogus"})
	c := SeverityCounts(r)
	want := map[string]int{"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1, "bogus": 1}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("SeverityCounts = %v, want %v", c, want)
	}
	if n := AtOrAbove(r, analyzers.High); n != 3 {
		t.Errorf("AtOrAbove(high) = %d, want 3", n)
	}
	if n := AtOrAbove(r, analyzers.Info); n != 6 {
		t.Errorf("AtOrAbove(info) = %d, want 6 (unknown severities excluded)", n)
	}
	if c := SeverityCounts(&Report{}); len(c) != 5 || c["critical"] != 0 {
		t.Errorf("empty report: %v", c)
	}
	v := verdict(r)
	if !strings.Contains(v, "1 critical, 2 high, 1 medium, 1 low, 1 info, 1 of unknown severity; 3 findings at or above high") {
		t.Errorf("verdict = %q", v)
	}
}

func TestLayerTree(t *testing.T) {
	ls := []*extract.Layer{
		{ID: "L0", Path: "image"},
		{ID: "L1", Parent: "L0"},
		{ID: "L2", Parent: "L3"}, // child listed before its parent
		{ID: "L3", Parent: "L1"},
		{ID: "L4", Parent: "L0"},
		{ID: "L5", Parent: "L9"}, // unknown parent: own root
		{ID: "L6", Parent: "L7"}, // cycle
		{ID: "L7", Parent: "L6"},
		nil,
	}
	var got []string
	for _, n := range layerTree(ls) {
		got = append(got, strings.Repeat(".", n.level)+n.ID)
	}
	want := []string{"L0", ".L1", "..L3", "...L2", ".L4", "L5", "L6", ".L7"}
	if !slices.Equal(got, want) {
		t.Errorf("layerTree = %v, want %v", got, want)
	}
}

func TestQuoteLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain /etc/shadow": "plain /etc/shadow",
		"a\nb\r\tc":         `a\nb\r\tc`,
		"\x1b[31mred":       `\x1b[31mred`,
		`back\slash`:        `back\\slash`,
		"\x00\x7f":          `\x00\x7f`,
		"bad\xffutf8":       `bad\xffutf8`,
		"rtl\u202eoverride": `rtl\u202eoverride`,
		"zw\u200bsp":        `zw\u200bsp`,
		"ls\u2028ps\u2029":  `ls\u2028ps\u2029`,
		"c1\u009b31m":       `c1\u009b31m`,
		"ünïcödé ✓ 日本":      "ünïcödé ✓ 日本",
		"tag\U000E0041":     `tag\U000e0041`,
	} {
		if got := quoteLine(in); got != want {
			t.Errorf("quoteLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("abcdef", 4); got != "abc…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncateLeft("/a/b/c/d", 4); got != "…c/d" {
		t.Errorf("truncateLeft = %q", got)
	}
	if got := truncate("日本語テキスト", 3); got != "日本…" || !utf8.ValidString(got) {
		t.Errorf("truncate runes = %q", got)
	}
	if got := truncate("abc", 3); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 8 << 20: "8.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWritersRejectNil(t *testing.T) {
	var b bytes.Buffer
	if WriteJSON(&b, nil) == nil || WriteMarkdown(&b, nil) == nil || WriteTable(&b, nil) == nil {
		t.Error("nil report accepted")
	}
}

// TestIDRecipe recomputes ids from the recipe in docs/report-schema.md.
func TestIDRecipe(t *testing.T) {
	for _, f := range fixture().Findings {
		off := ""
		if f.Offset != nil {
			off = strconv.FormatInt(*f.Offset, 10)
		}
		in := strings.Join([]string{f.Rule, f.Layer, f.Path, strconv.Itoa(f.Line), off, f.Fingerprint}, "\x00")
		sum := sha256.Sum256([]byte(in))
		if want := "FW-" + strings.ToUpper(hex.EncodeToString(sum[:]))[:12]; f.ID != want {
			t.Errorf("%s: id %s, documented recipe gives %s", f.Rule, f.ID, want)
		}
	}
}

// TestDocsDescribeSchema checks that docs/report-schema.md names every
// property of the schema and the current version.
func TestDocsDescribeSchema(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "report-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("`"+SchemaVersion+"`")) {
		t.Errorf("docs do not name %s", SchemaVersion)
	}
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					if !bytes.Contains(doc, []byte("`"+name+"`")) {
						t.Errorf("docs/report-schema.md does not describe `%s`", name)
					}
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(schema)
	for _, enum := range []string{"critical", "high", "medium", "low", "info", "ok", "partial", "failed", "unsupported", "opaque", "stream", "container", "filesystem", "char", "block", "fifo", "socket"} {
		if !bytes.Contains(doc, []byte("`"+enum+"`")) {
			t.Errorf("docs do not list the value `%s`", enum)
		}
	}
}

// report.json keeps hostile text exactly (it decodes to the same value)
// but never carries a character that reorders or hides text when read: a
// bidi override, a zero-width character or a C1 control is a \u escape.
func TestJSONEscapesInvisible(t *testing.T) {
	r := complianceFixture()
	hostile := "rtl\u202eoverride zw\u200bsp c1\u009b tag\U000E0041 ünï ✓"
	r.Findings[0].Evidence = hostile
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"\u202e", "\u200b", "\u009b", "\U000E0041"} {
		if strings.Contains(b.String(), c) {
			t.Errorf("report.json carries %q raw", c)
		}
	}
	if !strings.Contains(b.String(), `rtl\u202eoverride`) || !strings.Contains(b.String(), `\udb40\udc41`) || !strings.Contains(b.String(), "ünï ✓") {
		t.Errorf("escapes missing or visible text escaped: %s", b.String())
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Findings[0].Evidence != hostile {
		t.Errorf("decoded evidence %q, want %q", back.Findings[0].Evidence, hostile)
	}
}
