// Package services is the analyzer for Code of Practice guideline 6
// ("minimise exposed attack surfaces", and 5 for plaintext protocols): what
// the device exposes at boot.
//
// For every file-system layer it follows the boot sequence the way init
// would run it: /etc/inittab (sysinit, wait, once, respawn, askfirst),
// /etc/init.d/rcS, /etc/rc.local and the start links of /etc/rc.d,
// /etc/rcS.d, /etc/rc[2-5].d and /etc/init.d (OpenWrt rc.common scripts
// run their boot/start/start_service functions, and procd_set_param command
// is a service start), enabled systemd units (.wants links or WantedBy=)
// and, when something starts inetd or xinetd, their configuration. Scripts
// are parsed, not grepped: comments, here-documents, dead branches (if
// false, [ 0 = 1 ], code after an unconditional exit) and functions that are
// never called start nothing; sourced and executed scripts are followed
// inside the layer (symlinks resolved inside it).
//
// Every command found is matched against the command rules of
// rules/services (telnetd -l /bin/sh, tftpd, dropbear without -w/-s, ...);
// consoles that give a root shell without login are reported from inittab;
// the rules' configuration checks (sshd_config, vsftpd.conf, UCI upnpd,
// uhttpd and dropbear, vendor XML defaults) run over the files they name.
package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/services/match"
	"github.com/fwaudit/fwaudit/extract"
)

// Category of every finding.
const Category = "insecure-service"

// ReadBound is the most read of one script or configuration file.
const ReadBound = 1 << 20

// Bounds per layer.
const (
	maxSteps   = 300000
	maxRuns    = 3000
	maxStarted = 20000
)

type analyzer struct{ rules *rules.Set }

// New returns the services analyzer with the built-in rules.
func New() analyzers.Analyzer { return &analyzer{rules: rules.Services()} }

// NewWithRules returns the analyzer with other rules (tests, custom rule
// files).
func NewWithRules(s *rules.Set) analyzers.Analyzer { return &analyzer{rules: s} }

func (a *analyzer) Name() string { return "services" }

// Examines implements analyzers.Scoped.
func (*analyzer) Examines() string { return "boot sequences and service configuration" }

// started is one command the boot sequence runs.
type started struct {
	argv []string
	file analyzers.File
	line int
	via  string
	ctx  string
}

type parsed struct {
	prog *listNode
	rc   bool
}

// layerScan is the state of one layer's walk.
type layerScan struct {
	ctx      context.Context
	t        *analyzers.Target
	layer    *extract.Layer
	started  []*started
	programs map[string][]*started
	parsed   map[string]*parsed
	ran      map[string]bool
	steps    int
	runs     int
	sourcing int
	stopped  bool
}

func (a *analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	var out []analyzers.Finding
	var bounded []string
	for _, l := range t.Layers {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if !l.IsFilesystem() || l.Root == "" {
			continue
		}
		sc := &layerScan{ctx: ctx, t: t, layer: l, programs: map[string][]*started{}, parsed: map[string]*parsed{}, ran: map[string]bool{}}
		sc.boot()
		if len(sc.ran) > 0 {
			t.ExaminedItem("services", "boot sequences and service configuration", l.ID+": boot sequence")
		}
		out = append(out, a.commandFindings(sc)...)
		if sc.stopped && ctx.Err() == nil {
			bounded = append(bounded, l.Path)
		}
	}
	// fileFindings records the files it reads as examined
	sel := analyzers.Selector{FileSystems: true, Match: func(f analyzers.File) bool { return a.rules.Wants(f.Path) }}
	if err := t.Walk(ctx, sel, func(f analyzers.File) error {
		out = append(out, fileFindings(t, a.rules, f, Category, "")...)
		return nil
	}); err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if cut := readCut(t).sorted(); len(cut) > 0 {
		return out, fmt.Errorf("services: limit reached: %d files hold more than %d bytes of lines (first %s); the lines after that were not checked", len(cut), ReadBound, cut[0])
	}
	if len(bounded) > 0 {
		return out, fmt.Errorf("services: the boot scripts of layer(s) %s exceed the walk bounds (%d commands, %d script runs); services started after that point are not reported", strings.Join(bounded, ", "), maxSteps, maxRuns)
	}
	return out, nil
}

