package vulns

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anchore/syft/syft/cpe"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"

	crules "github.com/fwaudit/fwaudit/analyzers/components/match"
	feed "github.com/fwaudit/fwaudit/rules/vulns"
)

// TestMain makes any network access fail: the proxies point nowhere and
// grype's own update settings are off, so a fetch would error (and the
// tests below would fail) rather than silently succeed.
func TestMain(m *testing.M) {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		os.Setenv(k, "http://127.0.0.1:1")
	}
	os.Setenv("NO_PROXY", "")
	os.Setenv("GRYPE_DB_AUTO_UPDATE", "false")
	http.DefaultTransport = &netGuard
	code := m.Run()
	if sharedDB.dir != "" {
		os.RemoveAll(sharedDB.dir)
	}
	os.Exit(code)
}

// netGuard replaces http.DefaultTransport: it counts and refuses requests.
var netGuard guard

type guard struct{ n atomic.Int64 }

func (g *guard) RoundTrip(r *http.Request) (*http.Response, error) {
	g.n.Add(1)
	return nil, fmt.Errorf("test: network access to %s", r.URL)
}

// TestNoNetwork: building, selecting and matching make no HTTP request.
func TestNoNetwork(t *testing.T) {
	before := netGuard.n.Load()
	cache := t.TempDir()
	t.Setenv("GRYPE_DB_CACHE_DIR", t.TempDir())
	opt := Options{CacheDir: cache}
	ms, info, err := MatchSBOM(context.Background(), sbomOf(firmwarePackage(t, "busybox", "1.01")), opt)
	if err != nil || len(ms) == 0 || info.Source != SourceEmbedded {
		t.Fatalf("MatchSBOM: %d matches, %+v, %v", len(ms), info, err)
	}
	if _, err := Status(opt); err != nil {
		t.Fatal(err)
	}
	if n := netGuard.n.Load() - before; n != 0 {
		t.Errorf("%d HTTP requests", n)
	}
}

// component is one WR841N v10 component (EXPECTED.md), as fwaudit's
// classifiers report it.
type component struct{ rule, version string }

var wr841n = []component{
	{"busybox", "1.01"},
	{"dropbear", "2012.55"},
	{"pppd", "2.4.3"},
	{"uclibc", "0.9.30"},
	{"hostapd", "0.5.9"},
	{"wpa_supplicant", "0.5.9"},
	{"linux_kernel", "2.6.31"},
	{"u-boot", "1.1.4"},
}

// firmwarePackage builds the syft package scan.BuildSBOM adds for a
// firmware component: a binary package with the CPEs of its rule.
func firmwarePackage(t testing.TB, name, version string) pkg.Package {
	t.Helper()
	var rule *crules.Rule
	for _, r := range crules.Default() {
		if r.Name == name {
			rule = r
			break
		}
	}
	if rule == nil {
		t.Fatalf("no component rule named %q", name)
	}
	m := crules.Match{Version: version}
	p := pkg.Package{
		Name:      name,
		Version:   version,
		Type:      pkg.BinaryPkg,
		PURL:      rule.PURLFor(m),
		FoundBy:   "fwaudit-firmware",
		Locations: file.NewLocationSet(file.NewLocation("/usr/bin/" + name)),
	}
	for _, s := range rule.CPEsFor(m) {
		c, err := cpe.New(s, cpe.DeclaredSource)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		p.CPEs = append(p.CPEs, c)
	}
	p.SetID()
	return p
}

func sbomOf(pkgs ...pkg.Package) *sbom.SBOM {
	return &sbom.SBOM{Artifacts: sbom.Artifacts{Packages: pkg.NewCollection(pkgs...)}}
}

// sharedDB is the embedded feed built once into a temporary directory.
var sharedDB = struct {
	once sync.Once
	dir  string
	info DBInfo
	err  error
}{}

func builtDB(t testing.TB) string {
	t.Helper()
	sharedDB.once.Do(func() {
		dir, err := os.MkdirTemp("", "fwaudit-vulndb-")
		if err != nil {
			sharedDB.err = err
			return
		}
		sharedDB.dir = dir
		sharedDB.info, sharedDB.err = BuildDB(context.Background(), dir)
	})
	if sharedDB.err != nil {
		t.Fatal(sharedDB.err)
	}
	return sharedDB.dir
}

func ids(ms []Match, component string) []string {
	var out []string
	for _, m := range ms {
		if component == "" || m.Component == component {
			out = append(out, m.ID)
		}
	}
	slices.Sort(out)
	return out
}

