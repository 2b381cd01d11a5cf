package eol

import (
	"context"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/extract"
	rules "github.com/fwaudit/fwaudit/rules/eol"
)

var scan = time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC)

func comp(name, version string, paths ...string) components.Component {
	c := components.Component{Name: name, Version: version, Type: "binary"}
	for _, p := range paths {
		c.Locations = append(c.Locations, components.Location{Layer: "squashfs@0x100000", Path: p})
	}
	if len(paths) == 0 {
		c.Locations = []components.Location{{Layer: "squashfs@0x100000", Path: "/bin/" + name}}
	}
	return c
}

func one(t *testing.T, c components.Component, day time.Time, p Policy) *analyzers.Finding {
	t.Helper()
	fs := Evaluate([]components.Component{c}, day, p)
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return &fs[0]
	}
	t.Fatalf("%s %s: %d findings", c.Name, c.Version, len(fs))
	return nil
}

func TestEvaluateCases(t *testing.T) {
	cases := []struct {
		name, version string
		day           time.Time
		rule          string // "" = no finding
		severity      analyzers.Severity
		evidence      []string
	}{
		{"linux_kernel", "2.6.31", scan, RuleEOL, analyzers.High, []string{"released 2009-09-09, 17 years before the scan", "older than the oldest tracked cycle 4.9"}},
		{"linux_kernel", "2.6.8.1", scan, RuleEOL, analyzers.High, []string{"older than the oldest tracked cycle"}},
		{"linux_kernel", "4.14.336", scan, RuleEOL, analyzers.High, []string{"cycle 4.14 end of life 2024-01-10, 2 years before the scan"}},
		{"linux_kernel", "6.18.3", scan, "", "", nil},
		{"linux_kernel", "5.15.100", time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), RuleEOL, analyzers.Medium, []string{"cycle 5.15 end of life 2026-12-31, 5 months before the scan"}},
		{"linux_kernel", "5.15.100", scan, "", "", nil}, // EOL 2026-12-31 not reached yet
		{"openssl", "0.9.7f", scan, RuleEOL, analyzers.High, []string{"released 2005-03-22, 21 years", "older than the oldest tracked cycle 0.9.8, itself end of life 2015-12-31"}},
		{"openssl", "1.0.2u", scan, RuleEOL, analyzers.High, []string{"cycle 1.0.2 end of life 2019-12-31"}},
		{"openssl", "3.0.16", scan, RuleEOL, analyzers.Medium, []string{"cycle 3.0 end of life 2026-09-07, 2 months before the scan"}},
		{"openssl", "3.0.16", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "", "", nil},
		{"openssl", "3.5.7", scan, "", "", nil},
		{"busybox", "1.31.0", scan, RuleStale, analyzers.Medium, []string{"busybox 1.31.0 (released 2019-06, 7 years before the scan)"}},
		{"busybox", "1.01", scan, RuleStale, analyzers.Medium, []string{"busybox 1.01 (released 2005-08-17, 21 years before the scan)"}},
		{"busybox", "1.37.0", scan, "", "", nil},
		{"busybox", "1.01", time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC), "", "", nil},
		{"busybox", "1.9.1", scan, "", "", nil}, // release date unknown
		{"no-such-component", "1.0", scan, "", "", nil},
		{"uclibc", "0.9.30", scan, RuleEOL, analyzers.High, []string{"released 2008-11", "project discontinued 2012-05"}},
		{"uclibc", "0.9.32.1", scan, RuleEOL, analyzers.High, []string{"uclibc 0.9.32.1 (project discontinued 2012-05)"}},
		{"uclibc", "0.9.30", time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), "", "", nil},
		{"dropbear", "2012.55", scan, RuleStale, analyzers.Medium, []string{"released 2012-02, 14 years"}},
		{"u-boot", "1.1.4", scan, RuleStale, analyzers.Medium, []string{"released 2005, 20 years"}},
		{"u-boot", "2016.01", scan, RuleStale, analyzers.Medium, []string{"released 2016-01, 10 years"}},
		{"u-boot", "2024.04", scan, "", "", nil},
		{"hostapd", "0.5.9", scan, RuleStale, analyzers.Medium, []string{"released 2007"}},
		{"boa", "0.94.13", scan, RuleEOL, analyzers.High, []string{"project discontinued 2005"}},
		{"busybox", "", scan, "", "", nil},
	}
	for _, c := range cases {
		f := one(t, comp(c.name, c.version), c.day, Policy{})
		label := c.name + " " + c.version + " on " + c.day.Format(time.DateOnly)
		if c.rule == "" {
			if f != nil {
				t.Errorf("%s: unexpected %s: %s", label, f.Rule, f.Evidence)
			}
			continue
		}
		if f == nil {
			t.Errorf("%s: no finding, want %s", label, c.rule)
			continue
		}
		if f.Rule != c.rule || f.Severity != c.severity || f.Category != Category || !slices.Equal(f.Guidelines, []int{3}) {
			t.Errorf("%s: %s/%s/%s %v, want %s/%s", label, f.Rule, f.Severity, f.Category, f.Guidelines, c.rule, c.severity)
		}
		for _, e := range c.evidence {
			if !strings.Contains(f.Evidence, e) {
				t.Errorf("%s: evidence %q lacks %q", label, f.Evidence, e)
			}
		}
		if !strings.HasPrefix(f.Evidence, c.name+" "+c.version+" (") || f.Message == "" || !strings.Contains(f.Message, "source") {
			t.Errorf("%s: evidence %q message %q", label, f.Evidence, f.Message)
		}
		if f.Fingerprint != analyzers.Fingerprint(c.name+"@"+c.version) || !strings.HasPrefix(f.ID, "FW-") {
			t.Errorf("%s: fingerprint %s id %s", label, f.Fingerprint, f.ID)
		}
	}
}

