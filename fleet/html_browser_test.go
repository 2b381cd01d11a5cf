package fleet

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
)

// hostile is firmware-controlled text: names, vendor strings, paths.
const hostile = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`

// TestFleetHTMLInBrowser opens a fleet.html whose images, vendors, paths
// and errors are hostile markup in headless Chromium: the matrix has one
// row per image with the verdicts in the right cells, the shared secret is
// listed with both images, no script runs and the markup shows as text.
func TestFleetHTMLInBrowser(t *testing.T) {
	sha1 := strings.Repeat("a", 64)
	sha2 := strings.Repeat("b", 64)
	fl := &Fleet{
		Schema: FleetSchema, Guidelines: []string{"1", "2", "3", "4"},
		Images: []FleetImage{
			{Name: hostile + ".bin", SHA256: sha1, Status: StatusDone, Vendor: hostile, Product: "Cam", Version: "1.0",
				Findings: map[string]int{"critical": 1, "high": 2, "medium": 0}, CoP: map[string]string{"1": "fail", "2": "needs-evidence", "3": "pass", "4": "fail"},
				Report: hostile},
			{Name: "router.bin", SHA256: sha2, Status: StatusFailed, Error: "open " + hostile + ": no such file",
				Findings: map[string]int{}, CoP: map[string]string{}},
		},
		Shared: []Shared{{Kind: "private-key", Fingerprint: "0123456789abcdef", Images: []SharedImage{
			{Name: hostile + ".bin", SHA256: sha1, Path: "/etc/" + hostile},
			{Name: "router.bin", SHA256: sha2, Path: "/etc/ssh/ssh_host_rsa_key"},
		}}},
		PSTI1Failures:        []ImageRef{{Name: hostile + ".bin", SHA256: sha1, Findings: []string{"FW-1"}}},
		VulnerableComponents: []FleetComponent{{Name: hostile, Version: "1.2", Images: 2, Vulnerabilities: 5, Worst: "high"}},
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, fl); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>window") || strings.Contains(b.String(), "<img") {
		t.Fatal("hostile markup reached the page unescaped")
	}
	dir := os.Getenv("FWAUDIT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	page, _ := filepath.Abs(filepath.Join(dir, "fleet.html"))
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	bctx := testcorpus.Browser(t, 1280, 900)
	u := url.URL{Scheme: "file", Path: page}
	if err := chromedp.Do(bctx, chromedp.Navigate(u.String()), chromedp.WaitReady(chromedp.CSS("#matrix-table"))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("chromium: %s: %v", js, err)
		}
		return v
	}
	if n := eval(`document.querySelectorAll("#matrix-table tbody tr").length`).(float64); n != 2 {
		t.Errorf("matrix rows: %v, want 2", n)
	}
	cells := eval(`Array.from(document.querySelectorAll("#matrix-table tbody tr:first-child td")).slice(8).map(e => e.textContent + "/" + e.className).join(" ")`).(string)
	if cells != "fail/v-fail evidence/v-needs-evidence pass/v-pass fail/v-fail" {
		t.Errorf("guideline cells: %q", cells)
	}
	if n := eval(`document.querySelectorAll("#shared-table tbody tr div").length`).(float64); n != 2 {
		t.Errorf("shared secret lists %v images, want 2", n)
	}
	if v := eval(`typeof window.__pwned`).(string); v != "undefined" {
		t.Error("a script from the firmware strings ran")
	}
	if n := eval(`document.querySelectorAll("script, img, iframe, [onerror]").length`).(float64); n != 0 {
		t.Errorf("%v injected elements", n)
	}
	text := eval(`document.body.innerText`).(string)
	if strings.Count(text, "<script>window.__pwned=1</script>") < 5 {
		t.Errorf("the hostile strings are not shown as text:\n%s", text)
	}
}
