package match

import (
	"strings"
	"testing"
)

// TestNoCrossMatches runs every rule over every other component's true
// examples: a string of one product must not give another product a version
// (a gzip applet string in busybox is not gzip).
func TestNoCrossMatches(t *testing.T) {
	rules := Default()
	for _, r := range rules {
		for _, other := range rules {
			if other.Name == r.Name {
				continue
			}
			for _, ex := range other.Examples.True {
				if ex.Text != "" {
					if got := r.MatchContent([]byte(ex.Text)); len(got) != 0 {
						t.Errorf("rule %s matches %s's example %q: %+v", r.ID, other.ID, ex.Text, got)
					}
				}
				if ex.File != "" {
					if m, ok := r.MatchFilename(ex.File); ok {
						t.Errorf("rule %s matches %s's file %q: %+v", r.ID, other.ID, ex.File, m)
					}
				}
			}
		}
	}
}

func TestDefaultRules(t *testing.T) {
	rules := Default()
	names := map[string]bool{}
	for _, r := range rules {
		names[r.Name] = true
		if r.Source == "" {
			t.Errorf("rule %s: no source for its examples", r.ID)
		}
		if len(r.Examples.False) == 0 {
			t.Errorf("rule %s: no false examples", r.ID)
		}
	}
	if len(names) < 30 {
		t.Errorf("%d components, want at least 30", len(names))
	}
	for _, n := range []string{"busybox", "dropbear", "openssl", "linux_kernel", "u-boot", "uclibc", "pppd", "hostapd", "wpa_supplicant", "zlib"} {
		if !names[n] {
			t.Errorf("no rule for %s", n)
		}
	}
}

func TestCPEsAndPURL(t *testing.T) {
	byID := map[string]*Rule{}
	for _, r := range Default() {
		byID[r.ID] = r
	}
	cases := []struct {
		id, text, cpe, purl string
	}{
		{"busybox", "BusyBox v1.01 (2015", "cpe:2.3:a:busybox:busybox:1.01:*:*:*:*:*:*:*", "pkg:generic/busybox@1.01"},
		{"openssh", "OpenSSH_9.2p1 Debian", "cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*", "pkg:generic/openssh@9.2p1"},
		{"boa", "Boa/0.94.14rc21\r\n", "cpe:2.3:a:boa:boa:0.94.14.21:*:*:*:*:*:*:*", "pkg:generic/boa@0.94.14rc21"},
		{"u-boot", "U-Boot 2018.09-rc1 (Sep 01 2018)", "cpe:2.3:a:denx:u-boot:2018.09:rc1:*:*:*:*:*:*", "pkg:generic/u-boot@2018.09rc1"},
		{"dropbear", "SSH-2.0-dropbear_2012.55\x00", "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2012.55:*:*:*:*:*:*:*", "pkg:generic/dropbear@2012.55"},
		{"linux-kernel", "Linux version 2.6.31 (a@b) (gcc)", "cpe:2.3:o:linux:linux_kernel:2.6.31:*:*:*:*:*:*:*", "pkg:generic/linux@2.6.31"},
	}
	for _, c := range cases {
		r := byID[c.id]
		if r == nil {
			t.Fatalf("no rule %s", c.id)
		}
		ms := r.MatchContent([]byte(c.text))
		if len(ms) != 1 {
			t.Fatalf("%s: %q gave %+v", c.id, c.text, ms)
		}
		if got := r.CPEsFor(ms[0]); len(got) == 0 || got[0] != c.cpe {
			t.Errorf("%s: CPEs %v, want %s", c.id, got, c.cpe)
		}
		if got := r.PURLFor(ms[0]); got != c.purl {
			t.Errorf("%s: PURL %s, want %s", c.id, got, c.purl)
		}
	}
}

func TestEvidenceAndOffset(t *testing.T) {
	var pppd *Rule
	for _, r := range Default() {
		if r.ID == "pppd" {
			pppd = r
		}
	}
	data := []byte("junk\x00\x00pppd %s started by %s, uid %d\x00\x00\x002.4.3\x00\x00")
	ms := pppd.MatchContent(data)
	if len(ms) != 1 {
		t.Fatalf("got %+v", ms)
	}
	if ms[0].Offset != 6 {
		t.Errorf("offset %d, want 6", ms[0].Offset)
	}
	if want := "pppd %s started by %s, uid %d … 2.4.3"; ms[0].Evidence != want {
		t.Errorf("evidence %q, want %q", ms[0].Evidence, want)
	}
}

