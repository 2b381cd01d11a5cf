package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fwaudit/fwaudit/analyzers"
)

// parseInline splits one line of Markdown the way CommonMark does for the
// parts that matter here: backslash escapes and code spans (a run of n
// backticks up to the next run of exactly n). It returns the text outside
// code spans (escaped characters dropped) and the contents of the spans.
func parseInline(line string) (outside string, spans []string) {
	var out strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		if c == '\\' && i+1 < len(line) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", line[i+1]) >= 0 {
			i += 2
			continue
		}
		if c != '`' {
			out.WriteByte(c)
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		// find a closing run of exactly n
		j := i + n
		closed := -1
		for j < len(line) {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				closed = j
				break
			}
			j += m
		}
		if closed < 0 {
			out.WriteString(line[i : i+n])
			i += n
			continue
		}
		content := line[i+n : closed]
		if len(content) >= 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.Trim(content, " ") != "" {
			content = content[1 : len(content)-1]
		}
		spans = append(spans, content)
		out.WriteString("\x00") // marks a span
		i = closed + n
	}
	return out.String(), spans
}

// splitRow splits a GFM table row on pipes not escaped by a backslash and
// removes the backslash of escaped pipes, as GFM does before inline parsing.
func splitRow(row string) []string {
	var cells []string
	var cur strings.Builder
	bs := 0
	for i := 0; i < len(row); i++ {
		c := row[i]
		if c == '|' && bs%2 == 0 {
			cells = append(cells, cur.String())
			cur.Reset()
			bs = 0
			continue
		}
		if c == '|' {
			// escaped pipe: drop its backslash
			s := cur.String()
			cur.Reset()
			cur.WriteString(s[:len(s)-1])
		}
		cur.WriteByte(c)
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return append(cells, cur.String())
}

// checkNoControl fails if s holds a control byte other than newline.
func checkNoControl(t *testing.T, what string, s []byte) {
	t.Helper()
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			t.Fatalf("%s: invalid UTF-8 at %d", what, i)
		}
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e || r == 0x2028 {
			t.Fatalf("%s: raw control character %U at %d: %q", what, r, i, s[max(0, i-20):min(len(s), i+20)])
		}
		i += n
	}
}

func TestMdCodeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "`", "``", "a`b", "a``b```c", "`start", "end`", " spaced ", "  ", "|pipe|", `\|`, `x\`, hostile, "<script>alert(1)</script>"} {
		for _, inTable := range []bool{false, true} {
			md := mdCode(s, inTable)
			if strings.ContainsAny(md, "\n\r") {
				t.Fatalf("mdCode(%q) spans lines: %q", s, md)
			}
			if s == "" {
				if md != "*(empty)*" {
					t.Errorf("mdCode(\"\") = %q", md)
				}
				continue
			}
			if inTable {
				cells := splitRow("|" + md + "|")
				if len(cells) != 3 {
					t.Fatalf("mdCode(%q, table) = %q splits into %d cells", s, md, len(cells)-2)
				}
				md = cells[1]
			}
			outside, spans := parseInline(md)
			want := quoteLine(s)
			if strings.Trim(want, " ") == "" {
				// all-space content is not stripped: the padding shows
				want = " " + want + " "
			}
			if outside != "\x00" || len(spans) != 1 || spans[0] != want {
				t.Errorf("mdCode(%q, %v) = %q parses as outside %q spans %q, want one span %q", s, inTable, md, outside, spans, want)
			}
		}
	}
}

func TestMdText(t *testing.T) {
	in := hostile + " **bold** #tag ~~s~~ ![img](x)"
	md := mdText(in)
	if strings.ContainsAny(md, "\n\r\x1b") {
		t.Fatalf("mdText spans lines or holds ESC: %q", md)
	}
	outside, spans := parseInline(md)
	if len(spans) != 0 {
		t.Errorf("mdText(%q) opens code spans: %q", in, spans)
	}
	if strings.ContainsAny(outside, "<>`*_[]|&~!#") {
		t.Errorf("mdText leaves markup characters unescaped: %q", outside)
	}
	if cells := splitRow("|" + md + "|"); len(cells) != 3 {
		t.Errorf("mdText splits a table cell: %q", md)
	}
}

