package eol

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// sharedEOL is ../shared/eol next to the repository.
func sharedEOL(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "eol")
	if _, err := os.Stat(filepath.Join(p, "README.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("endoflife.date data missing in CI: %v", err)
		}
		t.Skipf("endoflife.date data not available: %v", err)
	}
	return p
}

// TestEOLYAMLUpToDate re-derives eol.yaml from ../shared/eol and compares
// it with the committed (embedded) file.
func TestEOLYAMLUpToDate(t *testing.T) {
	got, err := Derive(sharedEOL(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, eolYAML) {
		t.Fatalf("rules/eol/eol.yaml is out of date: run go generate ./rules/eol (derived %d bytes, committed %d)", len(got), len(eolYAML))
	}
}

func TestLicenceShipped(t *testing.T) {
	lic, err := os.ReadFile("LICENSE.endoflife")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(lic, []byte("endoflife.date contributors")) || !bytes.Contains(lic, []byte("Permission is hereby granted")) {
		t.Error("LICENSE.endoflife is not endoflife.date's MIT licence")
	}
	if !bytes.Contains(eolYAML, []byte("LICENSE.endoflife")) || !bytes.Contains(eolYAML, []byte("MIT")) {
		t.Error("eol.yaml header does not note the licence")
	}
}

func TestDefault(t *testing.T) {
	db := Default()
	if db.StaleYears != 5 {
		t.Errorf("stale_years %d, want 5", db.StaleYears)
	}
	if db.Source.Name != "endoflife.date" || db.Source.Commit == "" || db.Source.License != "MIT" {
		t.Errorf("source %+v", db.Source)
	}
	for _, name := range []string{"openssl", "linux_kernel", "openwrt", "openvpn"} {
		if db.Product(name) == nil {
			t.Errorf("no endoflife.date product for %s", name)
		}
	}
	for _, name := range []string{"busybox", "dropbear", "uclibc", "hostapd", "wpa_supplicant", "pppd", "u-boot", "zlib"} {
		if db.Releases(name) == nil {
			t.Errorf("no releases.yaml entry for %s", name)
		}
	}
	if db.Product("busybox") != nil || db.Releases("no-such-thing") != nil {
		t.Error("unexpected entries")
	}
	if d := db.Releases("uclibc").Discontinued; d == nil || d.Date.Year != 2012 {
		t.Errorf("uclibc discontinued = %+v", d)
	}
	names := db.ComponentNames()
	if !sort.StringsAreSorted(names) || !slices.Contains(names, "linux_kernel") || !slices.Contains(names, "busybox") {
		t.Errorf("ComponentNames %v", names)
	}
	// every cycle's dates are in order
	for _, p := range db.Products {
		for _, c := range p.Cycles {
			if !c.EOL.Date.IsZero() && !c.ReleaseDate.IsZero() && c.EOL.Date.Latest().Before(c.ReleaseDate.Earliest()) {
				t.Errorf("%s %s: eol %s before release %s", p.Product, c.Cycle, c.EOL.Date, c.ReleaseDate)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	db := Default()
	cases := []struct {
		comp, version, cycle string
	}{
		{"openssl", "1.1.1w", "1.1.1"},
		{"openssl", "1.1.0l", "1.1.0"},
		{"openssl", "0.9.8zh", "0.9.8"},
		{"openssl", "3.0.16", "3.0"},
		{"openssl", "0.9.7f", ""}, // older than every listed cycle
		{"linux_kernel", "2.6.31", ""},
		{"linux_kernel", "4.9.337", "4.9"},
		{"linux_kernel", "5.4.72", "5.4"},
		{"linux_kernel", "6.1", "6.1"},
		{"linux_kernel", "6.10.3", "6.10"},
		{"linux_kernel", "6.11.3", "6.11"}, // not 6.1
		{"openwrt", "19.07.10", "19.07"},
		{"openwrt", "15.05.1", ""},
	}
	for _, c := range cases {
		p := db.Product(c.comp)
		cy, ok := p.Match(c.version)
		got := ""
		if ok {
			got = cy.Cycle
		}
		if got != c.cycle {
			t.Errorf("%s %s: cycle %q, want %q", c.comp, c.version, got, c.cycle)
		}
	}
	if o := db.Product("linux_kernel").Oldest(); o == nil || o.Cycle != "4.9" {
		t.Errorf("oldest linux cycle %+v", o)
	}
	if o := db.Product("openssl").Oldest(); o == nil || o.Cycle != "0.9.8" {
		t.Errorf("oldest openssl cycle %+v", o)
	}
}

func TestInLine(t *testing.T) {
	yes := [][2]string{{"1.2", "1.2"}, {"1.2.9", "1.2"}, {"1.1.1w", "1.1.1"}, {"3", "3"}, {"3.45.1", "3"}}
	no := [][2]string{{"1.20.1", "1.2"}, {"1", "1.2"}, {"31.1", "3"}, {"1.2", ""}}
	for _, c := range yes {
		if !InLine(c[0], c[1]) {
			t.Errorf("InLine(%q, %q) = false", c[0], c[1])
		}
	}
	for _, c := range no {
		if InLine(c[0], c[1]) {
			t.Errorf("InLine(%q, %q) = true", c[0], c[1])
		}
	}
}

func TestCompareVersions(t *testing.T) {
	vs := []string{"4.9", "1.0", "0.9.8a", "2.6.31", "0.9.8", "0.9.7f", "2.6.8.1", "0.9.7", "10.0", "2.6.31.14", "0.9.10"}
	sort.Slice(vs, func(i, j int) bool { return CompareVersions(vs[i], vs[j]) < 0 })
	want := []string{"0.9.7", "0.9.7f", "0.9.8", "0.9.8a", "0.9.10", "1.0", "2.6.8.1", "2.6.31", "2.6.31.14", "4.9", "10.0"}
	if !slices.Equal(vs, want) {
		t.Errorf("got %v", vs)
	}
	if CompareVersions("1.01", "1.1") != 0 || CompareVersions("1.1.1w", "1.1.1w") != 0 {
		t.Error("equal versions compare unequal")
	}
}

func TestDates(t *testing.T) {
	cases := []struct {
		in, str, earliest, latest string
	}{
		{"2005", "2005", "2005-01-01", "2005-12-31"},
		{"2008-02", "2008-02", "2008-02-01", "2008-02-29"},
		{"2005-08-17", "2005-08-17", "2005-08-17", "2005-08-17"},
	}
	for _, c := range cases {
		d, err := ParseDate(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if d.String() != c.str || d.Earliest().Format(time.DateOnly) != c.earliest || d.Latest().Format(time.DateOnly) != c.latest {
			t.Errorf("%s: %s %s %s", c.in, d, d.Earliest().Format(time.DateOnly), d.Latest().Format(time.DateOnly))
		}
	}
	for _, bad := range []string{"", "05", "2005-13", "2005-02-30", "2005/01/01", "yesterday"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	e := EOL{Date: Date{Year: 2019, Month: 12}}
	if e.EndedBy(time.Date(2019, 12, 30, 0, 0, 0, 0, time.UTC)) || !e.EndedBy(time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Error("month-precise EOL ends on the month's last day")
	}
	if !(EOL{Ended: true}).EndedBy(time.Time{}) || (EOL{}).EndedBy(time.Now()) {
		t.Error("boolean EOL")
	}
}

func TestReleaseDate(t *testing.T) {
	db := Default()
	cases := []struct {
		comp, version, date string
	}{
		{"busybox", "1.01", "2005-08-17"},
		{"busybox", "1.31.0", "2019-06"},
		{"dropbear", "2012.55", "2012-02"},
		{"uclibc", "0.9.30", "2008-11"},
		{"u-boot", "1.1.4", "2005"},
		{"u-boot", "2023.10", "2023-10"},
		{"u-boot", "2023.10-rc2", "2023-10"},
		{"u-boot", "2023.13", ""},
		{"openssl", "0.9.7f", "2005-03-22"},
		{"openssl", "1.1.1w", "2023-09-12"}, // the cycle's latest, from endoflife.date
		{"openssl", "1.1.1v", ""},
		{"busybox", "1.9.1", ""},
		{"nothing", "1.0", ""},
	}
	for _, c := range cases {
		d, src, ok := db.ReleaseDate(c.comp, c.version)
		if d.String() != c.date || ok != (c.date != "") || ok && src == "" {
			t.Errorf("%s %s: %q %q %v, want %q", c.comp, c.version, d, src, ok, c.date)
		}
	}
}

func TestParseRejects(t *testing.T) {
	okEOL := "products:\n  - {product: p, components: [p], cycles: [{cycle: \"1.0\", eol: true}]}\n"
	okRel := "stale_years: 5\n"
	if _, err := Parse([]byte(okEOL), []byte(okRel)); err != nil {
		t.Fatalf("valid data rejected: %v", err)
	}
	bad := []struct{ eol, rel string }{
		{okEOL, "stale_years: 0\n"},
		{"products:\n  - {product: p, components: [p], cycles: [{cycle: \"x\", eol: true}]}\n", okRel},
		{"products:\n  - {product: p, components: [p], cycles: [{cycle: \"1\", eol: maybe}]}\n", okRel},
		{"products:\n  - {product: p, components: [], cycles: [{cycle: \"1\", eol: true}]}\n", okRel},
		{"products:\n  - {product: p, components: [a], cycles: [{cycle: \"1\", eol: true}]}\n  - {product: q, components: [a], cycles: [{cycle: \"1\", eol: true}]}\n", okRel},
		{okEOL, okRel + "components:\n  - {name: a, releases: [{version: \"1\", date: 2001}]}\n"},
		{okEOL, okRel + "components:\n  - {name: a, releases: [{version: \"1\", date: 20011, source: s}]}\n"},
		{okEOL, okRel + "components:\n  - {name: a, releases: [{version: \"1\", date: 2001, source: s}, {version: \"1\", date: 2002, source: s}]}\n"},
		{okEOL, okRel + "components:\n  - {name: a, scheme: semver}\n"},
		{okEOL, okRel + "components:\n  - {name: a, discontinued: {date: 2001}}\n"},
		{okEOL, okRel + "components:\n  - {name: a}\n  - {name: a}\n"},
		{"products: [", okRel},
	}
	for i, b := range bad {
		if _, err := Parse([]byte(b.eol), []byte(b.rel)); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

// TestDeriveSynthetic checks the generator on a small made-up folder, so it
// is tested even where ../shared/eol is missing.
func TestDeriveSynthetic(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "Product files, taken at commit abcdef12 (2026-01-02).\n")
	write("foo.md", `---
title: Foo
auto:
  methods:
    - release_table: x
      fields:
        releaseCycle: "Version"
releases:
  - releaseCycle: "1.10"
    releaseDate: 2020-01-01
    eol: false
    latest: "1.10.3"
    latestReleaseDate: 2021-02-03

  - releaseCycle: "1.2"
    releaseDate: 2010-05-06
    eol: 2012-07-08 # a comment
    latest: "1.2.9"

  - releaseCycle: "1.9"
    releaseDate: 2019-01-01
    eol: true
---

> Foo is a thing.
`)
	out, err := deriveWith(dir, map[string][]string{"foo": {"foo", "libfoo"}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := Parse(out, []byte("stale_years: 5\n"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if db.Source.Commit != "abcdef12" || db.Source.Date != "2026-01-02" {
		t.Errorf("source %+v", db.Source)
	}
	p := db.Product("libfoo")
	if p == nil || p.Title != "Foo" || len(p.Cycles) != 3 {
		t.Fatalf("product %+v\n%s", p, out)
	}
	var order []string
	for _, c := range p.Cycles {
		order = append(order, c.Cycle+"="+c.EOL.String())
	}
	if want := []string{"1.10=false", "1.9=true", "1.2=2012-07-08"}; !slices.Equal(order, want) {
		t.Errorf("cycles %v, want %v", order, want)
	}
	if c := p.Cycles[0]; c.Latest != "1.10.3" || c.LatestReleaseDate.String() != "2021-02-03" || c.ReleaseDate.String() != "2020-01-01" {
		t.Errorf("cycle %+v", c)
	}
	if strings.Contains(string(out), "Foo is a thing") || strings.Contains(string(out), "release_table") {
		t.Error("page body leaked into eol.yaml")
	}
	// deterministic
	again, _ := deriveWith(dir, map[string][]string{"foo": {"foo", "libfoo"}})
	if !bytes.Equal(out, again) {
		t.Error("derive is not deterministic")
	}
	// errors: missing product file, missing eol, no front matter, no README line
	if _, err := deriveWith(dir, map[string][]string{"bar": {"bar"}}); err == nil {
		t.Error("missing product file accepted")
	}
	write("bar.md", "---\ntitle: Bar\nreleases:\n  - releaseCycle: \"1\"\n    releaseDate: 2001-01-01\n---\n")
	if _, err := deriveWith(dir, map[string][]string{"bar": {"bar"}}); err == nil {
		t.Error("cycle without eol accepted")
	}
	write("bar.md", "title: Bar\n")
	if _, err := deriveWith(dir, map[string][]string{"bar": {"bar"}}); err == nil {
		t.Error("file without front matter accepted")
	}
	write("README.md", "no commit here\n")
	if _, err := deriveWith(dir, map[string][]string{"foo": {"foo"}}); err == nil {
		t.Error("README without commit accepted")
	}
}

// FuzzVersions: version handling never panics, CompareVersions is a
// consistent order and Match only returns a cycle the version is in.
func FuzzVersions(f *testing.F) {
	for _, s := range [][2]string{{"0.9.7f", "0.9.8"}, {"2.6.31", "4.9"}, {"1.1.1w", "1.1.1"}, {"", "1"}, {"a.b", "1..2"}, {"2023.10-rc2", "2005-08"}} {
		f.Add(s[0], s[1])
	}
	db := Default()
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("Compare(%q,%q)=%d but reverse %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("Compare(%q,%q) != 0", a, a)
		}
		if InLine(a, b) && !strings.HasPrefix(a, b) {
			t.Fatalf("InLine(%q,%q) without prefix", a, b)
		}
		if d, err := ParseDate(a); err == nil && d.Latest().Before(d.Earliest()) {
			t.Fatalf("date %q: latest before earliest", a)
		}
		for _, name := range []string{"openssl", "linux_kernel", "u-boot", "busybox"} {
			if p := db.Product(name); p != nil {
				if c, ok := p.Match(a); ok && !InLine(a, c.Cycle) {
					t.Fatalf("%s: %q matched cycle %q", name, a, c.Cycle)
				}
			}
			db.ReleaseDate(name, a)
		}
	})
}
