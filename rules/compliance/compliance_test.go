package compliance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownRules are the finding rules fwaudit's analyzers emit, with their
// category (a trailing "*" is a prefix). Keep it in step with the
// analyzers: a mapping that names a rule not listed here, or a rule listed
// here that no mapping names, fails the test.
var knownRules = map[string]string{}

func init() {
	add := func(category string, rules ...string) {
		for _, r := range rules {
			knownRules[r] = category
		}
	}
	// accounts and credentials (rules/credentials: rule, else detector id)
	add("hardcoded-credential", "default-password", "empty-password",
		"config-password", "mqtt-password-file", "ppp-secret", "script-credential", "snmp-default-community",
		"uboot-env-password", "web-user-password", "wifi-psk", "note-password", "binary-password")
	// keys
	add("private-key", "private-key", "private-key-encrypted", "dropbear-host-key", "pkcs12-no-password", "putty-private-key")
	// eol and vulnerability matching
	add("outdated-component", "eol-component", "stale-component", "vulnerable-component")
	// services (rules/services/services.yaml)
	add("insecure-service", "console-root-shell", "console-getty-nologin", "telnetd-shell", "telnetd-fixed-credential", "telnetd",
		"rlogin-rsh", "netcat-shell", "gdbserver", "adbd", "debug-agent", "tftpd", "ftpd", "vsftpd", "snmpd",
		"upnpd", "dropbear-root-password", "http-server", "uhttpd-http", "sshd-permit-root-login",
		"sshd-permit-empty-passwords", "sshd-password-authentication", "vsftpd-anonymous", "nvram-telnet-enabled",
		"nvram-upnp-enabled", "upnp-insecure-mode", "upnp-enabled", "uhttpd-listen-http",
		"dropbear-uci-root-password", "xml-srvctrl-telnet", "xml-srvctrl-tftp", "xml-srvctrl-ftp",
		"xml-srvctrl-ssh", "xml-srvctrl-http", "xml-srvctrl-snmp", "xml-snmp-enabled", "xml-upnp-enabled")
	// transport (rules/transport/transport.yaml)
	add("insecure-config", "curl-insecure", "wget-no-check-certificate", "wgetrc-check-certificate-off", "tls-verify-disabled",
		"http-firmware-url", "http-update-url", "wifi-open", "wifi-wep", "hostapd-wep", "hostapd-open",
		"nvram-wifi-open-or-wep", "xml-wifi-open-or-wep")
	// software integrity (analyzers/integrity)
	add("software-integrity", "unsigned-container")
	// extraction (scan.LayerFindings)
	add("extraction-anomaly", "extraction-anomaly/*", "extraction-failed", "extraction-partial", "opaque-data")
	// fleet: the same secret in several images (fleet.SharedFindings)
	add("shared-secret", "shared-secret")
}

var knownCategories = []string{
	"hardcoded-credential", "private-key", "outdated-component", "insecure-service", "insecure-config",
	"extraction-anomaly", "software-integrity", "shared-secret",
}

// knownAnalyzers are the names an item's checks may use (Analyzer.Name(),
// plus "components" and "vulns", which the scan runs as stages).
var knownAnalyzers = []string{"accounts", "keys", "components", "eol", "vulns", "credentials", "services", "transport", "integrity"}

