package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	pwOnly  bool
	date    string
	stale   int
	vulnDB  string
	noVulns bool

	// CI gating and baselines (baseline.go)
	config          string
	noConfig        bool
	baseline        string
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
  vulns.cdx.json  CycloneDX with the matched vulnerabilities
(--outputs or outputs: in .fwaudit.yaml choose among json, markdown, html,
sarif, sbom.)
One image goes straight into DIR; several go into DIR/<image name>/ each, one
after another.

A layer that fails to unpack is reported (with its error) and the rest of the
image is still analysed. Exit codes: 0 no finding at or above --fail-on and
no failing --fail-on-guideline, 1 findings at or above --fail-on or a Code of
Practice guideline of --fail-on-guideline that fails, 2 usage error, a bad
configuration or baseline, or an image that could not be read at all.

Settings can live in .fwaudit.yaml in the current folder (or --config FILE);
flags override it. With --baseline FILE (written by "fwaudit baseline
create"), accepted findings are reported as suppressed and do not fail the
run. See docs/configuration.md.`,
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
	f.StringVar(&sf.format, "format", "table", "stdout format without --out: table, json, markdown or sarif")
	f.IntVar(&sf.jobs, "jobs", runtime.GOMAXPROCS(0), "analyzers run at once")
	f.StringVar(&sf.workdir, "workdir", "", "where to unpack (default: a temporary folder, removed afterwards)")
	f.BoolVar(&sf.keep, "keep-workdir", false, "keep the unpacked layers after the scan (path printed on stderr)")
	f.StringVar(&sf.failOn, "fail-on", "high", "exit 1 if a finding is at or above this severity: critical, high, medium, low, info, or none")
	f.BoolVarP(&sf.quiet, "quiet", "q", false, "print nothing but errors on stderr")
	f.BoolVar(&sf.noSBOM, "no-sbom", false, "skip the SBOM (syft) stage")
	f.StringArrayVar(&sf.pwFiles, "passwords", nil, "extra default-password list (one per line, # comments), tried before the embedded one; repeatable")
	f.BoolVar(&sf.pwOnly, "passwords-only", false, "use only the --passwords lists, not the embedded dictionary")
	f.StringVar(&sf.date, "scan-date", "", "judge end-of-life and staleness as of this date (YYYY-MM-DD; default today), for reproducible reports")
	f.IntVar(&sf.stale, "stale-years", 0, "a component released more than this many years before the scan date is stale (0 = the rules' default, 5; negative = off)")
	f.StringVar(&sf.vulnDB, "vuln-db", "", "grype v6 vulnerability database to match against (default: one imported with fwaudit db import, else grype's own cache, else the embedded feed)")
	f.BoolVar(&sf.noVulns, "no-vulns", false, "skip vulnerability matching")
	f.StringVar(&sf.config, "config", "", "configuration file (default: "+config.FileName+" in the current folder, if any); flags override it")
	f.BoolVar(&sf.noConfig, "no-config", false, "ignore "+config.FileName+" in the current folder")
	f.StringVar(&sf.baseline, "baseline", "", "baseline of accepted findings (fwaudit baseline create): they are reported as suppressed and do not fail the run")
	f.IntSliceVar(&sf.failOnGuideline, "fail-on-guideline", nil, "exit 1 if one of these UK Code of Practice guidelines fails (e.g. 1,3)")
	f.StringSliceVar(&sf.disableRules, "disable-rule", nil, `drop the findings of this rule ("eol-component"; a parent such as "extraction-anomaly" covers its sub-rules; "eol-*" is a prefix); repeatable`)
	f.StringVar(&sf.threshold, "compliance-threshold", "medium", "findings at or above this severity fail the compliance items they map to")
	f.StringSliceVar(&sf.outputs, "outputs", defaultOutputs, "what --out writes: json, markdown, sarif, html, sbom")
	f.StringVar(&sf.fpKeyFile, "fingerprint-key-file", "", "key for the fingerprints of secrets (default $FWAUDIT_FINGERPRINT_KEY, else the public key: docs/fleet.md)")
	sf.limits.add(cmd)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json", "markdown", "sarif"}, cobra.ShellCompDirectiveNoFileComp))
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
	case "table", "json", "markdown", "sarif":
	default:
		return usageErr("--format must be table, json, markdown or sarif, not %q", sf.format)
	}
	failRank := 99
	if sf.failOn != "none" {
		sev, err := analyzers.ParseSeverity(sf.failOn)
		if err != nil {
			return usageErr("--fail-on: %v", err)
		}
		failRank = sev.Rank()
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
	list, err := scan.Analyzers(scan.Rules{PasswordFiles: sf.pwFiles, ReplacePasswords: sf.pwOnly, ScanDate: date, StaleYears: sf.stale})
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	stdout := cmd.OutOrStdout()
	failed := false
	unreadable := 0
	usedNames := map[string]int{}
	for _, img := range args {
		p := newProgress(sf.quiet)
		opt := scan.Options{
			Limits: lim, Jobs: sf.jobs, WorkDir: sf.workdir, KeepWorkDir: sf.keep, SkipSBOM: sf.noSBOM, Analyzers: list,
			SkipVulns: sf.noVulns, Vulns: vulns.Options{DBPath: sf.vulnDB}, ComplianceThreshold: threshold,
			Progress: p.event,
			Stage:    func(s string) { p.printf("%s: %s", filepath.Base(img), s) },
		}
		res, err := scan.Run(ctx, img, opt)
		p.done()
		if err != nil {
			fmt.Fprintf(os.Stderr, "fwaudit: %s: %v\n", img, err)
			unreadable++
			if ctx.Err() != nil {
				return &exitError{code: exitUsage}
			}
			continue
		}
		if sf.keep && !sf.quiet {
			fmt.Fprintf(os.Stderr, "fwaudit: unpacked layers kept in %s\n", res.WorkDir)
		}
		problems := postProcess(res.Report, sf.disableRules, bl, today, threshold)
		if !sf.quiet {
			for _, p := range problems {
				fmt.Fprintf(os.Stderr, "fwaudit: %s: baseline %s\n", img, p)
			}
		}
		for _, f := range res.Report.Findings {
			if f.Severity.Rank() >= failRank {
				failed = true
			}
		}
		if gs := failingGuidelines(res.Report, sf.failOnGuideline); len(gs) > 0 {
			failed = true
			if !sf.quiet {
				fmt.Fprintf(os.Stderr, "fwaudit: %s: Code of Practice %s\n", img, describeGuidelines(gs))
			}
		}
		if sf.out != "" {
			dir := sf.out
			if len(args) > 1 {
				name := filepath.Base(img)
				usedNames[name]++
				if n := usedNames[name]; n > 1 {
					name = fmt.Sprintf("%s-%d", name, n)
				}
				dir = filepath.Join(sf.out, name)
			}
			if err := writeOutputs(dir, res, sf.outputs); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if !sf.quiet {
				c := report.SeverityCounts(res.Report)
				sup := ""
				if n := len(res.Report.Suppressed); n > 0 {
					sup = fmt.Sprintf(", %d suppressed by the baseline", n)
				}
				fmt.Fprintf(stdout, "%s: %d findings (%d critical, %d high%s) → %s\n", img, len(res.Report.Findings), c["critical"], c["high"], sup, dir)
			}
			continue
		}
		var buf bytes.Buffer
		switch sf.format {
		case "json":
			err = report.WriteJSON(&buf, res.Report)
		case "markdown":
			err = report.WriteMarkdown(&buf, res.Report)
		case "sarif":
			err = report.WriteSARIF(&buf, res.Report)
		default:
			err = report.WriteTable(&buf, res.Report)
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

// defaultOutputs are what --out writes unless --outputs (or outputs in the
// configuration) says otherwise.
var defaultOutputs = []string{"json", "markdown", "html", "sarif", "sbom"}

// reportWriter writes one report file.
type reportWriter struct {
	file  string
	write func(io.Writer, *report.Report) error
}

// reportWriters are the report formats --out can write, by output name.
// "sbom" writes the scan's SBOM documents (sbom.cdx.json, sbom.spdx.json,
// vulns.cdx.json).
var reportWriters = map[string]reportWriter{
	"json":     {"report.json", report.WriteJSON},
	"markdown": {"report.md", report.WriteMarkdown},
	"html":     {"report.html", report.WriteHTML},
	"sarif":    {"findings.sarif", report.WriteSARIF},
}

func checkOutputs(outs []string) error {
	if err := config.CheckOutputs(outs); err != nil {
		return err
	}
	for _, o := range outs {
		if _, ok := reportWriters[o]; !ok && o != "sbom" {
			return fmt.Errorf("output %q is not available in this build", o)
		}
	}
	return nil
}

func writeOutputs(dir string, res *scan.Result, outputs []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, o := range outputs {
		if o == "sbom" {
			for name, b := range res.SBOM {
				files[name] = b
			}
			continue
		}
		w, ok := reportWriters[o]
		if !ok {
			return fmt.Errorf("output %q is not available in this build", o)
		}
		var buf bytes.Buffer
		if err := w.write(&buf, res.Report); err != nil {
			return err
		}
		files[w.file] = buf.Bytes()
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
