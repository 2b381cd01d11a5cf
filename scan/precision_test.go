package scan

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
)

// label says whether a finding of rule at path in image is real (true) or
// a trap that must stay silent (false). Path may end in "*" (prefix).
type label struct {
	image, rule, path string
	truth             bool
}

// labels are checked by hand against the images (see
// ../shared/firmware/EXPECTED.md and testdata/firmware/README.md).
var labels = []label{
	// TP-Link WR841N v10: root's vendor default; httpd serves plain HTTP.
	{"tplink_wr841n", "default-password", "/etc/shadow", true},
	{"tplink_wr841n", "http-server", "/etc/rc.d/rcS", true},
	// trap: dropbearmulti holds PEM header text, not a key
	{"tplink_wr841n", "private-key", "/usr/sbin/dropbearmulti", false},
	{"tplink_wr841n", "api-token", "*", false},
	// ZyXEL P-663H-51
	{"zyxel", "dropbear-host-key", "/etc/rsa_host_key", true},
	{"zyxel", "ppp-secret", "/etc/ppp/pap-secrets", true},
	{"zyxel", "ppp-secret", "/etc/ppp/chap-secrets", true},
	{"zyxel", "snmp-default-community", "/etc/default.cfg", true},
	{"zyxel", "config-password", "/etc/default.cfg", true},
	{"zyxel", "console-root-shell", "/etc/inittab", true},
	{"zyxel", "xml-srvctrl-telnet", "/etc/default.cfg", true},
	{"zyxel", "xml-srvctrl-tftp", "/etc/default.cfg", true},
	{"zyxel", "xml-srvctrl-ssh", "/etc/default.cfg", true},
	{"zyxel", "xml-srvctrl-http", "/etc/default.cfg", true},
	{"zyxel", "xml-srvctrl-snmp", "/etc/default.cfg", true},
	{"zyxel", "xml-upnp-enabled", "/etc/default.cfg", true},
	// traps: PEM markers in a TLS library and a certificate-import page
	{"zyxel", "private-key", "/lib/libbcmssl.so", false},
	{"zyxel", "private-key", "/webs/certimport.html", false},
	{"zyxel", "api-token", "*", false},
	// MR3020 test root: nothing to find but the kernel and boot loader
	{"tplink_mr3020", "default-password", "*", false},
	{"tplink_mr3020", "private-key", "*", false},
	// IoTGoat overlay packed into a tar by the test
	{"iotgoat", "default-password", "/etc/shadow", true},
	{"iotgoat", "wifi-open", "/etc/config/wireless", true},
	{"iotgoat", "telnetd", "/etc/rc.local", true},
	{"iotgoat", "upnp-insecure-mode", "/etc/config/upnpd", true},
	// the sample root file system, in most fixtures (testdata/firmware/README.md)
	{"testdata/firmware/", "default-password", "/etc/shadow", true},
	{"testdata/firmware/", "default-password", "/etc/shadow-", true},
	{"testdata/firmware/", "empty-password", "/etc/shadow", true},
	{"testdata/firmware/", "empty-password", "/etc/shadow-", true},
	{"testdata/firmware/", "empty-password", "/etc/passwd", true},
	{"testdata/firmware/", "telnetd-shell", "/etc/init.d/rcS", true},
	{"testdata/firmware/", "http-server", "/etc/init.d/rcS", true},
	{"testdata/firmware/", "wifi-psk", "/etc/config/default.conf", true},
	{"testdata/firmware/", "snmp-default-community", "/etc/config/default.conf", true},
	{"testdata/firmware/", "config-password", "/etc/config/default.conf", true},
}

func (l label) matches(image string, f analyzers.Finding) bool {
	if !strings.Contains(image, l.image) {
		return false
	}
	if l.rule != f.Rule && !(strings.HasSuffix(l.rule, "*") && strings.HasPrefix(f.Rule, strings.TrimSuffix(l.rule, "*"))) &&
		!(l.rule == "private-key" && f.Category == "private-key") && !(l.rule == "api-token" && f.Category == "api-token") {
		return false
	}
	if strings.HasSuffix(l.path, "*") {
		return strings.HasPrefix(f.Path, strings.TrimSuffix(l.path, "*"))
	}
	return f.Path == l.path
}

// TestPrecision scans every fixture and the shared corpus, prints per rule
// how many findings are known true, known false and unlabelled, and fails
// on a known-false finding or a missing known-true one, so each new rule
// shows its cost. scripts/precision.sh runs it verbosely.
func TestPrecision(t *testing.T) {
	if testing.Short() {
		t.Skip("precision corpus scan skipped in -short mode")
	}
	shared := sharedFirmware(t)
	var images []string
	for _, dir := range []string{filepath.Join("..", "testdata", "firmware"), filepath.Join(shared, "real"), filepath.Join(shared, "formats")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasSuffix(n, ".md") || strings.HasSuffix(n, ".sh") || strings.HasSuffix(n, ".sha256") || strings.HasSuffix(n, ".manifest") {
				continue
			}
			images = append(images, filepath.Join(dir, n))
		}
	}
	iot := filepath.Join(t.TempDir(), "iotgoat.tar")
	if err := tarDir(filepath.Join(shared, "iotgoat-overlay"), iot); err != nil {
		t.Fatal(err)
	}
	images = append(images, iot)
	sort.Strings(images)

	type counts struct{ total, known, falsePos, unlabelled int }
	perRule := map[string]*counts{}
	found := map[int]bool{}
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	list, err := Analyzers(Rules{ScanDate: date})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		res, err := Run(context.Background(), img, Options{SkipSBOM: true, SkipVulns: true, Analyzers: list})
		if err != nil {
			t.Errorf("%s: %v", img, err)
			continue
		}
		for _, f := range res.Report.Findings {
			if f.Category == "extraction-anomaly" || f.Category == "outdated-component" {
				continue // not detection rules
			}
			c := perRule[f.Rule]
			if c == nil {
				c = &counts{}
				perRule[f.Rule] = c
			}
			c.total++
			labelled := false
			for i, l := range labels {
				if l.matches(img, f) {
					labelled = true
					if l.truth {
						c.known++
						found[i] = true
					} else {
						c.falsePos++
						t.Errorf("known false positive: %s %s in %s: %s", f.Rule, f.Path, filepath.Base(img), f.Evidence)
					}
					break
				}
			}
			if !labelled {
				c.unlabelled++
			}
		}
	}
	for i, l := range labels {
		if l.truth && !found[i] {
			t.Errorf("known finding missing: %s %s in %s", l.rule, l.path, l.image)
		}
	}
	var rules []string
	for r := range perRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RULE\tFINDINGS\tKNOWN TRUE\tKNOWN FALSE\tUNLABELLED\n")
	for _, r := range rules {
		c := perRule[r]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", r, c.total, c.known, c.falsePos, c.unlabelled)
	}
	tw.Flush()
	t.Logf("precision over %d images (fixtures and ../shared/firmware):\n%s", len(images), b.String())
}

// tarDir packs a folder into a tar file (the IoTGoat overlay as an image).
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			defer src.Close()
			_, err = io.Copy(tw, src)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