func TestMarkdownHostile(t *testing.T) {
	r := fixture()
	// put hostile text everywhere text from the image can go
	r.Image.Name = hostile
	r.Image.Path = "/tmp/" + hostile
	r.Layers[3].Source = hostile
	r.Layers[5].Error = hostile
	r.Analyzers.Failures[0].Error = hostile
	for i := range r.Findings {
		r.Findings[i].Path = hostile
		r.Findings[i].Evidence = hostile + "```"
		r.Findings[i].Message = hostile
	}
	r.Components[0].Name = hostile
	r.Components[0].Paths = []string{hostile, "|", "`"}
	md := render(t, writeMarkdown, r)
	checkNoControl(t, "report.md", md)

	// the structure is that of the benign fixture: same lines, same kinds
	benign := render(t, writeMarkdown, fixture())
	gl, bl := strings.Split(string(md), "\n"), strings.Split(string(benign), "\n")
	if len(gl) != len(bl) {
		t.Fatalf("hostile text changed the line count: %d vs %d", len(gl), len(bl))
	}
	for i := range gl {
		if lineKind(gl[i]) != lineKind(bl[i]) {
			t.Errorf("line %d changed kind: %q vs %q", i+1, gl[i], bl[i])
		}
	}
	var evidences, tableRows int
	for i, line := range gl {
		if strings.HasPrefix(line, "|") {
			tableRows++
			cells := splitRow(line)
			if want := len(splitRow(bl[i])); len(cells) != want || (want != 8 && want != 4) {
				t.Errorf("table row has %d cells, want %d: %q", len(cells)-2, want-2, line)
			}
			for _, c := range cells {
				checkOutside(t, c)
			}
			continue
		}
		checkOutside(t, line)
		if strings.HasPrefix(line, "- **Evidence:** ") {
			evidences++
			_, spans := parseInline(strings.TrimPrefix(line, "- **Evidence:** "))
			if len(spans) != 1 || spans[0] != quoteLine(hostile+"```") {
				t.Errorf("evidence span = %q", spans)
			}
		}
	}
	if evidences != len(r.Findings) {
		t.Errorf("%d evidence lines for %d findings", evidences, len(r.Findings))
	}
	if tableRows == 0 {
		t.Error("no table rows")
	}
	if !bytes.Contains(md, []byte("| Name | Version | Type | PURL | Known vulnerabilities | Paths |")) {
		t.Error("component table header missing")
	}
}

// checkOutside fails if text outside code spans could open HTML, an entity
// or a link.
func checkOutside(t *testing.T, s string) {
	t.Helper()
	outside, _ := parseInline(s)
	if strings.ContainsAny(outside, "<>&`[]") {
		t.Errorf("unescaped markup outside code spans in %q (outside: %q)", s, outside)
	}
}

// lineKind classifies a Markdown line by its block structure.
func lineKind(line string) string {
	trim := strings.TrimLeft(line, " ")
	indent := len(line) - len(trim)
	switch {
	case line == "":
		return "blank"
	case strings.HasPrefix(line, "#"):
		return line[:strings.IndexByte(line, ' ')]
	case strings.HasPrefix(line, "|"):
		return "row" + string(rune('0'+len(splitRow(line))))
	case strings.HasPrefix(trim, "- "):
		label := ""
		if strings.HasPrefix(trim, "- **") {
			label = trim[:strings.Index(trim[4:], "**")+6]
		}
		return strings.Repeat(" ", indent) + "item" + label
	}
	return "text"
}

