package services

import (
	"strings"
)

// This file is a small, forgiving POSIX shell parser: enough structure
// (lists, && and ||, pipelines, if/elif/else, for, while/until, case,
// functions, groups, subshells, here-documents and comments) to tell which
// commands a boot script runs and which sit in dead branches. It never
// fails: what it does not understand becomes words of a simple command, and
// every loop consumes input, so hostile scripts cannot hang it.

type tokKind int

const (
	tWord tokKind = iota
	tOp
	tNewline
	tEOF
)

type token struct {
	kind tokKind
	val  string
	line int
}

// Bounds on what one script may cost.
const (
	maxTokens = 400000
	maxDepth  = 100
)

type lexer struct {
	s        string
	i        int
	line     int
	heredocs []heredoc
	toks     []token
}

type heredoc struct {
	delim string
	strip bool
}

func tokenize(s string) []token {
	lx := &lexer{s: s, line: 1}
	lx.run()
	return lx.toks
}

func (lx *lexer) emit(k tokKind, v string, line int) {
	if len(lx.toks) < maxTokens {
		lx.toks = append(lx.toks, token{k, v, line})
	}
}

func (lx *lexer) run() {
	s := lx.s
	for lx.i < len(s) && len(lx.toks) < maxTokens {
		c := s[lx.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			lx.i++
		case c == '\\' && lx.i+1 < len(s) && s[lx.i+1] == '\n':
			lx.i += 2
			lx.line++
		case c == '#':
			for lx.i < len(s) && s[lx.i] != '\n' {
				lx.i++
			}
		case c == '\n':
			lx.emit(tNewline, "\n", lx.line)
			lx.i++
			lx.line++
			lx.readHeredocs()
		case strings.IndexByte(";&|()<>", c) >= 0:
			lx.op()
		default:
			lx.word()
		}
	}
	lx.emit(tEOF, "", lx.line)
	if len(lx.toks) == maxTokens { // make sure the stream ends
		lx.toks[len(lx.toks)-1] = token{tEOF, "", lx.line}
	}
}

var ops = []string{"<<-", ";;&", "&&", "||", ";;", ";&", "<<", ">>", ">&", "<&", ">|", "&>", "<>", ";", "&", "|", "(", ")", "<", ">"}

func (lx *lexer) op() {
	for _, o := range ops {
		if strings.HasPrefix(lx.s[lx.i:], o) {
			lx.i += len(o)
			line := lx.line
			if o == "<<" || o == "<<-" {
				// the next word is the delimiter
				for lx.i < len(lx.s) && (lx.s[lx.i] == ' ' || lx.s[lx.i] == '\t') {
					lx.i++
				}
				start := lx.i
				lx.scanWord()
				d := strings.NewReplacer("'", "", "\"", "", "\\", "").Replace(lx.s[start:lx.i])
				if d != "" {
					lx.heredocs = append(lx.heredocs, heredoc{d, o == "<<-"})
				}
				lx.emit(tOp, "<", line) // a redirection whose target follows
				lx.emit(tWord, d, line)
				return
			}
			lx.emit(tOp, o, line)
			return
		}
	}
	lx.i++
}

// readHeredocs skips the bodies of pending here-documents.
func (lx *lexer) readHeredocs() {
	for _, h := range lx.heredocs {
		for lx.i < len(lx.s) {
			end := strings.IndexByte(lx.s[lx.i:], '\n')
			var l string
			if end < 0 {
				l = lx.s[lx.i:]
				lx.i = len(lx.s)
			} else {
				l = lx.s[lx.i : lx.i+end]
				lx.i += end + 1
				lx.line++
			}
			t := strings.TrimSuffix(l, "\r")
			if h.strip {
				t = strings.TrimLeft(t, "\t")
			}
			if t == h.delim {
				break
			}
		}
	}
	lx.heredocs = lx.heredocs[:0]
}