func TestMessages(t *testing.T) {
	f := one(t, comp("openssl", "1.0.2u"), scan, Policy{})
	for _, want := range []string{"reached end of life on 2019-12-31", "https://endoflife.date/openssl", "last release of the cycle was 1.0.2u", "Release date 2019-12-20"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	f = one(t, comp("uclibc", "0.9.30"), scan, Policy{})
	if !strings.Contains(f.Message, "uClibc-ng") || !strings.Contains(f.Message, "uclibc.org") {
		t.Errorf("uclibc message %q", f.Message)
	}
	f = one(t, comp("busybox", "1.01"), scan, Policy{})
	if !strings.Contains(f.Message, "busybox.net") || !strings.Contains(f.Message, "policy's 5 years") {
		t.Errorf("busybox message %q", f.Message)
	}
}

func TestPolicy(t *testing.T) {
	c := comp("busybox", "1.31.0")
	if one(t, c, scan, Policy{StaleYears: 10}) != nil {
		t.Error("10-year policy flags a 7-year-old release")
	}
	if f := one(t, c, scan, Policy{StaleYears: 3}); f == nil || f.Rule != RuleStale || !strings.Contains(f.Message, "policy's 3 years") {
		t.Errorf("3-year policy: %+v", f)
	}
	if one(t, c, scan, Policy{StaleYears: -1}) != nil {
		t.Error("negative policy does not disable staleness")
	}
	// staleness off does not hide an end of life
	if f := one(t, comp("linux_kernel", "2.6.31"), scan, Policy{StaleYears: -1}); f == nil || f.Rule != RuleEOL {
		t.Error("eol lost with staleness off")
	}
	// ages count from the end of an imprecise date: 2019-06 is 5 years old
	// only after 2024-06-30.
	if one(t, c, time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC), Policy{}) != nil {
		t.Error("stale before the end of the release month + 5 years")
	}
	if one(t, c, time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), Policy{}) == nil {
		t.Error("not stale after the release month + 5 years")
	}
}

