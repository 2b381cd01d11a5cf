package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/baseline"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/reportdiff"
	"github.com/fwaudit/fwaudit/scan"
	"github.com/fwaudit/fwaudit/vulns"
)

type diffFlags struct {
	format   string
	failOn   string
	date     string
	vulnDB   string
	noVulns  bool
	jobs     int
	quiet    bool
	output   string
	baseline string
	disable  []string
	limits   limitFlags
}

func newDiffCmd() *cobra.Command {
	var df diffFlags
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two releases: findings new, fixed and unchanged, component and CVE changes, verdict changes",
		Long: `diff compares two firmware releases. OLD and NEW are each a firmware image
(scanned first, as "fwaudit scan" would) or a report.json written by
"fwaudit scan --out".

It reports findings that are new, fixed or unchanged, matched by an identity
that survives a new release: the rule, the path inside the image and the
fingerprint of the secret or item (not the line number or byte offset, which
move whenever anything before them changes); component versions that
changed, appeared or disappeared; CVEs fixed and introduced; and compliance
verdicts per UK Code of Practice guideline (for ETSI EN 303 645, UK PSTI and
the EU CRA, the items that changed).

--fail-on applies to NEW findings only (findings a baseline accepted do not
count): a manufacturer's CI can ask "does this release add anything at or
above high?" while known findings are tracked elsewhere.

Exit codes: 0 no new finding at or above --fail-on, 1 new findings at or
above it, 2 usage error or an input that could not be read or scanned.`,
		Example: `  fwaudit diff router-1.0.bin router-1.1.bin
  fwaudit diff old/report.json new/report.json --format markdown > CHANGES.md
  fwaudit diff router-1.0.bin router-1.1.bin --format json --fail-on medium`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd, args, &df)
		},
	}
	f := cmd.Flags()
	f.StringVar(&df.format, "format", "table", "output format: "+strings.Join(reportdiff.Formats, ", "))
	f.StringVar(&df.failOn, "fail-on", "high", "exit 1 if a NEW finding is at or above this severity: "+strings.Join(reportdiff.Severities, ", "))
	f.StringVar(&df.date, "scan-date", "", "for images: judge end-of-life and staleness as of this date (YYYY-MM-DD; default today)")
	f.StringVar(&df.vulnDB, "vuln-db", "", "for images: grype v6 vulnerability database (as for scan)")
	f.BoolVar(&df.noVulns, "no-vulns", false, "for images: skip vulnerability matching")
	f.IntVar(&df.jobs, "jobs", runtime.GOMAXPROCS(0), "for images: analyzers run at once")
	f.BoolVarP(&df.quiet, "quiet", "q", false, "print nothing but errors on stderr")
	f.StringVarP(&df.output, "output", "o", "", "write the diff to this file instead of stdout")
	f.StringVar(&df.baseline, "baseline", "", "for images: baseline of accepted findings (as for scan); accepted findings are shown as such and never fail the diff")
	f.StringSliceVar(&df.disable, "disable-rule", nil, "for images: drop the findings of this rule (as for scan); repeatable")
	df.limits.add(cmd, true)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(reportdiff.Formats, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(reportdiff.Severities, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runDiff(cmd *cobra.Command, args []string, df *diffFlags) error {
	okFormat := false
	for _, f := range reportdiff.Formats {
		okFormat = okFormat || f == df.format
	}
	if !okFormat {
		return usageErr("--format %q: want one of %s", df.format, strings.Join(reportdiff.Formats, ", "))
	}
	sev, gate, err := reportdiff.ParseFailOn(df.failOn)
	if err != nil {
		return usageErr("%v", err)
	}
	if df.jobs < 1 {
		return usageErr("--jobs must be at least 1")
	}
	var date time.Time
	if df.date != "" {
		if date, err = time.Parse("2006-01-02", df.date); err != nil {
			return usageErr("--scan-date: want YYYY-MM-DD: %v", err)
		}
	}
	lim, err := df.limits.limits()
	if err != nil {
		return usageErr("%v", err)
	}
	var bl *baseline.File
	if df.baseline != "" {
		if bl, err = baseline.Load(df.baseline); err != nil {
			return usageErr("%v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var reps [2]*report.Report
	for i, in := range args {
		r, err := loadOrScan(ctx, in, df, date, lim, bl)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", in, err)}
		}
		reps[i] = r
	}
	d, err := reportdiff.Compare(reps[0], reps[1])
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	out := cmd.OutOrStdout()
	if df.output != "" {
		fh, err := os.Create(df.output)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		defer fh.Close()
		out = fh
	}
	if err := reportdiff.Write(out, d, df.format); err != nil {
		return err
	}
	if gate {
		if bad := d.Gate(sev); len(bad) > 0 {
			if !df.quiet {
				fmt.Fprintf(os.Stderr, "fwaudit: %d new finding(s) at or above %s\n", len(bad), sev)
			}
			return &exitError{code: exitFindings}
		}
	}
	return nil
}

// loadOrScan reads a report.json (a JSON document of schema
// fwaudit.report/v1) or scans an image.
func loadOrScan(ctx context.Context, path string, df *diffFlags, date time.Time, lim extract.Limits, bl *baseline.File) (*report.Report, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if t := bytes.TrimSpace(head[:n]); len(t) > 0 && t[0] == '{' && bytes.Contains(head[:n], []byte(`"schema"`)) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var r report.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("not a report.json: %v", err)
		}
		if r.Schema != report.SchemaVersion {
			return nil, fmt.Errorf("report schema %q, want %q", r.Schema, report.SchemaVersion)
		}
		return &r, nil
	}
	list, err := scan.Analyzers(scan.Rules{ScanDate: date})
	if err != nil {
		return nil, err
	}
	p := newProgress(df.quiet)
	res, err := scan.Run(ctx, path, scan.Options{Limits: lim, Jobs: df.jobs, Analyzers: list,
		SkipVulns: df.noVulns, Vulns: vulns.Options{DBPath: df.vulnDB}, Progress: p.event,
		DisableRules: df.disable, Baseline: bl, Today: date,
		Stage: func(s string) { p.printf("%s: %s", filepath.Base(path), s) }})
	p.done()
	if err != nil {
		return nil, err
	}
	return res.Report, nil
}
