package vulns

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	components "github.com/fwaudit/fwaudit/analyzers/components/match"
)

// nvdDir is the NVD subset the feed is generated from (not redistributed
// with fwaudit; tests that need it skip without it, except in CI).
func nvdDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "nvd")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no NVD records in %s", dir)
		}
		t.Skipf("no NVD records in %s", dir)
	}
	return dir
}

func TestFeedValid(t *testing.T) {
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Vulnerabilities) < 200 {
		t.Fatalf("feed has %d records, want the curated NVD subset (>= 200)", len(f.Vulnerabilities))
	}
	var got *Vulnerability
	for i := range f.Vulnerabilities {
		if f.Vulnerabilities[i].ID == "CVE-2012-0920" {
			got = &f.Vulnerabilities[i]
		}
	}
	if got == nil {
		t.Fatal("CVE-2012-0920 (dropbear use-after-free) missing")
	}
	want := Range{StartIncluding: "0.52", EndIncluding: "2012.54"}
	if len(got.Affected) != 1 || got.Affected[0].Vendor != "dropbear_ssh_project" || got.Affected[0].Product != "dropbear_ssh" ||
		len(got.Affected[0].Ranges) != 1 || got.Affected[0].Ranges[0] != want {
		t.Errorf("CVE-2012-0920 affected = %+v, want dropbear_ssh_project:dropbear_ssh %+v", got.Affected, want)
	}
	if got.CVSS == nil || got.CVSS.Score != 7.1 || got.CVSS.Version != "2.0" || got.CVSS.Severity != "HIGH" {
		t.Errorf("CVE-2012-0920 cvss = %+v", got.CVSS)
	}
	if !strings.HasPrefix(got.Description, "Use-after-free vulnerability in Dropbear SSH Server 0.52 through 2012.54") {
		t.Errorf("description = %q", got.Description)
	}
	// a hand-edited feed is checked as strictly
	bad := strings.Replace(string(Raw()), "severity: HIGH", "severity: LOW", 1)
	if _, err := Parse([]byte(bad)); err == nil {
		t.Error("a severity that contradicts the score was accepted")
	}
	if _, err := Parse([]byte("format: 1\nvulnerabilities:\n  - id: CVE-1\n    description: x\n    url: u\n")); err == nil {
		t.Error("a malformed id was accepted")
	}
}

// TestFeedMatchesNVD checks the committed feed against the NVD records it
// was generated from (../shared/nvd), when they are there.
func TestFeedMatchesNVD(t *testing.T) {
	dir := nvdDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	more, _ := filepath.Glob(filepath.Join("gen", "input", "*.json"))
	files = append(files, more...)
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Vulnerability{}
	for _, v := range f.Vulnerabilities {
		byID[v.ID] = v
	}
	n := 0
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// a light decode: ids, scores and the number of CPE matches
		var recs []struct {
			ID   string `json:"id"`
			CVSS *struct {
				BaseScore float64 `json:"baseScore"`
				Vector    string  `json:"vector"`
			} `json:"cvss"`
			CPEMatches []struct {
				Criteria string `json:"criteria"`
			} `json:"cpe_matches"`
		}
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range recs {
			n++
			v, ok := byID[r.ID]
			if !ok {
				t.Errorf("%s: %s not in the feed", filepath.Base(name), r.ID)
				continue
			}
			if (r.CVSS == nil) != (v.CVSS == nil) || r.CVSS != nil && (r.CVSS.BaseScore != v.CVSS.Score || r.CVSS.Vector != v.CVSS.Vector) {
				t.Errorf("%s: cvss differs from NVD", r.ID)
			}
			entries := 0
			for _, a := range v.Affected {
				entries += len(a.Ranges) + len(a.Versions)
			}
			narrow := 0
			for _, m := range r.CPEMatches {
				if p := strings.Split(m.Criteria, ":"); len(p) == 13 && p[7] != "*" && p[7] != "-" {
					narrow++ // platform-specific, left out on purpose
				}
			}
			if entries != len(r.CPEMatches)-narrow {
				t.Errorf("%s: %d version entries, NVD has %d CPE matches", r.ID, entries, len(r.CPEMatches)-narrow)
			}
		}
	}
	if n < 200 {
		t.Errorf("read only %d NVD records", n)
	}
}