func TestDefaultData(t *testing.T) {
	s, err := Parse(defaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	if Default() == nil {
		t.Fatal("Default() is nil")
	}

	// the 13 guidelines of the Code of Practice, numbered 1..13, in order
	cop := s.Framework(CoP)
	if cop == nil || len(cop.Items) != 13 {
		t.Fatalf("CoP: want 13 guidelines, got %v", cop)
	}
	for i, it := range cop.Items {
		if it.Number != i+1 || it.ID != fmt.Sprint(i+1) {
			t.Errorf("CoP item %d: number %d id %q", i, it.Number, it.ID)
		}
		if it.Summary == "" {
			t.Errorf("CoP %s: no summary", it.ID)
		}
	}
	wantTitles := map[int]string{1: "No default passwords", 2: "Implement a vulnerability disclosure policy",
		3: "Keep software updated", 13: "Validate input data"}
	for n, title := range wantTitles {
		if got := cop.Items[n-1].Title; got != title {
			t.Errorf("CoP %d title %q, want %q", n, got, title)
		}
	}

	// the three PSTI requirements
	psti := s.Framework(PSTI)
	if psti == nil || len(psti.Items) != 3 {
		t.Fatalf("PSTI: want 3 requirements")
	}
	for i, it := range psti.Items {
		if it.Number != i+1 || it.ID != fmt.Sprint(i+1) {
			t.Errorf("PSTI item %d: number %d id %q", i, it.Number, it.ID)
		}
	}
	if !slices.Equal(psti.Item("1").Related[ETSI], []string{"5.1-1", "5.1-2"}) {
		t.Errorf("PSTI 1 must relate to ETSI 5.1-1 and 5.1-2 (Schedule 2 para 1), got %v", psti.Item("1").Related)
	}

	// ETSI: every clause 5.1 .. 5.13 and 6 has provisions; ids are of the form 5.N-M or 6-M
	etsi := s.Framework(ETSI)
	if etsi == nil {
		t.Fatal("no ETSI framework")
	}
	idRE := regexp.MustCompile(`^(5\.(\d+)|6)-\d+$`)
	clauses := map[string]int{}
	for _, it := range etsi.Items {
		m := idRE.FindStringSubmatch(it.ID)
		if m == nil {
			t.Errorf("ETSI id %q malformed", it.ID)
			continue
		}
		if !strings.HasPrefix(it.ID, it.Clause+"-") {
			t.Errorf("ETSI %s: clause %q does not match", it.ID, it.Clause)
		}
		clauses[it.Clause]++
	}
	for n := 1; n <= 13; n++ {
		if clauses[fmt.Sprintf("5.%d", n)] == 0 {
			t.Errorf("ETSI clause 5.%d has no provisions", n)
		}
	}
	if clauses["6"] != 5 {
		t.Errorf("ETSI clause 6: %d provisions, want 5", clauses["6"])
	}
	for _, id := range []string{"5.1-1", "5.1-2", "5.2-1", "5.3-13", "5.4-3", "5.5-1", "5.6-4", "5.13-1"} {
		if etsi.Item(id) == nil {
			t.Errorf("ETSI %s missing", id)
		}
	}

	// every item: checks or an ask; checks name known analyzers; unique ids
	for _, fw := range s.Frameworks {
		ids := map[string]bool{}
		for _, it := range fw.Items {
			if ids[it.ID] {
				t.Errorf("%s: duplicate id %s", fw.ID, it.ID)
			}
			ids[it.ID] = true
			if len(it.Checks) == 0 && strings.TrimSpace(it.Ask) == "" {
				t.Errorf("%s %s: neither checks nor ask", fw.ID, it.ID)
			}
			for _, c := range it.Checks {
				if !slices.Contains(knownAnalyzers, c) {
					t.Errorf("%s %s: unknown analyzer %q in checks", fw.ID, it.ID, c)
				}
			}
			if len(it.Checks) > 0 && it.CannotCheck == "" {
				t.Errorf("%s %s: has checks but says nothing of what it cannot check", fw.ID, it.ID)
			}
		}
	}

	// every mapped rule and category is known; every known rule is mapped
	for i, m := range s.Mappings {
		for _, r := range m.Rules {
			if _, ok := knownRules[r]; !ok {
				t.Errorf("mapping %d: unknown rule %q", i+1, r)
			}
		}
		for _, c := range m.Categories {
			if !slices.Contains(knownCategories, c) {
				t.Errorf("mapping %d: unknown category %q", i+1, c)
			}
		}
	}
	for r, cat := range knownRules {
		rule := r
		if p, ok := strings.CutSuffix(r, "*"); ok {
			rule = p + "x"
		}
		if !s.Mapped(rule, cat) {
			t.Errorf("rule %q (category %q) is not mapped (map it to no item to say it is evidence of nothing)", r, cat)
		}
		if !slices.Contains(knownCategories, cat) {
			t.Errorf("rule %q: category %q not in knownCategories", r, cat)
		}
	}

	// hints referenced by items exist, and the evidence items have some
	for _, ref := range []Ref{{CoP, "2"}, {PSTI, "2"}, {PSTI, "3"}, {CoP, "3"}} {
		it := s.Framework(ref.Framework).Item(ref.ID)
		if len(it.ImageHints) == 0 || it.Ask == "" {
			t.Errorf("%v: needs an ask and image hints", ref)
		}
	}
}

func TestMatch(t *testing.T) {
	s := Default()
	has := func(refs []Ref, fw, id string) bool { return slices.Contains(refs, Ref{fw, id}) }
	tests := []struct {
		rule, category string
		want, not      []Ref
	}{
		// Code of Practice items are never mapped: they are the rules'
		// guidelines (rules/validate TestGuidelinesFromRuleData)
		{"default-password", "hardcoded-credential", []Ref{{ETSI, "5.1-1"}, {PSTI, "1"}, {ETSI, "5.4-3"}}, []Ref{{PSTI, "2"}, {CoP, "1"}, {CoP, "4"}}},
		{"private-key-encrypted", "private-key", []Ref{{ETSI, "5.4-3"}}, []Ref{{PSTI, "1"}, {CoP, "4"}}},
		{"eol-component", "outdated-component", []Ref{{ETSI, "5.3-8"}}, []Ref{{CoP, "1"}, {CoP, "3"}}},
		{"vulnerable-component", "", []Ref{{CRA, "I.2(a)"}}, []Ref{{CoP, "3"}}},
		{"curl-insecure", "insecure-config", []Ref{{ETSI, "5.5-1"}}, []Ref{{CoP, "5"}}},
		{"gdbserver", "insecure-service", []Ref{{ETSI, "5.6-4"}}, []Ref{{ETSI, "5.5-4"}, {CoP, "6"}}},
		{"telnetd-fixed-credential", "insecure-service", []Ref{{PSTI, "1"}, {ETSI, "5.1-1"}}, []Ref{{CoP, "1"}, {CoP, "6"}}},
		{"extraction-anomaly/traversal", "extraction-anomaly", nil, []Ref{{CoP, "1"}}},
		{"something-new", "unknown", nil, nil},
	}
	for _, tc := range tests {
		got := s.Match(tc.rule, tc.category)
		for _, w := range tc.want {
			if !has(got, w.Framework, w.ID) {
				t.Errorf("Match(%s, %s) = %v: missing %v", tc.rule, tc.category, got, w)
			}
		}
		for _, n := range tc.not {
			if has(got, n.Framework, n.ID) {
				t.Errorf("Match(%s, %s) = %v: must not contain %v", tc.rule, tc.category, got, n)
			}
		}
		if tc.want == nil && len(got) != 0 {
			t.Errorf("Match(%s, %s) = %v, want none", tc.rule, tc.category, got)
		}
	}
	// order: framework order of the file, then item order
	got := s.Match("default-password", "hardcoded-credential")
	if got[0] != (Ref{ETSI, "5.1-1"}) || got[1] != (Ref{ETSI, "5.1-2"}) || got[len(got)-1] != (Ref{CRA, "I.2(e)"}) {
		t.Errorf("Match order: %v", got)
	}
	if !s.Mapped("extraction-anomaly/loop", "") || s.Mapped("nope", "nope") {
		t.Error("Mapped wrong")
	}
}

func TestParseRejects(t *testing.T) {
	base := `format: 1
hints:
  - {id: h, files: [security.txt]}
frameworks:
  - id: f
    name: F
    items:
      - {id: "1", title: T, checks: [accounts], cannot_check: x}
      - {id: "2", title: U, ask: "please"}
mappings:
  - {rules: [r], items: {f: ["1"]}}
`
	if _, err := Parse([]byte(base)); err != nil {
		t.Fatalf("base must parse: %v", err)
	}
	bad := map[string][2]string{
		"format":          {"format: 1", "format: 2"},
		"duplicate item":  {`{id: "2", title: U`, `{id: "1", title: U`},
		"no checks/ask":   {`ask: "please"`, `summary: x`},
		"unknown ref":     {`items: {f: ["1"]}`, `items: {f: ["9"]}`},
		"unknown fw":      {`items: {f: ["1"]}`, `items: {g: ["1"]}`},
		"unknown hint":    {`ask: "please"}`, `ask: "please", image_hints: [nope]}`},
		"bare star":       {`rules: [r]`, `rules: ["*"]`},
		"empty mapping":   {`{rules: [r], items`, `{items`},
		"unknown field":   {`title: T,`, `title: T, colour: red,`},
		"hint w/o match":  {`{id: h, files: [security.txt]}`, `{id: h}`},
		"dup check":       {`checks: [accounts]`, `checks: [accounts, accounts]`},
		"duplicate hints": {`  - {id: h, files: [security.txt]}`, "  - {id: h, files: [security.txt]}\n  - {id: h, files: [a]}"},
	}
	// Code of Practice items come from the rules' guidelines, never from a
	// mapping
	cop := strings.NewReplacer("  - id: f\n", "  - id: cop\n", `items: {f: ["1"]}`, `items: {cop: ["1"]}`).Replace(base)
	if _, err := Parse([]byte(strings.Replace(cop, `items: {cop: ["1"]}`, `items: {}`, 1))); err != nil {
		t.Fatalf("a cop framework must parse: %v", err)
	}
	if _, err := Parse([]byte(cop)); err == nil || !strings.Contains(err.Error(), "Code of Practice") {
		t.Errorf("a mapping to Code of Practice items: %v", err)
	}
	for name, r := range bad {
		src := strings.Replace(base, r[0], r[1], 1)
		if src == base {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}
