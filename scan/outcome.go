package scan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/config"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

// Gate says when a scan fails (exit 1 in the CLI).
type Gate struct {
	// FailOn: a finding at or above it fails the scan; empty means no
	// severity gate.
	FailOn analyzers.Severity
	// Guidelines are Code of Practice guideline numbers that fail the scan
	// when their verdict is fail or not-assessed (a gated guideline the
	// scan could not judge is not a pass).
	Guidelines []int
}

// GateResult is the gate's decision.
type GateResult struct {
	Failed bool
	// Reasons say why, one line each ("2 findings at or above high",
	// "Code of Practice guideline 1 fails").
	Reasons []string
	// Guidelines are the gated guidelines that failed or were not assessed.
	Guidelines []int
}

// Decide applies g to a finished report. Accepted (suppressed) findings
// never fail the gate.
func (g Gate) Decide(r *report.Report) GateResult {
	var out GateResult
	if g.FailOn.Rank() >= 0 {
		n := 0
		for _, f := range r.Findings {
			if f.Severity.Rank() >= g.FailOn.Rank() {
				n++
			}
		}
		if n > 0 {
			out.Failed = true
			out.Reasons = append(out.Reasons, fmt.Sprintf("%d finding(s) at or above %s (--fail-on)", n, g.FailOn))
		}
	}
	for _, gl := range g.Guidelines {
		if slices.Contains(out.Guidelines, gl) {
			continue
		}
		v, note := copVerdict(r, gl)
		switch v {
		case compliance.Fail:
			out.Guidelines = append(out.Guidelines, gl)
			out.Reasons = append(out.Reasons, fmt.Sprintf("Code of Practice guideline %d fails (--fail-on-guideline)", gl))
		case compliance.NotAssessed:
			out.Guidelines = append(out.Guidelines, gl)
			out.Reasons = append(out.Reasons, fmt.Sprintf("Code of Practice guideline %d was not assessed (--fail-on-guideline): %s", gl, strings.TrimPrefix(note, "not assessed: ")))
		}
	}
	if len(out.Guidelines) > 0 {
		out.Failed = true
	}
	return out
}

// copVerdict returns the report's verdict on a guideline; without
// compliance verdicts, a finding naming the guideline is a fail and none is
// not-assessed.
func copVerdict(r *report.Report, g int) (compliance.Verdict, string) {
	id := strconv.Itoa(g)
	if r.Compliance != nil {
		for _, it := range r.Compliance.Frameworks["cop"] {
			if it.ID == id {
				return it.Verdict, it.Note
			}
		}
	}
	for _, f := range r.Findings {
		if slices.Contains(f.Guidelines, g) {
			return compliance.Fail, ""
		}
	}
	return compliance.NotAssessed, "no compliance verdicts in the report"
}

// dropDisabled removes the findings of disabled rules and returns how many
// it removed.
func dropDisabled(fs []analyzers.Finding, disable []string) ([]analyzers.Finding, int) {
	if len(disable) == 0 {
		return fs, 0
	}
	kept := make([]analyzers.Finding, 0, len(fs))
	for _, f := range fs {
		if !config.RuleDisabled(f.Rule, disable) {
			kept = append(kept, f)
		}
	}
	return kept, len(fs) - len(kept)
}

// fileSystemUnpacked reports whether any file-system layer (a SquashFS,
// JFFS2, ext, cpio, tar, zip ...) produced files. Without one, nothing of
// the device's software was seen: a compressed text file or a bare blob is
// not a firmware image the guidelines can be judged on.
func fileSystemUnpacked(layers []*extract.Layer) bool {
	for _, l := range layers {
		if l.IsFilesystem() && l.Files > 0 {
			return true
		}
	}
	return false
}

// assess decides whether the image could be assessed at all: unpacked is
// whether a file system was unpacked (fileSystemUnpacked).
func assess(layers []*extract.Layer, unpacked bool) report.Assessment {
	var incomplete []string
	for _, l := range layers {
		switch l.Status {
		case extract.StatusFailed, extract.StatusPartial, extract.StatusUnsupported, extract.StatusOpaque:
			incomplete = append(incomplete, l.ID)
		}
	}
	if unpacked {
		if len(incomplete) > 0 {
			return report.Assessment{Status: report.AssessedPartly,
				Reason: fmt.Sprintf("%d layer(s) could not be fully unpacked (%s): what they hold was not analysed", len(incomplete), strings.Join(incomplete, ", "))}
		}
		return report.Assessment{Status: report.Assessed}
	}
	return report.Assessment{Status: report.NotAssessed, Reason: whyUnassessable(layers)}
}

// whyUnassessable says, for an image of which nothing could be unpacked,
// what it is.
func whyUnassessable(layers []*extract.Layer) string {
	if len(layers) == 0 {
		return "the image could not be read"
	}
	root := layers[0]
	if root.Size == 0 {
		return "the image is empty (0 bytes)"
	}
	for _, l := range layers {
		if l.Status == extract.StatusOpaque || strings.Contains(strings.ToLower(l.Error), "encrypt") {
			if strings.Contains(strings.ToLower(l.Error), "encrypt") {
				return fmt.Sprintf("layer %s (%s) is encrypted: %s", l.ID, l.Format, l.Error)
			}
			return fmt.Sprintf("no known container or file system in the image: %s holds %d bytes of high-entropy data (%.2f bits/byte), encrypted or compressed with an unknown scheme", l.ID, l.Size, l.Entropy)
		}
	}
	var formats []string
	for _, l := range layers[1:] {
		formats = append(formats, fmt.Sprintf("%s %s (%s)", l.ID, l.Format, l.Status))
	}
	if len(formats) > 0 {
		return fmt.Sprintf("no file system could be unpacked from the image (%d bytes; layers: %s)", root.Size, strings.Join(formats, ", "))
	}
	return fmt.Sprintf("no known container, compressed stream or file system in the image (%d bytes)", root.Size)
}
