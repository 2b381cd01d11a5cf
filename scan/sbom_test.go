package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/vulns"
)

// The schemas are committed under testdata/schemas (see its README); they
// reference each other by their $id, so each is registered under it and
// nothing is fetched.
var (
	schemaOnce sync.Once
	cdxSchema  *jsonschema.Schema
	spdxSchema *jsonschema.Schema
	schemaErr  error
)

func schemas(t testing.TB) (cdx, spdx *jsonschema.Schema) {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for file, id := range map[string]string{
			"bom-1.6.schema.json":  "http://cyclonedx.org/schema/bom-1.6.schema.json",
			"spdx.schema.json":     "http://cyclonedx.org/schema/spdx.schema.json",
			"jsf-0.82.schema.json": "http://cyclonedx.org/schema/jsf-0.82.schema.json",
			"spdx-schema-2.3.json": "http://spdx.org/rdf/terms/2.3",
		} {
			f, err := os.Open(filepath.Join("..", "testdata", "schemas", file))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemaErr = err
				return
			}
			if err := c.AddResource(id, doc); err != nil {
				schemaErr = err
				return
			}
		}
		if cdxSchema, schemaErr = c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json"); schemaErr != nil {
			return
		}
		spdxSchema, schemaErr = c.Compile("http://spdx.org/rdf/terms/2.3")
	})
	if schemaErr != nil {
		t.Fatalf("schemas: %v", schemaErr)
	}
	return cdxSchema, spdxSchema
}

func validate(t *testing.T, name string, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	if len(data) == 0 {
		t.Errorf("%s: empty", name)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s does not validate: %v", name, err)
	}
}

// cdxDoc is the part of a CycloneDX document the tests look at.
type cdxDoc struct {
	SpecVersion string `json:"specVersion"`
	Components  []struct {
		BOMRef  string `json:"bom-ref"`
		Name    string `json:"name"`
		Version string `json:"version"`
		PURL    string `json:"purl"`
		CPE     string `json:"cpe"`
	} `json:"components"`
	SerialNumber    string `json:"serialNumber"`
	Vulnerabilities []struct {
		ID       string `json:"id"`
		BOMRef   string `json:"bom-ref"`
		Analysis *struct {
			State         string `json:"state"`
			Justification string `json:"justification"`
			Detail        string `json:"detail"`
		} `json:"analysis"`
		Ratings []struct {
			Severity string  `json:"severity"`
			Score    float64 `json:"score"`
			Method   string  `json:"method"`
		} `json:"ratings"`
		Affects []struct {
			Ref      string `json:"ref"`
			Versions []struct {
				Version string `json:"version"`
				Range   string `json:"range"`
				Status  string `json:"status"`
			} `json:"versions"`
		} `json:"affects"`
	} `json:"vulnerabilities"`
}