// fileFindings runs the file rules of set over f.
func fileFindings(t *analyzers.Target, set *rules.Set, f analyzers.File, category, note string) []analyzers.Finding {
	data, ok := readText(t, f)
	if !ok {
		return nil
	}
	t.Examined("services", "boot sequences and service configuration", f)
	var out []analyzers.Finding
	for _, h := range set.MatchFile(f.Path, data) {
		ev, fp := evidence(h.Rule.ID, h.Text, h.Secrets)
		out = append(out, analyzers.Finding{
			Rule:        h.Rule.ID,
			Category:    category,
			Severity:    analyzers.Severity(h.Rule.Severity),
			Layer:       f.Layer.Path,
			LayerID:     f.Layer.ID,
			Path:        f.Path,
			Line:        h.Line,
			Evidence:    ev,
			Message:     fmt.Sprintf("%s: %s (%s line %d, layer %s)%s. %s", h.Rule.Title, ev, f.Path, h.Line, f.Layer.Path, note, h.Rule.Fix),
			Fingerprint: fp,
			Guidelines:  append([]int(nil), h.Rule.Guidelines...),
		})
	}
	return out
}

// readText reads a text file (bounded; a cut file loses its last line).
func readText(t *analyzers.Target, f analyzers.File) ([]byte, bool) {
	if t.Classify(f) != analyzers.ClassText {
		return nil, false
	}
	// overlong lines are blanked, so a huge first line hides nothing
	data, _, err := t.ReadLines(f, ReadBound)
	if errors.Is(err, analyzers.ErrTooBig) {
		readCut(t).add(f.Path)
	} else if err != nil {
		return nil, false
	}
	return data, true
}

// cutFiles collects, per target, the files read only up to ReadBound, so
// that Analyze reports the bound instead of ending silently.
type cutFiles struct {
	mu    sync.Mutex
	paths map[string]bool
}

func (c *cutFiles) add(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths[p] = true
}

func (c *cutFiles) sorted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.paths))
	for p := range c.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func readCut(t *analyzers.Target) *cutFiles {
	return t.Shared("services.cut", func() any { return &cutFiles{paths: map[string]bool{}} }).(*cutFiles)
}

// evidence redacts credentials in text and gives the fingerprint: of the
// first credential, else of rule and text.
func evidence(rule, text string, secrets []string) (string, string) {
	text, first := rules.RedactText(text, secrets, analyzers.Redact)
	if len(text) > 400 {
		text = text[:400] + "…"
	}
	if first != "" {
		return text, analyzers.Fingerprint(first)
	}
	return text, analyzers.Fingerprint(rule + "\x00" + text)
}

func (a *analyzer) commandFindings(sc *layerScan) []analyzers.Finding {
	var out []analyzers.Finding
	seen := map[string]bool{}
	for _, s := range sc.started {
		h, ok := a.rules.MatchCommand(s.ctx, s.argv)
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s\x00%s\x00%d", h.Rule.ID, s.file.Path, s.line)
		if seen[key] {
			continue
		}
		seen[key] = true
		ev, fp := evidence(h.Rule.ID, h.Text, h.Secrets)
		how := "started at boot by " + s.file.Path
		if s.via != "" {
			how = "started at boot via " + s.via
		}
		if s.ctx == rules.ContextConsole {
			how = "run on a console by " + s.file.Path
		}
		out = append(out, analyzers.Finding{
			Rule:        h.Rule.ID,
			Category:    Category,
			Severity:    analyzers.Severity(h.Rule.Severity),
			Layer:       s.file.Layer.Path,
			LayerID:     s.file.Layer.ID,
			Path:        s.file.Path,
			Line:        s.line,
			Evidence:    ev,
			Message:     fmt.Sprintf("%s: %s (%s line %d, layer %s), %s. %s", h.Rule.Title, ev, s.file.Path, s.line, s.file.Layer.Path, how, h.Rule.Fix),
			Fingerprint: fp,
			Guidelines:  append([]int(nil), h.Rule.Guidelines...),
		})
	}
	return out
}

