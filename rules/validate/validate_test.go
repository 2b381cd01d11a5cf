package validate

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	cmatch "github.com/fwaudit/fwaudit/analyzers/components/match"
	"github.com/fwaudit/fwaudit/analyzers/credentials"
	"github.com/fwaudit/fwaudit/analyzers/credentials/detect"
	"github.com/fwaudit/fwaudit/analyzers/rulesets"
	"github.com/fwaudit/fwaudit/analyzers/services"
	smatch "github.com/fwaudit/fwaudit/analyzers/services/match"
	"github.com/fwaudit/fwaudit/analyzers/tokens"
	"github.com/fwaudit/fwaudit/analyzers/transport"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"github.com/fwaudit/fwaudit/rules/builtin"
	"github.com/fwaudit/fwaudit/rules/schema"
	"github.com/fwaudit/fwaudit/rules/vex"
)

// image is a file-system layer holding files (path inside the image →
// content).
func image(t *testing.T, files map[string]string) *analyzers.Target {
	t.Helper()
	dir := testcorpus.Tree(t, files)
	l := &extract.Layer{ID: "L1", Path: "test", Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

func analyze(t *testing.T, a analyzers.Analyzer, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := a.Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("%s: %v", a.Name(), err)
	}
	return fs
}

// of returns the findings of rule.
func of(fs []analyzers.Finding, rule string) []analyzers.Finding {
	var out []analyzers.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func show(fs []analyzers.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("%s %s:%d %q", f.Rule, f.Path, f.Line, f.Evidence))
	}
	return "[" + strings.Join(s, "; ") + "]"
}

// checkGuidelines: a finding bears on exactly its rule data's guidelines.
func checkGuidelines(t *testing.T, f analyzers.Finding, want []int) {
	t.Helper()
	w := slices.Clone(want)
	sort.Ints(w)
	g := slices.Clone(f.Guidelines)
	sort.Ints(g)
	if !slices.Equal(g, w) {
		t.Errorf("%s: guidelines %v, rule data says %v", f.Rule, f.Guidelines, want)
	}
}

var globWord = regexp.MustCompile(`\[[^\]]*\]|\{[^}]*\}|\*+|\?`)

// pathFor returns an image path that globs (a rule's files) select, as
// checked by matches: "**/ppp/*-secrets" → /etc/ppp/x-secrets, "hostapd*.conf"
// → /etc/hostapdx.conf, "*.txt" excluding "**/etc/**" → /x.txt.
func pathFor(t *testing.T, globs []string, matches func(string) bool) string {
	t.Helper()
	for _, g := range globs {
		// a base-name glob, or "**/": in /etc, else in the root or a
		// firmware folder the rule does not exclude
		for _, dir := range []string{"etc/", "", "firmware/"} {
			p := strings.TrimPrefix(g, "/")
			p = strings.ReplaceAll(p, "**/", dir)
			if !strings.Contains(g, "/") {
				p = dir + p
			}
			p = "/" + globWord.ReplaceAllStringFunc(p, func(w string) string {
				switch {
				case strings.HasPrefix(w, "["):
					return w[1:2]
				case strings.HasPrefix(w, "{"):
					return strings.Split(w[1:len(w)-1], ",")[0]
				}
				return "x"
			})
			if matches(p) {
				return p
			}
		}
	}
	t.Fatalf("no path made from %v is selected by them", globs)
	return ""
}

// TestRuleIDsUnique: rule ids are unique across every set, and every set
// has rules with a valid header.
func TestRuleIDsUnique(t *testing.T) {
	sets := rulesets.Default()
	g, err := sets.Registry()
	if err != nil {
		t.Fatal(err)
	}
	// vex rules have ids too (VEX applicability, not findings): unique
	// with the others (the Registry has the component rules already)
	var ids []string
	for _, r := range vex.Default().Rules {
		ids = append(ids, r.ID)
	}
	if err := g.Add("vex", ids...); err != nil {
		t.Error(err)
	}
	n := len(builtin.Default().Rules) + len(sets.Credentials) + len(sets.Programs) + len(sets.Services.Rules) + len(sets.Transport.Rules) + len(sets.Tokens.Rules) + len(cmatch.Default()) + len(vex.Default().Rules)
	if g.Len() != n || n < 150 {
		t.Errorf("%d ids registered of %d rules", g.Len(), n)
	}
	for _, h := range headers(sets) {
		if err := h.Check(); err != nil {
			t.Error(err)
		}
		if strings.TrimSpace(h.Source) == "" {
			t.Errorf("%s (%s): no source", h.ID, g.Set(h.ID))
		}
	}
}

