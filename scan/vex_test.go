package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/vulns"
)

var (
	ovxOnce   sync.Once
	ovxSchema *jsonschema.Schema
	ovxErr    error
)

// openVEXSchema is the OpenVEX 0.2.0 JSON Schema (testdata/schemas,
// from github.com/openvex/spec).
func openVEXSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	ovxOnce.Do(func() {
		f, err := os.Open(filepath.Join("..", "testdata", "schemas", "openvex_json_schema.json"))
		if err != nil {
			ovxErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			ovxErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const id = "https://github.com/openvex/spec/openvex_json_schema_0.2.0.json"
		if ovxErr = c.AddResource(id, doc); ovxErr != nil {
			return
		}
		ovxSchema, ovxErr = c.Compile(id)
	})
	if ovxErr != nil {
		t.Fatalf("OpenVEX schema: %v", ovxErr)
	}
	return ovxSchema
}

type ovxDoc struct {
	ID         string `json:"@id"`
	Timestamp  string `json:"timestamp"`
	Statements []struct {
		ID            string `json:"@id"`
		Vulnerability struct {
			Name string `json:"name"`
		} `json:"vulnerability"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
		StatusNotes   string `json:"status_notes"`
		Products      []struct {
			Subcomponents []struct {
				ID string `json:"@id"`
			} `json:"subcomponents"`
		} `json:"products"`
	} `json:"statements"`
}

// TestOpenVEXSchemaRejects shows the OpenVEX validator is not vacuous.
func TestOpenVEXSchemaRejects(t *testing.T) {
	sch := openVEXSchema(t)
	for _, bad := range []string{
		// not_affected with neither justification nor impact statement
		`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"urn:x","author":"a","timestamp":"2026-11-21T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2016-6301"},"status":"not_affected"}]}`,
		// affected without an action statement
		`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"urn:x","author":"a","timestamp":"2026-11-21T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2016-6301"},"status":"affected"}]}`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err := sch.Validate(inst); err == nil {
			t.Errorf("OpenVEX schema accepts %s", bad)
		}
	}
}

func vulnOf(r *report.Report, comp, id string) (report.Vulnerability, bool) {
	for _, c := range r.Components {
		if c.Name != comp {
			continue
		}
		for _, v := range c.Vulnerabilities {
			if v.ID == id {
				return v, true
			}
		}
	}
	return report.Vulnerability{}, false
}

// TestVEXTPLinkWR841N is issue 11's acceptance test on the TL-WR841N v10
// image: BusyBox CVEs of applets the binary does not have, uClibc's
// ARM-only memset CVE on a MIPS image and hostapd/wpa_supplicant 0.5.9's
// SAE and EAP-pwd CVEs are not_affected with evidence; everything else is
// affected; the two documents validate and are deterministic.
func TestVEXTPLinkWR841N(t *testing.T) {
	img := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	res, err := Run(context.Background(), img, Options{Jobs: 2, SkipSBOM: true, ScanDate: date, Vulns: testVulnOptions(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	type want struct {
		comp, id, evidence string
	}
	notAffected := []want{
		{"busybox", "CVE-2016-6301", "no applet ntpd"},
		{"busybox", "CVE-2022-48174", "no applet ash"},
		{"busybox", "CVE-2018-1000517", "no applet wget"},
		{"busybox", "CVE-2015-9261", "no applet unzip"},
		{"busybox", "CVE-2014-9645", "no applet modprobe"},
		{"busybox", "CVE-2013-1813", "no applet mdev"},
		{"busybox", "CVE-2022-28391", "no applet netstat"},
		{"uclibc", "CVE-2016-6264", "MIPS big-endian"},
		// the kernel is MIPS32 (its modules say so): no 64-bit compat
		// layer, no ARM uaccess code
		{"linux_kernel", "CVE-2010-3081", "MIPS big-endian"},
		{"linux_kernel", "CVE-2016-4997", "MIPS big-endian"},
		{"linux_kernel", "CVE-2013-6282", "MIPS big-endian"},
	}
	for _, comp := range []string{"hostapd", "wpa_supplicant"} {
		for _, id := range []string{"CVE-2019-9494", "CVE-2019-9495", "CVE-2019-9496", "CVE-2019-9497", "CVE-2019-9498", "CVE-2019-9499", "CVE-2022-23303", "CVE-2022-23304"} {
			notAffected = append(notAffected, want{comp, id, comp + " 0.5.9 predates"})
		}
	}
	isNA := map[string]bool{}
	for _, w := range notAffected {
		isNA[w.comp+" "+w.id] = true
		v, ok := vulnOf(r, w.comp, w.id)
		if !ok {
			// the NVD record may not list this product (wpa_supplicant is
			// missing from some EAP-pwd records): nothing to judge
			if w.comp == "wpa_supplicant" || w.comp == "hostapd" {
				continue
			}
			t.Errorf("%s %s not matched", w.comp, w.id)
			continue
		}
		a := v.Applicability
		if a == nil || a.State != "not_affected" || a.Justification != "vulnerable_code_not_present" || a.By != "fwaudit" {
			t.Errorf("%s %s: %+v, want not_affected / vulnerable_code_not_present", w.comp, w.id, a)
			continue
		}
		if !strings.Contains(strings.Join(a.Evidence, " | "), w.evidence) {
			t.Errorf("%s %s: evidence %q lacks %q", w.comp, w.id, a.Evidence, w.evidence)
		}
	}
	// BusyBox's applet list is read from its table: udhcpc and msh are
	// there, so their CVEs stay; CVE-2017-16544 is in the line editor every
	// BusyBox shell uses, and msh is compiled in.
	for _, id := range []string{"CVE-2016-2148", "CVE-2017-16544"} {
		v, ok := vulnOf(r, "busybox", id)
		if !ok || v.Applicability == nil || v.Applicability.State != "affected" || len(v.Applicability.Evidence) == 0 {
			t.Errorf("busybox %s: %+v, want affected with evidence", id, v.Applicability)
		}
	}
	applicable := map[string]int{}
	for _, c := range r.Components {
		for _, v := range c.Vulnerabilities {
			if v.Applicability == nil {
				t.Errorf("%s %s: no applicability", c.Name, v.ID)
				continue
			}
			if isNA[c.Name+" "+v.ID] {
				continue
			}
			// the image holds no kernel configuration: a kernel CVE in
			// an optional subsystem whose module is not there either
			// stays under investigation; everything else is affected
			kernelUnknown := c.Name == "linux_kernel" && v.Applicability.State == "under_investigation" && strings.Contains(v.Applicability.Detail, "kernel configuration")
			if v.Applicability.State != "affected" && !kernelUnknown {
				t.Errorf("%s %s: %s (%s), want affected", c.Name, v.ID, v.Applicability.State, v.Applicability.Detail)
			}
			applicable[c.Name]++
		}
	}
	// the vulnerable-component finding counts only applicable CVEs
	for _, f := range r.Findings {
		if f.Rule != "vulnerable-component" {
			continue
		}
		name := strings.Fields(f.Evidence)[0]
		if strings.Contains(f.Message, "CVE-2016-6301") || strings.Contains(f.Message, "CVE-2022-23303") {
			t.Errorf("finding lists a not-applicable CVE: %s", f.Message)
		}
		if n := applicable[name]; !strings.Contains(f.Evidence, ": "+itoa(n)+" known") {
			t.Errorf("%s finding %q, want %d applicable", name, f.Evidence, n)
		}
	}
	if db := r.VulnDB; db == nil || db.DataDate == "" || db.Summary == "" {
		t.Errorf("vuln_db without data date or summary: %+v", db)
	} else if db.Source == "embedded feed" && !strings.HasPrefix(db.Summary, "curated: ") {
		t.Errorf("embedded feed summary %q", db.Summary)
	}

	// vulns.cdx.json: CycloneDX 1.6, one entry per CVE, analysis on each
	cdx, _ := schemas(t)
	validate(t, "vulns.cdx.json", cdx, res.SBOM["vulns.cdx.json"])
	d := decodeCDX(t, res.SBOM["vulns.cdx.json"])
	for _, v := range d.Vulnerabilities {
		if v.ID == "CVE-2016-6301" && (v.Analysis == nil || v.Analysis.State != "not_affected" || v.Analysis.Justification != "code_not_present" || !strings.Contains(v.Analysis.Detail, "ntpd")) {
			t.Errorf("vulns.cdx.json CVE-2016-6301 analysis %+v", v.Analysis)
		}
		if v.ID == "CVE-2016-2148" && (v.Analysis == nil || v.Analysis.State != "exploitable") {
			t.Errorf("vulns.cdx.json CVE-2016-2148 analysis %+v", v.Analysis)
		}
	}
	// OpenVEX: validates; ids and timestamp from the image hash and date
	ov := res.SBOM["vex.openvex.json"]
	validate(t, "vex.openvex.json", openVEXSchema(t), ov)
	var od ovxDoc
	if err := json.Unmarshal(ov, &od); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(od.ID, r.Image.SHA256) || od.Timestamp != "2026-11-21T00:00:00Z" {
		t.Errorf("OpenVEX id %q timestamp %q", od.ID, od.Timestamp)
	}
	found := false
	for _, s := range od.Statements {
		if s.Vulnerability.Name == "CVE-2016-6264" {
			found = true
			if s.Status != "not_affected" || s.Justification != "vulnerable_code_not_present" || !strings.Contains(s.StatusNotes, "MIPS") {
				t.Errorf("OpenVEX CVE-2016-6264: %+v", s)
			}
		}
	}
	if !found {
		t.Error("CVE-2016-6264 not in vex.openvex.json")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// testVulnOptions uses the embedded feed in a cache of the test's own, so
// that a grype database elsewhere on the machine does not change the
// result.
func testVulnOptions(t *testing.T) vulns.Options {
	t.Helper()
	t.Setenv("GRYPE_DB_CACHE_DIR", t.TempDir())
	return vulns.Options{CacheDir: t.TempDir()}
}

// TestUserVEX: a user's OpenVEX statement marks a CVE not_affected; it is
// reported as accepted by the user, never dropped, and no longer counts.
func TestUserVEX(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "accepted.openvex.json")
	doc := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"urn:example:1","author":"Vendor PSIRT","timestamp":"2026-11-01T00:00:00Z","version":1,
"statements":[{"vulnerability":{"name":"CVE-2017-9728"},"products":[{"@id":"uclibc@0.9.33.2"}],"status":"not_affected","justification":"vulnerable_code_cannot_be_controlled_by_adversary","impact_statement":"regexec is never fed untrusted patterns on this device"}]}`
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	res, err := Run(context.Background(), fixture("flash.bin"), Options{Jobs: 2, SkipSBOM: true, ScanDate: date, VEXFiles: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := vulnOf(res.Report, "uclibc", "CVE-2017-9728")
	if !ok {
		t.Fatal("CVE-2017-9728 dropped from the report")
	}
	a := v.Applicability
	if a == nil || a.State != "not_affected" || a.By != "user VEX "+p || a.Justification != "vulnerable_code_cannot_be_controlled_by_adversary" ||
		!strings.Contains(a.Detail, "accepted by user VEX") || !strings.Contains(a.Detail, "untrusted patterns") {
		t.Fatalf("user VEX decision: %+v", a)
	}
	if !strings.Contains(strings.Join(a.Evidence, " "), "fwaudit's own analysis: ") {
		t.Errorf("fwaudit's own analysis not kept: %q", a.Evidence)
	}
	for _, f := range res.Report.Findings {
		if f.Rule == "vulnerable-component" && strings.Contains(f.Message, "CVE-2017-9728") {
			t.Errorf("accepted CVE still counted: %s", f.Message)
		}
	}
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, res.Report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "CVE-2017-9728") || !strings.Contains(md.String(), "accepted by user VEX") {
		t.Error("report.md does not show the accepted CVE")
	}
	// a broken VEX file is an error, not ignored
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"statements":[{"status":"not_affected","vulnerability":{"name":"CVE-1"}}]}`), 0o644)
	if _, err := Run(context.Background(), fixture("flash.bin"), Options{Jobs: 2, SkipSBOM: true, SkipVulns: true, VEXFiles: []string{bad}}); err == nil {
		t.Error("a VEX file with a not_affected statement without justification was accepted")
	}
}