func (lx *lexer) word() {
	start, line := lx.i, lx.line
	lx.scanWord()
	w := lx.s[start:lx.i]
	// "2>file": an fd number before a redirection is not a word
	if lx.i < len(lx.s) && (lx.s[lx.i] == '<' || lx.s[lx.i] == '>') && isDigits(w) {
		return
	}
	lx.emit(tWord, w, line)
}

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// scanWord advances over one word: quotes, $(...), ${...}, `...` and
// backslash escapes included.
func (lx *lexer) scanWord() {
	s := lx.s
	for lx.i < len(s) {
		c := s[lx.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || strings.IndexByte(";&|()<>", c) >= 0:
			return
		case c == '\\':
			if lx.i+1 < len(s) && s[lx.i+1] == '\n' {
				lx.line++
			}
			lx.i += 2
		case c == '\'':
			lx.i = lx.skipTo(lx.i+1, '\'')
		case c == '"':
			lx.skipDouble()
		case c == '`':
			lx.i = lx.skipTo(lx.i+1, '`')
		case c == '$' && lx.i+1 < len(s) && (s[lx.i+1] == '(' || s[lx.i+1] == '{'):
			lx.skipNested(lx.i + 1)
		default:
			lx.i++
		}
	}
	if lx.i > len(s) {
		lx.i = len(s)
	}
}

// skipTo returns the index after the next q from i (counting lines).
func (lx *lexer) skipTo(i int, q byte) int {
	for i < len(lx.s) {
		c := lx.s[i]
		if c == '\n' {
			lx.line++
		}
		if c == '\\' && q == '`' {
			i += 2
			continue
		}
		if c == q {
			return i + 1
		}
		i++
	}
	return len(lx.s)
}

func (lx *lexer) skipDouble() {
	s := lx.s
	lx.i++
	for lx.i < len(s) {
		c := s[lx.i]
		switch {
		case c == '\n':
			lx.line++
			lx.i++
		case c == '\\':
			if lx.i+1 < len(s) && s[lx.i+1] == '\n' {
				lx.line++
			}
			lx.i += 2
		case c == '"':
			lx.i++
			return
		case c == '`':
			lx.i = lx.skipTo(lx.i+1, '`')
		case c == '$' && lx.i+1 < len(s) && (s[lx.i+1] == '(' || s[lx.i+1] == '{'):
			lx.skipNested(lx.i + 1)
		default:
			lx.i++
		}
	}
}

// skipNested skips a balanced (...) or {...} starting at i.
func (lx *lexer) skipNested(i int) {
	s := lx.s
	open := s[i]
	closeC := byte(')')
	if open == '{' {
		closeC = '}'
	}
	depth := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			lx.line++
		case c == '\\':
			i++
		case c == '\'' && open == '(':
			i = lx.skipTo(i+1, '\'') - 1
		case c == open:
			depth++
		case c == closeC:
			depth--
			if depth == 0 {
				lx.i = i + 1
				return
			}
		}
		i++
	}
	lx.i = len(s)
}

// --- syntax tree ---

type node interface{}

type simpleCmd struct {
	words []string
	line  int
}

type listNode struct{ items []node }

type andOrNode struct {
	first node
	ops   []string // "&&" or "||"
	rest  []node
}

type pipeNode struct {
	neg  bool
	cmds []node
}

type ifNode struct {
	conds  []node
	bodies []node
	els    node // may be nil
}

type loopNode struct {
	kind  string // for, while, until
	name  string // for
	items []string
	hasIn bool
	cond  node
	body  node
	line  int
}

type caseArm struct {
	pats []string
	body node
}

type caseNode struct {
	word string
	arms []caseArm
}

type funcNode struct {
	name string
	body node
}

type groupNode struct{ body node }

// --- parser ---

type parser struct {
	toks  []token
	p     int
	depth int
}

func parseScript(s string) *listNode {
	ps := &parser{toks: tokenize(s)}
	return ps.list(nil)
}

func (ps *parser) peek() token { return ps.toks[ps.p] }

func (ps *parser) next() token {
	t := ps.toks[ps.p]
	if t.kind != tEOF {
		ps.p++
	}
	return t
}

func (ps *parser) isWord(v string) bool {
	t := ps.peek()
	return t.kind == tWord && t.val == v
}

func (ps *parser) isOp(v string) bool {
	t := ps.peek()
	return t.kind == tOp && t.val == v
}

func (ps *parser) skipNewlines() {
	for ps.peek().kind == tNewline {
		ps.next()
	}
}

