package compliance

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

var allAnalyzers = []string{"accounts", "components", "credentials", "eol", "keys", "services", "transport", "vulns"}

func okLayers() []*extract.Layer {
	return []*extract.Layer{
		{ID: "L0", Path: "image", Format: "image", Kind: "image", Status: extract.StatusOK},
		{ID: "L1", Path: "squashfs@0x100000", Format: "squashfs", Kind: "filesystem", Status: extract.StatusOK},
	}
}

func withLayer(status extract.Status) []*extract.Layer {
	return append(okLayers(), &extract.Layer{ID: "L2", Path: "squashfs@0x100000 > jffs2@0x0", Format: "jffs2", Kind: "filesystem", Status: status})
}

func finding(rule, category string, sev analyzers.Severity, path string, cop ...int) analyzers.Finding {
	f := analyzers.Finding{Rule: rule, Category: category, Severity: sev, Layer: "squashfs@0x100000", LayerID: "L1",
		Path: path, Guidelines: cop, Analyzer: "test"}
	f.SetID()
	return f
}

func item(t *testing.T, r Result, fw, id string) Item {
	t.Helper()
	for _, it := range r.Frameworks[fw] {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("no item %s %s in result", fw, id)
	return Item{}
}

func without(list []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == drop })
}

func TestVerdicts(t *testing.T) {
	shadow := finding("default-password", "hardcoded-credential", analyzers.Critical, "/etc/shadow", 1)
	lowStale := finding("stale-component", "outdated-component", analyzers.Low, "/bin/busybox", 3)
	tests := []struct {
		name   string
		in     Input
		fw, id string
		want   Verdict
		// findings that must be listed; substrings the note / needs must hold
		findings []string
		note     []string
		needs    string
	}{
		{
			name: "critical default password fails CoP 1",
			in:   Input{Findings: []analyzers.Finding{shadow}, Ran: allAnalyzers, Layers: okLayers()},
			fw:   "cop", id: "1", want: Fail, findings: []string{shadow.ID},
			note: []string{"default password found at /etc/shadow"},
		},
		{
			name: "critical default password fails PSTI 1 and ETSI 5.1-1",
			in:   Input{Findings: []analyzers.Finding{shadow}, Ran: allAnalyzers, Layers: okLayers()},
			fw:   "psti", id: "1", want: Fail, findings: []string{shadow.ID},
		},
		{
			name: "ETSI 5.1-1 fails too",
			in:   Input{Findings: []analyzers.Finding{shadow}, Ran: allAnalyzers, Layers: okLayers()},
			fw:   "etsi", id: "5.1-1", want: Fail, findings: []string{shadow.ID},
		},
		{
			name: "a finding fails even when a layer failed",
			in:   Input{Findings: []analyzers.Finding{shadow}, Ran: allAnalyzers, Layers: withLayer(extract.StatusFailed)},
			fw:   "cop", id: "1", want: Fail, findings: []string{shadow.ID},
		},
		{
			name: "accounts and credentials ran, nothing found, all layers ok: pass",
			in:   Input{Ran: []string{"accounts", "credentials"}, Layers: okLayers()},
			fw:   "cop", id: "1", want: Pass,
			note: []string{"about the image, not the whole product", "accounts, credentials", "not checked:"},
		},
		{
			name: "a failed layer makes CoP 1 not assessed",
			in:   Input{Ran: allAnalyzers, Layers: withLayer(extract.StatusFailed)},
			fw:   "cop", id: "1", want: NotAssessed, note: []string{"L2 (jffs2, failed)"},
		},
		{
			name: "a partial layer makes CoP 1 not assessed",
			in:   Input{Ran: allAnalyzers, Layers: withLayer(extract.StatusPartial)},
			fw:   "cop", id: "1", want: NotAssessed, note: []string{"L2 (jffs2, partial)"},
		},
		{
			name: "opaque data makes CoP 4 not assessed",
			in:   Input{Ran: allAnalyzers, Layers: withLayer(extract.StatusOpaque)},
			fw:   "cop", id: "4", want: NotAssessed, note: []string{"L2", "opaque"},
		},
		{
			name: "an encrypted vendor image makes CoP 1 not assessed, naming the scheme",
			in: Input{Ran: allAnalyzers, Layers: append(okLayers(), &extract.Layer{ID: "L2", Path: "dlink-shrs@0x0", Format: "dlink-shrs",
				Kind: "container", Status: extract.StatusUnsupported, Encryption: "D-Link SHRS (AES-128-CBC, RSA-signed)"})},
			fw: "cop", id: "1", want: NotAssessed, note: []string{"L2 (dlink-shrs, encrypted with D-Link SHRS (AES-128-CBC, RSA-signed): cannot be assessed without the vendor key)"},
		},
		{
			name: "a failed analyzer makes CoP 1 not assessed",
			in:   Input{Ran: without(allAnalyzers, "credentials"), Failed: []string{"credentials"}, Layers: okLayers()},
			fw:   "cop", id: "1", want: NotAssessed, note: []string{"credentials failed"},
		},
		{
			name: "an analyzer that did not run makes CoP 1 not assessed",
			in:   Input{Ran: []string{"accounts"}, Layers: okLayers()},
			fw:   "cop", id: "1", want: NotAssessed, note: []string{"credentials did not run"},
		},
		{
			name: "CoP 2 needs evidence, with its ask and the hints found",
			in: Input{Ran: allAnalyzers, Layers: okLayers(),
				Hints: map[string][]string{"security-txt": {"/www/.well-known/security.txt"}, "support-period": {"/etc/notice"}}},
			fw: "cop", id: "2", want: NeedsEvidence, needs: "vulnerability disclosure policy with a contact point",
		},
		{
			name: "needs-evidence items stay so even when a layer failed",
			in:   Input{Ran: allAnalyzers, Layers: withLayer(extract.StatusFailed)},
			fw:   "psti", id: "2", want: NeedsEvidence, needs: "contact point",
		},
		{
			name: "CoP 3: checks clean, but the support period is still needed",
			in:   Input{Ran: allAnalyzers, Layers: okLayers()},
			fw:   "cop", id: "3", want: NeedsEvidence, needs: "support period",
			note: []string{"components, eol, vulns found nothing"},
		},
		{
			name: "a low finding stays below the default threshold",
			in:   Input{Findings: []analyzers.Finding{lowStale}, Ran: allAnalyzers, Layers: okLayers()},
			fw:   "cop", id: "3", want: NeedsEvidence, note: []string{"below medium not counted", lowStale.ID},
		},
		{
			name: "a low finding fails at threshold low",
			in:   Input{Findings: []analyzers.Finding{lowStale}, Ran: allAnalyzers, Layers: okLayers(), Threshold: analyzers.Low},
			fw:   "cop", id: "3", want: Fail, findings: []string{lowStale.ID},
		},
		{
			name: "the analyzer's guideline numbers count for the CoP",
			in: Input{Findings: []analyzers.Finding{finding("new-rule", "new", analyzers.High, "/etc/x", 7)},
				Ran: allAnalyzers, Layers: okLayers()},
			fw: "cop", id: "7", want: Fail,
		},
		{
			name: "extraction anomalies are evidence against nothing",
			in: Input{Findings: []analyzers.Finding{finding("extraction-anomaly/traversal", "extraction-anomaly", analyzers.High, "../x")},
				Ran: allAnalyzers, Layers: okLayers()},
			fw: "cop", id: "1", want: Pass,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(tc.in, nil)
			it := item(t, r, tc.fw, tc.id)
			if it.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s (note %q)", it.Verdict, tc.want, it.Note)
			}
			for _, id := range tc.findings {
				if !slices.Contains(it.Findings, id) {
					t.Errorf("findings %v lack %s", it.Findings, id)
				}
			}
			if tc.want != Fail && len(it.Findings) != 0 {
				t.Errorf("a %s item lists findings %v", it.Verdict, it.Findings)
			}
			for _, s := range tc.note {
				if !strings.Contains(it.Note, s) {
					t.Errorf("note %q lacks %q", it.Note, s)
				}
			}
			if !strings.Contains(it.Needs, tc.needs) {
				t.Errorf("needs %q lacks %q", it.Needs, tc.needs)
			}
			if it.Verdict == Pass && !slices.Equal(it.Checks, []string{"accounts", "credentials"}) && tc.fw == "cop" && tc.id == "1" {
				t.Errorf("checks %v", it.Checks)
			}
		})
	}
}

