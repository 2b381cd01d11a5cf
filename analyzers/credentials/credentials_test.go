package credentials

import (
	"context"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// Hashes made with openssl passwd / crypt(3).
const (
	apr1Admin   = "$apr1$kp8d8U5B$seM8PgA5nxxLELqyd2z.1/" // "admin"
	apr1Strong  = "$apr1$Zz9yQ1xw$jvyDEc4GirPfJ5n3uRZUS1" // not in any list
	md5Support  = "$1$abcdefgh$esLOLxRePm9E/krzvHawD1"    // "support"
	bcryptAdmin = "$2b$05$wZtUS5wfwy4VHEUq5vudx.Bb9eOaPu7.dV5JXtM73PRadJBz8spqe"
)

func repoRoot() string { return filepath.Join("..", "..") }

func dirTarget(dir string) *analyzers.Target {
	l := &extract.Layer{ID: "L1", Path: "test", Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

func run(t testing.TB, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New().Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	check(t, fs)
	analyzers.SortFindings(fs)
	return fs
}

var hex16 = regexp.MustCompile(`^[0-9a-f]{16}$`)

// check asserts what every finding must carry.
func check(t testing.TB, fs []analyzers.Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Rule == "" || f.Category != "hardcoded-credential" || f.Severity.Rank() < 0 || f.Layer == "" || f.Path == "" || (f.Line < 1) == (f.Offset == nil) || f.Evidence == "" || f.Message == "" || len(f.Guidelines) == 0 || !hex16.MatchString(f.Fingerprint) {
			t.Errorf("incomplete finding: %+v", f)
		}
	}
}

// key renders a finding for comparison: "rule severity path:line".
func key(f analyzers.Finding) string {
	return fmt.Sprintf("%s %s %s:%d", f.Rule, f.Severity, f.Path, f.Line)
}

func keys(fs []analyzers.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, key(f))
	}
	sort.Strings(out)
	return out
}

func wantKeys(t *testing.T, fs []analyzers.Finding, want []string) {
	t.Helper()
	sort.Strings(want)
	got := keys(fs)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		for _, f := range fs {
			t.Logf("%s: %s", key(f), f.Evidence)
		}
	}
}

func find(fs []analyzers.Finding, rule, path string, line int) *analyzers.Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Path == path && (line == 0 || fs[i].Line == line) {
			return &fs[i]
		}
	}
	return nil
}

// noLeak asserts the secret appears in no finding's text.
func noLeak(t *testing.T, fs []analyzers.Finding, secret string) {
	t.Helper()
	for _, f := range fs {
		if strings.Contains(f.Evidence, secret) || strings.Contains(f.Message, secret) {
			t.Errorf("secret %q in clear in %s: %s / %s", secret, key(f), f.Evidence, f.Message)
		}
	}
}

