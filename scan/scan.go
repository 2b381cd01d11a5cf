// Package scan is the one pipeline every caller runs (fwaudit scan, fleet
// workers, tests): extract the image, run the analyzers in parallel, enrich
// the components (SBOM identity, vulnerabilities, end-of-life), filter
// (disabled rules, baseline), judge compliance once, apply the gate and
// write the outputs. cmd/fwaudit only parses flags, calls Run and maps the
// outcome to an exit code.
package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/baseline"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/rules/builtin"
	"github.com/fwaudit/fwaudit/vex"
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
	// VEXFiles are the user's OpenVEX files (--vex): their statements
	// (a CVE not_affected with a justification, or fixed) override
	// fwaudit's own applicability analysis and are shown as such.
	VEXFiles []string
	// ScanDate dates vex.openvex.json and vulns.cdx.json (zero: today).
	ScanDate time.Time
	// Progress receives extraction events.
	Progress func(extract.Event)
	// Stage is called as each stage starts ("extract", "analyze", "sbom").
	Stage func(string)

	// DisableRules drops the findings of these rules (config.RuleDisabled
	// patterns); the report records the rules and how many were dropped.
	DisableRules []string
	// Baseline accepts findings: they move to the report's suppressed list,
	// stay visible in every output, and make the items they would fail
	// pass-with-exceptions instead of pass.
	Baseline *baseline.File
	// Today decides baseline expiry; zero means now.
	Today time.Time
	// Gate decides Result.Gate.
	Gate Gate
	// OutDir, when set, receives the Outputs (DefaultOutputs when nil),
	// written without following links that stand in it. OutSub is a folder
	// inside OutDir to write into instead (one per image of several).
	OutDir  string
	OutSub  string
	Outputs []string
}

// Result is a finished scan: the final report (filtered, with its one
// compliance judgement), the SBOM documents, the gate's decision and the
// files written.
type Result struct {
	Report *report.Report
	// SBOM holds the encoded SBOMs by file name (sbom.cdx.json,
	// sbom.spdx.json, and vulns.cdx.json when vulnerabilities were matched).
	SBOM map[string][]byte
	// WorkDir is where the layers are (removed unless KeepWorkDir).
	WorkDir string
	// Gate is the gate's decision on the report.
	Gate GateResult
	// Files are the names written into the output folder, sorted.
	Files []string
	// OutDir is the folder they were written to.
	OutDir string
}

