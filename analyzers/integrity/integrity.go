// Package integrity judges software integrity (Code of Practice guideline
// 7, ETSI EN 303 645 5.7-1 and 5.3-9) from what the image's own container
// headers record (extract.Layer.Protection): an update or boot container
// protected only by a checksum — the TP-Link header's salted MD5, a legacy
// uImage's or a TRX's CRC32, a FIT with hash nodes but no signature — or by
// nothing is an unsigned-container finding: anyone who changes the image
// can recompute it, so nothing in the image lets the device tell a vendor
// image from a modified one. A container with a signature (FIT signature
// nodes, a TP-Link v3 header) is not a finding; compliance lists it as a
// signed-container hint. A container inside a signed one is covered by that
// signature and is not reported.
package integrity

import (
	"context"
	"fmt"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/rules/builtin"
)

// Rule is the finding rule.
const Rule = "unsigned-container"

// Category of every finding.
const Category = "software-integrity"

// Analyzer reports containers protected only by a checksum, or by nothing.
type Analyzer struct{}

// New returns the analyzer.
func New() Analyzer { return Analyzer{} }

// Name implements analyzers.Analyzer.
func (Analyzer) Name() string { return "integrity" }

// Examines implements analyzers.Scoped.
func (Analyzer) Examines() string {
	return "update or boot container headers (TP-Link, uImage, TRX, FIT)"
}

// Analyze implements analyzers.Analyzer.
func (Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	byID := map[string]*extract.Layer{}
	var signed []string
	for _, l := range t.Layers {
		if l == nil {
			continue
		}
		byID[l.ID] = l
		if l.Protection != nil {
			t.ExaminedItem("integrity", Analyzer{}.Examines(), l.ID+" "+l.Format+" header")
		}
		if l.Protection != nil && l.Protection.Kind == extract.ProtectionSignature {
			signed = append(signed, l.ID+" ("+l.Format+")")
		}
	}
	// covered: an ancestor carries a signature
	covered := func(l *extract.Layer) bool {
		for p, n := byID[l.Parent], 0; p != nil && n < 64; p, n = byID[p.Parent], n+1 {
			if p.Protection != nil && p.Protection.Kind == extract.ProtectionSignature {
				return true
			}
		}
		return false
	}
	var out []analyzers.Finding
	for _, l := range t.Layers {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if l == nil || l.Protection == nil || l.Protection.Kind == extract.ProtectionSignature || covered(l) {
			continue
		}
		p := l.Protection
		sev := analyzers.Severity(builtin.Severity(Rule))
		what := "only by a checksum (" + strings.Join(p.Algorithms, ", ") + ")"
		if p.Kind == extract.ProtectionNone {
			what = "by neither a checksum nor a signature"
		}
		msg := fmt.Sprintf("%s container at offset 0x%x is protected %s: anyone who changes it can make it pass the check, so a modified image cannot be told from the vendor's.", l.Format, l.Offset, what)
		if len(signed) > 0 {
			// another part of the image is signed: this container may be
			// checked by other means, so it is a note, not a failure
			sev = analyzers.Low
			msg += " Other containers in the image are signed: " + strings.Join(signed, ", ") + "."
		}
		f := analyzers.Finding{
			Rule:       Rule,
			Category:   Category,
			Severity:   sev,
			Layer:      l.Path,
			LayerID:    l.ID,
			Path:       l.Source,
			Offset:     analyzers.Int64(l.Offset),
			Evidence:   p.Detail,
			Message:    msg,
			Guidelines: builtin.Guidelines(Rule),
			// the same kind of container with the same protection is the
			// same finding in the next release, wherever it moved to
			Fingerprint: analyzers.Fingerprint(l.Format + "\x00" + p.Kind + "\x00" + strings.Join(p.Algorithms, ",")),
		}
		out = append(out, f)
	}
	return out, nil
}
