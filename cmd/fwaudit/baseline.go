package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/baseline"
	"github.com/fwaudit/fwaudit/config"
	"github.com/fwaudit/fwaudit/report"
)

// applyConfig reads .fwaudit.yaml (or --config FILE) and copies every key it
// sets into sf, unless the matching flag was given: flags override the file.
func applyConfig(cmd *cobra.Command, sf *scanFlags) error {
	if sf.noConfig {
		if sf.config != "" {
			return fmt.Errorf("--config and --no-config exclude each other")
		}
		return nil
	}
	c, err := config.Find(sf.config, ".")
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	changed := cmd.Flags().Changed
	set := func(flag string, given bool, apply func()) {
		if given && !changed(flag) {
			apply()
		}
	}
	set("fail-on", c.FailOn != "", func() { sf.failOn = c.FailOn })
	set("fail-on-guideline", c.FailOnGuideline != nil, func() { sf.failOnGuideline = c.FailOnGuideline })
	set("disable-rule", c.DisableRules != nil, func() { sf.disableRules = c.DisableRules })
	set("compliance-threshold", c.ComplianceThreshold != "", func() { sf.threshold = c.ComplianceThreshold })
	set("outputs", c.Outputs != nil, func() { sf.outputs = c.Outputs })
	set("baseline", c.Baseline != "", func() { sf.baseline = c.Baseline })
	set("scan-date", c.ScanDate != "", func() { sf.date = c.ScanDate })
	set("stale-years", c.StaleYears != nil, func() { sf.stale = *c.StaleYears })
	set("passwords", c.Passwords != nil, func() { sf.pwFiles = c.Passwords })
	set("passwords-only", c.PasswordsOnly != nil, func() { sf.pwOnly = *c.PasswordsOnly })
	set("rules", c.RulesDir != "", func() { sf.rules = c.RulesDir })
	set("vuln-db", c.VulnDB != "", func() { sf.vulnDB = c.VulnDB })
	set("vex", c.VEX != nil, func() { sf.vexFiles = c.VEX })
	l := c.Limits
	set("max-depth", l.MaxDepth != nil, func() { sf.limits.depth = *l.MaxDepth })
	set("max-total", l.MaxTotal != "", func() { sf.limits.total = l.MaxTotal })
	set("max-file-size", l.MaxFileSize != "", func() { sf.limits.file = l.MaxFileSize })
	set("max-ratio", l.MaxRatio != nil, func() { sf.limits.ratio = *l.MaxRatio })
	set("max-files", l.MaxFiles != nil, func() { sf.limits.maxFiles = *l.MaxFiles })
	set("max-entries", l.MaxEntries != nil, func() { sf.limits.maxEntries = *l.MaxEntries })
	set("max-layers", l.MaxLayers != nil, func() { sf.limits.maxLayers = *l.MaxLayers })
	set("layer-timeout", l.LayerTimeout != "", func() { sf.limits.layerTimeout, _ = time.ParseDuration(l.LayerTimeout) })
	set("image-timeout", l.ImageTimeout != "", func() { sf.limits.imageTimeout, _ = time.ParseDuration(l.ImageTimeout) })
	set("analyzer-timeout", l.AnalyzerTimeout != "", func() { sf.limits.analyzerTimeout, _ = time.ParseDuration(l.AnalyzerTimeout) })
	set("max-hash-work", l.MaxHashWork != nil, func() { sf.limits.hashWork = *l.MaxHashWork })
	set("carve-min-size", l.CarveMinSize != "", func() { sf.limits.carveMin = l.CarveMinSize })
	set("carve-file-bytes", l.CarveFileBytes != "", func() { sf.limits.carveFile = l.CarveFileBytes })
	set("carve-image-bytes", l.CarveImageBytes != "", func() { sf.limits.carveImage = l.CarveImageBytes })
	return nil
}

func newBaselineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Write a baseline of accepted findings for --baseline",
		Long: `A baseline lists findings a project has looked at and accepted, each with a
justification and an optional expiry date. "fwaudit scan --baseline FILE"
reports them as suppressed (still visible in report.json and report.md) and
they do not fail the run. Entries that expired or match no finding are
reported. See docs/configuration.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr("baseline needs a subcommand: create")
		},
	}
	cmd.AddCommand(newBaselineCreateCmd())
	return cmd
}

func newBaselineCreateCmd() *cobra.Command {
	var from, out, just, expires string
	var force bool
	cmd := &cobra.Command{
		Use:   "create --from report.json [-o .fwaudit-baseline.yaml]",
		Short: "Write every finding of a report.json as a baseline entry",
		Long: `create writes every finding of a report.json (from "fwaudit scan --out") as
a baseline entry: the finding's stable id, its rule, path and layer, the
--justification and the --expires date. Findings the report already had
suppressed keep their justification.

Without --justification each entry gets "TODO: justify", and --baseline
refuses the file until every TODO is replaced by a real reason (or the entry
is deleted): review the file, justify each finding, commit it.`,
		Example: `  fwaudit scan router.bin --out results/ --fail-on none
  fwaudit baseline create --from results/report.json -o .fwaudit-baseline.yaml
  $EDITOR .fwaudit-baseline.yaml     # replace every "TODO: justify"
  fwaudit scan router.bin --baseline .fwaudit-baseline.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageErr("baseline create: --from report.json is required")
			}
			if expires != "" {
				if _, err := time.Parse(time.DateOnly, expires); err != nil {
					return usageErr("--expires: want YYYY-MM-DD, not %q", expires)
				}
			}
			if strings.TrimSpace(just) == "" && just != "" {
				return usageErr("--justification is blank")
			}
			doc, err := os.ReadFile(from)
			if err != nil {
				return usageErr("%v", err)
			}
			if err := report.Validate(doc); err != nil {
				return usageErr("%s: %v", from, err)
			}
			var r report.Report
			if err := json.Unmarshal(doc, &r); err != nil {
				return usageErr("%s: %v", from, err)
			}
			bl := baseline.FromReport(&r, just, expires, time.Now().UTC().Format(time.DateOnly))
			var buf bytes.Buffer
			if err := baseline.Write(&buf, bl); err != nil {
				return err
			}
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			if !force {
				flags |= os.O_EXCL
			}
			f, err := os.OpenFile(out, flags, 0o644)
			if errors.Is(err, os.ErrExist) {
				return usageErr("%s exists (use --force to overwrite it)", out)
			}
			if err != nil {
				return usageErr("%v", err)
			}
			if _, err := f.Write(buf.Bytes()); err != nil {
				f.Close()
				return &exitError{code: exitUsage, err: err}
			}
			if err := f.Close(); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			todo := 0
			for _, e := range bl.Entries {
				if e.Justification == baseline.TODO {
					todo++
				}
			}
			msg := fmt.Sprintf("wrote %d entries to %s", len(bl.Entries), out)
			if todo > 0 {
				msg += fmt.Sprintf("; replace the %d %q justifications before using it with --baseline", todo, baseline.TODO)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), msg)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "report.json to take the findings from (required)")
	f.StringVarP(&out, "output", "o", ".fwaudit-baseline.yaml", `baseline file to write ("-" for stdout)`)
	f.StringVar(&just, "justification", "", `justification for every entry (default "`+baseline.TODO+`", which --baseline refuses until edited)`)
	f.StringVar(&expires, "expires", "", "last day the entries apply (YYYY-MM-DD; default: no expiry)")
	f.BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
