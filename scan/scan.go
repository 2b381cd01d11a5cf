// Package scan wires the pipeline: extract the image, run the analyzers in
// parallel, build the SBOM and assemble the report. cmd/fwaudit only parses
// flags and calls it.
package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/vulns"
)

// Version is set at build time (-ldflags "-X .../scan.Version=...").
var Version = "dev"

// Options configure one scan.
type Options struct {
	Limits extract.Limits
	Jobs   int
	// WorkDir is where layers are unpacked; empty means a temporary folder.
	WorkDir string
	// KeepWorkDir keeps the unpacked tree after the scan.
	KeepWorkDir bool
	// Analyzers to run; nil means Default().
	Analyzers []analyzers.Analyzer
	// SkipSBOM turns off syft cataloging (firmware components are still
	// found and matched).
	SkipSBOM bool
	// ComplianceThreshold: findings at or above it fail the guidelines
	// they map to; zero means medium.
	ComplianceThreshold analyzers.Severity
	// SkipVulns turns off vulnerability matching.
	SkipVulns bool
	// Vulns selects the vulnerability database.
	Vulns vulns.Options
	// Progress receives extraction events.
	Progress func(extract.Event)
	// Stage is called as each stage starts ("extract", "analyze", "sbom").
	Stage func(string)
}

// Result is a finished scan: the report and the SBOM documents.
type Result struct {
	Report *report.Report
	// SBOM holds the encoded SBOMs by file name (sbom.cdx.json,
	// sbom.spdx.json, and vulns.cdx.json when vulnerabilities were matched).
	SBOM map[string][]byte
	// WorkDir is where the layers are (removed unless KeepWorkDir).
	WorkDir string
}

// Run scans one image. An error means the image could not be read at all.
func Run(ctx context.Context, image string, opt Options) (*Result, error) {
	start := time.Now()
	if opt.Jobs < 1 {
		opt.Jobs = 2
	}
	if opt.Limits == (extract.Limits{}) {
		opt.Limits = extract.DefaultLimits()
	}
	stage := func(s string) {
		if opt.Stage != nil {
			opt.Stage(s)
		}
	}
	work := opt.WorkDir
	if work == "" {
		d, err := os.MkdirTemp("", "fwaudit-")
		if err != nil {
			return nil, err
		}
		work = d
	} else {
		// one folder per image inside the given work dir
		work = filepath.Join(work, filepath.Base(image)+".work")
		if err := os.RemoveAll(work); err != nil {
			return nil, err
		}
	}
	if !opt.KeepWorkDir {
		defer os.RemoveAll(work)
	}
	stage("extract")
	res, err := extract.Extract(ctx, image, work, extract.Options{Limits: opt.Limits, Progress: opt.Progress})
	if err != nil {
		return nil, err
	}
	extractDur := time.Since(start)

	stage("analyze")
	t0 := time.Now()
	target := analyzers.NewTarget(res.Layers)
	if len(target.Files()) == 0 && len(res.Layers) > 0 {
		// nothing unpacked: a bare binary or an unknown container; let the
		// analyzers read the image itself
		target.AddImage(res.Layers[0], image)
	}
	list := opt.Analyzers
	if list == nil {
		list = Default()
	}
	out := analyzers.Run(ctx, target, list, opt.Jobs)
	findings := append(out.Findings, LayerFindings(res.Layers)...)
	analyzers.SortFindings(findings)
	analyzeDur := time.Since(t0)

	stage("components")
	t1 := time.Now()
	fw, err := components.Catalog(ctx, target, nil)
	if err != nil {
		out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "components", Error: err.Error()})
	} else {
		out.Ran = append(out.Ran, "components")
	}
	stage("sbom")
	comps, sboms, merged, err := BuildSBOM(ctx, image, res, fw, !opt.SkipSBOM)
	if err != nil {
		out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "sbom", Error: err.Error()})
	}
	applyEOL(comps, findings)
	var dbInfo *report.VulnDB
	if !opt.SkipVulns && merged != nil {
		stage("vulns")
		ms, info, err := vulns.MatchSBOM(ctx, merged, opt.Vulns)
		if err != nil {
			out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "vulns", Error: err.Error()})
		} else {
			out.Ran = append(out.Ran, "vulns")
			dbInfo = &report.VulnDB{Source: info.Source, Path: info.Path, Built: info.Built.UTC().Format(time.RFC3339), Schema: info.Schema, Records: info.Records}
			findings = append(findings, applyMatches(comps, ms)...)
			analyzers.SortFindings(findings)
			// the SBOM with its vulnerabilities, as grype's CycloneDX
			// presenter writes it
			if doc, err := VulnsCycloneDX(merged, ms); err != nil {
				out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "vulns", Error: err.Error()})
			} else {
				if sboms == nil {
					sboms = map[string][]byte{}
				}
				sboms["vulns.cdx.json"] = doc
			}
		}
	}
	sbomDur := time.Since(t1)

	stage("compliance")
	var failed []string
	for _, f := range out.Failures {
		failed = append(failed, f.Analyzer)
	}
	verdicts := compliance.Evaluate(compliance.Input{
		Findings: findings, Ran: out.Ran, Failed: failed, Layers: res.Layers,
		Threshold: opt.ComplianceThreshold, Hints: compliance.FindHints(target),
	}, nil)

	rep := &report.Report{
		Schema:     report.SchemaVersion,
		Tool:       report.Tool{Name: "fwaudit", Version: Version},
		Image:      report.Image{Path: image, Name: filepath.Base(image), SHA256: res.SHA256, Size: res.Size},
		Layers:     res.Layers,
		Findings:   findings,
		Components: comps,
		Analyzers:  report.AnalyzerSummary{Ran: out.Ran, Failures: out.Failures},
		VulnDB:     dbInfo,
		Compliance: &verdicts,
	}
	if rep.Findings == nil {
		rep.Findings = []analyzers.Finding{}
	}
	if rep.Components == nil {
		rep.Components = []report.Component{}
	}
	if rep.Analyzers.Failures == nil {
		rep.Analyzers.Failures = []analyzers.Failure{}
	}
	if rep.Analyzers.Ran == nil {
		rep.Analyzers.Ran = []string{}
	}
	sort.Strings(rep.Analyzers.Ran)
	rep.Stats = report.Stats{
		ExtractMS:    extractDur.Milliseconds(),
		AnalyzeMS:    analyzeDur.Milliseconds(),
		SBOMMS:       sbomDur.Milliseconds(),
		TotalMS:      time.Since(start).Milliseconds(),
		AnalyzerMS:   map[string]int64{},
		Layers:       len(res.Layers),
		Files:        res.Files,
		BytesOut:     res.Bytes,
		FindingCount: map[string]int{},
	}
	for _, tm := range out.Timings {
		rep.Stats.AnalyzerMS[tm.Analyzer] = tm.Duration.Milliseconds()
	}
	for _, f := range findings {
		rep.Stats.FindingCount[string(f.Severity)]++
	}
	return &Result{Report: rep, SBOM: sboms, WorkDir: work}, ctx.Err()
}

