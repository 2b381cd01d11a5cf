package services

import (
	"path"
	"strconv"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/services/match"
)

// inittab actions that run their process at boot; respawn and askfirst
// put it on a console.
var inittabActions = map[string]string{
	"sysinit": rules.ContextBoot, "wait": rules.ContextBoot, "once": rules.ContextBoot,
	"boot": rules.ContextBoot, "bootwait": rules.ContextBoot,
	"respawn": rules.ContextConsole, "askfirst": rules.ContextConsole,
}

// startDirs hold start links (S??name) run at boot.
var startDirs = []string{
	"/etc/rc.d", "/etc/rc.d/rcS.d", "/etc/rcS.d", "/etc/init.d",
	"/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d", "/etc/rc5.d",
	"/etc/rc.d/rc2.d", "/etc/rc.d/rc3.d", "/etc/rc.d/rc4.d", "/etc/rc.d/rc5.d",
}

var systemdDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// boot walks every entry point of the layer.
func (sc *layerScan) boot() {
	hasInit := false
	if f := sc.resolve("/etc/inittab"); f != nil {
		hasInit = true
		sc.inittab(*f)
	}
	for _, p := range []string{"/etc/init.d/rcS", "/etc/rc.d/rcS", "/etc/rc", "/etc/rc.local", "/etc/rc.d/rc.local"} {
		if f := sc.resolve(p); f != nil {
			hasInit = hasInit || p != "/etc/rc.local"
			sc.runFile(f, nil, "", "")
		}
	}
	for _, dir := range startDirs {
		for _, n := range sc.list(dir) {
			if len(n) < 2 || n[0] != 'S' {
				continue
			}
			f := sc.resolve(dir + "/" + n)
			if f == nil {
				continue
			}
			hasInit = true
			args := []string{"start"}
			if _, ok := sc.parse(*f); ok && sc.isRCCommon(*f) {
				args = []string{"boot"}
			}
			sc.runFile(f, args, dir+"/"+n, "")
		}
	}
	if sc.systemd() {
		hasInit = true
	}
	sc.inetd(hasInit)
	sc.xinetd(hasInit)
}

// inittab runs the processes of a BusyBox or SysV inittab
// ("id:runlevels:action:process").
func (sc *layerScan) inittab(f analyzers.File) {
	data, ok := readText(sc.t, f)
	if !ok {
		return
	}
	sc.inittabText(f, string(data))
}

func (sc *layerScan) inittabText(f analyzers.File, text string) {
	for i, l := range rules.Lines(text) {
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' {
			continue
		}
		parts := strings.SplitN(t, ":", 4)
		if len(parts) != 4 {
			continue
		}
		ctx, ok := inittabActions[strings.TrimSpace(parts[2])]
		if !ok {
			continue
		}
		proc := strings.TrimSpace(parts[3])
		if proc == "" {
			continue
		}
		sc.runInline(proc, &src{file: f, ctx: ctx}, i+1)
	}
}

// unit is a parsed systemd unit file.
type unit struct {
	file    analyzers.File
	name    string
	entries []unitEntry
}

type unitEntry struct {
	section, key, value string
	line                int
}

func (u *unit) get(section, key string) []unitEntry {
	var out []unitEntry
	for _, e := range u.entries {
		if e.section == section && e.key == key {
			out = append(out, e)
		}
	}
	return out
}

func parseUnit(f analyzers.File, data string) *unit {
	u := &unit{file: f, name: path.Base(f.Path)}
	section := ""
	lines := rules.Lines(data)
	for i := 0; i < len(lines) && len(u.entries) < 10000; i++ {
		t := strings.TrimSpace(lines[i])
		line := i + 1
		for strings.HasSuffix(t, "\\") && i+1 < len(lines) {
			i++
			t = strings.TrimSuffix(t, "\\") + " " + strings.TrimSpace(lines[i])
		}
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			section = strings.Trim(t, "[]")
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		u.entries = append(u.entries, unitEntry{section, strings.TrimSpace(k), strings.TrimSpace(v), line})
	}
	return u
}

var bootTargets = map[string]bool{
	"multi-user.target": true, "default.target": true, "graphical.target": true, "sysinit.target": true,
	"basic.target": true, "getty.target": true, "sockets.target": true, "network.target": true, "network-online.target": true,
}

