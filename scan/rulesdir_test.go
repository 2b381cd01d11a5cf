package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
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

// A component rule written in a rule folder's components.yaml alone shows
// up in the report's components: the eol analyzer's catalogue and the
// scan's components stage run the folder's rules (built once per Target);
// a rule with an embedded rule's id replaces it.
func TestRulesDirComponents(t *testing.T) {
	dir := t.TempDir()
	rules := `
- id: scan-test-acme-libc
  name: acme-libc
  type: library
  files: ["**/libuClibc-*.so*"]
  filename: 'libuClibc-(\d+\.\d+\.\d+\.\d+)\.so'
  purl: "pkg:generic/acme-libc@{version}"
  source: a throw-away rule of this test
  examples:
    true: [{file: "libuClibc-0.9.33.2.so", version: "0.9.33.2"}]
    false: ["libc.so.0"]
- id: uclibc
  name: uclibc-from-folder
  type: library
  files: ["**/ld-uClibc-*.so*", "**/libuClibc-*.so*"]
  filename: '(?:ld-uClibc|libuClibc)-(0\.9\.\d+(?:\.\d+)?)\.so'
  purl: "pkg:generic/uclibc@{version}"
  source: the embedded uclibc rule, renamed by this test
  examples:
    true: [{file: "libuClibc-0.9.33.2.so", version: "0.9.33.2"}]
    false: ["libuClibc-1.0.40.so"]
`
	if err := os.WriteFile(filepath.Join(dir, "components.yaml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := Analyzers(Rules{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// the eol analyzer carries the folder's rules, and the components
	// stage takes them from it
	ids := map[string]bool{}
	for _, r := range components.RulesOf(list) {
		ids[r.ID] = true
	}
	if !ids["scan-test-acme-libc"] || !ids["openssl"] {
		t.Fatalf("the analyzers' component rules lack the folder's or the embedded ones (%d rules)", len(ids))
	}
	res, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true, SkipVulns: true, Analyzers: list})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range res.Report.Components {
		names[c.Name] = c.Version
	}
	if names["acme-libc"] != "0.9.33.2" {
		t.Errorf("the folder's component rule: components %v lack acme-libc 0.9.33.2", names)
	}
	if names["uclibc-from-folder"] != "0.9.33.2" {
		t.Errorf("the folder's uclibc rule does not replace the embedded one: %v", names)
	}
	if _, ok := names["uclibc"]; ok {
		t.Errorf("the embedded uclibc rule still ran beside the folder's: %v", names)
	}
	// the same scan without the folder: the embedded rules only
	res, err = Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true, SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	names = map[string]string{}
	for _, c := range res.Report.Components {
		names[c.Name] = c.Version
	}
	if _, ok := names["acme-libc"]; ok || names["uclibc"] != "0.9.33.2" {
		t.Errorf("without the folder: components %v, want the embedded uclibc and no acme-libc", names)
	}
}
