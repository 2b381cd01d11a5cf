package services

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
	rules "github.com/fwaudit/fwaudit/analyzers/services/match"
	"github.com/fwaudit/fwaudit/extract"
)

func repoRoot() string { return filepath.Join("..", "..") }

func analyze(t testing.TB, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New().Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	for _, f := range fs {
		if f.Category != Category || f.Evidence == "" || f.Message == "" || f.Fingerprint == "" || !slices.Contains(f.Guidelines, 6) {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	return fs
}

func key(f analyzers.Finding) string { return fmt.Sprintf("%s %s:%d", f.Rule, f.Path, f.Line) }

func keys(fs []analyzers.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, key(f))
	}
	sort.Strings(out)
	return out
}

func find(fs []analyzers.Finding, rule, path string, line int) *analyzers.Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Path == path && fs[i].Line == line {
			return &fs[i]
		}
	}
	return nil
}

func expectKeys(t *testing.T, fs []analyzers.Finding, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func scan(t *testing.T, files map[string]string) []analyzers.Finding {
	t.Helper()
	return analyze(t, testcorpus.DirTarget(t, testcorpus.Tree(t, files)))
}

// The fixture rootfs's /etc/init.d/rcS starts "telnetd -l /bin/sh" and httpd.
func TestFixtureRootfs(t *testing.T) {
	fs := analyze(t, testcorpus.ExtractTarget(t, filepath.Join(repoRoot(), "testdata", "firmware", "rootfs.tar")))
	expectKeys(t, fs, "telnetd-shell /etc/init.d/rcS:7", "http-server /etc/init.d/rcS:8")
	f := find(fs, "telnetd-shell", "/etc/init.d/rcS", 7)
	if f == nil {
		return
	}
	if f.Severity != analyzers.Critical || f.Evidence != "/usr/sbin/telnetd -l /bin/sh -p 23" || !slices.Equal(f.Guidelines, []int{5, 6}) {
		t.Errorf("telnetd finding: %s %q %v", f.Severity, f.Evidence, f.Guidelines)
	}
}

func TestInittabConsoles(t *testing.T) {
	fs := scan(t, map[string]string{
		"etc/inittab": "::sysinit:/etc/init.d/rcS\n" +
			"::askfirst:-/bin/sh\n" +
			"ttyS0::respawn:/bin/sh\n" +
			"#tty1::respawn:/bin/sh\n" +
			"ttyS1::respawn:/sbin/getty -L ttyS1 115200 vt100\n" +
			"tty2::respawn:/sbin/getty -n -l /bin/sh tty2 115200\n" +
			"::shutdown:/bin/sh\n" +
			"::sysinit:/bin/sh -c 'echo hi'\n" +
			"::respawn:/usr/sbin/telnetd -F\n",
		"etc/init.d/rcS": "#!/bin/sh\nmount -a\n",
	})
	expectKeys(t, fs, "console-root-shell /etc/inittab:2", "console-root-shell /etc/inittab:3", "console-getty-nologin /etc/inittab:6", "telnetd /etc/inittab:9")
	if f := find(fs, "console-root-shell", "/etc/inittab", 2); f != nil && (f.Severity != analyzers.High || f.Evidence != "-/bin/sh") {
		t.Errorf("%s %q", f.Severity, f.Evidence)
	}
}

// Comments, here-documents, dead branches, uncalled functions and code
// after a top-level exit start nothing; live branches do.
func TestDeadCodeIsSilent(t *testing.T) {
	fs := scan(t, map[string]string{
		"etc/init.d/rcS": `#!/bin/sh
#telnetd -l /bin/sh
   # /usr/sbin/tftpd
echo "telnetd -l /bin/sh"
cat > /tmp/x <<EOF
telnetd -l /bin/sh
EOF
if false; then
	telnetd -l /bin/sh
fi
if [ 0 = 1 ]; then tftpd; elif [ "1" -eq "0" ]; then ftpd; else snmpd; fi
if true; then miniupnpd; else gdbserver :1; fi
unused() {
	adbd
}
false && vsftpd
true || utelnetd
[ -x /usr/sbin/dropbear ] && dropbear -p 22
if [ -f /etc/debug ]; then
	telnetd -l /bin/sh
	exit 0
fi
case "$1" in
stop) killall telnetd ;;
esac
exit 0
telnetd -l /bin/sh
`,
	})
	expectKeys(t, fs,
		"snmpd /etc/init.d/rcS:11",
		"upnpd /etc/init.d/rcS:12",
		"dropbear-root-password /etc/init.d/rcS:18",
		"telnetd-shell /etc/init.d/rcS:20",
	)
}

// rcS sources and runs other scripts of the layer; variables, for loops
// over start links and wrappers are followed.
func TestFollowScripts(t *testing.T) {
	fs := scan(t, map[string]string{
		"etc/inittab": "::sysinit:/etc/init.d/rcS\n",
		"etc/init.d/rcS": `#!/bin/sh
. /etc/default/vars
sh /etc/rc.d/rc.foo
for i in /etc/init.d/S??* ; do
	case "$i" in
	*.sh) . $i ;;
	*) $i start ;;
	esac
done
$DAEMON -l $SHELL_BIN
`,
		"etc/default/vars":     "DAEMON=/usr/sbin/telnetd\nSHELL_BIN=/bin/ash\n",
		"etc/rc.d/rc.foo":      "#!/bin/sh\nstart-stop-daemon -S -x /usr/sbin/tftpd -- -c /\n/etc/rc.d/rc.bar\n",
		"etc/rc.d/rc.bar":      "busybox udpsvd -E 0 69 tftpd -c /srv\n",
		"etc/init.d/S50snmp":   "#!/bin/sh\ncase \"$1\" in\nstart) snmpd -c /etc/snmpd.conf ;;\nstop) killall snmpd ;;\nesac\n",
		"etc/init.d/S60dbg.sh": "gdbserver :2345 /bin/app\n",
		"etc/init.d/K10x":      "telnetd\n",
	})
	expectKeys(t, fs,
		"telnetd-shell /etc/init.d/rcS:10",
		"tftpd /etc/rc.d/rc.foo:2",
		"tftpd /etc/rc.d/rc.bar:1",
		"snmpd /etc/init.d/S50snmp:3",
		"gdbserver /etc/init.d/S60dbg.sh:1",
	)
	if f := find(fs, "tftpd", "/etc/rc.d/rc.bar", 1); f != nil && !strings.Contains(f.Message, "/etc/inittab:1 → /etc/init.d/rcS:3 → /etc/rc.d/rc.foo:3") {
		t.Errorf("message does not give the boot path: %s", f.Message)
	}
}

// OpenWrt: procd init scripts count when an /etc/rc.d/S* link enables them.
func TestProcd(t *testing.T) {
	script := `#!/bin/sh /etc/rc.common
START=50
USE_PROCD=1
PROG=/usr/sbin/telnetd

has_root_pwd() { return 1; }

start_service() {
	procd_open_instance
	procd_set_param command "$PROG" -F
	procd_append_param command -l /bin/login
	procd_set_param respawn
	procd_close_instance
}

service_triggers() {
	procd_add_reload_trigger "telnet"
}
`
	old := `#!/bin/sh /etc/rc.common
START=60
start() {
	service_start /usr/sbin/miniupnpd -f /var/etc/miniupnpd.conf
}
stop() {
	service_stop /usr/sbin/miniupnpd
}
`
	fs := scan(t, map[string]string{
		"etc/inittab":        "::sysinit:/etc/init.d/rcS S boot\n",
		"etc/init.d/rcS":     "#!/bin/sh\nrun_scripts() {\n\tfor i in /etc/rc.d/$1*; do\n\t\t[ -x $i ] && $i $2 2>&1\n\tdone\n}\nrun_scripts \"$1\" \"$2\" &\n",
		"etc/init.d/telnet":  script,
		"etc/init.d/upnp":    old,
		"etc/init.d/adb":     "#!/bin/sh /etc/rc.common\nstart_service() {\n\tprocd_set_param command /sbin/adbd\n}\n",
		"etc/rc.d/S50telnet": "->../init.d/telnet",
		"etc/rc.d/S60upnp":   "->/etc/init.d/upnp",
		"etc/rc.d/K50telnet": "->../init.d/telnet",
	})
	expectKeys(t, fs, "telnetd /etc/init.d/telnet:10", "upnpd /etc/init.d/upnp:4")
	if f := find(fs, "telnetd", "/etc/init.d/telnet", 10); f != nil && f.Evidence != "/usr/sbin/telnetd -F -l /bin/login" {
		t.Errorf("evidence %q", f.Evidence)
	}
}

func TestSystemd(t *testing.T) {
	fs := scan(t, map[string]string{
		"lib/systemd/system/telnet.service":                                "[Unit]\nDescription=x\n[Service]\nExecStart=-/usr/sbin/telnetd -F -l /bin/sh\n",
		"lib/systemd/system/snmpd.service":                                 "[Service]\nExecStart=/usr/sbin/snmpd -f\n[Install]\nWantedBy=multi-user.target\n",
		"lib/systemd/system/tftp.service":                                  "[Service]\nExecStart=/usr/sbin/in.tftpd -s /srv\n",
		"lib/systemd/system/upnp.service":                                  "[Service]\nExecStart=/usr/sbin/miniupnpd\n[Install]\nWantedBy=multi-user.target\n",
		"lib/systemd/system/ftp.socket":                                    "[Socket]\nListenStream=21\nAccept=yes\n",
		"lib/systemd/system/ftp@.service":                                  "[Service]\nExecStart=/usr/sbin/in.ftpd\n",
		"lib/systemd/system/serial-getty@.service":                         "[Service]\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200 %I $TERM\n",
		"etc/systemd/system/multi-user.target.wants/telnet.service":        "->/lib/systemd/system/telnet.service",
		"etc/systemd/system/sockets.target.wants/ftp.socket":               "->/lib/systemd/system/ftp.socket",
		"etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service": "->/lib/systemd/system/serial-getty@.service",
		"etc/systemd/system/upnp.service":                                  "->/dev/null",
	})
	expectKeys(t, fs,
		"telnetd-shell /lib/systemd/system/telnet.service:4",
		"snmpd /lib/systemd/system/snmpd.service:2",
		"ftpd /lib/systemd/system/ftp@.service:2",
		"console-getty-nologin /lib/systemd/system/serial-getty@.service:2",
	)
}

func TestInetd(t *testing.T) {
	conf := "# services\nftp\tstream\ttcp\tnowait\troot\t/usr/sbin/ftpd\tftpd -w /\n" +
		"#telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n" +
		"telnet\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\tin.telnetd\n" +
		"echo stream tcp nowait root internal\n"
	t.Run("started", func(t *testing.T) {
		fs := scan(t, map[string]string{"etc/init.d/rcS": "#!/bin/sh\n/usr/sbin/inetd /etc/inetd.conf\n", "etc/inetd.conf": conf})
		expectKeys(t, fs, "ftpd /etc/inetd.conf:2", "telnetd /etc/inetd.conf:4")
		if f := find(fs, "telnetd", "/etc/inetd.conf", 4); f != nil && !strings.Contains(f.Message, "inetd started at /etc/init.d/rcS:2") {
			t.Errorf("message %q", f.Message)
		}
	})
	t.Run("not started", func(t *testing.T) {
		fs := scan(t, map[string]string{"etc/init.d/rcS": "#!/bin/sh\n#/sbin/inetd\n", "etc/inetd.conf": conf})
		expectKeys(t, fs)
	})
	t.Run("no init in layer", func(t *testing.T) {
		fs := scan(t, map[string]string{"etc/inetd.conf": conf})
		expectKeys(t, fs, "ftpd /etc/inetd.conf:2", "telnetd /etc/inetd.conf:4")
	})
	t.Run("xinetd", func(t *testing.T) {
		fs := scan(t, map[string]string{
			"etc/init.d/rcS":        "#!/bin/sh\nxinetd -stayalive\n",
			"etc/xinetd.d/telnet":   "service telnet\n{\n\tdisable = no\n\tserver = /usr/sbin/in.telnetd\n\tserver_args = -h\n}\n",
			"etc/xinetd.d/tftp":     "service tftp\n{\n\tserver = /usr/sbin/in.tftpd\n\tdisable = yes\n}\n",
			"etc/xinetd.d/internal": "service echo\n{\n\ttype = INTERNAL\n}\n",
		})
		expectKeys(t, fs, "telnetd /etc/xinetd.d/telnet:4")
	})
}

func TestConfigFiles(t *testing.T) {
	fs := scan(t, map[string]string{
		"etc/ssh/sshd_config":  "#PermitRootLogin yes\nPermitRootLogin yes\nPasswordAuthentication yes\n",
		"etc/vsftpd.conf":      "listen=YES\nanonymous_enable=YES\n",
		"etc/config/upnpd":     "config upnpd config\n\toption enabled 1\n\toption secure_mode 1\n",
		"etc/config/uhttpd":    "config uhttpd main\n\tlist listen_http 0.0.0.0:80\n\tlist listen_https 0.0.0.0:443\n",
		"etc/config/dropbear":  "config dropbear\n\toption PasswordAuth 'on'\n\toption RootPasswordAuth 'off'\n",
		"etc/nvram.default":    "telnetd_enable=1\nupnp_enable=0\n",
		"www/readme.conf.html": "PermitRootLogin yes\n",
	})
	expectKeys(t, fs,
		"sshd-permit-root-login /etc/ssh/sshd_config:2",
		"sshd-password-authentication /etc/ssh/sshd_config:3",
		"vsftpd-anonymous /etc/vsftpd.conf:2",
		"upnp-enabled /etc/config/upnpd:2",
		"uhttpd-listen-http /etc/config/uhttpd:2",
		"nvram-telnet-enabled /etc/nvram.default:1",
	)
}

// Credentials in a start command are redacted and fingerprinted.
func TestRedaction(t *testing.T) {
	fs := scan(t, map[string]string{"etc/init.d/rcS": "telnetd -l /usr/sbin/login -u admin:Sup3rS3cret -i br0\n"})
	expectKeys(t, fs, "telnetd-fixed-credential /etc/init.d/rcS:1")
	if len(fs) != 1 {
		return
	}
	f := fs[0]
	if strings.Contains(f.Evidence, "Sup3rS3cret") || strings.Contains(f.Message, "Sup3rS3cret") || !strings.Contains(f.Evidence, analyzers.Redact("Sup3rS3cret")) {
		t.Errorf("evidence %q", f.Evidence)
	}
	if f.Fingerprint != analyzers.Fingerprint("Sup3rS3cret") || !slices.Equal(f.Guidelines, []int{1, 5, 6}) || f.Severity != analyzers.Critical {
		t.Errorf("fingerprint %s guidelines %v severity %s", f.Fingerprint, f.Guidelines, f.Severity)
	}
}

// Links that point outside the layer are resolved inside it: an absolute
// link to a host folder holding a start script finds nothing.
func TestLinksStayInLayer(t *testing.T) {
	outside := testcorpus.Tree(t, map[string]string{"S10evil": "telnetd -l /bin/sh\n", "rcS": "telnetd -l /bin/sh\n"})
	fs := scan(t, map[string]string{
		"etc/rc.d":       "->" + outside,
		"etc/init.d/rcS": "->" + filepath.Join(outside, "rcS"),
		"etc/rc.local":   ". ../../../../../../" + filepath.Join(outside, "rcS") + "\nsh /etc/loop\n",
		"etc/loop":       "->/etc/loop",
	})
	expectKeys(t, fs)
}

// A script that runs itself, loops over itself and defines recursive
// functions ends.
func TestRecursionEnds(t *testing.T) {
	fs := scan(t, map[string]string{
		"etc/init.d/rcS": "#!/bin/sh\nf() { f; g; }\ng() { f; }\nf\n. /etc/init.d/rcS\nsh /etc/init.d/rcS x\n/etc/init.d/rcS y\ntelnetd\n",
	})
	expectKeys(t, fs, "telnetd /etc/init.d/rcS:8")
}

// A script whose functions call each other exponentially hits the walk
// bound: the analyzer stops, says so, and keeps what it found before.
func TestWalkBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("telnetd\nf0() { :; }\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, "f%d() { f%d; f%d; f%d; }\n", i, i-1, i-1, i-1)
	}
	b.WriteString("f29\n")
	tg := testcorpus.DirTarget(t, testcorpus.Tree(t, map[string]string{"etc/init.d/rcS": b.String()}))
	fs, err := New().Analyze(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "walk bounds") {
		t.Errorf("error %v", err)
	}
	expectKeys(t, fs, "telnetd /etc/init.d/rcS:1")
}