// TestFixtureRootfs: testdata/firmware/data.txt is /etc/config/default.conf
// in the sample rootfs; its plain-text secrets are reported through several
// container formats with the same findings and fingerprints.
func TestFixtureRootfs(t *testing.T) {
	want := []string{
		"config-password critical /etc/config/default.conf:77", // remote_mgmt admin/admin
		"config-password medium /etc/config/default.conf:36",   // wan ppp-secret-123
		"wifi-psk high /etc/config/default.conf:51",            // key 12345678, encryption psk2
		"snmp-default-community medium /etc/config/default.conf:70",
		"snmp-default-community high /etc/config/default.conf:71",
	}
	var prints []string
	for _, img := range []string{"rootfs.tar", "sqfs-xz.img", "cpio-newc.cpio"} {
		t.Run(img, func(t *testing.T) {
			p := filepath.Join(repoRoot(), "testdata", "firmware", img)
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("fixture missing: %v", err)
			}
			fs := run(t, testcorpus.ExtractTarget(t, p))
			wantKeys(t, fs, want)
			noLeak(t, fs, "ppp-secret-123")
			wan := find(fs, "config-password", "/etc/config/default.conf", 36)
			if wan == nil || !strings.Contains(wan.Evidence, `user "isp-user@example.net"`) || !strings.Contains(wan.Evidence, "14 chars") || wan.Fingerprint != analyzers.Fingerprint("ppp-secret-123") {
				t.Errorf("wan password finding: %+v", wan)
			}
			rm := find(fs, "config-password", "/etc/config/default.conf", 77)
			if rm == nil || !strings.Contains(rm.Evidence, `"admin" for user "admin"`) || !strings.Contains(rm.Evidence, "well-known default") {
				t.Errorf("remote_mgmt finding: %+v", rm)
			}
			wifi := find(fs, "wifi-psk", "/etc/config/default.conf", 51)
			if wifi == nil || !strings.Contains(wifi.Evidence, `"12345678"`) || wifi.Fingerprint != analyzers.Fingerprint("12345678") {
				t.Errorf("wifi finding: %+v", wifi)
			}
			var fp []string
			for _, f := range fs {
				fp = append(fp, f.Fingerprint)
			}
			sort.Strings(fp)
			prints = append(prints, strings.Join(fp, ","))
		})
	}
	for i := 1; i < len(prints); i++ {
		if prints[i] != prints[0] {
			t.Errorf("fingerprints differ across containers: %s vs %s", prints[i], prints[0])
		}
	}
}