func TestBuildDBAndStatus(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Add(-time.Minute)
	info, err := BuildDB(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := feed.Default()
	if info.Records != len(f.Vulnerabilities) {
		t.Errorf("BuildDB records = %d, want %d", info.Records, len(f.Vulnerabilities))
	}
	if info.Built.Before(start) || info.Schema == "" || !strings.HasPrefix(info.Schema, "6.") {
		t.Errorf("BuildDB info = %+v", info)
	}
	st, err := Status(Options{DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != len(f.Vulnerabilities) || st.Source != SourcePath || st.Digest != feed.Digest() ||
		st.Path != filepath.Join(dir, "vulnerability.db") {
		t.Errorf("Status = %+v", st)
	}
	// the file itself, and a grype DB root, select the same database
	for _, p := range []string{filepath.Join(dir, "vulnerability.db")} {
		if st2, err := Status(Options{DBPath: p}); err != nil || st2.Records != st.Records {
			t.Errorf("Status(%s) = %+v, %v", p, st2, err)
		}
	}
	if _, err := Status(Options{DBPath: filepath.Join(dir, "missing")}); err == nil {
		t.Error("Status of a missing database succeeded")
	}
	if _, err := Status(Options{DBPath: filepath.Join(dir, "db.tar.gz")}); err == nil {
		t.Error("Status of a missing archive succeeded")
	}
}

// TestDefaultSelection: without --vuln-db the embedded feed is compiled
// into the cache on first use and reused after; an imported database then
// takes precedence; grype's cache is used when present.
func TestDefaultSelection(t *testing.T) {
	cache := t.TempDir()
	grypeCache := t.TempDir()
	t.Setenv("GRYPE_DB_CACHE_DIR", grypeCache)
	opt := Options{CacheDir: cache}

	st, err := Status(opt)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := feed.Default()
	if st.Source != SourceEmbedded || st.Records != len(f.Vulnerabilities) || !strings.HasPrefix(st.Path, cache) {
		t.Fatalf("first Status = %+v", st)
	}
	st2, err := Status(opt)
	if err != nil {
		t.Fatal(err)
	}
	if !st2.Built.Equal(st.Built) {
		t.Errorf("the embedded database was rebuilt: built %v then %v", st.Built, st2.Built)
	}

	// grype's own database, where `grype db update` leaves it
	gdir := filepath.Join(grypeCache, "6")
	if _, err := BuildDB(context.Background(), gdir); err != nil {
		t.Fatal(err)
	}
	st3, err := Status(opt)
	if err != nil {
		t.Fatal(err)
	}
	if st3.Source != SourceGrype || st3.Path != filepath.Join(gdir, "vulnerability.db") {
		t.Errorf("with a grype cache: Status = %+v", st3)
	}

	// an imported archive wins over both
	archive := filepath.Join(t.TempDir(), "vulnerability-db_v6.1.9_test.tar.gz")
	writeTarGz(t, archive, filepath.Join(builtDB(t), "vulnerability.db"))
	if err := Import(archive, opt); err != nil {
		t.Fatal(err)
	}
	st4, err := Status(opt)
	if err != nil {
		t.Fatal(err)
	}
	if st4.Source != SourceImported || st4.Records != len(f.Vulnerabilities) {
		t.Errorf("after Import: Status = %+v", st4)
	}
	ms, info, err := MatchSBOM(context.Background(), sbomOf(firmwarePackage(t, "dropbear", "2012.55")), opt)
	if err != nil || info.Source != SourceImported || len(ms) == 0 {
		t.Errorf("MatchSBOM with the imported database: %d matches, %+v, %v", len(ms), info, err)
	}

	if err := Import("https://example.com/db.tar.zst", opt); err == nil {
		t.Error("Import of a URL succeeded")
	}
	notDB := filepath.Join(t.TempDir(), "junk.tar.gz")
	junk := filepath.Join(t.TempDir(), "vulnerability.db")
	os.WriteFile(junk, []byte("not a database"), 0o644)
	writeTarGz(t, notDB, junk)
	if err := Import(notDB, opt); err == nil {
		t.Error("Import of an archive without a database succeeded")
	}
	truncated := filepath.Join(t.TempDir(), "truncated.tar.gz")
	b, _ := os.ReadFile(archive)
	os.WriteFile(truncated, b[:len(b)/2], 0o644)
	if err := Import(truncated, opt); err == nil {
		t.Error("Import of a truncated archive succeeded")
	}
	if left, _ := filepath.Glob(filepath.Join(importedRoot(cache), "tmp-*")); len(left) != 0 {
		t.Errorf("failed imports left %v", left)
	}
	if st5, err := Status(opt); err != nil || st5.Source != SourceImported || st5.Records != st4.Records {
		t.Errorf("a failed import replaced the good one: %+v, %v", st5, err)
	}
}

func writeTarGz(t testing.TB, archive, dbFile string) {
	t.Helper()
	out, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := gzip.NewWriter(out)
	tw := tar.NewWriter(zw)
	in, err := os.Open(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	st, _ := in.Stat()
	if err := tw.WriteHeader(&tar.Header{Name: "vulnerability.db", Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tw, in); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMatchRealCVEs: real CVEs for real versions, from the embedded feed.
func TestMatchRealCVEs(t *testing.T) {
	dir := builtDB(t)
	s := sbomOf(firmwarePackage(t, "dropbear", "2012.55"), firmwarePackage(t, "busybox", "1.01"))
	ms, info, err := MatchSBOM(context.Background(), s, Options{DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	if info.Records == 0 || info.Source != SourcePath {
		t.Errorf("info = %+v", info)
	}
	dropbear := ids(ms, "dropbear")
	for _, id := range []string{"CVE-2013-4421", "CVE-2016-7406", "CVE-2016-7408", "CVE-2017-9078", "CVE-2018-15599", "CVE-2020-36254", "CVE-2021-36369"} {
		if !slices.Contains(dropbear, id) {
			t.Errorf("dropbear 2012.55: %s not matched (got %v)", id, dropbear)
		}
	}
	// 0.52 through 2012.54: fixed in 2012.55
	if slices.Contains(dropbear, "CVE-2012-0920") {
		t.Error("dropbear 2012.55 matched CVE-2012-0920 (affects up to 2012.54)")
	}
	busybox := ids(ms, "busybox")
	for _, id := range []string{"CVE-2011-2716", "CVE-2013-1813", "CVE-2016-2148", "CVE-2017-16544", "CVE-2018-1000517", "CVE-2022-48174"} {
		if !slices.Contains(busybox, id) {
			t.Errorf("busybox 1.01: %s not matched (got %v)", id, busybox)
		}
	}
	for _, id := range []string{"CVE-2021-42374", "CVE-2021-42373", "CVE-2021-28831"} {
		if slices.Contains(busybox, id) {
			t.Errorf("busybox 1.01 matched %s (its ranges start at 1.27.0 / 1.33.0 / 1.32.0)", id)
		}
	}
	for _, m := range ms {
		if m.ID == "CVE-2016-7406" {
			if m.Severity != "critical" || m.CVSS != 9.8 || !strings.HasPrefix(m.Vector, "CVSS:3") || m.Description == "" ||
				m.URL != "https://nvd.nist.gov/vuln/detail/CVE-2016-7406" || m.FoundBy != "fwaudit-firmware" ||
				!strings.Contains(m.MatchedBy, "dropbear_ssh_project:dropbear_ssh") || m.PURL != "pkg:generic/dropbear@2012.55" {
				t.Errorf("CVE-2016-7406 match = %+v", m)
			}
		}
		if m.ID == "CVE-2013-4421" && m.Fixed != "2013.59" {
			t.Errorf("CVE-2013-4421 fixed = %q, want 2013.59", m.Fixed)
		}
		if m.ID == "CVE-2012-0920" || m.Severity == "unknown" && m.CVSS != 0 {
			t.Errorf("bad match %+v", m)
		}
	}
	// sorted: component, then descending score
	for i := 1; i < len(ms); i++ {
		a, b := ms[i-1], ms[i]
		if a.Component > b.Component || a.Component == b.Component && a.CVSS < b.CVSS {
			t.Errorf("not sorted at %d: %s %v before %s %v", i, a.ID, a.CVSS, b.ID, b.CVSS)
		}
	}
}

func TestMatchOutsideRanges(t *testing.T) {
	dir := builtDB(t)
	// newer than every range in the feed, and a product the feed does not know
	// (xl2tpd: no NVD record read, see rules/vulns/gen/input/README.md)
	s := sbomOf(firmwarePackage(t, "dropbear", "2099.1"), firmwarePackage(t, "busybox", "9.9.9"), firmwarePackage(t, "xl2tpd", "1.1.12"))
	ms, _, err := MatchSBOM(context.Background(), s, Options{DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 0 {
		t.Errorf("versions outside every range matched: %+v", ms)
	}
	// no packages, no matches
	ms, _, err = MatchSBOM(context.Background(), sbomOf(), Options{DBPath: dir})
	if err != nil || len(ms) != 0 {
		t.Errorf("empty SBOM: %v, %v", ms, err)
	}
	if _, _, err := MatchSBOM(context.Background(), nil, Options{DBPath: dir}); err == nil {
		t.Error("nil SBOM accepted")
	}
}

// TestMatchWR841N matches every WR841N component and compares with an
// independent evaluation of the feed's ranges (dotted numeric versions).
func TestMatchWR841N(t *testing.T) {
	dir := builtDB(t)
	var pkgs []pkg.Package
	for _, c := range wr841n {
		pkgs = append(pkgs, firmwarePackage(t, c.rule, c.version))
	}
	ms, _, err := MatchSBOM(context.Background(), sbomOf(pkgs...), Options{DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := feed.Default()
	total := 0
	for _, c := range wr841n {
		p := firmwarePackage(t, c.rule, c.version)
		want := expected(t, f, p)
		got := ids(ms, c.rule)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s:\n got  %v\n want %v", c.rule, c.version, got, want)
		}
		total += len(got)
	}
	if total < 40 {
		t.Errorf("only %d matches for the WR841N components", total)
	}
}

// expected evaluates the feed for a package by hand: records whose product
// is one of the package's CPEs and one of whose ranges or exact versions
// holds the version.
func expected(t testing.TB, f *feed.Feed, p pkg.Package) []string {
	var out []string
	for _, v := range f.Vulnerabilities {
		hit := false
		for _, a := range v.Affected {
			for _, c := range p.CPEs {
				if c.Attributes.Part != a.Part || c.Attributes.Vendor != a.Vendor || c.Attributes.Product != a.Product {
					continue
				}
				ver := c.Attributes.Version
				for _, r := range a.Ranges {
					in := true
					if r.StartIncluding != "" {
						in = in && cmpVer(t, ver, r.StartIncluding) >= 0
					}
					if r.StartExcluding != "" {
						in = in && cmpVer(t, ver, r.StartExcluding) > 0
					}
					if r.EndIncluding != "" {
						in = in && cmpVer(t, ver, r.EndIncluding) <= 0
					}
					if r.EndExcluding != "" {
						in = in && cmpVer(t, ver, r.EndExcluding) < 0
					}
					hit = hit || in
				}
				for _, x := range a.Versions {
					hit = hit || !strings.Contains(x, ":") && cmpVer(t, ver, x) == 0
				}
			}
		}
		if hit {
			out = append(out, v.ID)
		}
	}
	slices.Sort(out)
	return out
}

// cmpVer compares dotted versions numerically ("1.01" = "1.1"); a
// non-numeric field compares as text.
func cmpVer(t testing.TB, a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, xerr := strconv.Atoi(x)
		yn, yerr := strconv.Atoi(y)
		if x == "" {
			xn, xerr = 0, nil
		}
		if y == "" {
			yn, yerr = 0, nil
		}
		if xerr == nil && yerr == nil {
			if xn != yn {
				return xn - yn
			}
			continue
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func BenchmarkBuildDB(b *testing.B) {
	for b.Loop() {
		if _, err := BuildDB(context.Background(), b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatchSBOM(b *testing.B) {
	dir := builtDB(b)
	var pkgs []pkg.Package
	for _, c := range wr841n {
		pkgs = append(pkgs, firmwarePackage(b, c.rule, c.version))
	}
	s := sbomOf(pkgs...)
	for b.Loop() {
		ms, _, err := MatchSBOM(context.Background(), s, Options{DBPath: dir})
		if err != nil || len(ms) == 0 {
			b.Fatal(len(ms), err)
		}
	}
}

// TestStaleEmbeddedRebuilt: a cached database built from another feed is
// replaced on the next use.
func TestStaleEmbeddedRebuilt(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GRYPE_DB_CACHE_DIR", t.TempDir())
	f, _ := feed.Default()
	old := &feed.Feed{Format: f.Format, Collected: f.Collected, Vulnerabilities: f.Vulnerabilities[:3]}
	dir := schemaDir(embeddedRoot(cache))
	if _, err := buildDB(context.Background(), dir, old, "sha256:old"); err != nil {
		t.Fatal(err)
	}
	st, err := Status(Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if st.Source != SourceEmbedded || st.Digest != feed.Digest() || st.Records != len(f.Vulnerabilities) {
		t.Errorf("stale database not rebuilt: %+v", st)
	}
	// a grype DB root (holding 6/vulnerability.db) works as --vuln-db too
	st2, err := Status(Options{DBPath: embeddedRoot(cache)})
	if err != nil || st2.Records != st.Records || st2.Source != SourcePath {
		t.Errorf("Status(DB root) = %+v, %v", st2, err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildDB(ctx, t.TempDir()); err == nil {
		t.Error("BuildDB with a cancelled context succeeded")
	}
	dir := builtDB(t)
	if _, _, err := MatchSBOM(ctx, sbomOf(firmwarePackage(t, "busybox", "1.01")), Options{DBPath: dir}); err == nil {
		t.Error("MatchSBOM with a cancelled context succeeded")
	}
}