func TestNonFilesystemLayersIgnored(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{"etc/init.d/rcS": "telnetd -l /bin/sh\n"})
	l := &extract.Layer{ID: "L1", Path: "blob", Kind: "stream", Root: dir, Format: "gzip"}
	if fs := analyze(t, analyzers.NewTarget([]*extract.Layer{l})); len(fs) != 0 {
		t.Errorf("findings in a stream layer: %v", keys(fs))
	}
}

func TestCancel(t *testing.T) {
	tg := testcorpus.DirTarget(t, testcorpus.Tree(t, map[string]string{"etc/init.d/rcS": "telnetd\n"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, tg); err == nil {
		t.Error("no error after cancel")
	}
}

// ZyXEL P-663H-51: inittab respawns a login shell on the console and on
// tty2 without asking for a password (and the shell's /etc/profile starts
// the config manager, cfm). rcS starts nothing else (#/sbin/inetd is
// commented out, so inetd.conf's telnet and ftp are silent); the factory
// configuration /etc/default.cfg enables telnet, ssh, tftp and http on the
// LAN in its service-control list and UPnP; SNMP is allowed from the LAN
// but its agent is disabled (snmp state="disable"), so that finding is low.
func TestZyXEL(t *testing.T) {
	img := testcorpus.Shared(t, "real/zyxel_p663h51_rootfs_squashfs_v2.bin")
	fs := analyze(t, testcorpus.ExtractTarget(t, img))
	expectKeys(t, fs,
		"console-root-shell /etc/inittab:2",
		"console-root-shell /etc/inittab:3",
		"xml-srvctrl-telnet /etc/default.cfg:14",
		"xml-srvctrl-ssh /etc/default.cfg:14",
		"xml-srvctrl-tftp /etc/default.cfg:14",
		"xml-srvctrl-http /etc/default.cfg:14",
		"xml-srvctrl-snmp /etc/default.cfg:14",
		"xml-upnp-enabled /etc/default.cfg:30",
	)
	if f := find(fs, "xml-srvctrl-snmp", "/etc/default.cfg", 14); f != nil && f.Severity != analyzers.Low {
		t.Errorf("snmp severity %s", f.Severity)
	}
	if f := find(fs, "xml-srvctrl-telnet", "/etc/default.cfg", 14); f != nil && (f.Severity != analyzers.High || !strings.Contains(f.Evidence, `telnet="lan"`)) {
		t.Errorf("telnet %s %q", f.Severity, f.Evidence)
	}
	if f := find(fs, "xml-upnp-enabled", "/etc/default.cfg", 30); f != nil && !strings.Contains(f.Evidence, `upnp="enable"`) {
		t.Errorf("upnp evidence %q", f.Evidence)
	}
}

// TP-Link WR841N v10: inittab runs /etc/rc.d/rcS, which starts the vendor
// web server /usr/bin/httpd (plain HTTP; it also starts dropbear itself,
// which no script shows). getty on ttyS0 asks for a login. The commented
// lines (#insmod, #ifconfig, #mount) are silent.
func TestWR841N(t *testing.T) {
	img := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	fs := analyze(t, testcorpus.ExtractTarget(t, img))
	expectKeys(t, fs, "http-server /etc/rc.d/rcS:37")
	if len(fs) == 1 && (!strings.Contains(fs[0].Message, "via /etc/inittab:1") || !strings.Contains(fs[0].Layer, "squashfs")) {
		t.Errorf("message %q layer %q", fs[0].Message, fs[0].Layer)
	}
}

// IoTGoat: /etc/rc.local starts telnetd on port 65534; /etc/config/upnpd
// enables UPnP with secure_mode 0.
func TestIoTGoatOverlay(t *testing.T) {
	src := testcorpus.Shared(t, "iotgoat-overlay")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	l := &extract.Layer{ID: "L1", Path: "iotgoat", Kind: "filesystem", Root: dir, Format: "dir"}
	fs := analyze(t, analyzers.NewTarget([]*extract.Layer{l}))
	expectKeys(t, fs, "telnetd /etc/rc.local:5", "upnp-insecure-mode /etc/config/upnpd:2")
	if f := find(fs, "upnp-insecure-mode", "/etc/config/upnpd", 2); f != nil && (f.Severity != analyzers.High || f.Layer != "iotgoat") {
		t.Errorf("upnp %s %s", f.Severity, f.Layer)
	}
}

func BenchmarkServicesWR841N(b *testing.B) {
	img := testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	tg := testcorpus.ExtractTarget(b, img)
	a := New()
	b.ResetTimer()
	for b.Loop() {
		fs, err := a.Analyze(context.Background(), tg)
		if err != nil || len(fs) != 1 {
			b.Fatalf("got %d findings, %v", len(fs), err)
		}
	}
}

// fuzzLayer is a small layer the fuzzed scripts can source and run.
func fuzzLayer(f *testing.F) *layerScan {
	dir := f.TempDir()
	for p, c := range map[string]string{
		"etc/init.d/S10a": "telnetd -l /bin/sh\n. /etc/init.d/S10a\n",
		"etc/profile":     "x=1\n",
	} {
		host := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(host), 0o755)
		os.WriteFile(host, []byte(c), 0o644)
	}
	l := &extract.Layer{ID: "L1", Path: "fuzz", Kind: "filesystem", Root: dir}
	return &layerScan{ctx: context.Background(), t: analyzers.NewTarget([]*extract.Layer{l}), layer: l}
}

func FuzzParseScript(f *testing.F) {
	for _, s := range []string{
		"#!/bin/sh\nif [ 0 = 1 ]; then telnetd; fi\nfor i in /etc/init.d/S*; do $i start; done\n",
		"f() { f; }\nf\ncase $1 in a|b) x;; (c) y;; esac\ncat <<-EOF\n\tbody\n\tEOF\n",
		"a=$(echo ')' \"$((1+2))\") b=`x` ${c:-d} '${e}' \"$f\"\nwhile :; do until false; do :; done; done\n",
		"{ ( x & y | z || w && v ) ; } 2>&1 >/dev/null <<<x\nfunction g () { return; }\nexit 0\n",
		"procd_set_param command /usr/sbin/telnetd\nprocd_append_param command -l /bin/sh\n. /etc/profile\nsh -c 'telnetd'\n",
	} {
		f.Add(s)
	}
	base := fuzzLayer(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			return
		}
		prog := parseScript(s)
		sc := &layerScan{ctx: base.ctx, t: base.t, layer: base.layer, programs: map[string][]*started{}, parsed: map[string]*parsed{}, ran: map[string]bool{}}
		p := newProc(sc, []string{"start"})
		p.exec(prog, &src{file: analyzers.File{Layer: base.layer, Path: "/etc/init.d/rcS"}}, true)
		for _, st := range sc.started {
			if st.line < 1 || st.line > strings.Count(s, "\n")+1 && st.file.Path == "/etc/init.d/rcS" {
				t.Fatalf("line %d out of range", st.line)
			}
			rules.Services().MatchCommand(st.ctx, st.argv)
		}
	})
}