// TestGenerated: feed.yaml is exactly what the generator makes of the NVD
// records (so it was not edited by hand without the generator knowing).
func TestGenerated(t *testing.T) {
	dir := nvdDir(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "feed.yaml")
	cmd := exec.Command(goBin, "run", "gen/main.go", "-in", dir+",gen/input", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Raw()) {
		t.Error("feed.yaml differs from the generator's output: run go generate ./rules/vulns/")
	}
}

func TestRangeConstraint(t *testing.T) {
	for _, c := range []struct {
		r    Range
		want string
	}{
		{Range{StartIncluding: "0.52", EndIncluding: "2012.54"}, ">= 0.52, <= 2012.54"},
		{Range{StartExcluding: "1.0", EndExcluding: "1.2", Fixed: "1.2"}, "> 1.0, < 1.2"},
		{Range{EndExcluding: "2013.59"}, "< 2013.59"},
		{Range{StartIncluding: "0"}, ">= 0"},
	} {
		if got := c.r.Constraint(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

func TestSeverityOf(t *testing.T) {
	for _, c := range []struct {
		v     string
		score float64
		want  string
	}{
		{"2.0", 10, "HIGH"}, {"2.0", 7.0, "HIGH"}, {"2.0", 6.9, "MEDIUM"}, {"2.0", 3.9, "LOW"},
		{"3.1", 9.8, "CRITICAL"}, {"3.0", 8.9, "HIGH"}, {"3.1", 4.0, "MEDIUM"}, {"3.1", 0.1, "LOW"}, {"3.1", 0, "NONE"},
	} {
		if got := SeverityOf(c.v, c.score); got != c.want {
			t.Errorf("SeverityOf(%s, %v) = %s, want %s", c.v, c.score, got, c.want)
		}
	}
}

// TestExtend: a hand-written record in the documented layout parses.
func TestExtend(t *testing.T) {
	extra := strings.Join([]string{
		"format: 1",
		"vulnerabilities:",
		"  - id: CVE-2099-0001",
		"    cvss: {version: \"3.1\", score: 7.5, severity: HIGH, vector: \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N\"}",
		"    description: An example.",
		"    affected:",
		"      - {part: a, vendor: example, product: widget, ranges: [{start_including: \"1.0\", end_excluding: \"1.4.2\", fixed: \"1.4.2\"}], versions: [\"0.9:rc1\"]}",
		"    url: https://nvd.nist.gov/vuln/detail/CVE-2099-0001",
	}, "\n")
	f, err := Parse([]byte(extra))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Vulnerabilities[0].Affected[0]
	if a.Ranges[0].Constraint() != ">= 1.0, < 1.4.2" || a.Versions[0] != "0.9:rc1" {
		t.Errorf("parsed %+v", a)
	}
	for _, bad := range []string{
		strings.Replace(extra, "part: a", "part: x", 1),
		strings.Replace(extra, "severity: HIGH", "severity: CRITICAL", 1),
		strings.Replace(extra, "    description:", "    descripton:", 1),
		strings.Replace(extra, "format: 1", "format: 2", 1),
		extra + "\n  - id: CVE-2099-0001\n    description: dup\n    url: u",
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
}

// TestFeedCoversClassifiers: every product the firmware classifiers
// (rules/components) name a CPE for has records in the feed, except the
// gaps listed here (no NVD record was read for them; see
// gen/input/README.md), and the kernel has more than the 8 records the
// shared subset holds.
func TestFeedCoversClassifiers(t *testing.T) {
	gaps := map[string]bool{"xelerance:xl2tpd": true}
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, v := range f.Vulnerabilities {
		for _, a := range v.Affected {
			have[a.Vendor+":"+a.Product]++
		}
	}
	for _, r := range components.Default() {
		for _, c := range r.CPEs {
			p := strings.Split(c, ":")
			if len(p) < 5 {
				t.Errorf("%s: bad CPE template %q", r.Name, c)
				continue
			}
			k := p[3] + ":" + p[4]
			switch {
			case have[k] == 0 && !gaps[k]:
				t.Errorf("classifier %s names %s, which has no record in the feed", r.Name, k)
			case have[k] > 0 && gaps[k]:
				t.Errorf("%s is listed as a gap but has %d records: drop it from the list", k, have[k])
			}
		}
	}
	if n := have["linux:linux_kernel"]; n < 20 {
		t.Errorf("the feed has %d Linux kernel records, want at least 20", n)
	}
}