// Run scans one image. An error means the image could not be read at all,
// the scan was cancelled, or the outputs could not be written.
func Run(ctx context.Context, image string, opt Options) (*Result, error) {
	if err := CheckOutputs(opt.Outputs); err != nil {
		return nil, err
	}
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
	var users []*vex.User
	for _, p := range opt.VEXFiles {
		u, err := vex.LoadUser(p)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
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
	if !opt.SkipSBOM {
		if why := syftSkipped(work); why != "" {
			if opt.WorkDir == "" {
				os.RemoveAll(work)
			}
			return nil, fmt.Errorf("work folder %s: %s, where syft catalogues nothing (the SBOM would miss every package it finds): unpack elsewhere with --workdir or TMPDIR (a tmpfs mounted outside /dev and /run will do)", work, why)
		}
	}
	// the work folder goes once nothing reads it any more: in the
	// background while the report is judged and written (done), and
	// always before Run returns
	var removing chan struct{}
	removeWork := func() {
		if opt.KeepWorkDir || removing != nil {
			return
		}
		removing = make(chan struct{})
		go func() {
			os.RemoveAll(work)
			close(removing)
		}()
	}
	defer func() {
		removeWork()
		if removing != nil {
			<-removing
		}
	}()
	stage("extract")
	if !opt.SkipSBOM {
		// syft's license scanner compiles its license texts into one
		// automaton (about 1.3 s of CPU, once per process): build it while
		// extraction leaves a core idle, not after, when the analyzers
		// and the SBOM compete for both
		go licenseContext(context.Background())
	}
	res, err := extract.Extract(ctx, image, work, extract.Options{Limits: opt.Limits, Progress: opt.Progress})
	if err != nil {
		return nil, err
	}
	extractDur := time.Since(start)

	stage("analyze")
	t0 := time.Now()
	target := analyzers.NewTarget(res.Layers)
	unpacked := fileSystemUnpacked(res.Layers)
	if len(target.Files()) == 0 && len(res.Layers) > 0 {
		// nothing unpacked: a bare binary or an unknown container; let the
		// analyzers read the image itself
		target.AddImage(res.Layers[0], image)
	}
	list := opt.Analyzers
	if list == nil {
		list = Default()
	}
	// The tree is complete after extraction: the component catalogue and
	// the SBOM (syft) are built while the analyzers run. Their results
	// are joined below in the order they had when the stages ran one
	// after another, so the report is the same.
	t1 := time.Now()
	sb := make(chan sbomStage, 1)
	// the stage has the analyzers' time bound (stageWithin)
	sctx, scancel := ctx, context.CancelFunc(func() {})
	if d := opt.Limits.AnalyzerTimeout; d > 0 {
		sctx, scancel = context.WithTimeout(ctx, d)
	}
	defer scancel()
	go func() {
		st := sbomStageFn(sctx, image, res, target, list, !opt.SkipSBOM)
		st.done = time.Now()
		sb <- st
	}()
	// the compliance hints read the tree too (documentation, update
	// scripts): found now, used when the report is judged
	hints := make(chan map[string][]string, 1)
	go func() { hints <- compliance.FindHints(target) }()
	out := analyzers.RunWithin(ctx, target, list, opt.Jobs, opt.Limits.AnalyzerTimeout)
	findings := append(out.Findings, LayerFindings(res.Layers)...)
	analyzers.SortFindings(findings)
	analyzeDur := time.Since(t0)

	var st sbomStage
	select {
	case st = <-sb:
		st = stageBound(ctx, sctx, st, opt.Limits.AnalyzerTimeout)
	default:
		stage("components, sbom") // the analyzers are done, these are not
		st = awaitStage(ctx, sctx, sb, opt.Limits.AnalyzerTimeout)
	}
	if st.catalogErr != nil {
		out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "components", Error: st.catalogErr.Error()})
	} else {
		out.Ran = append(out.Ran, "components")
	}
	comps, sboms, merged := st.comps, st.sboms, st.merged
	if st.sbomErr != nil {
		out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "sbom", Error: st.sbomErr.Error()})
	}
	applyEOL(comps, findings)
	var dbInfo *report.VulnDB
	matched := false
	if !opt.SkipVulns && merged != nil {
		stage("vulns")
		ms, info, err := vulns.MatchSBOM(ctx, merged, opt.Vulns)
		if err != nil {
			out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "vulns", Error: err.Error()})
		} else {
			out.Ran = append(out.Ran, "vulns")
			matched = true
			dbInfo = &report.VulnDB{Source: info.Source, Path: info.Path, Built: info.Built.UTC().Format(time.RFC3339), Schema: info.Schema, Records: info.Records, Summary: info.Summary}
			if !info.DataDate.IsZero() {
				dbInfo.DataDate = info.DataDate.UTC().Format("2006-01-02")
			}
			// applicability of every match, from the image's own evidence
			// and the user's VEX files
			an, notes := analyze(target, comps, ms, users)
			if len(notes) > 0 {
				// a bound was hit while reading evidence: the decisions
				// it touched are under investigation; say which
				sort.Strings(notes)
				out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "vex", Error: "evidence bounds hit: " + strings.Join(notes, "; ")})
			}
			findings = append(findings, applyMatches(comps, ms, an)...)
			analyzers.SortFindings(findings)
			date := opt.ScanDate
			if date.IsZero() {
				date = time.Now().UTC()
			}
			if sboms == nil {
				sboms = map[string][]byte{}
			}
			// the SBOM with its vulnerabilities and their analysis, as
			// grype's CycloneDX presenter writes it, and the OpenVEX
			// document of the same decisions
			if doc, err := VulnsCycloneDX(merged, ms, VulnsMeta{ImageSHA256: res.SHA256, Date: date, Analyses: an}); err != nil {
				out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "vulns", Error: err.Error()})
			} else {
				sboms["vulns.cdx.json"] = doc
			}
			if doc, err := vex.OpenVEX(vex.Document{ImageSHA256: res.SHA256, ImageName: filepath.Base(image), Date: date, Tool: "fwaudit " + Version}, vexItems(ms, comps, an)); err != nil {
				out.Failures = append(out.Failures, analyzers.Failure{Analyzer: "vulns", Error: err.Error()})
			} else if doc != nil {
				sboms["vex.openvex.json"] = doc
			}
		}
	}
	sbomDur := time.Since(t1)
	hinted := <-hints
	removeWork() // nothing below reads the extracted tree

	findings, dropped := dropDisabled(findings, opt.DisableRules)
	rep := &report.Report{
		Schema:     report.SchemaVersion,
		Tool:       report.Tool{Name: "fwaudit", Version: Version},
		Image:      report.Image{Path: filepath.Base(image), Name: filepath.Base(image), SHA256: res.SHA256, Size: res.Size},
		Layers:     res.Layers,
		Findings:   findings,
		Components: comps,
		Analyzers:  report.AnalyzerSummary{Ran: out.Ran, Failures: out.Failures, Coverage: coverage(out.Coverage, comps, matched)},
		VulnDB:     dbInfo,
	}
	if len(opt.DisableRules) > 0 {
		rep.Disabled = &report.Disabled{Rules: slices.Clone(opt.DisableRules), Findings: dropped}
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
	if opt.Baseline != nil {
		today := opt.Today
		if today.IsZero() {
			today = time.Now().UTC()
		}
		o := baseline.Apply(rep, opt.Baseline, today)
		rep.Baseline = &report.BaselineInfo{File: opt.Baseline.Name, SHA256: opt.Baseline.SHA256,
			Entries: len(opt.Baseline.Entries), Suppressed: o.Suppressed}
	}

	stage("compliance")
	as := assess(res.Layers, unpacked)
	rep.Assessment = &as
	verdicts := compliance.Evaluate(JudgeInput(rep, hinted, opt.ComplianceThreshold), nil)
	rep.Compliance = &verdicts

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
	for _, f := range rep.Findings {
		rep.Stats.FindingCount[string(f.Severity)]++
	}
	result := &Result{Report: rep, SBOM: sboms, WorkDir: work, Gate: opt.Gate.Decide(rep)}
	if err := ctx.Err(); err != nil {
		return result, err
	}
	if opt.OutDir != "" {
		outputs := opt.Outputs
		if outputs == nil {
			outputs = DefaultOutputs
		}
		files, err := Render(rep, sboms, outputs)
		if err != nil {
			return result, err
		}
		if result.Files, err = WriteFiles(opt.OutDir, opt.OutSub, files); err != nil {
			return result, err
		}
		result.OutDir = filepath.Join(opt.OutDir, opt.OutSub)
	}
	return result, nil
}

