package match

import (
	"slices"
	"strings"
	"testing"
)

func TestServicesRules(t *testing.T) {
	s := Services()
	ids := map[string]bool{}
	for _, r := range s.Rules {
		ids[r.ID] = true
		if !slices.Contains(r.Guidelines, 6) {
			t.Errorf("%s: service rules bear on guideline 6, got %v", r.ID, r.Guidelines)
		}
	}
	for _, id := range []string{"telnetd-shell", "telnetd", "console-root-shell", "tftpd", "ftpd", "snmpd", "upnpd", "dropbear-root-password", "http-server", "upnp-enabled", "vsftpd-anonymous", "sshd-permit-root-login", "gdbserver", "adbd", "netcat-shell"} {
		if !ids[id] {
			t.Errorf("rule %s missing", id)
		}
	}
}

func TestCommandOrder(t *testing.T) {
	s := Services()
	for _, c := range []struct{ ctx, cmd, want string }{
		{ContextBoot, "/usr/sbin/telnetd -l /bin/sh -p 23", "telnetd-shell"},
		{ContextBoot, "busybox telnetd -l /bin/sh", "telnetd-shell"},
		{ContextBoot, "start-stop-daemon -S -q -x /usr/sbin/telnetd -- -l /bin/sh", "telnetd-shell"},
		{ContextBoot, "tcpsvd -vE 0.0.0.0 23 telnetd -i", "telnetd"},
		{ContextBoot, "nohup nice -n 10 telnetd -u root:admin", "telnetd-fixed-credential"},
		{ContextBoot, "dropbearmulti dropbear -p 22", "dropbear-root-password"},
		{ContextConsole, "-/bin/sh", "console-root-shell"},
		{ContextBoot, "-/bin/sh", ""},
		{ContextConsole, "/usr/sbin/telnetd", "telnetd"},
		{ContextBoot, "start-stop-daemon -K -x /usr/sbin/telnetd", ""},
		{ContextBoot, "udpsvd -E 0 69 tftpd -c /", "tftpd"},
	} {
		h, ok := s.MatchCommand(c.ctx, strings.Fields(c.cmd))
		got := ""
		if ok {
			got = h.Rule.ID
		}
		if got != c.want {
			t.Errorf("%s %q: rule %q, want %q", c.ctx, c.cmd, got, c.want)
		}
	}
	h, _ := s.MatchCommand(ContextBoot, strings.Fields("telnetd -u admin:s3cret -l /bin/login"))
	if len(h.Secrets) != 1 || h.Secrets[0] != "s3cret" {
		t.Errorf("secrets %v", h.Secrets)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"env -i PATH=/bin telnetd -F":                                   "telnetd -F",
		"start-stop-daemon --start --exec=/usr/bin/x --pidfile /p -- a": "/usr/bin/x a",
		"chroot /mnt /bin/sh":                                           "/bin/sh",
		"A=1 B=2 exec /sbin/x":                                          "/sbin/x",
		"taskset -c 1 miniupnpd":                                        "miniupnpd",
	} {
		if got := strings.Join(Normalize(strings.Fields(in)), " "); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPublicURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://fw.vendor.com/update.bin":   true,
		"http://203.0.113.7/fw":             true,
		"http://192.168.1.1/upgrade.cgi":    false,
		"http://10.0.0.1:8080/x":            false,
		"http://localhost/cgi":              false,
		"http://[::1]/x":                    false,
		"http://%s/upgrade":                 false,
		"http://$SERVER/firmware.bin":       false,
		"http://router/":                    false,
		"http://user:pw@update.example.com": false,
		"http://user:pw@update.acme.io/a":   true,
	} {
		if got := PublicURL(u); got != want {
			t.Errorf("PublicURL(%q) = %v", u, got)
		}
	}
}

func TestParseUCI(t *testing.T) {
	u := ParseUCI("option orphan 0\n# c\nconfig wifi-iface 'x'\n\toption ssid \"my net\" # comment\n\tlist x a\nconfig a\n")
	if len(u.Sections) != 2 || u.Sections[0].Type != "wifi-iface" || u.Sections[0].Name != "x" || u.Sections[0].Line != 3 {
		t.Fatalf("%+v", u)
	}
	o := u.Sections[0].Options
	if len(o) != 2 || o[0].Value != "my net" || o[0].Line != 4 || !o[1].List {
		t.Errorf("%+v", o)
	}
}

func TestSecrets(t *testing.T) {
	got := Secrets(`curl -u admin:hunter2 http://bob:pw1@h/x --password=abc PASSWORD="zz9"`)
	for _, w := range []string{"pw1", "abc", "zz9"} {
		if !slices.Contains(got, w) {
			t.Errorf("secret %q not found in %v", w, got)
		}
	}
}

func TestXMLLineNumbers(t *testing.T) {
	s := Services()
	hs := s.MatchFile("/etc/default.cfg", []byte("<a>\n<b/>\n\n<srvCtrlList telnet=\"lan\" ssh='lan'/>\n<protocol upnp=\"enable\"/>\n"))
	var got []string
	for _, h := range hs {
		got = append(got, h.Rule.ID+":"+string(rune('0'+h.Line)))
	}
	want := []string{"xml-srvctrl-telnet:4", "xml-srvctrl-ssh:4", "xml-upnp-enabled:5"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// FuzzMatchFile runs every file rule and the command matcher over hostile
// input: no panic, line numbers inside the text.
func FuzzMatchFile(f *testing.F) {
	f.Add("config upnpd\n\toption enabled '1\n\toption secure_mode 0 # x\n")
	f.Add("<srvCtrlList telnet=\"lan\" ssh='lan'/><protocol upnp=\"enable\"\n")
	f.Add("ssid=x\nwep_key0=\"abc\nPermitRootLogin yes\ntelnetd_enable=1\n")
	f.Add("start-stop-daemon -S --exec=/usr/sbin/telnetd -- -l /bin/sh -u a:b")
	s := Services()
	f.Fuzz(func(t *testing.T, text string) {
		n := strings.Count(text, "\n") + 1
		for _, h := range s.MatchFile("", []byte(text)) {
			if h.Line < 1 || h.Line > n {
				t.Fatalf("rule %s: line %d of %d", h.Rule.ID, h.Line, n)
			}
		}
		for _, ctx := range []string{ContextBoot, ContextConsole} {
			if h, ok := s.MatchCommand(ctx, strings.Fields(text)); ok {
				red, _ := RedactText(h.Text, h.Secrets, func(string) string { return "X" })
				for _, sec := range h.Secrets {
					if sec != "X" && strings.Contains(red, sec) && !strings.Contains("X", sec) {
						t.Fatalf("secret %q left in %q", sec, red)
					}
				}
			}
		}
	})
}