func headers(s *rulesets.Sets) []*schema.Header {
	var hs []*schema.Header
	for _, d := range builtin.Default().Rules {
		hs = append(hs, &d.Header)
	}
	for _, r := range s.Credentials {
		hs = append(hs, &r.Header)
	}
	for _, r := range s.Programs {
		hs = append(hs, &r.Header)
	}
	for _, r := range s.Services.Rules {
		hs = append(hs, &r.Header)
	}
	for _, r := range s.Transport.Rules {
		hs = append(hs, &r.Header)
	}
	for _, r := range s.Tokens.Rules {
		hs = append(hs, &r.Header)
	}
	return hs
}

// credentialImage is the image a credentials detector's example is read
// from: the text at the example's path (or one the detector's files
// select), a script when the detector selects scripts by content, and the
// file a $(cat FILE) value points to.
func credentialImage(t *testing.T, r *detect.Rule, text, path, file string) (*analyzers.Target, string) {
	t.Helper()
	if path == "" {
		if len(r.Files) > 0 {
			path = pathFor(t, r.Files, r.MatchesPath)
		} else {
			path = "/usr/bin/validate-example"
		}
	}
	if slices.Contains(r.Content, detect.ContentScript) && !r.MatchesPath(path) && !strings.HasPrefix(text, "#!") {
		text = "#!/bin/sh\n" + text
	}
	files := map[string]string{strings.TrimPrefix(path, "/"): text + "\n"}
	if file != "" {
		files[strings.TrimPrefix(file, "/")] = "Validate-Secret-77\n"
	}
	return image(t, files), path
}

func TestCredentialsExamples(t *testing.T) {
	for _, r := range detect.Default() {
		t.Run(r.ID, func(t *testing.T) {
			// the detector alone, so that an earlier detector of another
			// rule cannot take its example; no program detectors
			a := credentials.NewWith(credentials.Options{Rules: []*detect.Rule{r}, Programs: []*detect.ProgramRule{}})
			if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
				t.Fatal("needs true and false examples")
			}
			for _, ex := range r.Examples.True {
				tg, path := credentialImage(t, r, ex.Text, ex.Path, ex.File)
				fs := of(analyze(t, a, tg), r.Rule)
				if len(fs) == 0 {
					t.Errorf("true example %q at %s: no %s finding", ex.Text, path, r.Rule)
					continue
				}
				if fs[0].Path != path || fs[0].Category != r.Category || fs[0].Severity.Rank() < 0 {
					t.Errorf("true example %q: finding %+v", ex.Text, fs[0])
				}
				checkGuidelines(t, fs[0], r.Guidelines)
			}
			for _, ex := range r.Examples.False {
				tg, path := credentialImage(t, r, ex, "", "")
				if fs := of(analyze(t, a, tg), r.Rule); len(fs) != 0 {
					t.Errorf("false example %q at %s: %s", ex, path, show(fs))
				}
			}
		})
	}
}

// Program detectors read a program's strings; the examples are such
// strings, given to the analyzer's matcher (ProgramSecrets).
func TestProgramExamples(t *testing.T) {
	for _, r := range detect.DefaultPrograms() {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
				t.Fatal("needs true and false examples")
			}
			for _, ex := range r.Examples.True {
				got := credentials.ProgramSecrets(r, ex.Strings)
				if len(got) != 1 || got[0].Secret != ex.Secret || got[0].User != ex.User {
					t.Errorf("%q: got %+v, want secret %q user %q", ex.Strings, got, ex.Secret, ex.User)
				}
			}
			for _, ex := range r.Examples.False {
				if got := credentials.ProgramSecrets(r, ex); len(got) != 0 {
					t.Errorf("false example %q: %+v", ex, got)
				}
			}
		})
	}
}