func mkMosq6(pw string, salt []byte) string {
	h := sha512.New()
	h.Write([]byte(pw))
	h.Write(salt)
	return "$6$" + base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func mkMosq7(pw string, salt []byte, iter int) string {
	k, err := pbkdf2.Key(sha512.New, pw, salt, iter, 64)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("$7$%d$%s$%s", iter, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(k))
}

func shaPw(pw string) string {
	s := sha1.Sum([]byte(pw))
	return "{SHA}" + base64.StdEncoding.EncodeToString(s[:])
}

func digest(user, realm, pw string) string {
	s := md5.Sum([]byte(user + ":" + realm + ":" + pw))
	return user + ":" + realm + ":" + hex.EncodeToString(s[:])
}

// TestEveryRule builds a tree with one or more credentials per rule, and
// traps next to them.
func TestEveryRule(t *testing.T) {
	salt := []byte("0123456789ab")
	dir := testcorpus.Tree(t, map[string]string{
		"etc/ppp/pap-secrets":        "# client server secret\n\"isp\"\t*\t\"Lit3ral-PPP\"\n*\t*\t\"\"\n",
		"etc/wpa_supplicant.conf":    "network={\n\tssid=\"home\"\n\tpsk=\"Wifi-Literal-9\"\n}\n#psk=\"commented out\"\n",
		"etc/hostapd.conf":           "interface=wlan0\nwpa_passphrase=12345678\n",
		"etc/config/wireless":        "config wifi-iface\n\toption encryption 'none'\n\toption key 'ignored-open'\n\nconfig wifi-iface\n\toption encryption 'psk2'\n\toption key 'UCI-Key-42'\n",
		"etc/lighttpd/.htpasswd":     "admin:" + apr1Admin + "\nops:" + apr1Strong + "\nsha:" + shaPw("root") + "\nbc:" + bcryptAdmin + "\n",
		"etc/lighttpd/lighttpd.user": "support:support\nguest:Pl41n-Guest\n",
		"etc/lighttpd/htdigest.user": digest("admin", "Router", "1234") + "\n",
		"etc/httpd.conf":             "A:*\n/cgi-bin:admin:" + md5Support + "\n/adm:root:$p$root\n",
		"etc/mosquitto/passwd":       "sensor:" + mkMosq6("password", salt) + "\nhub:" + mkMosq7("xc3511", salt, 101) + "\nstrong:" + mkMosq7("N0t-In-List", salt, 101) + "\n",
		"root/.netrc":                "machine fw.example.com login fwupd password Upd4te-Pw\n",
		"etc/init.d/cloud":           "#!/bin/sh\nCLOUD_PW=$(cat /etc/cloud.pw)\ncurl -s -u dev:$CLOUD_PW https://cloud.example.com/\nMISSING=$(cat /etc/nope)\ncurl -u dev:$MISSING https://x.example.com/\nK='admin'\nwget --user=admin --password=$K http://127.0.0.1/\n",
		"etc/cloud.pw":               "Cl0ud-From-File\n",
		"usr/bin/cam":                "#!/bin/sh\nffmpeg -i rtsp://admin:12345@127.0.0.1/ch0 -f null -\nsshpass -p 'Bkp-Pw-77' scp /tmp/x backup@10.0.0.2:/srv\n",
		"etc/snmpd.conf":             "rocommunity public\nrwcommunity private\nrocommunity Custom-Comm\n",
		"uboot-env.txt":              "bootcmd=bootm 0x9f020000\nbootdelay=3\nbootstopkey=tpl\npassword=Ub00t-Secret\n",
		"etc/default.xml":            "<cfg><sysUserName>admin</sysUserName><sysPassword>admin</sysPassword></cfg>\n",
		"etc/app.json":               "{\"user\": \"svc\", \"password\": \"Js0n-Secret\", \"label\": \"Password:\"}\n",
		// traps: none of these may be reported
		"www/login.html":     "<input type=\"password\" name=\"password\">\n<script>password = document.getElementById('pw').value;</script>\n",
		"etc/config/uhttpd":  "config uhttpd 'main'\n\toption key '/etc/uhttpd.key'\n\toption cert '/etc/uhttpd.crt'\n",
		"etc/config/network": "config interface 'wan'\n\toption proto 'pppoe'\n\toption password ''\n\t# option password 'old-one'\n",
		"etc/init.d/ppp":     "#!/bin/sh\npassword=$(uci get network.wan.password)\ncurl -u \"$USER:$PASS\" http://x\n",
		"etc/nsswitch.conf":  "passwd: compat\n",
		"usr/lib/lib.so":     "\x7fELF password=admin\x00",
	})
	fs := run(t, dirTarget(dir))
	wantKeys(t, fs, []string{
		"ppp-secret medium /etc/ppp/pap-secrets:2",
		"wifi-psk medium /etc/wpa_supplicant.conf:3",
		"wifi-psk high /etc/hostapd.conf:2",
		"wifi-psk medium /etc/config/wireless:7",
		"web-user-password critical /etc/lighttpd/.htpasswd:1", // apr1 admin
		"web-user-password low /etc/lighttpd/.htpasswd:2",      // apr1 uncracked
		"web-user-password critical /etc/lighttpd/.htpasswd:3", // {SHA} root
		"web-user-password critical /etc/lighttpd/.htpasswd:4", // bcrypt admin
		"web-user-password critical /etc/lighttpd/lighttpd.user:1",
		"web-user-password medium /etc/lighttpd/lighttpd.user:2",
		"web-user-password critical /etc/lighttpd/htdigest.user:1",
		"web-user-password critical /etc/httpd.conf:2",
		"mqtt-password-file high /etc/mosquitto/passwd:1",
		"mqtt-password-file high /etc/mosquitto/passwd:2",
		"mqtt-password-file low /etc/mosquitto/passwd:3",
		"script-credential medium /root/.netrc:1",
		"script-credential medium /etc/init.d/cloud:3",
		"script-credential high /etc/init.d/cloud:7",
		"script-credential high /usr/bin/cam:2",
		"script-credential medium /usr/bin/cam:3",
		"snmp-default-community medium /etc/snmpd.conf:1",
		"snmp-default-community high /etc/snmpd.conf:2",
		"uboot-env-password medium /uboot-env.txt:3",
		"uboot-env-password medium /uboot-env.txt:4",
		"config-password critical /etc/default.xml:1",
		"config-password medium /etc/app.json:1",
	})
	for _, s := range []string{"Lit3ral-PPP", "Wifi-Literal-9", "UCI-Key-42", "Pl41n-Guest", "Upd4te-Pw", "Cl0ud-From-File", "Bkp-Pw-77", "Ub00t-Secret", "Js0n-Secret", "N0t-In-List"} {
		noLeak(t, fs, s)
	}
	checks := []struct {
		rule, path string
		line       int
		has        []string
		fp         string
	}{
		{"web-user-password", "/etc/lighttpd/.htpasswd", 1, []string{`user "admin"`, "apr1", `= "admin"`}, analyzers.Fingerprint("admin")},
		{"web-user-password", "/etc/lighttpd/.htpasswd", 2, []string{"not in the default-password list"}, analyzers.Fingerprint(apr1Strong)},
		{"web-user-password", "/etc/lighttpd/.htpasswd", 3, []string{"htpasswd-sha1", `= "root"`}, ""},
		{"web-user-password", "/etc/lighttpd/htdigest.user", 1, []string{"htdigest-md5", `= "1234"`}, ""},
		{"web-user-password", "/etc/httpd.conf", 2, []string{"md5crypt", `= "support"`}, ""},
		{"mqtt-password-file", "/etc/mosquitto/passwd", 1, []string{"mosquitto-sha512", `= "password"`}, ""},
		{"mqtt-password-file", "/etc/mosquitto/passwd", 2, []string{"mosquitto-pbkdf2-sha512", `= "xc3511"`}, ""},
		{"script-credential", "/etc/init.d/cloud", 3, []string{"$CLOUD_PW", "/etc/cloud.pw", `user "dev"`, "15 chars"}, analyzers.Fingerprint("Cl0ud-From-File")},
		{"script-credential", "/etc/init.d/cloud", 7, []string{`"admin"`, "$K"}, ""},
		{"script-credential", "/usr/bin/cam", 2, []string{`"12345"`, `user "admin"`}, ""},
		{"script-credential", "/usr/bin/cam", 3, []string{`user "backup"`}, ""},
		{"script-credential", "/root/.netrc", 1, []string{`user "fwupd"`}, ""},
		{"uboot-env-password", "/uboot-env.txt", 3, []string{"bootstopkey"}, ""},
		{"config-password", "/etc/default.xml", 1, []string{`sysPassword = "admin" for user "admin"`}, ""},
		{"config-password", "/etc/app.json", 1, []string{`user "svc"`}, ""},
		{"snmp-default-community", "/etc/snmpd.conf", 2, []string{`rwcommunity = "private"`}, ""},
	}
	for _, c := range checks {
		f := find(fs, c.rule, c.path, c.line)
		if f == nil {
			t.Errorf("no %s at %s:%d", c.rule, c.path, c.line)
			continue
		}
		for _, h := range c.has {
			if !strings.Contains(f.Evidence, h) {
				t.Errorf("%s: evidence %q lacks %q", key(*f), f.Evidence, h)
			}
		}
		if c.fp != "" && f.Fingerprint != c.fp {
			t.Errorf("%s: fingerprint %s, want %s", key(*f), f.Fingerprint, c.fp)
		}
		if !strings.Contains(f.Message, c.path) || !strings.Contains(f.Message, "layer test") {
			t.Errorf("%s: message lacks where: %s", key(*f), f.Message)
		}
	}
}

// TestSecretFileOutsideLayer: $(cat FILE) resolves inside the layer only; a
// symlink pointing out of it is followed inside the layer root.
func TestSecretFileOutsideLayer(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("Host-Secret-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := testcorpus.Tree(t, map[string]string{
		"etc/init.d/x": "#!/bin/sh\nP=$(cat /etc/link)\ncurl -u a:$P http://h/\n",
	})
	if err := os.Symlink(outside, filepath.Join(dir, "etc", "link")); err != nil {
		t.Fatal(err)
	}
	fs := run(t, dirTarget(dir))
	if len(fs) != 0 {
		t.Errorf("secret read through a symlink out of the layer: %v", keys(fs))
	}
}

