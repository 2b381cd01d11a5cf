package validate

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/accounts"
	"github.com/fwaudit/fwaudit/analyzers/certificates"
	"github.com/fwaudit/fwaudit/analyzers/eol"
	"github.com/fwaudit/fwaudit/analyzers/integrity"
	"github.com/fwaudit/fwaudit/analyzers/keys"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"github.com/fwaudit/fwaudit/rules/builtin"
)

// builtinAnalyzers are the analyzers that emit the code-matched rules whose
// input is file content, by the rule's source; each is made for the
// example's scan date.
var builtinAnalyzers = map[string]func(date time.Time) analyzers.Analyzer{
	"analyzers/accounts":     func(time.Time) analyzers.Analyzer { return accounts.New(accounts.Options{}) },
	"analyzers/keys":         func(time.Time) analyzers.Analyzer { return keys.New() },
	"analyzers/certificates": func(d time.Time) analyzers.Analyzer { return certificates.New(d) },
	"analyzers/eol":          func(d time.Time) analyzers.Analyzer { return eol.New(d, eol.DefaultPolicy()) },
	"analyzers/integrity":    func(time.Time) analyzers.Analyzer { return integrity.New() },
}

// builtinImage is a file-system layer holding the example's content at its
// path; or, for an example that is a whole firmware image (Unpack), the
// layers extract unpacks from it.
func builtinImage(t *testing.T, ex builtin.Example) *analyzers.Target {
	t.Helper()
	if ex.Unpack {
		img := filepath.Join(t.TempDir(), path.Base(ex.Path))
		if err := os.WriteFile(img, ex.Content(), 0o644); err != nil {
			t.Fatal(err)
		}
		return testcorpus.ExtractTarget(t, img)
	}
	dir := t.TempDir()
	host := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(ex.Path, "/")))
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(host, ex.Content(), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &extract.Layer{ID: "L1", Path: "test", Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

// TestBuiltinExamples runs the examples of the rules matched in code
// (rules/builtin) through the analyzer that emits them: the content at the
// example's path in an image, judged on its date. A rule without examples
// must say why ("examples: none: <reason>"); a rule whose emitting analyzer
// reads files must have examples.
func TestBuiltinExamples(t *testing.T) {
	withExamples := 0
	for _, d := range builtin.Default().Rules {
		t.Run(d.ID, func(t *testing.T) {
			mk, reads := builtinAnalyzers[d.Source]
			if d.Examples.None != "" {
				if reads {
					t.Fatalf("emitted by %s, which reads file content: needs examples, not %q", d.Source, d.Examples.None)
				}
				t.Logf("no examples: %s", d.Examples.None)
				return
			}
			if len(d.Examples.True) == 0 || len(d.Examples.False) == 0 {
				t.Fatal(`needs true and false examples, or "examples: none: <reason>"`)
			}
			if !reads {
				t.Fatalf("source %q: no analyzer in the validator runs examples of it", d.Source)
			}
			withExamples++
			for _, ex := range d.Examples.True {
				fs := of(analyze(t, mk(ex.ScanDate()), builtinImage(t, ex)), d.ID)
				if len(fs) == 0 {
					t.Errorf("true example at %s (%s): no %s finding", ex.Path, ex.ScanDate().Format(time.DateOnly), d.ID)
					continue
				}
				f := fs[0]
				if (!ex.Unpack && f.Path != ex.Path) || f.Category != d.Category || f.Severity != analyzers.Severity(d.Severity) {
					t.Errorf("true example at %s: finding %s %s %s %s, want %s %s %s", ex.Path, f.Rule, f.Path, f.Category, f.Severity, ex.Path, d.Category, d.Severity)
				}
				checkGuidelines(t, f, d.Guidelines)
			}
			for _, ex := range d.Examples.False {
				if fs := of(analyze(t, mk(ex.ScanDate()), builtinImage(t, ex)), d.ID); len(fs) != 0 {
					t.Errorf("false example at %s (%s): %s", ex.Path, ex.ScanDate().Format(time.DateOnly), show(fs))
				}
			}
		})
	}
	if withExamples < 15 {
		t.Errorf("only %d code-matched rules ran examples", withExamples)
	}
}