// systemd runs the ExecStart= commands of enabled units; it reports
// whether the layer has systemd units at all.
func (sc *layerScan) systemd() bool {
	units := map[string]*unit{}
	masked := map[string]bool{}
	enabled := map[string]string{} // unit name → why
	found := false
	for _, dir := range systemdDirs {
		for _, n := range sc.list(dir) {
			switch {
			case strings.HasSuffix(n, ".wants") || strings.HasSuffix(n, ".requires"):
				for _, w := range sc.list(dir + "/" + n) {
					if _, ok := enabled[w]; !ok {
						enabled[w] = dir + "/" + n + "/" + w
					}
				}
			case strings.HasSuffix(n, ".service") || strings.HasSuffix(n, ".socket"):
				found = true
				if _, ok := units[n]; ok {
					continue // an earlier folder overrides
				}
				f := sc.resolve(dir + "/" + n)
				if f == nil {
					if dir == "/etc/systemd/system" {
						masked[n] = true // e.g. a link to /dev/null
					}
					continue
				}
				data, ok := readText(sc.t, *f)
				if !ok {
					continue
				}
				units[n] = parseUnit(*f, string(data))
			}
		}
	}
	for name, u := range units {
		for _, e := range append(u.get("Install", "WantedBy"), u.get("Install", "RequiredBy")...) {
			for _, tgt := range strings.Fields(e.value) {
				if bootTargets[tgt] && !strings.Contains(name, "@") {
					if _, ok := enabled[name]; !ok {
						enabled[name] = u.file.Path + ":" + strconv.Itoa(e.line) + " (WantedBy=" + tgt + ")"
					}
				}
			}
		}
	}
	names := make([]string, 0, len(enabled))
	for n := range enabled {
		names = append(names, n)
	}
	for _, name := range sortedNames(names, 4096) {
		if masked[name] {
			continue
		}
		why := enabled[name]
		base, inst := name, ""
		if at := strings.IndexByte(name, '@'); at >= 0 {
			dot := strings.LastIndexByte(name, '.')
			if dot > at {
				base, inst = name[:at+1]+name[dot:], name[at+1:dot]
			}
		}
		u := units[name]
		if u == nil {
			u = units[base]
		}
		if u == nil {
			continue
		}
		if strings.HasSuffix(name, ".socket") {
			svc := strings.TrimSuffix(base, ".socket") + ".service"
			for _, e := range u.get("Socket", "Service") {
				svc = e.value
			}
			if accept := u.get("Socket", "Accept"); len(accept) > 0 && strings.EqualFold(accept[0].value, "yes") {
				svc = strings.TrimSuffix(base, ".socket") + "@.service"
			}
			if su := units[svc]; su != nil && !masked[svc] {
				sc.unitExec(su, inst, why+" → "+u.file.Path)
			}
			continue
		}
		sc.unitExec(u, inst, why)
	}
	return found
}

func (sc *layerScan) unitExec(u *unit, inst, why string) {
	ctx := rules.ContextBoot
	if strings.Contains(u.name, "getty") {
		ctx = rules.ContextConsole
	}
	for _, key := range []string{"ExecStartPre", "ExecStart"} {
		for _, e := range u.get("Service", key) {
			v := strings.TrimLeft(e.value, "-@:+!")
			v = strings.NewReplacer("%i", inst, "%I", inst, "%%", "%").Replace(v)
			sc.runInline(v, &src{file: u.file, via: why, ctx: ctx}, e.line)
		}
	}
}

// inetd reads inetd.conf when something starts inetd (or the layer has no
// init to tell).
func (sc *layerScan) inetd(hasInit bool) {
	conf := "/etc/inetd.conf"
	via := ""
	starts := sc.programs["inetd"]
	if len(starts) > 0 {
		st := starts[0]
		via = st.file.Path + ":" + strconv.Itoa(st.line)
		if st.via != "" {
			via = st.via + " → " + via
		}
		n := rules.Normalize(st.argv)
		for _, a := range n[1:] {
			if strings.HasPrefix(a, "/") {
				conf = a
			}
		}
	} else if hasInit {
		return
	}
	f := sc.resolve(conf)
	if f == nil {
		return
	}
	data, ok := readText(sc.t, *f)
	if !ok {
		return
	}
	if via == "" {
		via = "inetd (no init system found in this layer to tell whether it runs)"
	} else {
		via = "inetd started at " + via
	}
	for i, l := range rules.Lines(string(data)) {
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' {
			continue
		}
		fs := strings.Fields(t)
		if len(fs) < 6 || fs[5] == "internal" {
			continue
		}
		server, args := fs[5], fs[6:]
		argv := []string{server}
		if len(args) > 0 {
			if path.Base(server) == "tcpd" {
				argv = args
			} else {
				argv = append(argv, args[1:]...)
			}
		}
		sc.start(argv, &src{file: *f, via: via}, i+1, rules.ContextBoot)
	}
}

// xinetd reads /etc/xinetd.conf and /etc/xinetd.d when something starts
// xinetd (or the layer has no init to tell); "disable = yes" services are
// off.
func (sc *layerScan) xinetd(hasInit bool) {
	via := "xinetd (no init system found in this layer to tell whether it runs)"
	if starts := sc.programs["xinetd"]; len(starts) > 0 {
		st := starts[0]
		via = "xinetd started at " + st.file.Path + ":" + strconv.Itoa(st.line)
	} else if hasInit {
		return
	}
	files := []string{"/etc/xinetd.conf"}
	for _, n := range sc.list("/etc/xinetd.d") {
		files = append(files, "/etc/xinetd.d/"+n)
	}
	for _, p := range files {
		f := sc.resolve(p)
		if f == nil {
			continue
		}
		data, ok := readText(sc.t, *f)
		if !ok {
			continue
		}
		var block map[string]string
		var serverLine int
		for i, l := range rules.Lines(string(data)) {
			t := strings.TrimSpace(l)
			switch {
			case t == "" || t[0] == '#':
			case strings.HasPrefix(t, "service ") || strings.HasPrefix(t, "service\t"):
				block = map[string]string{}
				serverLine = 0
			case t == "{":
			case t == "}" || strings.HasPrefix(t, "}"):
				if block != nil && !strings.EqualFold(block["disable"], "yes") && block["server"] != "" {
					argv := append([]string{block["server"]}, strings.Fields(block["server_args"])...)
					sc.start(argv, &src{file: *f, via: via}, serverLine, rules.ContextBoot)
				}
				block = nil
			case block != nil:
				k, v, ok := strings.Cut(t, "=")
				if !ok {
					continue
				}
				k = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(k), "+"))
				block[k] = strings.TrimSpace(v)
				if k == "server" {
					serverLine = i + 1
				}
			}
		}
	}
}