// coverage completes the analyzers' coverage with the enrichment stages:
// components (the components found) and vulns (the components matched).
func coverage(cov map[string]analyzers.Coverage, comps []report.Component, matched bool) map[string]analyzers.Coverage {
	out := make(map[string]analyzers.Coverage, len(cov)+2)
	for k, v := range cov {
		out[k] = v
	}
	var names []string
	for _, c := range comps {
		names = append(names, c.Name+" "+c.Version)
	}
	sort.Strings(names)
	ex := names
	if len(ex) > analyzers.MaxCoverageExamples {
		ex = ex[:analyzers.MaxCoverageExamples]
	}
	out["components"] = analyzers.Coverage{Examined: len(comps), Examples: slices.Clone(ex), What: "software components"}
	if matched {
		out["vulns"] = analyzers.Coverage{Examined: len(comps), Examples: slices.Clone(ex), What: "software components to match"}
	} else {
		out["vulns"] = analyzers.Coverage{What: "software components to match"}
	}
	return out
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
				Guidelines: anomalyGuidelines(a.Kind),
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
				Severity:   analyzers.Severity(builtin.Severity("extraction-" + string(l.Status))),
				Layer:      l.Path,
				LayerID:    l.ID,
				Path:       l.Source,
				Offset:     analyzers.Int64(l.Offset),
				Evidence:   l.Error,
				Message:    fmt.Sprintf("%s layer at offset 0x%x could not be fully unpacked: %s; what it holds was not analysed", l.Format, l.Offset, l.Error),
				Guidelines: builtin.Guidelines("extraction-" + string(l.Status)),
				Analyzer:   "extract",
			}
			f.SetID()
			fs = append(fs, f)
		case extract.StatusOpaque:
			f := analyzers.Finding{
				Rule:       "opaque-data",
				Category:   "extraction-anomaly",
				Severity:   analyzers.Severity(builtin.Severity("opaque-data")),
				Layer:      l.Path,
				LayerID:    l.ID,
				Path:       l.Source,
				Offset:     analyzers.Int64(l.Offset),
				Evidence:   fmt.Sprintf("%d bytes, entropy %.2f bits/byte", l.Size, l.Entropy),
				Message:    "data of an unknown format with high entropy (encrypted or compressed); it could not be analysed",
				Guidelines: builtin.Guidelines("opaque-data"),
				Analyzer:   "extract",
			}
			f.SetID()
			fs = append(fs, f)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].ID < fs[j].ID })
	return fs
}

// anomalyGuidelines are the guidelines of an anomaly kind's rule data (none
// for a kind builtin.yaml does not document yet).
func anomalyGuidelines(kind string) []int {
	if d := builtin.Default().Rule("extraction-anomaly/" + kind); d != nil {
		return append([]int{}, d.Guidelines...)
	}
	return []int{}
}

func anomalySeverity(kind string) analyzers.Severity {
	if d := builtin.Default().Rule("extraction-anomaly/" + kind); d != nil {
		return analyzers.Severity(d.Severity)
	}
	// a kind builtin.yaml does not document yet
	return analyzers.Low
}