func TestCustomDB(t *testing.T) {
	db, err := rules.Parse([]byte(`products:
  - {product: widget, components: [widget], cycles: [{cycle: "2", eol: false}, {cycle: "1", eol: true, latest: "1.9"}]}
`), []byte("stale_years: 2\ncomponents:\n  - {name: gadget, releases: [{version: \"1.0\", date: 2023-01-01, source: gadget NEWS}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{DB: db}
	if f := one(t, comp("widget", "1.4"), scan, p); f == nil || f.Rule != RuleEOL || f.Severity != analyzers.High || !strings.Contains(f.Message, "has reached end of life") {
		t.Errorf("eol: true cycle: %+v", f)
	}
	if one(t, comp("widget", "2.1"), scan, p) != nil || one(t, comp("widget", "3.0"), scan, p) != nil {
		t.Error("supported or newer-than-listed cycle flagged")
	}
	if f := one(t, comp("widget", "0.5"), scan, p); f == nil || f.Rule != RuleEOL {
		t.Error("version older than every cycle not flagged")
	}
	if f := one(t, comp("gadget", "1.0"), scan, p); f == nil || f.Rule != RuleStale || !strings.Contains(f.Message, "gadget NEWS") {
		t.Errorf("data default stale_years 2: %+v", f)
	}
	if one(t, comp("busybox", "1.01"), scan, p) != nil {
		t.Error("custom DB still uses the embedded data")
	}
}

func TestLocationsAndOrder(t *testing.T) {
	bb := comp("busybox", "1.01", "/sbin/init", "/bin/busybox", "/bin/busybox")
	bb.Locations = append(bb.Locations, components.Location{Layer: "cpio@0x0", Path: "/bin/busybox"})
	comps := []components.Component{
		comp("zlib", "1.1.4", "/usr/bin/httpd"),
		bb,
		comp("unknown", "9"),
		comp("linux_kernel", "2.6.31", "/"),
	}
	fs := Evaluate(comps, scan, Policy{})
	var got []string
	for _, f := range fs {
		got = append(got, f.Rule+" "+f.Evidence[:strings.Index(f.Evidence, " (")])
	}
	want := []string{"eol-component linux_kernel 2.6.31", "stale-component busybox 1.01", "stale-component zlib 1.1.4"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	b := fs[1]
	if b.Layer != "cpio@0x0" || b.Path != "/bin/busybox" {
		t.Errorf("first location %s %s", b.Layer, b.Path)
	}
	if !strings.Contains(b.Message, "Also found in: /bin/busybox (layer squashfs@0x100000), /sbin/init (layer squashfs@0x100000).") {
		t.Errorf("message %q", b.Message)
	}
	// deterministic and independent of input order
	slices.Reverse(comps)
	again := Evaluate(comps, scan, Policy{})
	if len(again) != len(fs) {
		t.Fatal("length differs")
	}
	for i := range fs {
		if fs[i].ID != again[i].ID || fs[i].Message != again[i].Message {
			t.Errorf("finding %d differs: %s vs %s", i, fs[i].ID, again[i].ID)
		}
	}
	// the same component in another image has the same fingerprint
	other := comp("busybox", "1.01", "/usr/bin/busybox")
	if f := one(t, other, scan, Policy{}); f.Fingerprint != b.Fingerprint || f.ID == b.ID {
		t.Error("fingerprint should match across images, IDs should not")
	}
	// many locations are capped
	many := comp("busybox", "1.01")
	for i := range 30 {
		many.Locations = append(many.Locations, components.Location{Layer: "fs", Path: "/x/" + string(rune('a'+i%26)) + strings.Repeat("y", i/26)})
	}
	if f := one(t, many, scan, Policy{}); !strings.Contains(f.Message, "and 20 more") {
		t.Errorf("long list not capped: %q", f.Message)
	}
	// no locations: still reported, without a path
	if f := one(t, components.Component{Name: "busybox", Version: "1.01"}, scan, Policy{}); f == nil || f.Path != "" {
		t.Error("component without locations")
	}
}

// --- real firmware ---

// TestWR841N: every component EXPECTED.md lists for the TP-Link WR841N v10
// image is reported end-of-life or stale ("All are end-of-life").
func TestWR841N(t *testing.T) {
	if testing.Short() {
		t.Skip("real firmware extraction")
	}
	image := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	res, err := extract.Extract(context.Background(), image, t.TempDir(), extract.Options{})
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	tg := analyzers.NewTarget(res.Layers)
	a := New(scan, DefaultPolicy())
	fs, err := a.Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	byKey := map[string]analyzers.Finding{}
	for _, f := range fs {
		byKey[f.Evidence[:strings.Index(f.Evidence, " (")]] = f
	}
	want := map[string]string{
		"busybox 1.01":         RuleStale,
		"dropbear 2012.55":     RuleStale,
		"pppd 2.4.3":           RuleStale,
		"uclibc 0.9.30":        RuleEOL,
		"hostapd 0.5.9":        RuleStale,
		"wpa_supplicant 0.5.9": RuleStale,
		"linux_kernel 2.6.31":  RuleEOL,
		"u-boot 1.1.4":         RuleStale,
	}
	for k, rule := range want {
		f, ok := byKey[k]
		if !ok {
			t.Errorf("%s: no finding (got %v)", k, keys(byKey))
			continue
		}
		if f.Rule != rule || f.Path == "" || f.Layer == "" {
			t.Errorf("%s: %s at %s %s", k, f.Rule, f.Layer, f.Path)
		}
	}
	t.Logf("%d findings", len(fs))
	for _, f := range fs {
		t.Logf("%s %s %s %s: %s", f.Severity, f.Rule, f.Layer, f.Path, f.Evidence)
	}
}

func keys(m map[string]analyzers.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
