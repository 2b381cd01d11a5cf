package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/baseline"
	"github.com/fwaudit/fwaudit/config"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/scan"
	"github.com/fwaudit/fwaudit/vulns"
)

type scanFlags struct {
	out     string
	format  string
	jobs    int
	workdir string
	keep    bool
	failOn  string
	quiet   bool
	noSBOM  bool
	limits  limitFlags
	pwFiles []string
	rules   string
	pwOnly  bool
	date    string
	stale   int
	vulnDB  string
	noVulns bool

	// CI gating and baselines (baseline.go)
	config          string
	noConfig        bool
	baseline        string
	vexFiles        []string
	failOnGuideline []int
	disableRules    []string
	threshold       string
	outputs         []string

	fpKeyFile string // fleet: keyed fingerprints (worker.go)
}

func newScanCmd() *cobra.Command {
	var sf scanFlags
	cmd := &cobra.Command{
		Use:   "scan IMAGE...",
		Short: "Unpack and audit firmware images; print a summary or write reports",
		Long: `scan unpacks each IMAGE (vendor update file or raw flash dump), runs every
analyzer over the unpacked file systems in parallel and reports what it finds.

Without --out a summary goes to stdout in the --format chosen. With --out DIR
it writes, per image:
  report.json     the full report (schema: docs/report-schema.md)
  report.md       the report for people: compliance verdicts, layers,
                  findings by severity, components
  report.html     one self-contained page for non-technical readers
  findings.sarif  SARIF 2.1.0 for code-scanning tools (GitHub)
  sbom.cdx.json   CycloneDX 1.6 SBOM (syft + firmware classifiers)
  sbom.spdx.json  SPDX 2.3 SBOM of the same
  vulns.cdx.json  CycloneDX with the matched vulnerabilities and their
                  applicability analysis
  vex.openvex.json  OpenVEX: the applicability decision for every match
(--outputs or outputs: in .fwaudit.yaml choose among json, markdown, html,
sarif, sbom.)
One image goes straight into DIR; several go into DIR/<image name>/ each, one
after another.

A layer that fails to unpack is reported (with its error) and the rest of the
image is still analysed; an image of which no file system could be unpacked
is reported as not assessed. Exit codes: 0 no finding at or above --fail-on
and no --fail-on-guideline guideline that fails or is not assessed, 1
findings at or above --fail-on or a gated guideline that fails or could not
be assessed, 2 usage error, a bad configuration or baseline, an image that
could not be read at all or outputs that could not be written, 130/143 when
stopped by SIGINT/SIGTERM (the work folder is removed first).

Settings can live in .fwaudit.yaml in the current folder (or --config FILE);
flags override it. With --baseline FILE (written by "fwaudit baseline
create"), accepted findings stay in every output as accepted, make the
guidelines they would fail pass-with-exceptions and do not fail the run.
See docs/configuration.md.`,
		Example: `  fwaudit scan router.bin
  fwaudit scan router.bin --out results/ --fail-on critical
  fwaudit scan *.bin --out results/ --quiet
  fwaudit scan router.bin --format json > report.json
  fwaudit scan router.bin --fail-on none --fail-on-guideline 1,3
  fwaudit scan router.bin --baseline .fwaudit-baseline.yaml --out results/`,
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, args, &sf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&sf.out, "out", "", "folder to write the reports and SBOMs into (see --outputs)")
	f.StringVar(&sf.format, "format", "table", "stdout format without --out: table, json, jsonl (one report per line; what json prints for several images), markdown or sarif")
	f.IntVar(&sf.jobs, "jobs", runtime.GOMAXPROCS(0), "analyzers run at once")
	f.StringVar(&sf.workdir, "workdir", "", "where to unpack (default: a temporary folder, removed afterwards)")
	f.BoolVar(&sf.keep, "keep-workdir", false, "keep the unpacked layers after the scan (path printed on stderr)")
	f.StringVar(&sf.failOn, "fail-on", "high", "exit 1 if a finding is at or above this severity: critical, high, medium, low, info, or none")
	f.BoolVarP(&sf.quiet, "quiet", "q", false, "print nothing but errors on stderr")
	f.BoolVar(&sf.noSBOM, "no-sbom", false, "skip the SBOM (syft) stage")
	f.StringArrayVar(&sf.pwFiles, "passwords", nil, "extra default-password list (one per line, # comments), tried before the embedded one; repeatable")
	f.BoolVar(&sf.pwOnly, "passwords-only", false, "use only the --passwords lists, not the embedded dictionary")
	f.StringVar(&sf.rules, "rules", "", "folder of rule files (credentials.yaml, programs.yaml, services.yaml, transport.yaml, tokens.yaml, components.yaml) that add to or override the embedded rules")
	f.StringVar(&sf.date, "scan-date", "", "judge end-of-life and staleness as of this date (YYYY-MM-DD; default today), for reproducible reports")
	f.IntVar(&sf.stale, "stale-years", 0, "a component released more than this many years before the scan date is stale (0 = the rules' default, 5; negative = off)")
	f.StringVar(&sf.vulnDB, "vuln-db", "", "grype v6 vulnerability database to match against (default: one imported with fwaudit db import, else grype's own cache, else the embedded feed)")
	f.BoolVar(&sf.noVulns, "no-vulns", false, "skip vulnerability matching")
	f.StringVar(&sf.config, "config", "", "configuration file (default: "+config.FileName+" in the current folder, if any); flags override it")
	f.BoolVar(&sf.noConfig, "no-config", false, "ignore "+config.FileName+" in the current folder")
	f.StringVar(&sf.baseline, "baseline", "", "baseline of accepted findings (fwaudit baseline create): they are reported as suppressed and do not fail the run")
	f.StringArrayVar(&sf.vexFiles, "vex", nil, "OpenVEX file of your own vulnerability decisions (not_affected with a justification, fixed): shown as accepted, never hidden; repeatable")
	f.IntSliceVar(&sf.failOnGuideline, "fail-on-guideline", nil, "exit 1 if one of these UK Code of Practice guidelines fails (e.g. 1,3)")
	f.StringSliceVar(&sf.disableRules, "disable-rule", nil, `drop the findings of this rule ("eol-component"; a parent such as "extraction-anomaly" covers its sub-rules; "eol-*" is a prefix); repeatable`)
	f.StringVar(&sf.threshold, "compliance-threshold", "medium", "findings at or above this severity fail the compliance items they map to")
	f.StringSliceVar(&sf.outputs, "outputs", scan.DefaultOutputs, "what --out writes: json, markdown, sarif, html, sbom")
	f.StringVar(&sf.fpKeyFile, "fingerprint-key-file", "", "key for the fingerprints of secrets (default $FWAUDIT_FINGERPRINT_KEY, else the public key: docs/fleet.md)")
	sf.limits.add(cmd, true)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json", "jsonl", "markdown", "sarif"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"critical", "high", "medium", "low", "info", "none"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runScan(cmd *cobra.Command, args []string, sf *scanFlags) error {
	if err := applyConfig(cmd, sf); err != nil {
		return usageErr("%v", err)
	}
	if err := useFingerprintKey(sf.fpKeyFile); err != nil {
		return usageErr("%v", err)
	}
	switch sf.format {
	case "table", "json", "jsonl", "markdown", "sarif":
	default:
		return usageErr("--format must be table, json, jsonl, markdown or sarif, not %q", sf.format)
	}
	if sf.failOn != "none" {
		if _, err := analyzers.ParseSeverity(sf.failOn); err != nil {
			return usageErr("--fail-on must be one of critical, high, medium, low, info or none, not %q", sf.failOn)
		}
	}
	if sf.jobs < 1 {
		return usageErr("--jobs must be at least 1")
	}
	if err := config.CheckGuidelines(sf.failOnGuideline); err != nil {
		return usageErr("--fail-on-guideline: %v", err)
	}
	threshold, err := analyzers.ParseSeverity(sf.threshold)
	if err != nil {
		return usageErr("--compliance-threshold: %v", err)
	}
	if err := checkOutputs(sf.outputs); err != nil {
		return usageErr("--outputs: %v", err)
	}
	for _, r := range sf.disableRules {
		if r == "" || r == "*" {
			return usageErr("--disable-rule: %q would disable nothing or everything", r)
		}
	}
	var bl *baseline.File
	if sf.baseline != "" {
		if bl, err = baseline.Load(sf.baseline); err != nil {
			return usageErr("%v", err)
		}
	}
	lim, err := sf.limits.limits()
	if err != nil {
		return usageErr("%v", err)
	}
	var date time.Time
	if sf.date != "" {
		d, err := time.Parse("2006-01-02", sf.date)
		if err != nil {
			return usageErr("--scan-date: want YYYY-MM-DD: %v", err)
		}
		date = d
	}
	today := date
	if today.IsZero() {
		today = time.Now().UTC()
	}
	list, err := scan.Analyzers(scan.Rules{PasswordFiles: sf.pwFiles, ReplacePasswords: sf.pwOnly, ScanDate: date, StaleYears: sf.stale, MaxHashWork: lim.MaxHashWork, Dir: sf.rules})
	if err != nil {
		return usageErr("%v", err)
	}
	for _, img := range args {
		fi, err := os.Stat(img)
		if err != nil {
			return usageErr("%v", err)
		}
		if !fi.Mode().IsRegular() {
			return usageErr("%s is not a regular file", img)
		}
	}
	ctx, stop := signalContext()
	defer stop()

	var gate scan.Gate
	if sf.failOn != "none" {
		gate.FailOn, _ = analyzers.ParseSeverity(sf.failOn)
	}
	gate.Guidelines = sf.failOnGuideline
	stdout := cmd.OutOrStdout()
	format := sf.format
	if format == "json" && len(args) > 1 {
		// several reports on stdout: one JSON document per line
		format = "jsonl"
	}
	failed := false
	unreadable := 0
	usedNames := map[string]int{}
	for _, img := range args {
		p := newProgress(sf.quiet)
		name := terminalSafe(filepath.Base(img))
		opt := scan.Options{
			Limits: lim, Jobs: sf.jobs, WorkDir: sf.workdir, KeepWorkDir: sf.keep, SkipSBOM: sf.noSBOM, Analyzers: list,
			SkipVulns: sf.noVulns, Vulns: vulns.Options{DBPath: sf.vulnDB}, ComplianceThreshold: threshold,
			VEXFiles: sf.vexFiles, ScanDate: date,
			Progress:     p.event,
			Stage:        func(s string) { p.printf("%s: %s", name, s) },
			DisableRules: sf.disableRules, Baseline: bl, Today: today, Gate: gate,
			Outputs: sf.outputs,
		}
		if sf.out != "" {
			opt.OutDir = sf.out
			if len(args) > 1 {
				sub := filepath.Base(img)
				usedNames[sub]++
				if n := usedNames[sub]; n > 1 {
					sub = fmt.Sprintf("%s-%d", sub, n)
				}
				opt.OutSub = sub
			}
		}
		res, err := scan.Run(ctx, img, opt)
		p.done()
		if sig := ctx.Err(); sig != nil {
			return &exitError{code: interruptedCode(), err: fmt.Errorf("%s: interrupted; the work folder was removed", terminalSafe(img))}
		}
		if err != nil {
			if res != nil && sf.out != "" {
				// the scan finished but its outputs could not be written
				return &exitError{code: exitUsage, err: fmt.Errorf("%s: %v", terminalSafe(img), err)}
			}
			fmt.Fprintf(os.Stderr, "fwaudit: %s: %v\n", terminalSafe(img), err)
			unreadable++
			continue
		}
		if sf.keep && !sf.quiet {
			fmt.Fprintf(os.Stderr, "fwaudit: unpacked layers kept in %s\n", res.WorkDir)
		}
		rep := res.Report
		if !sf.quiet {
			for _, pr := range rep.BaselineProblems {
				fmt.Fprintf(os.Stderr, "fwaudit: %s: baseline %s\n", name, terminalSafe(pr))
			}
			if rep.Assessment != nil && rep.Assessment.Status == report.NotAssessed {
				fmt.Fprintf(os.Stderr, "fwaudit: %s: the image could not be assessed: %s\n", name, terminalSafe(rep.Assessment.Reason))
			}
			for _, r := range res.Gate.Reasons {
				fmt.Fprintf(os.Stderr, "fwaudit: %s: %s\n", name, terminalSafe(r))
			}
		}
		if res.Gate.Failed {
			failed = true
		}
		if sf.out != "" {
			if !sf.quiet {
				c := report.SeverityCounts(rep)
				sup := ""
				if n := len(rep.Suppressed); n > 0 {
					sup = fmt.Sprintf(", %d accepted by the baseline", n)
				}
				head := ""
				if rep.Assessment != nil && rep.Assessment.Status == report.NotAssessed {
					head = "NOT ASSESSED, "
				}
				fmt.Fprintf(stdout, "%s: %s%d findings (%d critical, %d high%s) → %s\n", terminalSafe(img), head, len(rep.Findings), c["critical"], c["high"], sup, res.OutDir)
			}
			continue
		}
		var buf bytes.Buffer
		switch format {
		case "json":
			err = report.WriteJSON(&buf, rep)
		case "jsonl":
			err = writeJSONLine(&buf, rep)
		case "markdown":
			err = report.WriteMarkdown(&buf, rep)
		case "sarif":
			err = report.WriteSARIF(&buf, rep)
		default:
			err = report.WriteTable(&buf, rep)
		}
		if err != nil {
			return err
		}
		if !sf.quiet || sf.format != "table" {
			io.Copy(stdout, &buf)
		}
	}
	if unreadable > 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("%d of %d images could not be read", unreadable, len(args))}
	}
	if failed {
		return &exitError{code: exitFindings}
	}
	return nil
}

// writeJSONLine writes r as one line of JSON (JSON Lines).
func writeJSONLine(w io.Writer, r *report.Report) error {
	var doc, line bytes.Buffer
	if err := report.WriteJSON(&doc, r); err != nil {
		return err
	}
	if err := json.Compact(&line, doc.Bytes()); err != nil {
		return err
	}
	line.WriteByte('\n')
	_, err := w.Write(line.Bytes())
	return err
}

func checkOutputs(outs []string) error {
	if err := config.CheckOutputs(outs); err != nil {
		return err
	}
	return scan.CheckOutputs(outs)
}