// serviceImage is the image a services or transport rule's example is
// read from: a command line started by /etc/init.d/rcS (or respawned on a
// console by /etc/inittab), or file content at a path the rule selects.
func serviceImage(t *testing.T, r *smatch.Rule, ex string) (*analyzers.Target, string) {
	t.Helper()
	if r.Kind == smatch.KindCommand {
		if r.Context == smatch.ContextConsole {
			return image(t, map[string]string{"etc/inittab": "ttyS0::respawn:" + ex + "\n"}), "/etc/inittab"
		}
		return image(t, map[string]string{"etc/init.d/rcS": "#!/bin/sh\n" + ex + "\n"}), "/etc/init.d/rcS"
	}
	p := pathFor(t, r.Files, r.MatchesPath)
	return image(t, map[string]string{strings.TrimPrefix(p, "/"): ex + "\n"}), p
}

func checkServiceSet(t *testing.T, set *smatch.Set, analyzer func(*smatch.Set) analyzers.Analyzer) {
	for _, r := range set.Rules {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
				t.Fatal("needs true and false examples")
			}
			// the rule alone: the engine's first-match-wins order is
			// tested with the engine (analyzers/services/match)
			a := analyzer(&smatch.Set{Rules: []*smatch.Rule{r}})
			for _, ex := range r.Examples.True {
				tg, path := serviceImage(t, r, ex)
				fs := of(analyze(t, a, tg), r.ID)
				if len(fs) == 0 {
					t.Errorf("true example %q at %s: no finding", ex, path)
					continue
				}
				if fs[0].Path != path || fs[0].Severity != analyzers.Severity(r.Severity) {
					t.Errorf("true example %q: finding %+v", ex, fs[0])
				}
				checkGuidelines(t, fs[0], r.Guidelines)
			}
			for _, ex := range r.Examples.False {
				tg, path := serviceImage(t, r, ex)
				if fs := of(analyze(t, a, tg), r.ID); len(fs) != 0 {
					t.Errorf("false example %q at %s: %s", ex, path, show(fs))
				}
			}
		})
	}
}

func TestServicesExamples(t *testing.T) {
	checkServiceSet(t, smatch.Services(), services.NewWithRules)
}

func TestTransportExamples(t *testing.T) {
	checkServiceSet(t, smatch.Transport(), transport.NewWithRules)
}

func TestTokensExamples(t *testing.T) {
	a := tokens.New()
	for _, r := range rulesets.Default().Tokens.Rules {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
				t.Fatal("needs true and false examples")
			}
			for _, ex := range r.Examples.True {
				fs := of(analyze(t, a, image(t, map[string]string{"etc/app.conf": ex.Text + "\n"})), r.ID)
				if len(fs) == 0 {
					t.Errorf("true example %q: no finding", ex.Text)
					continue
				}
				if fs[0].Path != "/etc/app.conf" || fs[0].Severity != analyzers.Severity(r.Severity) || fs[0].Fingerprint != analyzers.Fingerprint(ex.Secret) {
					t.Errorf("true example %q: finding %+v (want the secret %q)", ex.Text, fs[0], ex.Secret)
				}
				checkGuidelines(t, fs[0], r.Guidelines)
			}
			for _, ex := range r.Examples.False {
				if fs := of(analyze(t, a, image(t, map[string]string{"etc/app.conf": ex + "\n"})), r.ID); len(fs) != 0 {
					t.Errorf("false example %q: %s", ex, show(fs))
				}
			}
		})
	}
}

