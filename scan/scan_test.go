package scan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
)

// sharedFirmware returns ../shared/firmware. Outside CI a missing corpus
// skips the test; under CI=true it fails.
func sharedFirmware(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "firmware")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared firmware corpus missing at %s (CI=true): %v", dir, err)
		}
		t.Skipf("shared firmware corpus not found at %s; set it up beside the checkout to run this test", dir)
	}
	return dir
}

// TestMain keeps the tests hermetic: the vulnerability database is the
// embedded feed compiled into a temporary cache, never a grype database
// some user left in the real cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fwaudit-scan-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	os.Setenv("GRYPE_DB_CACHE_DIR", filepath.Join(dir, "grype"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func fixture(name string) string { return filepath.Join("..", "testdata", "firmware", name) }

func findRule(fs []analyzers.Finding, rule, path string) *analyzers.Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Path == path {
			return &fs[i]
		}
	}
	return nil
}

func TestScanFixtureEndToEnd(t *testing.T) {
	res, err := Run(context.Background(), fixture("flash.bin"), Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if r.Image.SHA256 == "" || r.Image.Size != 1048576 {
		t.Errorf("image info: %+v", r.Image)
	}
	f := findRule(r.Findings, "default-password", "/etc/shadow")
	if f == nil {
		t.Fatalf("no default-password finding for /etc/shadow; findings: %+v", r.Findings)
	}
	if f.Severity != analyzers.Critical || f.Layer != "squashfs@0x80000" || f.Line == 0 || !strings.HasPrefix(f.ID, "FW-") {
		t.Errorf("finding lacks evidence: %+v", f)
	}
	if len(f.Guidelines) == 0 || f.Guidelines[0] != 1 {
		t.Errorf("default password must map to guideline 1: %v", f.Guidelines)
	}
	if _, ok := res.SBOM["sbom.cdx.json"]; !ok {
		t.Errorf("no CycloneDX SBOM")
	}
	if _, ok := res.SBOM["sbom.spdx.json"]; !ok {
		t.Errorf("no SPDX SBOM")
	}
	if _, err := os.Stat(res.WorkDir); !os.IsNotExist(err) {
		t.Errorf("work dir %s not removed", res.WorkDir)
	}
}

// Finding IDs are stable across runs and work directories.
func TestFindingIDsStable(t *testing.T) {
	a, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Report.Findings) == 0 || len(a.Report.Findings) != len(b.Report.Findings) {
		t.Fatalf("finding counts %d vs %d", len(a.Report.Findings), len(b.Report.Findings))
	}
	for i := range a.Report.Findings {
		if a.Report.Findings[i].ID != b.Report.Findings[i].ID {
			t.Errorf("finding %d: id %s vs %s", i, a.Report.Findings[i].ID, b.Report.Findings[i].ID)
		}
	}
}

func TestAnomaliesBecomeFindings(t *testing.T) {
	res, err := Run(context.Background(), fixture("evil-traversal.tar"), Options{SkipSBOM: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Report.Findings {
		if f.Category == "extraction-anomaly" {
			got = append(got, f.Rule+" "+f.Path)
		}
	}
	want := []string{"extraction-anomaly/path-traversal ../../evil.txt", "extraction-anomaly/absolute-path /etc/absolute.txt"}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g == w {
				found = true
			}
		}
		if !found {
			t.Errorf("missing finding %q; got %v", w, got)
		}
	}
}

// A failing analyzer is reported; the others still produce findings.
func TestFailingAnalyzerIsNotFatal(t *testing.T) {
	list := append(Default(), boom{})
	res, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true, Analyzers: list})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Analyzers.Failures) != 1 || res.Report.Analyzers.Failures[0].Analyzer != "boom" {
		t.Errorf("failures: %+v", res.Report.Analyzers.Failures)
	}
	if findRule(res.Report.Findings, "default-password", "/etc/shadow") == nil {
		t.Errorf("accounts findings lost when another analyzer panicked")
	}
}