// LayerFindings turns extraction anomalies and failed layers into findings,
// so that every refusal is visible in the report.
func LayerFindings(layers []*extract.Layer) []analyzers.Finding {
	var fs []analyzers.Finding
	for _, l := range layers {
		for _, a := range l.Anomalies {
			f := analyzers.Finding{
				Rule:       "extraction-anomaly/" + a.Kind,
				Category:   "extraction-anomaly",
				Severity:   anomalySeverity(a.Kind),
				Layer:      l.Path,
				LayerID:    l.ID,
				Path:       a.Path,
				Evidence:   a.Detail,
				Message:    fmt.Sprintf("%s while unpacking %s: %s", a.Kind, l.Format, a.Detail),
				Guidelines: []int{},
				Analyzer:   "extract",
			}
			f.Fingerprint = analyzers.Fingerprint(a.Kind + "\x00" + a.Path + "\x00" + a.Detail)
			f.SetID()
			fs = append(fs, f)
		}
		switch l.Status {
		case extract.StatusFailed, extract.StatusPartial:
			f := analyzers.Finding{
				Rule:       "extraction-" + string(l.Status),
				Category:   "extraction-anomaly",
				Severity:   analyzers.Low,
				Layer:      l.Path,
				LayerID:    l.ID,
				Path:       l.Source,
				Offset:     analyzers.Int64(l.Offset),
				Evidence:   l.Error,
				Message:    fmt.Sprintf("%s layer at offset 0x%x could not be fully unpacked: %s; what it holds was not analysed", l.Format, l.Offset, l.Error),
				Guidelines: []int{},
				Analyzer:   "extract",
			}
			f.SetID()
			fs = append(fs, f)
		case extract.StatusOpaque:
			f := analyzers.Finding{
				Rule:       "opaque-data",
				Category:   "extraction-anomaly",
				Severity:   analyzers.Info,
				Layer:      l.Path,
				LayerID:    l.ID,
				Path:       l.Source,
				Offset:     analyzers.Int64(l.Offset),
				Evidence:   fmt.Sprintf("%d bytes, entropy %.2f bits/byte", l.Size, l.Entropy),
				Message:    "data of an unknown format with high entropy (encrypted or compressed); it could not be analysed",
				Guidelines: []int{},
				Analyzer:   "extract",
			}
			f.SetID()
			fs = append(fs, f)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].ID < fs[j].ID })
	return fs
}

func anomalySeverity(kind string) analyzers.Severity {
	switch kind {
	case extract.AnomalyTraversal, extract.AnomalySymlinkWrite, extract.AnomalyLinkEscape:
		return analyzers.High
	case extract.AnomalyAbsolute, extract.AnomalyLimit, extract.AnomalyDepth, extract.AnomalyLoop, extract.AnomalyPanic,
		extract.AnomalyTime, extract.AnomalyLayers:
		return analyzers.Medium
	default:
		return analyzers.Low
	}
}
