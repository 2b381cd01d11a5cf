package services

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/services/match"
)

// This file walks a parsed script the way the boot sequence would run it,
// without running anything: constant conditions (if false, [ 0 = 1 ],
// true || x) prune dead branches, an unconditional exit ends the script,
// functions run when called, sourced and executed scripts inside the layer
// are followed, and every other command is handed to the scan as a possible
// service start.

type flow int

const (
	flowNormal flow = iota
	flowExit
	flowReturn
)

type tri int

const (
	unknown tri = iota
	yes
	no
)

// src is the file a piece of code comes from and how boot reached it.
type src struct {
	file analyzers.File
	via  string
	ctx  string // context of this file's top-level commands
	// line, when set, is reported for every command (inline code: an
	// inittab process, ExecStart=, sh -c "...")
	line int
}

type fnDef struct {
	body node
	src  *src
}

// proc is one shell process: its variables, functions and arguments.
type proc struct {
	sc    *layerScan
	env   map[string]string
	funcs map[string]fnDef
	args  []string
	calls int // function call depth
	// procd: the last command set by procd_set_param, for appends
	procd *started
}

func newProc(sc *layerScan, args []string) *proc {
	env := map[string]string{"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
	return &proc{sc: sc, env: env, funcs: map[string]fnDef{}, args: args}
}

// expandWord expands one word: quotes removed, known variables substituted,
// unquoted expansions split on white space. literal is false when a part
// could not be known ($(...), `...`, unset variables); those parts are kept
// as written.
func (p *proc) expandWord(w string) (fields []string, literal bool) {
	literal = true
	var cur strings.Builder
	have := false
	flush := func() {
		if have {
			fields = append(fields, cur.String())
		}
		cur.Reset()
		have = false
	}
	addSplit := func(v string) {
		for i, part := range strings.Fields(" " + v + " ") {
			if i > 0 {
				flush()
			}
			cur.WriteString(part)
			have = true
		}
		if strings.TrimSpace(v) == "" {
			return
		}
		if strings.HasSuffix(v, " ") || strings.HasSuffix(v, "\t") {
			flush()
		}
	}
	inDouble := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '\'' && !inDouble:
			j := strings.IndexByte(w[i+1:], '\'')
			if j < 0 {
				j = len(w) - i - 1
			}
			cur.WriteString(w[i+1 : i+1+j])
			have = true
			i += j + 1
		case c == '"':
			inDouble = !inDouble
			have = true
		case c == '\\' && i+1 < len(w):
			if !inDouble || strings.IndexByte("$`\"\\\n", w[i+1]) >= 0 {
				i++
			}
			cur.WriteByte(w[i])
			have = true
		case c == '`':
			j := strings.IndexByte(w[i+1:], '`')
			if j < 0 {
				j = len(w) - i - 1
			}
			cur.WriteString(w[i:min(len(w), i+j+2)])
			have = true
			literal = false
			i += j + 1
		case c == '$' && i+1 < len(w):
			v, n, ok := p.dollar(w[i:])
			if !ok {
				literal = false
				cur.WriteString(w[i : i+n])
				have = true
			} else if inDouble {
				cur.WriteString(v)
				have = true
			} else {
				addSplit(v)
			}
			i += n - 1
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	flush()
	return fields, literal
}

// dollar expands the expansion at the start of s ("$x", "${x:-d}",
// "$(...)"), returning its value, its length and whether it is known.
func (p *proc) dollar(s string) (string, int, bool) {
	c := s[1]
	switch {
	case c == '(':
		depth := 0
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return "", i + 1, false
				}
			}
		}
		return "", len(s), false
	case c == '{':
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return "", len(s), false
		}
		inner := s[2:j]
		name, def, op := inner, "", ""
		for _, o := range []string{":-", ":=", "-", "="} {
			if k := strings.Index(inner, o); k > 0 {
				name, def, op = inner[:k], inner[k+len(o):], o
				break
			}
		}
		if !validName(name) && !isDigits(name) {
			return "", j + 1, false
		}
		v, ok := p.lookup(name)
		if op != "" && (!ok || (v == "" && strings.HasPrefix(op, ":"))) {
			if strings.ContainsAny(def, "$`") {
				return "", j + 1, false
			}
			return def, j + 1, true
		}
		return v, j + 1, ok
	case c >= '0' && c <= '9':
		v, ok := p.lookup(s[1:2])
		return v, 2, ok
	case c == '@' || c == '*':
		return strings.Join(p.args, " "), 2, true
	case c == '#':
		return strconv.Itoa(len(p.args)), 2, true
	case c == '?' || c == '$' || c == '!' || c == '-':
		return "", 2, false
	}
	n := 1
	for n < len(s) && (s[n] == '_' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= '0' && s[n] <= '9') {
		n++
	}
	if n == 1 {
		return "$", 1, true
	}
	v, ok := p.lookup(s[1:n])
	return v, n, ok
}