// expectWord consumes v if it is next (forgiving when it is not).
func (ps *parser) expectWord(v string) {
	ps.skipSeps()
	if ps.isWord(v) {
		ps.next()
	}
}

func (ps *parser) skipSeps() {
	for {
		t := ps.peek()
		if t.kind == tNewline || (t.kind == tOp && (t.val == ";" || t.val == "&")) {
			ps.next()
			continue
		}
		return
	}
}

// list parses commands until EOF, one of the reserved words in stop, ")"
// (when stop holds ")") or ";;" (when stop holds ";;").
func (ps *parser) list(stop map[string]bool) *listNode {
	l := &listNode{}
	ps.depth++
	defer func() { ps.depth-- }()
	for {
		ps.skipSeps()
		t := ps.peek()
		if t.kind == tEOF {
			return l
		}
		if stop != nil && ((t.kind == tWord && stop[t.val]) || (t.kind == tOp && stop[t.val])) {
			return l
		}
		if t.kind == tOp && (t.val == ";;" || t.val == ";&" || t.val == ";;&" || t.val == ")") {
			// stray terminator: consume it so the loop moves on
			ps.next()
			continue
		}
		start := ps.p
		n := ps.andOr()
		if n != nil && len(l.items) < 100000 {
			l.items = append(l.items, n)
		}
		if ps.p == start {
			ps.next()
		}
	}
}

func (ps *parser) andOr() node {
	first := ps.pipeline()
	ao := &andOrNode{first: first}
	for ps.isOp("&&") || ps.isOp("||") {
		op := ps.next().val
		ps.skipNewlines()
		ao.ops = append(ao.ops, op)
		ao.rest = append(ao.rest, ps.pipeline())
	}
	if len(ao.ops) == 0 {
		return first
	}
	return ao
}

func (ps *parser) pipeline() node {
	p := &pipeNode{}
	if ps.isWord("!") {
		ps.next()
		p.neg = true
	}
	p.cmds = append(p.cmds, ps.command())
	for ps.isOp("|") {
		ps.next()
		ps.skipNewlines()
		p.cmds = append(p.cmds, ps.command())
	}
	if !p.neg && len(p.cmds) == 1 {
		return p.cmds[0]
	}
	return p
}

var reservedStop = map[string]bool{"then": true, "elif": true, "else": true, "fi": true, "do": true, "done": true, "esac": true, "}": true, "in": false}

func (ps *parser) command() node {
	if ps.depth > maxDepth {
		// too deep: swallow the rest of the line as words
		sc := &simpleCmd{line: ps.peek().line}
		for t := ps.peek(); t.kind == tWord || t.kind == tOp && t.val != ";" && t.val != "&&" && t.val != "||"; t = ps.peek() {
			ps.next()
		}
		return sc
	}
	t := ps.peek()
	var n node
	switch {
	case t.kind == tWord && t.val == "if":
		n = ps.ifCmd()
	case t.kind == tWord && t.val == "for":
		n = ps.forCmd()
	case t.kind == tWord && (t.val == "while" || t.val == "until"):
		n = ps.whileCmd()
	case t.kind == tWord && t.val == "case":
		n = ps.caseCmd()
	case t.kind == tWord && t.val == "{":
		ps.next()
		ps.depth++
		body := ps.list(map[string]bool{"}": true})
		ps.depth--
		ps.expectWord("}")
		n = &groupNode{body}
	case t.kind == tOp && t.val == "(":
		ps.next()
		ps.depth++
		body := ps.list(map[string]bool{")": true})
		ps.depth--
		if ps.isOp(")") {
			ps.next()
		}
		n = &groupNode{body}
	case t.kind == tWord && t.val == "function":
		ps.next()
		name := ps.next().val
		if ps.isOp("(") {
			ps.next()
			if ps.isOp(")") {
				ps.next()
			}
		}
		ps.skipNewlines()
		ps.depth++
		n = &funcNode{name: name, body: ps.command()}
		ps.depth--
	case t.kind == tWord && ps.p+2 < len(ps.toks) && ps.toks[ps.p+1].kind == tOp && ps.toks[ps.p+1].val == "(" &&
		ps.toks[ps.p+2].kind == tOp && ps.toks[ps.p+2].val == ")":
		ps.p += 3
		ps.skipNewlines()
		ps.depth++
		n = &funcNode{name: t.val, body: ps.command()}
		ps.depth--
	default:
		return ps.simple()
	}
	ps.redirects()
	return n
}