func TestMaxHashes(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&b, "u%d:%s\n", i, shaPw(fmt.Sprintf("Strong-%d-pw", i)))
	}
	dir := testcorpus.Tree(t, map[string]string{"etc/.htpasswd": b.String()})
	fs, err := NewWith(Options{MaxHashes: 2}).Analyze(context.Background(), dirTarget(dir))
	if err == nil || !strings.Contains(err.Error(), "3 were not tried") {
		t.Errorf("err = %v, want 3 not tried", err)
	}
	if len(fs) != 5 {
		t.Errorf("%d findings, want 5 (all reported as uncracked)", len(fs))
	}
	n := 0
	for _, f := range fs {
		if strings.Contains(f.Evidence, "not tried") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d findings say not tried, want 3", n)
	}
}

// TestCostlyHashes: hashes whose parameters make one guess take seconds or
// more are reported without being tried, quickly.
func TestCostlyHashes(t *testing.T) {
	salt := []byte("0123456789ab")
	costly := []string{
		"$2b$31$wZtUS5wfwy4VHEUq5vudx.Bb9eOaPu7.dV5JXtM73PRadJBz8spqe",
		"$6$rounds=999999999$saltsalt$wu7U3lhU6wtnfCquRfC/LKhwtFEl.WJY59K3oiwihmCzZBmFd7Bdn0aBTEyUtsasxce5FX.VmBCt8FL68b9xt.",
		"$7$2000000000$" + base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(make([]byte, 64)),
	}
	var b strings.Builder
	for i, h := range costly {
		fmt.Fprintf(&b, "u%d:%s\n", i, h)
	}
	dir := testcorpus.Tree(t, map[string]string{"etc/mosquitto/passwd": b.String()})
	// a hang here would be caught by the test timeout; speed itself is
	// measured in benchmarks, not asserted
	fs := run(t, dirTarget(dir))
	if len(fs) != len(costly) {
		t.Fatalf("%d findings, want %d: %v", len(fs), len(costly), keys(fs))
	}
	for _, f := range fs {
		if f.Severity != analyzers.Low || !strings.Contains(f.Evidence, "cost parameters") {
			t.Errorf("%s: %s", key(f), f.Evidence)
		}
	}
}

