package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
)

// Rules.Dir (fwaudit scan --rules, rules_dir) adds a rule written as YAML
// to the scan's services analyzer; a bad folder stops the scan before it
// starts.
func TestAnalyzersRulesDir(t *testing.T) {
	dir := t.TempDir()
	rule := `
- id: scan-test-frobd
  kind: command
  severity: high
  guidelines: [6]
  title: frobd running
  description: The made-up frobd daemon is started.
  fix: Do not start frobd.
  programs: [frobd]
  patterns: ['frobd']
  examples: {true: ["frobd"], false: ["frob"]}
`
	if err := os.WriteFile(filepath.Join(dir, "services.yaml"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := Analyzers(Rules{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	root := testcorpus.Tree(t, map[string]string{"etc/init.d/rcS": "#!/bin/sh\nfrobd -d\n"})
	tg := analyzers.NewTarget([]*extract.Layer{{ID: "L1", Path: "test", Kind: "filesystem", Root: root, Format: "test"}})
	found := 0
	for _, a := range list {
		fs, err := a.Analyze(context.Background(), tg)
		if err != nil {
			t.Fatalf("%s: %v", a.Name(), err)
		}
		for _, f := range fs {
			if f.Rule == "scan-test-frobd" && a.Name() == "services" && f.Path == "/etc/init.d/rcS" && f.Line == 2 {
				found++
			}
		}
	}
	if found != 1 {
		t.Fatalf("the folder's rule fired %d times, want once (services)", found)
	}
	if err := os.WriteFile(filepath.Join(dir, "service.yaml"), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Analyzers(Rules{Dir: dir}); err == nil || !strings.Contains(err.Error(), "service.yaml") {
		t.Fatalf("a misnamed rule file: %v", err)
	}
}
