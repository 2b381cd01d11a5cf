package reportdiff

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/report"
)

func finding(rule, path string, line int, fp string, sev analyzers.Severity, layer string) analyzers.Finding {
	f := analyzers.Finding{Rule: rule, Category: "c", Severity: sev, Layer: layer, Path: path, Line: line,
		Fingerprint: fp, Message: rule + " at " + path, Guidelines: []int{}, Analyzer: "test"}
	f.SetID()
	return f
}

func rep(name string, fs []analyzers.Finding, comps []report.Component, cop map[string]compliance.Verdict) *report.Report {
	r := &report.Report{Schema: report.SchemaVersion, Tool: report.Tool{Name: "fwaudit", Version: "t"},
		Image: report.Image{Name: name, SHA256: strings.Repeat("a", 64)}, Findings: fs, Components: comps}
	var items []compliance.Item
	for _, id := range []string{"1", "3", "7"} {
		items = append(items, compliance.Item{Framework: "cop", ID: id, Title: "guideline " + id, Verdict: cop[id]})
	}
	r.Compliance = &compliance.Result{Frameworks: map[string][]compliance.Item{"cop": items, "etsi": {{Framework: "etsi", ID: "5.1-1", Verdict: cop["1"]}}}, Order: []string{"cop", "etsi"}}
	return r
}

func keys(fs []Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+":"+f.Path)
	}
	return strings.Join(out, ",")
}

func TestCompare(t *testing.T) {
	old := rep("fw-1.0.bin", []analyzers.Finding{
		// moved to another line and another squashfs offset: unchanged
		finding("telnetd", "/etc/init.d/rcS", 12, "", analyzers.High, "tplink@0x0 > squashfs@0x100000"),
		// fixed
		finding("default-password", "/etc/shadow", 1, "fp-admin", analyzers.Critical, "tplink@0x0 > squashfs@0x100000"),
		// same path, new secret: fixed + new
		finding("config-password", "/etc/config/x", 3, "fp-old", analyzers.High, "tplink@0x0 > squashfs@0x100000"),
		// a container finding without path, offset moved
		finding("unsigned-container", "", 0, "fp-md5", analyzers.Medium, "tplink@0x0"),
		finding("unsigned-container", "", 0, "fp-crc", analyzers.Medium, "tplink@0x0 > uimage@0x20200"),
	}, []report.Component{
		{Name: "busybox", Version: "1.01", Vulnerabilities: []report.Vulnerability{{ID: "CVE-2011-2716", Severity: "high", CVSS: 6.8}, {ID: "CVE-2018-1000517", Severity: "critical", CVSS: 9.8}}},
		{Name: "dropbear", Version: "2012.55"},
		{Name: "linux_kernel", Version: "2.6.31"},
	}, map[string]compliance.Verdict{"1": compliance.Fail, "3": compliance.Fail, "7": compliance.NeedsEvidence})
	new := rep("fw-1.1.bin", []analyzers.Finding{
		finding("telnetd", "/etc/init.d/rcS", 15, "", analyzers.High, "tplink@0x0 > squashfs@0x110000"),
		finding("config-password", "/etc/config/x", 3, "fp-new", analyzers.High, "tplink@0x0 > squashfs@0x110000"),
		finding("unsigned-container", "", 0, "fp-md5", analyzers.Medium, "tplink@0x0"),
		finding("unsigned-container", "", 0, "fp-crc", analyzers.Medium, "tplink@0x0 > uimage@0x30200"),
		finding("private-key", "/etc/ssl/key.pem", 1, "fp-key", analyzers.High, "tplink@0x0 > squashfs@0x110000"),
	}, []report.Component{
		{Name: "busybox", Version: "1.36.1", Vulnerabilities: []report.Vulnerability{{ID: "CVE-2022-48174", Severity: "critical", CVSS: 9.8}}},
		{Name: "linux_kernel", Version: "2.6.31"},
		{Name: "openssl", Version: "1.0.2k"},
	}, map[string]compliance.Verdict{"1": compliance.Fail, "3": compliance.Fail, "7": compliance.Fail})
	// a finding the new release's baseline accepted stays visible and
	// does not gate
	acc := finding("wifi-psk", "/etc/wpa.conf", 2, "fp-psk", analyzers.Critical, "tplink@0x0 > squashfs@0x110000")
	new.Suppressed = []report.SuppressedFinding{{Finding: acc, Justification: "lab unit"}}

	d, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(d.Findings.New), "wifi-psk:/etc/wpa.conf,config-password:/etc/config/x,private-key:/etc/ssl/key.pem"; got != want {
		t.Errorf("new = %s, want %s", got, want)
	}
	if got, want := keys(d.Findings.Fixed), "default-password:/etc/shadow,config-password:/etc/config/x"; got != want {
		t.Errorf("fixed = %s, want %s", got, want)
	}
	if got, want := keys(d.Findings.Unchanged), "telnetd:/etc/init.d/rcS,unsigned-container:,unsigned-container:"; got != want {
		t.Errorf("unchanged = %s, want %s", got, want)
	}
	for _, f := range d.Findings.Unchanged {
		if f.Rule == "telnetd" && (f.OldID == f.ID || f.OldID == "") {
			t.Errorf("telnetd moved lines: old id %q, new id %q should differ and both be kept", f.OldID, f.ID)
		}
	}
	if !d.Findings.New[0].Accepted {
		t.Errorf("the accepted finding is not marked: %+v", d.Findings.New[0])
	}
	// the gate counts new, not accepted, findings only
	if g := d.Gate(analyzers.High); keys(g) != "config-password:/etc/config/x,private-key:/etc/ssl/key.pem" {
		t.Errorf("gate high = %s", keys(g))
	}
	if g := d.Gate(analyzers.Critical); len(g) != 0 {
		t.Errorf("gate critical = %s (default-password is fixed, wifi-psk accepted)", keys(g))
	}

	var comps []string
	for _, c := range d.Components {
		comps = append(comps, c.Name+":"+c.Change+":"+strings.Join(c.Old, "+")+">"+strings.Join(c.New, "+"))
	}
	if got, want := strings.Join(comps, ","), "busybox:changed:1.01>1.36.1,dropbear:removed:2012.55>,openssl:added:>1.0.2k"; got != want {
		t.Errorf("components = %s, want %s", got, want)
	}
	var fixed, intro []string
	for _, c := range d.CVEs.Fixed {
		fixed = append(fixed, c.ID)
	}
	for _, c := range d.CVEs.Introduced {
		intro = append(intro, c.ID)
	}
	if strings.Join(fixed, ",") != "CVE-2018-1000517,CVE-2011-2716" || strings.Join(intro, ",") != "CVE-2022-48174" || d.CVEs.Unchanged != 0 {
		t.Errorf("CVEs fixed %v introduced %v unchanged %d", fixed, intro, d.CVEs.Unchanged)
	}
	var vs []string
	for _, v := range d.Verdicts {
		vs = append(vs, v.Framework+v.ID+":"+string(v.Old)+">"+string(v.New))
	}
	// every CoP guideline, other frameworks only when changed
	if got, want := strings.Join(vs, ","), "cop1:fail>fail,cop3:fail>fail,cop7:needs-evidence>fail"; got != want {
		t.Errorf("verdicts = %s, want %s", got, want)
	}
	if d.Summary() != "3 new, 2 fixed, 3 unchanged findings; 3 component changes; 2 CVEs fixed, 1 introduced; 1 verdict changes" {
		t.Errorf("summary %q", d.Summary())
	}

	// outputs
	var js, md, tb bytes.Buffer
	if err := Write(&js, d, "json"); err != nil {
		t.Fatal(err)
	}
	var back Diff
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Schema != SchemaVersion || len(back.Findings.New) != 3 {
		t.Errorf("JSON round trip: %v %+v", err, back.Findings)
	}
	if err := Write(&md, d, "markdown"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## New findings (3)", "## Fixed findings (2)", "| busybox | changed | 1.01 | 1.36.1 |", "| CoP 7 | guideline 7 | needs evidence | **FAIL** |", "(accepted by baseline)", "CVE-2022-48174"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if err := Write(&tb, d, "table"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NEW FINDINGS (3)", "FIXED FINDINGS (2)", "busybox", "1.01 -> 1.36.1", "needs evidence -> FAIL  *changed*"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	if err := Write(&tb, d, "xml"); err == nil || !strings.Contains(err.Error(), "table, json, markdown") {
		t.Errorf("bad format error: %v", err)
	}
}