func TestMatchesPath(t *testing.T) {
	r := &Rule{ID: "x", Name: "x", Type: TypeBinary, Files: []string{"**/libcrypto.so*", "usr/sbin/curl", "busybox"}, Filename: `x-(\d)`, PURL: "pkg:generic/x@{version}"}
	r.Examples.True = []Example{{File: "x-1", Version: "1"}}
	if err := r.compile(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"/lib/libcrypto.so.0.9.7":  true,
		"/libcrypto.so":            true,
		"/usr/lib/a/libcrypto.so":  true,
		"/lib/libcrypto.a":         false,
		"/usr/sbin/curl":           true,
		"/opt/usr/sbin/curl":       false,
		"/bin/busybox":             true,
		"/bin/busybox.nosuid":      false,
		"/lib/xlibcrypto.so.1.0.0": false,
	} {
		if got := r.MatchesPath(p); got != want {
			t.Errorf("MatchesPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := `- id: a
  name: a
  type: binary
  files: ["*"]
  patterns: ['Abcd (\d+)']
  purl: "pkg:generic/a@{version}"
  examples: {true: [{text: "Abcd 1", version: "1"}]}
`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good rule: %v", err)
	}
	for name, bad := range map[string]string{
		"short anchor":  strings.Replace(good, `Abcd (\d+)`, `A(\d+)`, 1),
		"no group":      strings.Replace(good, `Abcd (\d+)`, `Abcd \d+`, 1),
		"bad regexp":    strings.Replace(good, `Abcd (\d+)`, `Abcd (\d+`, 1),
		"bad type":      strings.Replace(good, "type: binary", "type: app", 1),
		"bad scan":      strings.Replace(good, `files: ["*"]`, "files: [\"*\"]\n  scan: [text]", 1),
		"no examples":   strings.Replace(good, `examples: {true: [{text: "Abcd 1", version: "1"}]}`, "", 1),
		"bad cpe":       strings.Replace(good, `purl:`, "cpes: [\"cpe:2.3:a:x:y\"]\n  purl:", 1),
		"duplicate id":  good + strings.Replace(good, "name: a", "name: b", 1),
		"not yaml list": "id: a\n",
		"no files":      strings.Replace(good, `files: ["*"]`, "", 1),
		"needs a path":  strings.Replace(good, `files: ["*"]`, "files: [\"*\"]\n  unless_needs: [\"lib/libz.so\"]", 1),
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMatchContentBounded(t *testing.T) {
	var bb *Rule
	for _, r := range Default() {
		if r.ID == "busybox" {
			bb = r
		}
	}
	// many anchors without versions, then a real one: the hit cap must
	// not stop a file with a few thousand stray anchors from being read...
	data := []byte(strings.Repeat("BusyBox v%s ", 100) + "BusyBox v1.2.3 (x)")
	if ms := bb.MatchContent(data); len(ms) != 1 || ms[0].Version != "1.2.3" {
		t.Errorf("got %+v", ms)
	}
	// ...but bounds the work on hostile input.
	data = []byte(strings.Repeat("BusyBox v%s ", 10*maxHits) + "BusyBox v1.2.3 (x)")
	if ms := bb.MatchContent(data); len(ms) != 0 {
		t.Errorf("hit cap not applied: %+v", ms)
	}
}

func FuzzMatchContent(f *testing.F) {
	for _, r := range Default() {
		for _, ex := range r.Examples.True {
			f.Add([]byte(ex.Text))
		}
	}
	rules := Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range rules {
			for _, m := range r.MatchContent(data) {
				if !validVersion(m.Version) || m.Offset < 0 || m.Offset >= int64(len(data)) {
					t.Fatalf("rule %s: bad match %+v", r.ID, m)
				}
				for _, c := range r.CPEsFor(m) {
					if strings.Count(c, ":")-strings.Count(c, `\:`) != 12 {
						t.Fatalf("rule %s: bad CPE %q", r.ID, c)
					}
				}
			}
		}
	})
}