// redirects drops redirections after a compound command.
func (ps *parser) redirects() {
	for {
		t := ps.peek()
		if t.kind == tOp && isRedir(t.val) {
			ps.next()
			if ps.peek().kind == tWord {
				ps.next()
			}
			continue
		}
		return
	}
}

func isRedir(op string) bool {
	switch op {
	case "<", ">", ">>", ">&", "<&", ">|", "&>", "<>":
		return true
	}
	return false
}

func (ps *parser) simple() node {
	sc := &simpleCmd{line: ps.peek().line}
	for {
		t := ps.peek()
		switch {
		case t.kind == tWord:
			if len(sc.words) == 0 && reservedStop[t.val] {
				return sc // a closing word the caller handles
			}
			ps.next()
			if len(sc.words) < 4096 {
				sc.words = append(sc.words, t.val)
			}
		case t.kind == tOp && isRedir(t.val):
			ps.next()
			if ps.peek().kind == tWord {
				ps.next()
			}
		default:
			return sc
		}
	}
}

func (ps *parser) ifCmd() node {
	ps.next() // if
	n := &ifNode{}
	ps.depth++
	defer func() { ps.depth-- }()
	for {
		cond := ps.list(map[string]bool{"then": true})
		ps.expectWord("then")
		body := ps.list(map[string]bool{"elif": true, "else": true, "fi": true})
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		if ps.isWord("elif") {
			ps.next()
			continue
		}
		if ps.isWord("else") {
			ps.next()
			n.els = ps.list(map[string]bool{"fi": true})
		}
		ps.expectWord("fi")
		return n
	}
}

func (ps *parser) forCmd() node {
	line := ps.next().line // for
	n := &loopNode{kind: "for", line: line}
	if ps.peek().kind == tWord {
		n.name = ps.next().val
	}
	ps.skipNewlines()
	if ps.isWord("in") {
		ps.next()
		n.hasIn = true
		for ps.peek().kind == tWord && len(n.items) < 4096 {
			n.items = append(n.items, ps.next().val)
		}
	}
	ps.skipSeps()
	ps.expectWord("do")
	ps.depth++
	n.body = ps.list(map[string]bool{"done": true})
	ps.depth--
	ps.expectWord("done")
	return n
}

func (ps *parser) whileCmd() node {
	t := ps.next()
	n := &loopNode{kind: t.val, line: t.line}
	ps.depth++
	n.cond = ps.list(map[string]bool{"do": true})
	ps.expectWord("do")
	n.body = ps.list(map[string]bool{"done": true})
	ps.depth--
	ps.expectWord("done")
	return n
}

func (ps *parser) caseCmd() node {
	ps.next() // case
	n := &caseNode{}
	if ps.peek().kind == tWord {
		n.word = ps.next().val
	}
	ps.skipNewlines()
	ps.expectWord("in")
	ps.depth++
	defer func() { ps.depth-- }()
	for {
		ps.skipSeps()
		t := ps.peek()
		if t.kind == tEOF {
			return n
		}
		if t.kind == tWord && t.val == "esac" {
			ps.next()
			return n
		}
		var arm caseArm
		if ps.isOp("(") {
			ps.next()
		}
		for {
			t := ps.peek()
			if t.kind == tWord {
				arm.pats = append(arm.pats, ps.next().val)
				continue
			}
			if t.kind == tOp && t.val == "|" {
				ps.next()
				continue
			}
			break
		}
		if ps.isOp(")") {
			ps.next()
		}
		start := ps.p
		arm.body = ps.list(map[string]bool{";;": true, ";&": true, ";;&": true, "esac": true})
		if ps.isOp(";;") || ps.isOp(";&") || ps.isOp(";;&") {
			ps.next()
		}
		if len(n.arms) < 1000 {
			n.arms = append(n.arms, arm)
		}
		if ps.p == start && len(arm.pats) == 0 {
			ps.next() // no progress: skip a token
		}
	}
}