func decodeCDX(t *testing.T, data []byte) cdxDoc {
	t.Helper()
	var d cdxDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkDocs validates the three documents of a scan and checks that every
// vulnerability points at a component of the document.
func checkDocs(t *testing.T, docs map[string][]byte, wantVulns bool) cdxDoc {
	t.Helper()
	cdx, spdx := schemas(t)
	validate(t, "sbom.cdx.json", cdx, docs["sbom.cdx.json"])
	validate(t, "sbom.spdx.json", spdx, docs["sbom.spdx.json"])
	var sp struct {
		Version string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(docs["sbom.spdx.json"], &sp); err != nil || sp.Version != "SPDX-2.3" {
		t.Errorf("sbom.spdx.json: spdxVersion %q, %v", sp.Version, err)
	}
	if d := decodeCDX(t, docs["sbom.cdx.json"]); d.SpecVersion != "1.6" {
		t.Errorf("sbom.cdx.json: specVersion %q", d.SpecVersion)
	}
	vd, ok := docs["vulns.cdx.json"]
	if !ok {
		if wantVulns {
			t.Fatal("no vulns.cdx.json")
		}
		return cdxDoc{}
	}
	validate(t, "vulns.cdx.json", cdx, vd)
	d := decodeCDX(t, vd)
	if d.SpecVersion != "1.6" {
		t.Errorf("vulns.cdx.json: specVersion %q", d.SpecVersion)
	}
	refs := map[string]bool{}
	for _, c := range d.Components {
		refs[c.BOMRef] = true
	}
	ids := map[string]bool{}
	for _, v := range d.Vulnerabilities {
		if ids[v.ID] {
			t.Errorf("vulnerability %s listed twice (want one entry per CVE)", v.ID)
		}
		ids[v.ID] = true
		if v.BOMRef != "vulnerability:"+v.ID {
			t.Errorf("vulnerability %s has bom-ref %q", v.ID, v.BOMRef)
		}
		if len(v.Affects) == 0 {
			t.Errorf("vulnerability %s affects nothing", v.ID)
		}
		for _, a := range v.Affects {
			if !refs[a.Ref] {
				t.Errorf("vulnerability %s affects %+v, not a component of the document", v.ID, a)
			}
		}
		if len(v.Ratings) == 0 || v.Ratings[0].Severity == "" {
			t.Errorf("vulnerability %s has no rating", v.ID)
		}
	}
	if wantVulns && len(d.Vulnerabilities) == 0 {
		t.Error("vulns.cdx.json lists no vulnerability")
	}
	return d
}

func TestSBOMSchemasFixture(t *testing.T) {
	for _, name := range []string{"flash.bin", "rootfs.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			res, err := Run(context.Background(), fixture(name), Options{Jobs: 2})
			if err != nil {
				t.Fatal(err)
			}
			wantVulns := false
			for _, c := range res.Report.Components {
				if len(c.Vulnerabilities) > 0 {
					wantVulns = true
				}
			}
			checkDocs(t, res.SBOM, wantVulns)
			if name != "rootfs.tar.gz" {
				return
			}
			// its /bin/busybox is a fake, not an ELF file: fwaudit's
			// classifiers leave it, syft's binary classifier (run on its
			// own, the layer holding no package database) reports it
			found := false
			for _, c := range res.Report.Components {
				if c.Name == "busybox" && c.Version == "1.24.1" && c.FoundBy == "binary-classifier-cataloger" {
					found = true
				}
			}
			if !found {
				t.Errorf("busybox 1.24.1 not reported by syft's classifier: %+v", res.Report.Components)
			}
			if !bytes.Contains(res.SBOM["sbom.cdx.json"], []byte("pkg:generic/busybox@1.24.1")) {
				t.Error("busybox 1.24.1 not in sbom.cdx.json")
			}
		})
	}
}

func TestSBOMSchemasZyXEL(t *testing.T) {
	img := filepath.Join(sharedFirmware(t), "real", "zyxel_p663h51_rootfs_squashfs_v2.bin")
	res, err := Run(context.Background(), img, Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	vulnerable := 0
	for _, c := range res.Report.Components {
		if len(c.Vulnerabilities) > 0 {
			vulnerable++
		}
	}
	if vulnerable == 0 {
		t.Fatalf("no vulnerable component: %+v", res.Report.Components)
	}
	checkDocs(t, res.SBOM, true)
}

func TestSBOMSchemasWR841N(t *testing.T) {
	img := filepath.Join(sharedFirmware(t), "real", "tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	res, err := Run(context.Background(), img, Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Report.Analyzers.Failures {
		if f.Analyzer == "sbom" || f.Analyzer == "vulns" {
			t.Errorf("%s failed: %s", f.Analyzer, f.Error)
		}
	}
	d := checkDocs(t, res.SBOM, true)
	// the report's vulnerabilities and the document's are the same set
	want := map[string]bool{}
	for _, c := range res.Report.Components {
		for _, v := range c.Vulnerabilities {
			want[c.Name+" "+v.ID] = true
		}
	}
	byRef := map[string]string{}
	for _, c := range d.Components {
		byRef[c.BOMRef] = c.Name
	}
	got := map[string]bool{}
	for _, v := range d.Vulnerabilities {
		for _, a := range v.Affects {
			got[byRef[a.Ref]+" "+v.ID] = true
		}
		// every vulnerability carries its analysis
		if v.Analysis == nil || v.Analysis.State == "" || v.Analysis.Detail == "" {
			t.Errorf("vulnerability %s without analysis: %+v", v.ID, v.Analysis)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s is in the report but not in vulns.cdx.json", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s is in vulns.cdx.json but not in the report", k)
		}
	}
	// dropbear 2012.55: CVE-2016-7406 is critical, fixed in 2016.74
	found := false
	for _, v := range d.Vulnerabilities {
		if v.ID != "CVE-2016-7406" || len(v.Affects) != 1 || byRef[v.Affects[0].Ref] != "dropbear" {
			continue
		}
		found = true
		if v.Ratings[0].Severity != "critical" || v.Ratings[0].Score < 9 {
			t.Errorf("CVE-2016-7406 ratings %+v", v.Ratings)
		}
		vs := v.Affects[0].Versions
		if len(vs) == 0 || vs[0].Version != "2012.55" || vs[0].Status != "affected" {
			t.Errorf("CVE-2016-7406 affected versions %+v", vs)
		}
	}
	if !found {
		t.Error("CVE-2016-7406 (dropbear) not in vulns.cdx.json")
	}
}