func FuzzInittab(f *testing.F) {
	f.Add("::sysinit:/etc/init.d/rcS\n::askfirst:-/bin/sh\nttyS0::respawn:/sbin/getty -L ttyS0 115200\n")
	f.Add("id:2345:respawn:/bin/sh -c \"telnetd -l /bin/sh\"\n::once:'\n")
	base := fuzzLayer(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			return
		}
		sc := &layerScan{ctx: base.ctx, t: base.t, layer: base.layer, programs: map[string][]*started{}, parsed: map[string]*parsed{}, ran: map[string]bool{}}
		sc.inittabText(analyzers.File{Layer: base.layer, Path: "/etc/inittab.fuzz"}, s)
		for _, st := range sc.started {
			if st.file.Path == "/etc/inittab.fuzz" && (st.line < 1 || st.line > strings.Count(s, "\n")+1) {
				t.Fatalf("line %d out of range", st.line)
			}
		}
	})
}

// A boot script with more than ReadBound bytes of lines is read up to the
// bound and the analyzer reports that it stopped.
func TestReadBoundReported(t *testing.T) {
	long := strings.Repeat("# padding line of a boot script, nothing to see\n", (ReadBound/48)+10)
	tg := testcorpus.DirTarget(t, testcorpus.Tree(t, map[string]string{"etc/init.d/rcS": "#!/bin/sh\ntelnetd -l /bin/sh\n" + long}))
	fs, err := New().Analyze(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "limit reached") || !strings.Contains(err.Error(), "/etc/init.d/rcS") {
		t.Errorf("the read bound was not reported: %v", err)
	}
	if len(fs) == 0 {
		t.Error("the findings before the bound were lost")
	}
}