func (p *proc) lookup(name string) (string, bool) {
	if isDigits(name) {
		i, _ := strconv.Atoi(name)
		if i == 0 {
			return "sh", true
		}
		if i <= len(p.args) {
			return p.args[i-1], true
		}
		return "", false
	}
	v, ok := p.env[name]
	return v, ok
}

func isAssign(w string) bool {
	j := strings.IndexByte(w, '=')
	return j > 0 && validName(w[:j])
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// expand expands all words of a command.
func (p *proc) expand(words []string) ([]string, bool) {
	var out []string
	lit := true
	for _, w := range words {
		f, l := p.expandWord(w)
		out = append(out, f...)
		lit = lit && l
		if len(out) > 4096 {
			break
		}
	}
	return out, lit
}

// --- constant conditions ---

func (p *proc) cond(n node) tri {
	switch n := n.(type) {
	case *listNode:
		if len(n.items) == 0 {
			return unknown
		}
		return p.cond(n.items[len(n.items)-1])
	case *groupNode:
		return p.cond(n.body)
	case *pipeNode:
		v := p.cond(n.cmds[len(n.cmds)-1])
		if n.neg {
			switch v {
			case yes:
				return no
			case no:
				return yes
			}
		}
		return v
	case *andOrNode:
		v := p.cond(n.first)
		for i, op := range n.ops {
			r := p.cond(n.rest[i])
			switch op {
			case "&&":
				if v == no {
					continue
				}
				if v == yes {
					v = r
				} else if r == no {
					v = no
				} else {
					v = unknown
				}
			case "||":
				if v == yes {
					continue
				}
				if v == no {
					v = r
				} else if r == yes {
					v = yes
				} else {
					v = unknown
				}
			}
		}
		return v
	case *simpleCmd:
		argv, lit := p.expand(n.words)
		if !lit || len(argv) == 0 {
			return unknown
		}
		switch argv[0] {
		case "true", ":":
			return yes
		case "false":
			return no
		case "[", "[[":
			a := argv[1:]
			if len(a) > 0 && (a[len(a)-1] == "]" || a[len(a)-1] == "]]") {
				a = a[:len(a)-1]
			}
			return test(a)
		case "test":
			return test(argv[1:])
		}
	}
	return unknown
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// test evaluates test(1) over literal words when it can.
func test(a []string) tri {
	if len(a) > 0 && a[0] == "!" {
		switch test(a[1:]) {
		case yes:
			return no
		case no:
			return yes
		}
		return unknown
	}
	switch len(a) {
	case 0:
		return no
	case 1:
		return boolTri(a[0] != "")
	case 2:
		switch a[0] {
		case "-n":
			return boolTri(a[1] != "")
		case "-z":
			return boolTri(a[1] == "")
		}
	case 3:
		x, op, y := a[0], a[1], a[2]
		switch op {
		case "=", "==":
			return boolTri(x == y)
		case "!=":
			return boolTri(x != y)
		case "-eq", "-ne", "-gt", "-lt", "-ge", "-le":
			i, err1 := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			j, err2 := strconv.ParseInt(strings.TrimSpace(y), 10, 64)
			if err1 != nil || err2 != nil {
				return unknown
			}
			switch op {
			case "-eq":
				return boolTri(i == j)
			case "-ne":
				return boolTri(i != j)
			case "-gt":
				return boolTri(i > j)
			case "-lt":
				return boolTri(i < j)
			case "-ge":
				return boolTri(i >= j)
			case "-le":
				return boolTri(i <= j)
			}
		}
	}
	return unknown
}

// --- execution ---

// exec walks n. sure says whether n certainly runs when reached (false in
// branches whose condition is unknown): only a sure exit ends the script.
func (p *proc) exec(n node, s *src, sure bool) flow {
	if p.sc.out() {
		return flowExit
	}
	switch n := n.(type) {
	case *listNode:
		for _, it := range n.items {
			if f := p.exec(it, s, sure); f != flowNormal {
				return f
			}
		}
	case *groupNode:
		return p.exec(n.body, s, sure)
	case *pipeNode:
		for _, c := range n.cmds {
			p.exec(c, s, false)
		}
	case *andOrNode:
		v := p.cond(n.first)
		if f := p.exec(n.first, s, sure); f != flowNormal {
			return f
		}
		for i, op := range n.ops {
			if (op == "&&" && v == no) || (op == "||" && v == yes) {
				continue // the right side never runs
			}
			r := p.cond(n.rest[i])
			if f := p.exec(n.rest[i], s, sure && v != unknown); f != flowNormal && v != unknown {
				return f
			}
			if op == "&&" {
				if v == yes {
					v = r
				} else {
					v = unknown
				}
			} else {
				if v == no {
					v = r
				} else {
					v = unknown
				}
			}
		}
	case *ifNode:
		allFalse := true
		for i, c := range n.conds {
			v := p.cond(c)
			if f := p.exec(c, s, sure && allFalse); f != flowNormal && allFalse {
				return f
			}
			switch v {
			case no:
				continue
			case yes:
				f := p.exec(n.bodies[i], s, sure && allFalse)
				if allFalse {
					return f
				}
				return flowNormal
			default:
				p.exec(n.bodies[i], s, false)
				allFalse = false
			}
		}
		if n.els != nil {
			f := p.exec(n.els, s, sure && allFalse)
			if allFalse {
				return f
			}
		}
	case *loopNode:
		return p.loop(n, s)
	case *caseNode:
		fs, lit := p.expandWord(n.word)
		w := strings.Join(fs, " ")
		for _, arm := range n.arms {
			if !lit {
				p.exec(arm.body, s, false)
				continue
			}
			for _, pat := range arm.pats {
				pf, plit := p.expandWord(pat)
				pv := strings.Join(pf, " ")
				if ok, err := path.Match(pv, w); plit && err == nil && ok {
					return p.exec(arm.body, s, sure)
				} else if !plit {
					p.exec(arm.body, s, false)
					break
				}
			}
		}
	case *funcNode:
		if len(p.funcs) < 10000 {
			p.funcs[n.name] = fnDef{n.body, s}
		}
	case *simpleCmd:
		return p.simple(n, s, sure)
	}
	return flowNormal
}

func (p *proc) loop(n *loopNode, s *src) flow {
	switch n.kind {
	case "for":
		var items []string
		if n.hasIn {
			for _, w := range n.items {
				fs, lit := p.expandWord(w)
				for _, f := range fs {
					if lit && strings.HasPrefix(f, "/") && strings.ContainsAny(f, "*?[") {
						items = append(items, p.sc.glob(f)...)
					} else {
						items = append(items, f)
					}
				}
			}
		}
		if len(items) == 0 {
			p.exec(n.body, s, false)
			return flowNormal
		}
		if len(items) > 256 {
			items = items[:256]
		}
		old, had := p.env[n.name]
		for _, it := range items {
			p.env[n.name] = it
			p.exec(n.body, s, false)
		}
		if had {
			p.env[n.name] = old
		} else {
			delete(p.env, n.name)
		}
	default:
		v := p.cond(n.cond)
		p.exec(n.cond, s, false)
		if (n.kind == "while" && v == no) || (n.kind == "until" && v == yes) {
			return flowNormal
		}
		p.exec(n.body, s, false)
	}
	return flowNormal
}

var shells = map[string]bool{"sh": true, "ash": true, "bash": true, "dash": true, "hush": true, "msh": true, "ksh": true, "zsh": true}

func (p *proc) simple(n *simpleCmd, s *src, sure bool) flow {
	p.sc.steps++
	line := n.line
	if s.line > 0 {
		line = s.line
	}
	argv, _ := p.expand(n.words)
	if len(argv) == 0 {
		return flowNormal
	}
	// assignments
	i := 0
	for i < len(argv) && isAssign(argv[i]) {
		i++
	}
	if i == len(argv) {
		for k, w := range n.words {
			if k >= len(argv) {
				break
			}
			if j := strings.IndexByte(w, '='); j > 0 && validName(w[:j]) {
				f, lit := p.expandWord(w[j+1:])
				if lit {
					p.env[w[:j]] = strings.Join(f, " ")
				} else {
					delete(p.env, w[:j])
				}
			}
		}
		return flowNormal
	}
	switch argv[0] {
	case "exit":
		if sure {
			return flowExit
		}
		return flowNormal
	case "return":
		if sure {
			return flowReturn
		}
		return flowNormal
	case "export", "local", "readonly", "declare", "typeset":
		for _, a := range argv[1:] {
			if j := strings.IndexByte(a, '='); j > 0 && validName(a[:j]) {
				p.env[a[:j]] = a[j+1:]
			}
		}
		return flowNormal
	case "set":
		if len(argv) > 1 && !strings.HasPrefix(argv[1], "-") && !strings.HasPrefix(argv[1], "+") {
			p.args = append([]string(nil), argv[1:]...)
		}
		return flowNormal
	case ".", "source":
		if len(argv) > 1 {
			p.sourceFile(argv[1], argv[2:], s, line)
		}
		return flowNormal
	}
	if fd, ok := p.funcs[argv[0]]; ok {
		return p.call(fd, argv[1:])
	}
	if f := p.rcCommon(argv[0], argv[1:], s); f {
		return flowNormal
	}
	// procd and OpenWrt helpers
	switch argv[0] {
	case "procd_set_param":
		if len(argv) > 2 && argv[1] == "command" {
			p.procd = p.sc.start(argv[2:], s, line, s.ctx)
		}
		return flowNormal
	case "procd_append_param":
		if len(argv) > 2 && argv[1] == "command" && p.procd != nil {
			p.sc.appendArgs(p.procd, argv[2:])
		}
		return flowNormal
	case "procd_open_instance", "procd_close_instance":
		p.procd = nil
		return flowNormal
	case "service_start":
		if len(argv) > 1 {
			p.sc.start(argv[1:], s, line, s.ctx)
		}
		return flowNormal
	}
	norm := rules.Normalize(argv)
	if len(norm) == 0 {
		return flowNormal
	}
	p.sc.start(argv, s, line, s.ctx)
	p.follow(norm, s, line)
	return flowNormal
}

func (p *proc) call(fd fnDef, args []string) flow {
	if p.calls >= 16 || p.sc.out() {
		return flowNormal
	}
	p.calls++
	saved := p.args
	p.args = append([]string(nil), args...)
	f := p.exec(fd.body, fd.src, true)
	p.args = saved
	p.calls--
	if f == flowExit {
		return flowExit
	}
	return flowNormal
}

// rcCommon runs the rc.common entry points of an OpenWrt init script
// ("start" without a start function runs start_service; "boot" without a
// boot function runs start), reporting whether name was one of them.
func (p *proc) rcCommon(name string, args []string, s *src) bool {
	if !p.sc.isRCCommon(s.file) {
		return false
	}
	switch name {
	case "start", "boot", "restart":
	default:
		return false
	}
	p.runAction(name, args)
	return true
}

// runAction runs an rc.common action: boot → boot() or start; start →
// start() or start_service().
func (p *proc) runAction(action string, args []string) {
	switch action {
	case "boot":
		if fd, ok := p.funcs["boot"]; ok {
			p.call(fd, args)
			return
		}
		p.runAction("start", args)
	case "start", "restart":
		if fd, ok := p.funcs["start"]; ok {
			p.call(fd, args)
			return
		}
		if fd, ok := p.funcs["start_service"]; ok {
			p.call(fd, args)
		}
	}
}

// follow runs what a command starts when it is a script of the layer.
func (p *proc) follow(argv []string, s *src, line int) {
	prog := argv[0]
	base := path.Base(strings.TrimPrefix(prog, "-"))
	via := viaOf(s, line)
	if shells[base] {
		a := argv[1:]
		login := strings.HasPrefix(prog, "-")
		for len(a) > 0 && strings.HasPrefix(a[0], "-") {
			switch a[0] {
			case "-c":
				if len(a) > 1 {
					p.sc.runInline(a[1], s, line)
				}
				return
			case "-l", "--login":
				login = true
			}
			a = a[1:]
		}
		if len(a) > 0 {
			p.sc.runFile(p.resolve(a[0]), a[1:], via, "")
			return
		}
		if login {
			p.sc.runFile(p.resolve("/etc/profile"), nil, via+" (login shell)", "")
		}
		return
	}
	if f, ok := p.lookPath(prog); ok {
		p.sc.runFile(f, argv[1:], via, "")
	}
}

func viaOf(s *src, line int) string {
	here := s.file.Path + ":" + strconv.Itoa(line)
	if s.via == "" {
		return here
	}
	return s.via + " → " + here
}

// resolve finds a script path in the layer (relative to the current
// folder, taken as /).
func (p *proc) resolve(name string) *analyzers.File {
	if !strings.HasPrefix(name, "/") {
		name = "/" + strings.TrimPrefix(name, "./")
	}
	f, ok := p.sc.t.Resolve(p.sc.layer, name)
	if !ok {
		return nil
	}
	return &f
}

// lookPath resolves a command to a script file of the layer: an absolute
// or ./ path, or a bare name along $PATH when PATH is known.
func (p *proc) lookPath(prog string) (*analyzers.File, bool) {
	if strings.Contains(prog, "$") || strings.Contains(prog, "`") {
		return nil, false
	}
	if strings.Contains(prog, "/") {
		f := p.resolve(prog)
		return f, f != nil
	}
	for _, dir := range strings.Split(p.env["PATH"], ":") {
		if !strings.HasPrefix(dir, "/") {
			continue
		}
		if f := p.resolve(path.Join(dir, prog)); f != nil {
			return f, true
		}
	}
	return nil, false
}

func (p *proc) sourceFile(name string, args []string, s *src, line int) {
	f := p.resolve(name)
	if f == nil {
		return
	}
	prog, ok := p.sc.parse(*f)
	if !ok || p.sc.sourcing >= 16 {
		return
	}
	p.sc.sourcing++
	defer func() { p.sc.sourcing-- }()
	saved := p.args
	if len(args) > 0 {
		p.args = args
	}
	p.exec(prog, &src{file: *f, via: viaOf(s, line), ctx: rules.ContextBoot}, true)
	p.args = saved
}

// sortedNames sorts and bounds directory entries.
func sortedNames(names []string, max int) []string {
	sort.Strings(names)
	if len(names) > max {
		names = names[:max]
	}
	return names
}
