package report

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
)

// TestHTMLInBrowser opens a report.html full of hostile markup in headless
// Chromium: the verdict table must show 13 rows with the right verdicts, no
// script from the data may run, the markup must be visible as text. A
// screenshot is saved to $FWAUDIT_ARTIFACTS (or a temporary folder), and to
// docs/report-html.png when FWAUDIT_UPDATE_SCREENSHOT=1.
func TestHTMLInBrowser(t *testing.T) {
	r := complianceFixture()
	evidence := hostileHTML + " " + hostile
	for i := range r.Findings {
		if r.Findings[i].Rule == "default-password" {
			r.Findings[i].Evidence = evidence
			r.Findings[i].Path = "/www/cgi-bin/" + hostileHTML
		}
	}
	r.Components[2].Name = hostileHTML
	r.Layers[3].Source = hostileHTML
	page := render(t, writeHTML, r)

	artifacts := os.Getenv("FWAUDIT_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	htmlPath, err := filepath.Abs(filepath.Join(artifacts, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(htmlPath, page, 0o644); err != nil {
		t.Fatal(err)
	}

	bctx := testcorpus.Browser(t, 1280, 1500)

	u := url.URL{Scheme: "file", Path: htmlPath}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(u.String()),
		chromedp.WaitReady(chromedp.CSS("#verdicts")),
	); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	eval := func(what string, js string) any {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("chromium: %s: %v", what, err)
		}
		return v
	}
	rows := int(eval("rows", `document.querySelectorAll("#verdicts tbody tr").length`).(float64))
	var verdicts []string
	for _, v := range eval("verdicts", `Array.from(document.querySelectorAll("#verdicts tbody tr .verdict")).map(e => e.textContent)`).([]any) {
		verdicts = append(verdicts, v.(string))
	}
	pwned := eval("pwned", `typeof window.__pwned`).(string)
	injected := int(eval("injected", `document.querySelectorAll("script, img, iframe, object, embed, svg, [onerror], [onload], [onmouseover]").length`).(float64))
	// open the evidence of every guideline, as a reader would
	eval("open", `document.querySelectorAll("#verdicts details").forEach(d => d.open = true); true`)
	visibleText := eval("innerText", `document.body.innerText`).(string)
	text := eval("textContent", `document.body.textContent`).(string)
	// for the screenshot: the first guideline's evidence open, the rest closed
	eval("screenshot setup", `document.querySelectorAll("details").forEach(d => d.open = false);
		document.querySelector("#verdicts tbody tr details").open = true;
		document.querySelector("#verdicts tbody tr details details").open = true; true`)
	// the first screen (header, PSTI line, verdict table) for the docs, and
	// the whole page as an artifact
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	if rows != 13 {
		t.Errorf("verdict table has %d rows, want 13", rows)
	}
	if want := wantVerdictLabels(r); !slices.Equal(verdicts, want) {
		t.Errorf("verdicts %q, want %q", verdicts, want)
	}
	if pwned != "undefined" {
		t.Errorf("script from the data ran: typeof window.__pwned = %q", pwned)
	}
	if injected != 0 {
		t.Errorf("%d elements injected by the data", injected)
	}
	if !strings.Contains(visibleText, hostileHTML) {
		t.Errorf("the hostile markup is not visible as text")
	}
	if strings.Count(text, hostileHTML) < 4 {
		t.Errorf("the hostile markup appears %d times as text, want it in the evidence, paths, component and layer", strings.Count(text, hostileHTML))
	}
	if !strings.Contains(visibleText, "FAIL ✗") || !strings.Contains(visibleText, "Pass ✓") {
		t.Error("verdict texts are not visible")
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	shot := filepath.Join(artifacts, "report-html.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, "report-html-full.png"), full, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("report.html and its screenshot: %s, %s", htmlPath, shot)
	if os.Getenv("FWAUDIT_UPDATE_SCREENSHOT") == "1" {
		if err := os.WriteFile(filepath.Join("..", "docs", "report-html.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