func TestMarkdownContent(t *testing.T) {
	r := fixture()
	md := string(render(t, writeMarkdown, r))
	for _, want := range []string{
		"# fwaudit report: `Archer_C7v5.bin`\n",
		"- **SHA-256:** `9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`\n",
		"- **Size:** 8.0 MiB (8388608 bytes)\n",
		"- **Tool:** fwaudit 1.2.3\n",
		"- **Verdict:** 1 critical, 2 high, 1 medium, 1 low, 1 info; 3 findings at or above high\n",
		"- **Layers:** 7 layers (4 ok, 1 partial, 1 failed, 1 opaque)\n",
		"      - **cpio** at 0x0 in `/data`: 2.0 MiB, ok, 40 files (L4)\n",
		"  - **opaque** at 0x7f0000: 64.0 KiB, **opaque**, 0 files, entropy 7.98 bits/byte (L6)",
		"**failed**, 0 files (L5): `lzma: unexpected end of stream`\n",
		"### Critical (1)\n",
		"- **Path:** `/etc/shadow`, line 1\n",
		"- **Path:** `/etc/ssl/server.key`, offset 0x1f0\n",
		"- **Guidelines:** CoP 4, CoP 5\n",
		"| `busybox` | `1.31.1` | `binary` | `pkg:generic/busybox@1.31.1` |  | `/bin/busybox` |\n",
		"(+1 more)",
		"  - sbom: `syft: catalog failed: context deadline exceeded`\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// severities in order, critical first; timings last
	last := -1
	for _, h := range []string{"### Critical", "### High", "### Medium", "### Low", "### Info", "## Components", "## Analyzers", "## Statistics", "## Timings", "| analyzer services | 3 |"} {
		i := strings.Index(md, h)
		if i < last {
			t.Errorf("%q out of order", h)
		}
		last = i
	}
	if !strings.HasSuffix(md, "| analyzer services | 3 |\n") {
		t.Errorf("timings are not last: %q", md[len(md)-80:])
	}
	// only the timings vary between runs
	r2 := fixture()
	r2.Stats.ExtractMS, r2.Stats.TotalMS, r2.Stats.AnalyzerMS["crypto"] = 1, 2, 3
	md2 := string(render(t, writeMarkdown, r2))
	cut := strings.Index(md, "## Timings")
	if md[:cut] != md2[:cut] {
		t.Error("timings changed text before the Timings section")
	}
	if md == md2 {
		t.Error("timings not shown")
	}
	// no findings / components
	empty := &Report{Image: Image{Name: "e.bin"}}
	me := string(render(t, writeMarkdown, empty))
	for _, want := range []string{"No findings.", "No components found.", "No layers.", "0 findings at or above high"} {
		if !strings.Contains(me, want) {
			t.Errorf("empty report.md lacks %q", want)
		}
	}
}

func TestMarkdownUnknownSeverity(t *testing.T) {
	r := fixture()
	r.Findings = append(r.Findings, analyzers.Finding{Rule: "odd", Severity: "severe`|", Layer: "image", Message: "m"})
	md := string(render(t, writeMarkdown, r))
	if !strings.Contains(md, "### Unknown severity ``severe`|`` (1)") {
		t.Errorf("finding of unknown severity not shown:\n%s", md)
	}
	if strings.Index(md, "Unknown severity") < strings.Index(md, "### Info") {
		t.Error("unknown severity listed before info")
	}
}

func TestTableHostile(t *testing.T) {
	r := fixture()
	r.Image.Name = hostile
	for i := range r.Findings {
		r.Findings[i].Evidence = hostile + strings.Repeat("A", 200)
		r.Findings[i].Rule = hostile
		r.Findings[i].Path = "/" + hostile
	}
	r.Analyzers.Failures[0].Analyzer = hostile
	out := render(t, writeTable, r)
	checkNoControl(t, "table", out)
	if bytes.ContainsRune(out, '\t') || bytes.Contains(out, []byte{0x1b}) {
		t.Fatal("raw tab or ESC in the terminal table")
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	benign := strings.Split(strings.TrimSuffix(string(render(t, writeTable, fixture())), "\n"), "\n")
	if len(lines) != len(benign) {
		t.Fatalf("hostile text changed the line count: %d vs %d\n%s", len(lines), len(benign), out)
	}
	hdr := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "SEVERITY") {
			hdr = i
		}
	}
	if hdr < 0 {
		t.Fatalf("no table header:\n%s", out)
	}
	ev := strings.Index(lines[hdr], "EVIDENCE")
	for _, l := range lines[hdr+1 : hdr+1+len(r.Findings)] {
		e := []rune(l)[utf8.RuneCountInString(lines[hdr][:ev]):]
		if n := len(e); n > tableMaxEvidence {
			t.Errorf("evidence column is %d characters: %q", n, string(e))
		}
		if !strings.HasPrefix(string(e), `x`+"`"+`y`+"``"+`z | a\nb\r\n<script>`) {
			t.Errorf("evidence column not aligned or not escaped: %q", string(e))
		}
	}
}

func TestTableContent(t *testing.T) {
	out := string(render(t, writeTable, fixture()))
	for _, want := range []string{
		"Image:      Archer_C7v5.bin (8.0 MiB, sha256 9f86d081884c7d65…)\n",
		"Layers:     7 layers (4 ok, 1 partial, 1 failed, 1 opaque)\n",
		"Findings:   1 critical, 2 high, 1 medium, 1 low, 1 info; 3 findings at or above high\n",
		"Failed:     1 analyzer: sbom\n",
		"SEVERITY  RULE",
		"/etc/shadow:1",
		"/etc/ssl/server.key@0x1f0",
		"info      opaque-data                        opaque@0x7f0000  ",
		"Components: 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "critical") > strings.Index(out, "info  ") {
		t.Error("findings not in report order")
	}
}

// TestMarkdownNotApplicable: CVEs the image shows do not apply are not
// counted but listed, folded, with their reason and evidence (escaped).
func TestMarkdownNotApplicable(t *testing.T) {
	r := &Report{Components: []Component{{Name: "busybox", Version: "1.01", Vulnerabilities: []Vulnerability{
		{ID: "CVE-2022-48174", Severity: "critical", Applicability: &Applicability{State: "not_affected", Justification: "vulnerable_code_not_present", Detail: "not compiled in: the code is the ash shell", Evidence: []string{"no applet ash in applet table: msh | <script>"}, By: "fwaudit"}},
		{ID: "CVE-2016-2148", Severity: "critical", Applicability: &Applicability{State: "affected", Detail: "present", By: "fwaudit"}},
		{ID: "CVE-2011-2716", Severity: "medium", Applicability: &Applicability{State: "not_affected", Justification: "vulnerable_code_cannot_be_controlled_by_adversary", Detail: "accepted by user VEX v.json", By: "user VEX v.json"}},
	}}}, VulnDB: &VulnDB{Source: "embedded feed", Summary: "curated: 228 records for 35 components", DataDate: "2026-12-03"}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| 1, worst `CVE-2016-2148` (`critical`); 2 not applicable |",
		"<details><summary>Not applicable to this image: 2 known vulnerabilities",
		"not\\_affected (vulnerable\\_code\\_not\\_present)",
		"msh \\| \\<script\\>",
		"accepted by user VEX v.json",
		"curated: 228 records for 35 components, data of 2026-12-03",
		"</details>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, "<script>") {
		t.Error("evidence not escaped")
	}
}