// TestSBOMSchemaRejects shows the validator is not vacuous: a component of
// an unknown type and an SPDX package without a download location fail.
func TestSBOMSchemaRejects(t *testing.T) {
	cdx, spdx := schemas(t)
	bad := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"gadget","name":"x"}]}`)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if err := cdx.Validate(inst); err == nil {
		t.Error("CycloneDX schema accepts a component of type gadget")
	}
	bad = []byte(`{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"x","documentNamespace":"https://example.com/x",
		"creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: fwaudit"]},"packages":[{"name":"p","SPDXID":"SPDXRef-p"}]}`)
	inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if err := spdx.Validate(inst); err == nil {
		t.Error("SPDX schema accepts a package without downloadLocation")
	}
}

// opkgStatus is an OpenWrt package database (/usr/lib/opkg/status).
const opkgStatus = `Package: dropbear
Version: 2019.78-2
Depends: libc
Status: install user installed
Architecture: mips_24kc
Installed-Time: 1577836800

Package: busybox
Version: 1.30.1-5
Depends: libc
Status: install user installed
Architecture: mips_24kc
Installed-Time: 1577836800

`

// TestSBOMOpkgLayer: syft's dpkg cataloger reads OpenWrt's opkg database
// with the firmware cataloger selection, the packages land in both SBOMs,
// and the documents validate; firmware components are merged in and the
// vulnerability document is built from matches on them.
func TestSBOMOpkgLayer(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{
		"usr/lib/opkg/status": opkgStatus,
		"etc/openwrt_release": "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='19.07.0'\n",
		"bin/busybox":         "\x7fELF not really",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := &extract.Result{SHA256: strings.Repeat("ab", 32), Layers: []*extract.Layer{{
		ID: "L1", Path: "squashfs@0x0", Format: "squashfs", Kind: extract.Filesystem.String(),
		Status: extract.StatusOK, Files: 3, Root: root,
	}}}
	fw := []components.Component{{
		Name: "busybox", Version: "1.01", Type: "binary", PURL: "pkg:generic/busybox@1.01",
		CPEs:      []string{"cpe:2.3:a:busybox:busybox:1.01:*:*:*:*:*:*:*"},
		Locations: []components.Location{{Layer: "squashfs@0x0", Path: "/bin/busybox", Evidence: "BusyBox v1.01"}},
	}}
	comps, docs, merged, err := BuildSBOM(context.Background(), "router.bin", res, fw, true)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, c := range comps {
		have[c.Name+"@"+c.Version] = c.FoundBy
	}
	for k, want := range map[string]string{"dropbear@2019.78-2": "dpkg-db-cataloger", "busybox@1.30.1-5": "dpkg-db-cataloger", "busybox@1.01": FoundByFirmware} {
		if have[k] != want {
			t.Errorf("component %s found by %q, want %q (all: %v)", k, have[k], want, have)
		}
	}
	ms, _, err := vulns.MatchSBOM(context.Background(), merged, vulns.Options{})
	if err != nil {
		t.Fatal(err)
	}
	onFW := 0
	for _, m := range ms {
		if m.Component == "busybox" && m.Version == "1.01" {
			onFW++
		}
	}
	if onFW == 0 {
		t.Fatalf("no match on busybox 1.01 from the embedded feed: %+v", ms)
	}
	vd, err := VulnsCycloneDX(merged, ms, VulnsMeta{ImageSHA256: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	docs["vulns.cdx.json"] = vd
	d := checkDocs(t, docs, true)
	names := map[string]bool{}
	for _, c := range d.Components {
		names[c.Name+"@"+c.Version] = true
		if strings.HasPrefix(c.PURL, "pkg:") && c.Name == "dropbear" && !strings.Contains(c.PURL, "dropbear@2019.78-2") {
			t.Errorf("dropbear purl %q", c.PURL)
		}
	}
	for _, k := range []string{"dropbear@2019.78-2", "busybox@1.30.1-5", "busybox@1.01"} {
		if !names[k] {
			t.Errorf("%s not in sbom.cdx.json", k)
		}
	}
	if len(d.Vulnerabilities) < onFW {
		t.Errorf("vulns.cdx.json has %d vulnerabilities, want at least %d", len(d.Vulnerabilities), onFW)
	}
	if !bytes.Contains(docs["sbom.spdx.json"], []byte(`"dropbear"`)) {
		t.Error("dropbear not in sbom.spdx.json")
	}
}

func TestVulnsCycloneDXUnknownPackage(t *testing.T) {
	// a match on a package the SBOM does not hold has nothing to point at
	// and is left out rather than written with a dangling ref
	res := &extract.Result{SHA256: strings.Repeat("cd", 32)}
	_, _, merged, err := BuildSBOM(context.Background(), "x.bin", res, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := VulnsCycloneDX(merged, []vulns.Match{{Component: "ghost", Version: "1", ID: "CVE-2020-0001", Severity: "high", CVSS: 7.5, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}}, VulnsMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if d := decodeCDX(t, out); len(d.Vulnerabilities) != 0 {
		t.Errorf("vulnerabilities %+v", d.Vulnerabilities)
	}
	if _, err := VulnsCycloneDX(nil, nil, VulnsMeta{}); err == nil {
		t.Error("nil SBOM accepted")
	}
}

func TestCVSSVersion(t *testing.T) {
	for vec, want := range map[string]string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": "3.1",
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": "3.0",
		"AV:N/AC:L/Au:N/C:P/I:P/A:P":                   "2.0",
		"":                                             "",
	} {
		if got := cvssVersion(vec); got != want {
			t.Errorf("cvssVersion(%q) = %q, want %q", vec, got, want)
		}
	}
}

// BenchmarkScanWR841N times the stages of a scan of the TP-Link WR841N
// image separately: extraction, analyzers, firmware components, syft,
// vulnerability matching and the vulnerability document. The issue's
// target is (syft+vulns)/extract <= 0.5 (reported as sbom-ratio).
func BenchmarkScanWR841N(b *testing.B) {
	img := filepath.Join(sharedFirmware(b), "real", "tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	ctx := context.Background()
	// the embedded feed is compiled into the cache on first use
	if _, err := vulns.Status(vulns.Options{}); err != nil {
		b.Fatal(err)
	}
	var tExtract, tAnalyze, tComp, tSyft, tVulns, tDoc time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		work := b.TempDir()
		t0 := time.Now()
		res, err := extract.Extract(ctx, img, filepath.Join(work, "w"), extract.Options{Limits: extract.DefaultLimits()})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		target := analyzers.NewTarget(res.Layers)
		analyzers.Run(ctx, target, Default(), 2)
		t2 := time.Now()
		fw, err := components.Catalog(ctx, target, nil)
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		_, _, merged, err := BuildSBOM(ctx, img, res, fw, true)
		if err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		ms, _, err := vulns.MatchSBOM(ctx, merged, vulns.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t5 := time.Now()
		if _, err := VulnsCycloneDX(merged, ms, VulnsMeta{ImageSHA256: strings.Repeat("ab", 32)}); err != nil {
			b.Fatal(err)
		}
		t6 := time.Now()
		tExtract += t1.Sub(t0)
		tAnalyze += t2.Sub(t1)
		tComp += t3.Sub(t2)
		tSyft += t4.Sub(t3)
		tVulns += t5.Sub(t4)
		tDoc += t6.Sub(t5)
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(tExtract), "extract-ms/op")
	b.ReportMetric(ms(tAnalyze), "analyze-ms/op")
	b.ReportMetric(ms(tComp), "components-ms/op")
	b.ReportMetric(ms(tSyft), "syft-ms/op")
	b.ReportMetric(ms(tVulns), "vulns-ms/op")
	b.ReportMetric(ms(tDoc), "vulnscdx-ms/op")
	b.ReportMetric((ms(tComp)+ms(tSyft)+ms(tVulns)+ms(tDoc))/ms(tExtract), "sbom-ratio")
}

func TestSyftHasWork(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		links map[string]string
		want  syftWork
	}{
		{"nothing", map[string]string{"bin/dropbearmulti": "\x7fELF", "etc/passwd": "root:x:0:0::/:/bin/sh\n"}, map[string]string{"bin/gzip": "../usr/sbin/gzip-real"}, syftNothing},
		{"busybox", map[string]string{"bin/busybox": "\x7fELF..BusyBox v1.01"}, map[string]string{"bin/gzip": "busybox", "bin/sh": "busybox"}, syftClassify},
		{"kernel modules", map[string]string{"lib/modules/2.6.31/net/ath_hal.ko": "\x7fELF", "etc/passwd": "root:x:0:0::/:/bin/sh\n"}, nil, syftNothing},
		{"opkg", map[string]string{"usr/lib/opkg/status": opkgStatus, "usr/bin/httpd": "x"}, nil, syftFull},
		{"opkg control", map[string]string{"usr/lib/opkg/info/dropbear.control": "Package: dropbear\n"}, nil, syftFull},
		{"apk", map[string]string{"lib/apk/db/installed": "P:musl\nV:1.2.3\n"}, nil, syftFull},
		{"python", map[string]string{"usr/bin/python3.9": "\x7fELF"}, nil, syftClassify},
		{"vendor httpd", map[string]string{"usr/bin/httpd": "\x7fELF", "bin/busybox": "\x7fELF"}, nil, syftClassify},
		{"kernel image", map[string]string{"boot/vmlinuz-5.4.0": "x"}, nil, syftFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
					t.Fatal(err)
				}
			}
			if got := syftWorkIn(root); got != tc.want {
				t.Errorf("syftWorkIn = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSBOMClassifierOnlyLayer: a layer where only a file name syft's
// binary classifier knows matched is classified without a full syft run,
// and what the classifier finds lands in the SBOM with its CPE.
func TestSBOMClassifierOnlyLayer(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	body := "\x7fELF\x00\x00junk\x00@(#)Bash version 4.4.23(1) release GNU\x00more"
	if err := os.WriteFile(filepath.Join(root, "bin", "bash"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if w := syftWorkIn(root); w != syftClassify {
		t.Fatalf("syftWorkIn = %v, want classifier only", w)
	}
	res := &extract.Result{SHA256: strings.Repeat("ef", 32), Layers: []*extract.Layer{{
		ID: "L1", Path: "cpio@0x0", Format: "cpio", Kind: extract.Filesystem.String(),
		Status: extract.StatusOK, Files: 1, Root: root,
	}}}
	comps, docs, _, err := BuildSBOM(context.Background(), "x.bin", res, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var bash *struct{ found, cpe string }
	for _, c := range comps {
		if c.Name == "bash" && c.Version == "4.4.23" {
			bash = &struct{ found, cpe string }{c.FoundBy, strings.Join(c.CPEs, " ")}
		}
	}
	if bash == nil || bash.found != "binary-classifier-cataloger" || !strings.Contains(bash.cpe, "cpe:2.3:a:gnu:bash:4.4.23") {
		t.Fatalf("bash 4.4.23 not classified: %+v (all %+v)", bash, comps)
	}
	checkDocs(t, docs, false)
}

// TestSBOMLayersConcurrently: layers are cataloged side by side and each
// package is attributed to its own layer.
func TestSBOMLayersConcurrently(t *testing.T) {
	mk := func(files map[string]string) string {
		root := t.TempDir()
		for name, body := range files {
			p := filepath.Join(root, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	res := &extract.Result{SHA256: strings.Repeat("01", 32)}
	want := map[string]string{}
	for i := 0; i < 5; i++ {
		path := fmt.Sprintf("layer%d", i)
		var root string
		if i%2 == 0 {
			v := fmt.Sprintf("2019.7%d-1", i)
			root = mk(map[string]string{"usr/lib/opkg/status": "Package: dropbear\nVersion: " + v + "\nStatus: install user installed\nArchitecture: mips\n\n"})
			want["dropbear@"+v] = path
		} else {
			v := fmt.Sprintf("4.4.%d", i)
			root = mk(map[string]string{"bin/bash": "\x00@(#)Bash version " + v + "(1) release GNU\x00"})
			want["bash@"+v] = path
		}
		res.Layers = append(res.Layers, &extract.Layer{ID: path, Path: path, Format: "cpio", Kind: extract.Filesystem.String(), Status: extract.StatusOK, Files: 1, Root: root})
	}
	comps, _, _, err := BuildSBOM(context.Background(), "x.bin", res, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range comps {
		got[c.Name+"@"+c.Version] = strings.Join(c.Layers, ",")
	}
	for k, l := range want {
		if got[k] != l {
			t.Errorf("%s in layers %q, want %q", k, got[k], l)
		}
	}
	if len(got) != len(want) {
		t.Errorf("components %v, want %v", got, want)
	}
}
