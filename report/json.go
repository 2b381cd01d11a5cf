package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

//go:embed schema/report.schema.json
var schemaJSON []byte

// SchemaURL is the $id of the JSON Schema of report.json.
const SchemaURL = "https://github.com/fwaudit/fwaudit/report/schema/report.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of report.json.
func Schema() []byte { return bytes.Clone(schemaJSON) }

var (
	compiledOnce sync.Once
	compiled     *jsonschema.Schema
	compileErr   error
)

func compiledSchema() (*jsonschema.Schema, error) {
	compiledOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			compileErr = fmt.Errorf("report schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource(SchemaURL, doc); err != nil {
			compileErr = fmt.Errorf("report schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(SchemaURL)
	})
	return compiled, compileErr
}

// Validate checks a report.json document against the schema.
func Validate(doc []byte) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("report.json is not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("report.json does not match %s: %w", SchemaVersion, err)
	}
	return nil
}

// WriteJSON writes r as indented JSON. The output is deterministic: findings,
// layers and components keep the order they have in r (the scan sorts
// findings), map keys are sorted, and nil lists are written as [] rather than
// null, so the document always has the shape the schema describes. r itself
// is not modified.
func WriteJSON(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	n := normalized(r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// HTML escaping stays on: hostile strings such as "<script>" come out
	// as \u003cscript\u003e, harmless if the JSON is pasted into a page.
	if err := enc.Encode(n); err != nil {
		return err
	}
	_, err := w.Write(EscapeInvisibleJSON(buf.Bytes()))
	return err
}

// EscapeInvisibleJSON rewrites every character of encoded JSON that a
// terminal or editor would not show as itself (bidi overrides such as
// U+202E, zero-width and other format characters, C1 controls) as a \uXXXX
// escape (a UTF-16 surrogate pair above U+FFFF). Such characters can only
// stand inside JSON strings, so the document decodes to exactly the same
// values; it just cannot reorder or hide text when someone reads it.
func EscapeInvisibleJSON(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x80 && !visible(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x80 && !visible(r) {
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// normalized returns a shallow copy of r with nil lists and maps replaced by
// empty ones and nil layers dropped.
func normalized(r *Report) *Report {
	n := *r
	if n.Schema == "" {
		n.Schema = SchemaVersion
	}
	n.Layers = make([]*extract.Layer, 0, len(r.Layers))
	for _, l := range r.Layers {
		if l != nil {
			n.Layers = append(n.Layers, l)
		}
	}
	n.Findings = make([]analyzers.Finding, len(r.Findings))
	copy(n.Findings, r.Findings)
	for i := range n.Findings {
		if n.Findings[i].Guidelines == nil {
			n.Findings[i].Guidelines = []int{}
		}
	}
	n.Components = make([]Component, len(r.Components))
	copy(n.Components, r.Components)
	for i := range n.Components {
		c := &n.Components[i]
		c.CPEs = nonNil(c.CPEs)
		c.Paths = nonNil(c.Paths)
		c.Layers = nonNil(c.Layers)
	}
	n.Analyzers.Ran = nonNil(r.Analyzers.Ran)
	if n.Analyzers.Failures == nil {
		n.Analyzers.Failures = []analyzers.Failure{}
	}
	if n.Stats.AnalyzerMS == nil {
		n.Stats.AnalyzerMS = map[string]int64{}
	}
	if n.Stats.FindingCount == nil {
		// same convention as the scan: only severities that occur
		n.Stats.FindingCount = map[string]int{}
		for _, f := range r.Findings {
			n.Stats.FindingCount[string(f.Severity)]++
		}
	}
	return &n
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