func TestHintsInItems(t *testing.T) {
	in := Input{Ran: allAnalyzers, Layers: okLayers(),
		Hints: map[string][]string{"security-txt": {"/www/.well-known/security.txt"}, "support-period": {"/etc/notice"}}}
	r := Evaluate(in, nil)
	cop2 := item(t, r, "cop", "2")
	if !slices.Equal(cop2.Hints, []string{"security-txt: /www/.well-known/security.txt"}) {
		t.Errorf("CoP 2 hints %v", cop2.Hints)
	}
	psti3 := item(t, r, "psti", "3")
	if !slices.Equal(psti3.Hints, []string{"support-period: /etc/notice"}) || psti3.Verdict != NeedsEvidence {
		t.Errorf("PSTI 3: %+v", psti3)
	}
	if h := item(t, r, "cop", "1").Hints; len(h) != 0 {
		t.Errorf("CoP 1 has hints %v", h)
	}
}

func TestPSTILine(t *testing.T) {
	shadow := finding("default-password", "hardcoded-credential", analyzers.Critical, "/etc/shadow", 1)
	web := finding("web-user-password", "hardcoded-credential", analyzers.High, "/etc/httpd.conf", 1, 4)
	r := Evaluate(Input{Findings: []analyzers.Finding{web, shadow}, Ran: allAnalyzers, Layers: okLayers()}, nil)
	for _, s := range []string{"would fail requirement 1", "/etc/shadow", "and 1 more", "requirements 2 and 3 need evidence"} {
		if !strings.Contains(r.PSTI, s) {
			t.Errorf("PSTI line %q lacks %q", r.PSTI, s)
		}
	}
	// worst finding first
	if got := item(t, r, "psti", "1").Findings; !slices.Equal(got, []string{shadow.ID, web.ID}) {
		t.Errorf("PSTI 1 findings %v, want critical first", got)
	}

	r = Evaluate(Input{Ran: allAnalyzers, Layers: okLayers()}, nil)
	if !strings.Contains(r.PSTI, "no evidence against requirement 1") || strings.Contains(r.PSTI, "would fail") {
		t.Errorf("clean PSTI line %q", r.PSTI)
	}
	r = Evaluate(Input{Ran: allAnalyzers, Layers: withLayer(extract.StatusPartial)}, nil)
	if !strings.Contains(r.PSTI, "requirement 1 not assessed") || !strings.Contains(r.PSTI, "L2") {
		t.Errorf("partial PSTI line %q", r.PSTI)
	}
}