// Component rules identify components (no findings): their examples go
// through the component catalogue, as a program file holding the string
// (or, for file-name rules, a file of that name).
func TestComponentsExamples(t *testing.T) {
	for _, r := range cmatch.Default() {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Examples.True) == 0 || len(r.Examples.False) == 0 {
				t.Fatal("needs true and false examples")
			}
			for _, ex := range r.Examples.True {
				tg, p := componentImage(t, r, ex.Text, ex.File)
				comps, err := components.Catalog(context.Background(), tg, []*cmatch.Rule{r})
				if err != nil {
					t.Fatal(err)
				}
				if len(comps) != 1 || comps[0].Name != r.Name || comps[0].Version != ex.Version {
					t.Errorf("true example %q%q at %s: got %+v, want %s %s", ex.Text, ex.File, p, comps, r.Name, ex.Version)
				}
			}
			for _, ex := range r.Examples.False {
				tg, p := componentImage(t, r, ex, "")
				comps, err := components.Catalog(context.Background(), tg, []*cmatch.Rule{r})
				if err != nil {
					t.Fatal(err)
				}
				if len(comps) != 0 {
					t.Errorf("false example %q at %s: %+v", ex, p, comps)
				}
			}
		})
	}
}

func componentImage(t *testing.T, r *cmatch.Rule, text, file string) (*analyzers.Target, string) {
	t.Helper()
	dir := t.TempDir()
	p := "usr/bin/validate-example"
	if file != "" {
		p = "lib/" + file
		text = "\x7fELF\x01\x01\x01\x00 not a real ELF\x00"
	}
	if !r.MatchesPath("/" + p) {
		p = strings.TrimPrefix(pathFor(t, r.Files, r.MatchesPath), "/")
		if file != "" {
			p = path.Join(path.Dir(p), file)
		}
	}
	kind := "filesystem"
	content := text
	switch {
	case file != "":
	case r.Scans(cmatch.ScanELF):
		content = "\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + text
	case r.Scans(cmatch.ScanBinary):
		content = "\x00\x01binary\x00" + text
	case r.Scans(cmatch.ScanBlob):
		kind = "blob"
		content = "\x00\x01blob\x00" + text
	}
	host := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(host, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &extract.Layer{ID: "L1", Path: "test", Kind: kind, Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l}), "/" + p
}

// A finding's Code of Practice guidelines come from its rule's data only
// (compliance.yaml maps ETSI, PSTI and CRA items, and refuses Code of
// Practice ones): the guidelines of key rules.
func TestGuidelinesFromRuleData(t *testing.T) {
	s := rulesets.Default()
	data := map[string][]int{}
	for _, d := range builtin.Default().Rules {
		data[d.ID] = d.Guidelines
	}
	for _, r := range s.Credentials {
		data[r.Rule] = append(data[r.Rule], r.Guidelines...)
	}
	for _, r := range s.Programs {
		data[r.Rule] = append(data[r.Rule], r.Guidelines...)
	}
	for _, set := range []*smatch.Set{s.Services, s.Transport} {
		for _, r := range set.Rules {
			data[r.ID] = r.Guidelines
		}
	}
	for rule, want := range map[string][]int{
		"default-password":         {1, 4},
		"empty-password":           {1, 4},
		"private-key-encrypted":    {4},
		"eol-component":            {3},
		"stale-component":          {3},
		"vulnerable-component":     {3},
		"unsigned-container":       {7},
		"curl-insecure":            {5},
		"gdbserver":                {6},
		"telnetd":                  {5, 6},
		"telnetd-fixed-credential": {1, 6},
		"dropbear-root-password":   {1, 6},
		"snmp-default-community":   {1, 4},
		"config-password":          {1, 4},
		"wifi-psk":                 {1, 4},
		"binary-password":          {1, 4},
		"shared-secret":            {1, 4},
	} {
		g, ok := data[rule]
		if !ok {
			t.Errorf("%s: no rule data", rule)
		}
		for _, n := range want {
			if !slices.Contains(g, n) {
				t.Errorf("%s: guidelines %v lack %d", rule, g, n)
			}
		}
	}
	if g := data["extraction-anomaly/path-traversal"]; g == nil || len(g) != 0 {
		t.Errorf("extraction anomalies bear on no guideline, got %v", g)
	}
	if g := builtin.CategoryGuidelines("api-token"); !slices.Equal(g, []int{4}) {
		t.Errorf("gitleaks token rules (category api-token) bear on %v, want [4]", g)
	}
}
