package report

import (
	"bufio"
	"fmt"
	"io"
	"text/tabwriter"
)

// Limits of the terminal table's columns, in characters.
const (
	tableMaxRule     = 40
	tableMaxPath     = 50
	tableMaxEvidence = 60
)

// WriteTable writes the summary printed on stdout after a scan: the image,
// the layers by status, the verdict, a findings table (SEVERITY RULE PATH
// EVIDENCE) and the number of components. Every string from the image is
// put on one line with control characters escaped (no raw ESC, tab or
// newline reaches the terminal) and truncated to fit.
func WriteTable(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	bw := bufio.NewWriter(w)
	name := r.Image.Name
	if name == "" {
		name = r.Image.Path
	}
	sha := r.Image.SHA256
	if len(sha) > 16 {
		sha = sha[:16] + "…"
	}
	fmt.Fprintf(bw, "Image:      %s (%s, sha256 %s)\n", truncate(quoteLine(name), 80), humanSize(r.Image.Size), quoteLine(sha))
	if a := r.Assessment; a != nil && a.Status != Assessed {
		fmt.Fprintf(bw, "Assessment: %s\n", truncate(quoteLine(assessmentLine(a)), 300))
	}
	fmt.Fprintf(bw, "Layers:     %s\n", layerSummary(r))
	fmt.Fprintf(bw, "Findings:   %s\n", verdict(r))
	if n := len(r.Suppressed); n > 0 {
		fmt.Fprintf(bw, "Accepted:   %d %s accepted by the baseline (see report.md)\n", n, plural(n, "finding", "findings"))
	}
	if n := len(r.Analyzers.Failures); n > 0 {
		fmt.Fprintf(bw, "Failed:     %d %s:", n, plural(n, "analyzer", "analyzers"))
		for _, f := range r.Analyzers.Failures {
			fmt.Fprintf(bw, " %s", truncate(quoteLine(f.Analyzer), 30))
		}
		fmt.Fprintln(bw)
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(bw)
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tRULE\tPATH\tEVIDENCE")
		for i := range r.Findings {
			f := &r.Findings[i]
			// path:line or path@offset; the layer path when there is no path
			// (its last segment already says where the chunk is)
			var p string
			switch {
			case f.Path == "":
				p = truncateLeft(quoteLine(f.Layer), tableMaxPath)
			case f.Line > 0:
				p = truncateLeft(quoteLine(f.Path), tableMaxPath) + fmt.Sprintf(":%d", f.Line)
			case f.Offset != nil:
				p = truncateLeft(quoteLine(f.Path), tableMaxPath) + fmt.Sprintf("@0x%x", *f.Offset)
			default:
				p = truncateLeft(quoteLine(f.Path), tableMaxPath)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n",
				truncate(quoteLine(string(f.Severity)), 12),
				truncate(quoteLine(f.Rule), tableMaxRule),
				p,
				truncate(quoteLine(f.Evidence), tableMaxEvidence))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintf(bw, "Components: %d\n", len(r.Components))
	return bw.Flush()
}
