package fleet

import (
	"bytes"
	"html/template"
	"strings"
)

// fleetHTML is fleet.html: one self-contained page (no script, no outside
// resource). html/template escapes every firmware string.
var fleetHTML = template.Must(template.New("fleet").Funcs(template.FuncMap{
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"verdictClass": func(v string) string {
		switch v {
		case "fail", "pass", "needs-evidence", "not-assessed":
			return "v-" + v
		}
		return "v-none"
	},
	"verdictText": func(v string) string {
		switch v {
		case "fail":
			return "fail"
		case "pass":
			return "pass"
		case "needs-evidence":
			return "evidence"
		case "not-assessed":
			return "n/a"
		}
		return "–"
	},
	"join": strings.Join,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>fwaudit fleet report</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right}
.v-fail{background:#ffd7d5;color:#82071e;font-weight:600}
.v-pass{background:#dafbe1;color:#116329}
.v-needs-evidence{background:#fff8c5;color:#7d4e00}
.v-not-assessed,.v-none{background:#f6f8fa;color:#57606a}
.sev-critical{color:#82071e;font-weight:700}.sev-high{color:#bc4c00;font-weight:600}
code{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}
.muted{color:#57606a}
.summary span{display:inline-block;margin-right:1.2rem}
</style>
</head>
<body>
<h1>fwaudit fleet report</h1>
<p class="summary"><span id="count-images">{{len .Images}} images</span><span id="count-shared">{{len .Shared}} shared secrets</span><span id="count-psti">{{len .PSTI1Failures}} would fail UK PSTI requirement 1</span><span class="muted">fwaudit {{.Tool.Version}}</span></p>

<h2 id="matrix">Images × UK Code of Practice guidelines</h2>
<table id="matrix-table">
<thead><tr><th>Image</th><th>Vendor</th><th>Product</th><th>Version</th><th>Status</th><th>Critical</th><th>High</th><th>Medium</th>{{range .Guidelines}}<th title="Code of Practice guideline {{.}}">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Images}}
<tr>
<td>{{if .Report}}<a href="{{.Report}}/report.html">{{.Name}}</a>{{else}}{{.Name}}{{end}}<br><code class="muted">{{short .SHA256}}</code></td>
<td>{{.Vendor}}</td><td>{{.Product}}</td><td>{{.Version}}</td>
<td>{{.Status}}{{if .Error}}<br><span class="muted">{{.Error}}</span>{{end}}</td>
<td class="num sev-critical">{{index .Findings "critical"}}</td><td class="num sev-high">{{index .Findings "high"}}</td><td class="num">{{index .Findings "medium"}}</td>
{{- $cop := .CoP}}{{range $.Guidelines}}{{$v := index $cop .}}<td class="{{verdictClass $v}}">{{verdictText $v}}</td>{{end}}
</tr>
{{- end}}
</tbody>
</table>

<h2 id="shared">Secrets shared between images</h2>
{{if .Shared}}
<p>The same secret in several images is a universal default across products (guidelines 1 and 4, PSTI requirement 1). Fingerprints are keyed with this fleet's key: they match inside the fleet and confirm nothing outside it.</p>
<table id="shared-table">
<thead><tr><th>Kind</th><th>Fingerprint</th><th>Images and paths</th></tr></thead>
<tbody>
{{- range .Shared}}
<tr><td>{{.Kind}}</td><td><code>{{.Fingerprint}}</code></td><td>{{range .Images}}<div>{{.Name}} <code class="muted">{{short .SHA256}}</code>: <code>{{.Path}}</code></div>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{else}}<p>No secret was found in more than one image.</p>{{end}}

<h2 id="psti">UK PSTI requirement 1 (no universal default passwords)</h2>
{{if .PSTI1Failures}}
<table id="psti-table"><thead><tr><th>Image</th><th>Findings</th></tr></thead><tbody>
{{- range .PSTI1Failures}}<tr><td>{{.Name}}</td><td><code>{{join .Findings ", "}}</code></td></tr>{{end}}
</tbody></table>
{{else}}<p>No image would fail requirement 1 on the evidence in the images.</p>{{end}}

<h2 id="components">Components most often vulnerable</h2>
{{if .VulnerableComponents}}
<table id="components-table"><thead><tr><th>Component</th><th>Version</th><th>Images</th><th>Known vulnerabilities</th><th>Worst</th></tr></thead><tbody>
{{- range .VulnerableComponents}}<tr><td>{{.Name}}</td><td>{{.Version}}</td><td class="num">{{.Images}}</td><td class="num">{{.Vulnerabilities}}</td><td>{{.Worst}}</td></tr>{{end}}
</tbody></table>
{{else}}<p>No vulnerable component was matched (or vulnerability matching was off).</p>{{end}}
</body>
</html>
`))

// WriteHTML renders fleet.html.
func WriteHTML(w *bytes.Buffer, fl *Fleet) error { return fleetHTML.Execute(w, fl) }