func TestCancel(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{"etc/ppp/pap-secrets": "a * b-Secret-1\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, dirTarget(dir)); err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestZyXEL: the P-663H-51 image ships test/test in both PPP secrets files;
// /etc/default.cfg (Broadcom psitree) names the web administrator "admin"
// with no password (the cfm binary supplies the default) and sets the SNMP
// communities public (read) / private (write).
func TestZyXEL(t *testing.T) {
	tg := testcorpus.ExtractTarget(t, testcorpus.Shared(t, "real/zyxel_p663h51_rootfs_squashfs_v2.bin"))
	fs := run(t, tg)
	wantKeys(t, fs, []string{
		"ppp-secret high /etc/ppp/pap-secrets:3",
		"ppp-secret high /etc/ppp/chap-secrets:3",
		"snmp-default-community high /etc/default.cfg:33",
		"snmp-default-community medium /etc/default.cfg:33",
		"config-password medium /etc/default.cfg:32",
	})
	for _, p := range []string{"/etc/ppp/pap-secrets", "/etc/ppp/chap-secrets"} {
		f := find(fs, "ppp-secret", p, 3)
		if f == nil || !strings.Contains(f.Evidence, `"test" for user "test"`) || f.Fingerprint != analyzers.Fingerprint("test") {
			t.Errorf("%s: %+v", p, f)
		}
	}
	u := find(fs, "config-password", "/etc/default.cfg", 32)
	if u == nil || !strings.Contains(u.Evidence, `sysUserName = "admin"`) {
		t.Errorf("admin user: %+v", u)
	}
}

// TestWR841NQuiet: the TP-Link WR841N v10 root file system has no text
// credential: /etc/shadow (the accounts analyzer's) is the only secret.
// What is there and must stay quiet: /etc/ath/wsc_config.txt and
// default_wsc_cfg.txt (WPS templates, "NW_KEY=" empty, examples commented),
// /etc/wpa2/hostapd.eap_user (WPS identities only, no password),
// /etc/nsswitch.conf ("passwd: compat"), and /web/userRpm/*.htm login
// pages that read password fields in JavaScript
// (var password = $("pcPassword").value).
func TestWR841NQuiet(t *testing.T) {
	fs := run(t, testcorpus.ExtractTarget(t, testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")))
	wantKeys(t, fs, nil)
}

// TestMR3020Quiet: a tiny placeholder file system with no secrets.
func TestMR3020Quiet(t *testing.T) {
	fs := run(t, testcorpus.ExtractTarget(t, testcorpus.Shared(t, "real/tplink_mr3020_v1_3.17.2_testroot.tpl")))
	wantKeys(t, fs, nil)
}

// TestIoTGoat: the IoTGoat overlay's credentials are password hashes in
// /etc/shadow and /etc/shadow.bak (the accounts analyzer's); its
// /etc/config/wireless ships an open network (encryption 'none', no key),
// rc.local starts telnetd without credentials, and the LuCI views only
// name password fields. The credentials analyzer must find nothing, and
// still read the files it would report (checked by adding a PSK to a copy).
func TestIoTGoat(t *testing.T) {
	src := testcorpus.Shared(t, "iotgoat-overlay")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	tg := analyzers.NewTarget([]*extract.Layer{{ID: "L1", Path: "iotgoat", Kind: "filesystem", Root: dir}})
	fs := run(t, tg)
	wantKeys(t, fs, nil)

	w := filepath.Join(dir, "etc", "config", "wireless")
	b, err := os.ReadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "option encryption 'none'", "option encryption 'psk2'\n\toption key 'goat-wifi-key'", 1))
	if err := os.WriteFile(w, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fs = run(t, analyzers.NewTarget([]*extract.Layer{{ID: "L1", Path: "iotgoat", Kind: "filesystem", Root: dir}}))
	if len(fs) != 1 || fs[0].Rule != "wifi-psk" || fs[0].Path != "/etc/config/wireless" {
		t.Errorf("with a PSK added: %v", keys(fs))
	}
}

// TestUBootEnvLayer: the extractor's uboot-env layer (flash.bin carries an
// environment without secrets) is read, and a password in an environment
// block is reported from it.
func TestUBootEnvLayer(t *testing.T) {
	fs := run(t, testcorpus.ExtractTarget(t, filepath.Join(repoRoot(), "testdata", "firmware", "flash.bin")))
	for _, f := range fs {
		if f.Rule == "uboot-env-password" {
			t.Errorf("flash.bin environment has no password: %s %s", key(f), f.Evidence)
		}
	}
	dir := testcorpus.Tree(t, map[string]string{"uboot-env.txt": "bootdelay=1\nbootstopkey=admin\n"})
	tg := analyzers.NewTarget([]*extract.Layer{{ID: "L3", Path: "flash > uboot-env@0xf0000", Kind: "filesystem", Format: "uboot-env", Root: dir}})
	fs = run(t, tg)
	if len(fs) != 1 || fs[0].Severity != analyzers.High || !strings.Contains(fs[0].Evidence, `bootstopkey = "admin"`) || fs[0].Layer != "flash > uboot-env@0xf0000" {
		t.Errorf("got %v", fs)
	}
}

func BenchmarkCredentialsWR841N(b *testing.B) {
	tg := testcorpus.ExtractTarget(b, testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"))
	a := New()
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), tg); err != nil {
			b.Fatal(err)
		}
	}
}