func TestDeterministic(t *testing.T) {
	fs := []analyzers.Finding{
		finding("default-password", "hardcoded-credential", analyzers.Critical, "/etc/shadow", 1),
		finding("private-key", "private-key", analyzers.High, "/etc/ssl/key.pem", 4, 5),
		finding("eol-component", "outdated-component", analyzers.High, "/lib/libssl.so", 3),
		finding("telnetd-shell", "insecure-service", analyzers.Critical, "/etc/init.d/rcS", 5, 6),
		finding("curl-insecure", "insecure-config", analyzers.High, "/usr/bin/update.sh", 5),
	}
	in := Input{Findings: fs, Ran: allAnalyzers, Layers: okLayers()}
	a := Evaluate(in, nil)
	rev := slices.Clone(fs)
	slices.Reverse(rev)
	in.Findings = rev
	in.Ran = slices.Clone(allAnalyzers)
	slices.Reverse(in.Ran)
	b := Evaluate(in, nil)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("result depends on input order")
	}
	// every framework of the rules, items in rule order
	rules := rulescompliance.Default()
	if len(a.Order) != len(rules.Frameworks) {
		t.Fatalf("order %v", a.Order)
	}
	for _, fw := range rules.Frameworks {
		items := a.Frameworks[fw.ID]
		if len(items) != len(fw.Items) {
			t.Fatalf("%s: %d items, want %d", fw.ID, len(items), len(fw.Items))
		}
		for i, it := range items {
			if it.ID != fw.Items[i].ID || it.Verdict == "" || it.Note == "" {
				t.Errorf("%s item %d: %+v", fw.ID, i, it)
			}
		}
	}
	c := a.Counts()
	if c["cop"][Fail] != 5 { // 1 (shadow), 3 (eol), 4 (key), 5 (key, telnet, curl), 6 (telnet)
		t.Errorf("CoP fails %d, want 5: %v", c["cop"][Fail], c["cop"])
	}
	if got := item(t, a, "etsi", "5.6-4").Verdict; got != NeedsEvidence {
		t.Errorf("ETSI 5.6-4 %s", got)
	}
	if got := item(t, a, "etsi", "5.5-4"); got.Verdict != Fail || len(got.Findings) != 1 {
		t.Errorf("ETSI 5.5-4 %+v", got)
	}
}

func TestFindHints(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("www/.well-known/security.txt", []byte("Contact: mailto:psirt@vendor.example\nExpires: 2030-01-01T00:00:00Z\n"))
	write("www/about.html", []byte("<p>Found a problem? Write to SECURITY@vendor.example (see our Vulnerability Disclosure policy).</p>"))
	write("etc/notice", []byte("This product receives security updates until 31 December 2030 (support period).\n"))
	write("usr/bin/httpd", append([]byte("\x7fELF\x00\x00"), []byte("security@vendor.example")...))
	write("etc/motd", []byte("welcome\n"))
	big := make([]byte, HintMaxFileSize+10)
	for i := range big {
		big[i] = 'a'
	}
	copy(big[len(big)-20:], "security@x.example")
	write("var/big.txt", big)

	l := &extract.Layer{ID: "L1", Path: "squashfs@0x0", Format: "squashfs", Kind: "filesystem", Status: extract.StatusOK, Root: root}
	got := FindHints(analyzers.NewTarget([]*extract.Layer{l}))
	want := map[string][]string{
		"security-txt":      {"/www/.well-known/security.txt"},
		"security-contact":  {"/www/.well-known/security.txt", "/www/about.html"},
		"disclosure-policy": {"/www/about.html"},
		"support-period":    {"/etc/notice"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FindHints =\n%v\nwant\n%v", got, want)
	}
	if len(FindHints(nil)) != 0 {
		t.Error("nil target gave hints")
	}
}
