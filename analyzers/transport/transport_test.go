package transport

import (
	"context"
	"fmt"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

func layerTarget(dir, name string) *analyzers.Target {
	l := &extract.Layer{ID: "L1", Path: name, Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

func analyze(t testing.TB, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New().Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	for _, f := range fs {
		if f.Category != Category || f.Evidence == "" || f.Message == "" || f.Fingerprint == "" || !slices.Equal(f.Guidelines, []int{5}) {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	return fs
}

func keys(fs []analyzers.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s:%d", f.Rule, f.Path, f.Line))
	}
	sort.Strings(out)
	return out
}

func expectKeys(t *testing.T, fs []analyzers.Finding, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestScriptsAndConfigs(t *testing.T) {
	fs := analyze(t, layerTarget(testcorpus.Tree(t, map[string]string{
		"usr/sbin/fw_check": "#!/bin/sh\n" +
			"# curl -k https://old.vendor.com\n" +
			"curl -sk -o /tmp/fw.bin https://cloud.vendor.com/fw\n" +
			"wget --no-check-certificate https://x.vendor.com/cfg\n" +
			"URL=http://fw.vendor.com/router/latest.bin\n" +
			"LOCAL=http://192.168.1.1/upgrade.cgi\n" +
			"curl http://127.0.0.1:8080/firmware\n" +
			"echo see http://www.gnu.org/licenses/ for the update policy\n",
		"etc/cloud.json":           "{\n\"server\": \"http://cloud.vendor.com/api\",\n\"verify_ssl\": false}\n",
		"etc/opkg/distfeeds.conf":  "src/gz core http://downloads.openwrt.org/releases/19.07/packages\n",
		"etc/config/wireless":      "config wifi-device radio0\n\toption type mac80211\n\nconfig wifi-iface\n\toption mode ap\n\toption encryption 'wep-open'\n\toption key '1'\n\nconfig wifi-iface\n\toption mode ap\n\toption encryption psk2\n",
		"etc/hostapd.conf":         "interface=wlan0\nssid=Free\nchannel=6\n",
		"etc/hostapd-wpa.conf":     "interface=wlan0\nssid=Home\nwpa=2\n",
		"www/index.html":           "<a href=\"http://fw.vendor.com/firmware.bin\">download</a> curl -k\n",
		"www/cgi-bin/upgrade":      "#!/bin/sh\ncurl -k https://fw.vendor.com/check\n",
		"usr/share/doc/x/README":   "curl -k http://fw.vendor.com/firmware.bin\n",
		"etc/ssl/openssl.cnf":      "verify=false\n",
		"usr/lib/libfoo.so.conf.x": "wget --no-check-certificate x\n",
	}), "test"))
	expectKeys(t, fs,
		"curl-insecure /usr/sbin/fw_check:3",
		"wget-no-check-certificate /usr/sbin/fw_check:4",
		"http-firmware-url /usr/sbin/fw_check:5",
		"http-update-url /etc/cloud.json:2",
		"tls-verify-disabled /etc/cloud.json:3",
		"http-update-url /etc/opkg/distfeeds.conf:1",
		"wifi-wep /etc/config/wireless:6",
		"hostapd-open /etc/hostapd.conf:2",
		"curl-insecure /www/cgi-bin/upgrade:2",
	)
}

// A credential in a URL is redacted and is the fingerprint.
func TestRedaction(t *testing.T) {
	fs := analyze(t, layerTarget(testcorpus.Tree(t, map[string]string{
		"etc/update.sh": "wget http://admin:T0pS3cret@fw.vendor.com/firmware.bin\n",
	}), "test"))
	expectKeys(t, fs, "http-firmware-url /etc/update.sh:1")
	if len(fs) == 1 {
		f := fs[0]
		if strings.Contains(f.Evidence, "T0pS3cret") || strings.Contains(f.Message, "T0pS3cret") || f.Fingerprint != analyzers.Fingerprint("T0pS3cret") || f.Severity != analyzers.High {
			t.Errorf("%s %q %s", f.Severity, f.Evidence, f.Fingerprint)
		}
	}
}

// IoTGoat's /etc/config/wireless ships an open access point.
func TestIoTGoatOverlay(t *testing.T) {
	src := testcorpus.Shared(t, "iotgoat-overlay")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	fs := analyze(t, layerTarget(dir, "iotgoat"))
	expectKeys(t, fs, "wifi-open /etc/config/wireless:10")
	if len(fs) == 1 && (fs[0].Severity != analyzers.High || fs[0].Evidence != "option encryption 'none'" || fs[0].Layer != "iotgoat") {
		t.Errorf("%s %q %s", fs[0].Severity, fs[0].Evidence, fs[0].Layer)
	}
}

// The real vendor images carry no scripts that switch TLS checks off or
// fetch over plain HTTP, and no Wi-Fi configuration on disk (it lives in
// flash): their many documentation links, help pages and XML must stay
// silent.
func TestRealImagesSilent(t *testing.T) {
	for _, img := range []string{"real/zyxel_p663h51_rootfs_squashfs_v2.bin", "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"} {
		t.Run(filepath.Base(img), func(t *testing.T) {
			tg := testcorpus.ExtractTarget(t, testcorpus.Shared(t, img))
			texts := 0
			for _, f := range tg.Files() {
				if f.Layer.IsFilesystem() && tg.Classify(f) == analyzers.ClassText {
					texts++
				}
			}
			if texts < 50 {
				t.Fatalf("only %d text files unpacked: the root file system was not reached", texts)
			}
			expectKeys(t, analyze(t, tg))
		})
	}
}

func TestCandidate(t *testing.T) {
	for p, want := range map[string]bool{
		"/etc/init.d/x": true, "/usr/sbin/fw_check": true, "/lib/functions.sh": true, "/lib/libc.so": false,
		"/www/index.html": false, "/etc/banner.txt": false, "/usr/share/doc/x": false, "/app/config.json": true,
	} {
		if got, _ := candidate(p); got != want {
			t.Errorf("candidate(%q) = %v", p, got)
		}
	}
}

// A file with more than ReadBound bytes of lines is read up to the bound
// and the analyzer says it stopped; a configuration file too large to read
// at all is named, never skipped in silence. The findings before the bound
// are still reported.
func TestReadBoundReported(t *testing.T) {
	long := strings.Repeat("# padding line of a configuration file\n", (ReadBound/30)+10)
	tg := layerTarget(testcorpus.Tree(t, map[string]string{
		"etc/fw_check.sh": "#!/bin/sh\nwget --no-check-certificate https://x.vendor.com/cfg\n" + long,
	}), "squashfs@0x0")
	fs, err := New().Analyze(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "limit reached") || !strings.Contains(err.Error(), "/etc/fw_check.sh") {
		t.Errorf("the read bound was not reported: %v", err)
	}
	if len(fs) == 0 {
		t.Error("the findings before the bound were lost")
	}
	big := testcorpus.Tree(t, map[string]string{"etc/config/huge.conf": "x"})
	f, _ := os.OpenFile(filepath.Join(big, "etc/config/huge.conf"), os.O_WRONLY, 0)
	f.Truncate(16*ReadBound + 1) // sparse
	f.Close()
	_, err = New().Analyze(context.Background(), layerTarget(big, "squashfs@0x0"))
	if err == nil || !strings.Contains(err.Error(), "/etc/config/huge.conf") {
		t.Errorf("a configuration file too large to read was skipped in silence: %v", err)
	}
}