// An analyzer that reaches its time bound (--analyzer-timeout) is stopped
// and reported as failed, the items it checks cannot pass and say so, and
// the other analyzers' findings stay.
func TestAnalyzerTimeBoundIsReported(t *testing.T) {
	// credentials (quick on this fixture, well under the bound) and a keys
	// analyzer that works until it is stopped
	list := append(credentialsOnly(), stallsAs{"keys"})
	lim := extract.DefaultLimits()
	lim.AnalyzerTimeout = 2 * time.Second
	res, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipSBOM: true, SkipVulns: true, Analyzers: list, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if len(r.Analyzers.Failures) != 1 || r.Analyzers.Failures[0].Analyzer != "keys" ||
		!strings.Contains(r.Analyzers.Failures[0].Error, "time bound") {
		t.Fatalf("failures: %+v", r.Analyzers.Failures)
	}
	if !slices.Contains(r.Analyzers.Ran, "credentials") || slices.Contains(r.Analyzers.Ran, "keys") {
		t.Errorf("ran: %v", r.Analyzers.Ran)
	}
	if countBy(r.Findings, "credentials") == 0 {
		t.Error("credentials findings lost when keys was stopped")
	}
	// CoP 4 (keys, credentials) cannot pass, and says keys failed (it
	// fails here on the fixture's credentials)
	for _, it := range r.Compliance.Frameworks["cop"] {
		if it.ID == "4" && (it.Verdict == compliance.Pass || !strings.Contains(it.Note, "keys failed")) {
			t.Errorf("CoP 4: %s %s", it.Verdict, it.Note)
		}
	}
	if d := extract.DefaultLimits().AnalyzerTimeout; d < time.Minute {
		t.Errorf("default analyzer time bound %s", d)
	}
}

// stallsAs is an analyzer that works until it is cancelled.
type stallsAs struct{ name string }

func (s stallsAs) Name() string { return s.name }
func (stallsAs) Analyze(ctx context.Context, _ *analyzers.Target) ([]analyzers.Finding, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type boom struct{}

func (boom) Name() string { return "boom" }
func (boom) Analyze(context.Context, *analyzers.Target) ([]analyzers.Finding, error) {
	panic("analyzer bug")
}

// The real TP-Link WR841N update: every layer unpacks and root's vendor
// default password is found.
func TestScanTPLinkWR841N(t *testing.T) {
	img := filepath.Join(sharedFirmware(t), "real", "tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	res, err := Run(context.Background(), img, Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	var sq *extract.Layer
	formats := map[string]bool{}
	for _, l := range r.Layers {
		formats[l.Format] = true
		if l.Status == extract.StatusFailed {
			t.Errorf("layer %s failed: %s", l.Path, l.Error)
		}
		if l.Format == "squashfs" {
			sq = l
		}
	}
	for _, want := range []string{"tplink", "lzma", "squashfs"} {
		if !formats[want] {
			t.Errorf("no %s layer; layers: %v", want, layerList(r.Layers))
		}
	}
	if sq == nil || sq.Files != 374 || sq.Status != extract.StatusOK {
		t.Fatalf("squashfs layer missing or incomplete; layers: %v", layerList(r.Layers))
	}
	if sq.Path != "tplink@0x0 > rootfs.bin > squashfs@0x0" {
		t.Errorf("squashfs layer path %q", sq.Path)
	}
	f := findRule(r.Findings, "default-password", "/etc/shadow")
	if f == nil || f.Severity != analyzers.Critical || !strings.Contains(f.Evidence, `"sohoadmin"`) {
		t.Fatalf("root's vendor default not reported: %+v", f)
	}
	// known vulnerabilities of the components, from the embedded feed
	if r.VulnDB == nil || r.VulnDB.Source != "embedded feed" || r.VulnDB.Records < 100 {
		t.Errorf("vulnerability database: %+v", r.VulnDB)
	}
	wantCVE := map[string]string{"dropbear": "CVE-2016-7406", "busybox": "CVE-2016-2148"}
	for _, c := range r.Components {
		if want, ok := wantCVE[c.Name]; ok {
			for _, v := range c.Vulnerabilities {
				if v.ID == want {
					delete(wantCVE, c.Name)
				}
			}
		}
	}
	if len(wantCVE) > 0 {
		t.Errorf("CVEs not matched: %v", wantCVE)
	}
	for _, c := range r.Components {
		if (c.Name == "busybox" || c.Name == "uclibc") && (c.EOL == nil || c.EOL.Finding == "") {
			t.Errorf("%s %s has no end-of-life status in components[]", c.Name, c.Version)
		}
	}
	if f := findRule(r.Findings, "vulnerable-component", "/usr/sbin/dropbearmulti"); f == nil || f.Severity != analyzers.Critical || len(f.Guidelines) != 1 || f.Guidelines[0] != 3 {
		t.Errorf("no critical vulnerable-component finding for dropbear: %+v", f)
	}
	// compliance: guideline 1 fails on the default password, 2 and 12
	// need evidence, 3 fails on the components
	if r.Compliance == nil {
		t.Fatal("no compliance section")
	}
	verdicts := map[string]string{}
	for _, it := range r.Compliance.Frameworks["cop"] {
		verdicts[it.ID] = string(it.Verdict)
		if it.ID == "1" && (len(it.Findings) == 0 || it.Findings[0] != f.ID) {
			t.Errorf("guideline 1 does not cite the default-password finding: %+v", it)
		}
	}
	for id, want := range map[string]string{"1": "fail", "2": "needs-evidence", "3": "fail", "12": "needs-evidence"} {
		if verdicts[id] != want {
			t.Errorf("CoP %s verdict %q, want %q", id, verdicts[id], want)
		}
	}
	if !strings.Contains(r.Compliance.PSTI, "would fail requirement 1") || !strings.Contains(r.Compliance.PSTI, "/etc/shadow") {
		t.Errorf("PSTI line: %q", r.Compliance.PSTI)
	}
	for _, name := range []string{"busybox", "dropbear", "uclibc", "linux_kernel"} {
		found := false
		for _, f := range r.Findings {
			if (f.Rule == "eol-component" || f.Rule == "stale-component") && strings.HasPrefix(f.Evidence, name+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not reported as end-of-life or stale", name)
		}
	}
}

func layerList(ls []*extract.Layer) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Path+"="+string(l.Status))
	}
	return out
}