// out reports whether the walk must stop (bounds or cancellation).
func (sc *layerScan) out() bool {
	if sc.stopped {
		return true
	}
	if sc.steps > maxSteps || sc.runs > maxRuns || len(sc.started) >= maxStarted {
		sc.stopped = true
	} else if sc.steps&1023 == 0 && sc.ctx.Err() != nil {
		sc.stopped = true
	}
	return sc.stopped
}

// start records a command.
func (sc *layerScan) start(argv []string, s *src, line int, ctx string) *started {
	if len(sc.started) >= maxStarted {
		return nil
	}
	st := &started{argv: append([]string(nil), argv...), file: s.file, line: line, via: s.via, ctx: ctx}
	if ctx == "" {
		st.ctx = rules.ContextBoot
	}
	sc.started = append(sc.started, st)
	if n := rules.Normalize(st.argv); len(n) > 0 {
		b := path.Base(n[0])
		sc.programs[b] = append(sc.programs[b], st)
	}
	return st
}

func (sc *layerScan) appendArgs(st *started, args []string) {
	if st != nil && len(st.argv) < 4096 {
		st.argv = append(st.argv, args...)
	}
}

// parse reads and parses a script of the layer (cached).
func (sc *layerScan) parse(f analyzers.File) (*listNode, bool) {
	if p, ok := sc.parsed[f.Path]; ok {
		return p.prog, p.prog != nil
	}
	p := &parsed{}
	sc.parsed[f.Path] = p
	data, ok := readText(sc.t, f)
	if !ok {
		return nil, false
	}
	text := string(data)
	first, _, _ := strings.Cut(text, "\n")
	p.rc = strings.HasPrefix(first, "#!") && strings.Contains(first, "/etc/rc.common")
	p.prog = parseScript(text)
	return p.prog, true
}

func (sc *layerScan) isRCCommon(f analyzers.File) bool {
	p, ok := sc.parsed[f.Path]
	return ok && p.rc
}

// runFile runs a script of the layer as a new process with args.
func (sc *layerScan) runFile(f *analyzers.File, args []string, via, ctx string) {
	if f == nil || sc.out() {
		return
	}
	key := f.Path + "\x00" + strings.Join(args, " ")
	if sc.ran[key] {
		return
	}
	sc.ran[key] = true
	prog, ok := sc.parse(*f)
	if !ok {
		return
	}
	sc.runs++
	if ctx == "" {
		ctx = rules.ContextBoot
	}
	p := newProc(sc, args)
	p.exec(prog, &src{file: *f, via: via, ctx: ctx}, true)
	if sc.isRCCommon(*f) && len(args) > 0 {
		p.runAction(args[0], args[1:])
	}
}

// runInline runs a command line (an inittab process, ExecStart=, sh -c)
// reported at the given line of s's file.
func (sc *layerScan) runInline(code string, s *src, line int) {
	if sc.out() || len(code) > 1<<16 {
		return
	}
	p := newProc(sc, nil)
	p.exec(parseScript(code), &src{file: s.file, via: s.via, ctx: s.ctx, line: line}, true)
}

// list returns the entry names of a folder of the layer, sorted.
func (sc *layerScan) list(dir string) []string {
	_, host, ok := sc.t.ResolveDir(sc.layer, dir)
	if !ok {
		return nil
	}
	ents, err := os.ReadDir(host)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return sortedNames(names, 4096)
}

// glob expands an absolute pattern whose wildcards are in the last
// component.
func (sc *layerScan) glob(pat string) []string {
	dir, base := path.Split(pat)
	if strings.ContainsAny(dir, "*?[") {
		return nil
	}
	var out []string
	for _, n := range sc.list(dir) {
		if ok, err := path.Match(base, n); err == nil && ok {
			out = append(out, path.Join(dir, n))
		}
	}
	return out
}

func (sc *layerScan) resolve(p string) *analyzers.File {
	f, ok := sc.t.Resolve(sc.layer, p)
	if !ok {
		return nil
	}
	return &f
}