func TestParseFailOn(t *testing.T) {
	if s, gate, err := ParseFailOn("Medium"); err != nil || !gate || s != analyzers.Medium {
		t.Errorf("medium: %v %v %v", s, gate, err)
	}
	if _, gate, err := ParseFailOn("none"); err != nil || gate {
		t.Errorf("none: %v %v", gate, err)
	}
	_, _, err := ParseFailOn("severe")
	if err == nil {
		t.Fatal("severe accepted")
	}
	for _, v := range Severities {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not list %q", err, v)
		}
	}
}

// TestHostileStrings: paths and messages from the firmware cannot break
// the table's lines or the Markdown's structure.
func TestHostileStrings(t *testing.T) {
	bad := finding("x", "/etc/a|b\n# Heading <script>`", 1, "", analyzers.High, "tar@0x0")
	d, _ := Compare(rep("a", nil, nil, nil), rep("b\n| x |", []analyzers.Finding{bad}, nil, nil))
	var md, tb bytes.Buffer
	WriteMarkdown(&md, d)
	WriteTable(&tb, d)
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "# Heading") || strings.Contains(l, "<script>") || strings.HasPrefix(l, "| x |") {
			t.Errorf("markdown line escaped its cell: %q", l)
		}
	}
	if strings.Contains(tb.String(), "\n# Heading") {
		t.Error("table line broken by a newline in a path")
	}
}

func TestCompareNil(t *testing.T) {
	if _, err := Compare(nil, rep("a", nil, nil, nil)); err == nil {
		t.Error("nil report accepted")
	}
}