// Every sample in ../shared/firmware/formats gets a report: layers, and no
// parser panic.
func TestEverySharedSampleGetsAReport(t *testing.T) {
	dir := filepath.Join(sharedFirmware(t), "formats")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) < 30 {
		t.Fatalf("only %d samples in %s", len(ents), dir)
	}
	for _, e := range ents {
		t.Run(e.Name(), func(t *testing.T) {
			res, err := Run(context.Background(), filepath.Join(dir, e.Name()), Options{SkipSBOM: true})
			if err != nil {
				t.Fatalf("scan failed: %v", err)
			}
			r := res.Report
			if len(r.Layers) == 0 || r.Layers[0].Format != "image" {
				t.Fatalf("no layer tree")
			}
			if len(r.Layers) == 1 && r.Layers[0].Status == extract.StatusOK {
				t.Errorf("image neither unpacked nor reported unsupported/opaque")
			}
			for _, l := range r.Layers {
				for _, a := range l.Anomalies {
					if a.Kind == extract.AnomalyPanic {
						t.Errorf("parser panic in %s: %s", l.Path, a.Detail)
					}
				}
			}
		})
	}
}

// The ZyXEL P-663H-51 root file system (SquashFS 2.0 BE, Broadcom LZMA):
// the shipped dropbear host key is found, the PEM markers in libbcmssl.so
// and certimport.html are not, and the components come with versions.
func TestScanZyXEL(t *testing.T) {
	img := filepath.Join(sharedFirmware(t), "real", "zyxel_p663h51_rootfs_squashfs_v2.bin")
	res, err := Run(context.Background(), img, Options{Jobs: 2, SkipSBOM: true})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if f := findRule(r.Findings, "dropbear-host-key", "/etc/rsa_host_key"); f == nil || f.Severity != analyzers.High {
		t.Errorf("dropbear host key not reported: %+v", f)
	}
	for _, f := range r.Findings {
		if f.Category == "private-key" && (strings.Contains(f.Path, "libbcmssl") || strings.Contains(f.Path, "certimport")) {
			t.Errorf("trap reported as a key: %s %s", f.Rule, f.Path)
		}
	}
	want := map[string]string{"busybox": "1.00", "dropbear": "0.46", "openssl": "0.9.7f", "linux_kernel": "2.6.8.1"}
	for _, c := range r.Components {
		if v, ok := want[c.Name]; ok && v == c.Version {
			if len(c.CPEs) == 0 || len(c.Evidence) == 0 {
				t.Errorf("%s %s lacks CPEs or evidence", c.Name, c.Version)
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("components not found: %v", want)
	}
}

// A bare binary unpacks to nothing, but its content is still catalogued.
func TestScanBareBinary(t *testing.T) {
	img := filepath.Join(sharedFirmware(t), "real", "busybox-1.31.0-arm")
	res, err := Run(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range res.Report.Components {
		if c.Name == "busybox" && c.Version == "1.31.0" {
			found = true
		}
	}
	if !found {
		t.Errorf("BusyBox 1.31.0 not in the components: %+v", res.Report.Components)
	}
	if !strings.Contains(string(res.SBOM["sbom.cdx.json"]), `"cpe:2.3:a:busybox:busybox:1.31.0`) {
		t.Errorf("CycloneDX SBOM lacks BusyBox 1.31.0's CPE")
	}
}
