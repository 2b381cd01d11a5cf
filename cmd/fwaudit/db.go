package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/anchore/clio"
	"github.com/anchore/grype/grype/db/v6/distribution"
	"github.com/anchore/grype/grype/db/v6/installation"
	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/scan"
	"github.com/fwaudit/fwaudit/vulns"
)

func newDBCmd() *cobra.Command {
	var opt vulns.Options
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the offline vulnerability database",
		Long: `Vulnerabilities are matched offline, with grype, against a database chosen in
this order: --vuln-db PATH; one imported with 'fwaudit db import'; grype's own
database if grype's standard cache holds one; otherwise the curated feed
embedded in fwaudit (rules/vulns, derived from NVD records), compiled into a
grype database in fwaudit's cache on first use. A scan never touches the
network; 'fwaudit db update' is the one command that does (it fetches grype's
latest database into grype's cache).`,
	}
	cmd.PersistentFlags().StringVar(&opt.DBPath, "vuln-db", "", "a grype v6 database (directory or vulnerability.db)")
	cmd.PersistentFlags().StringVar(&opt.CacheDir, "cache-dir", "", "fwaudit's cache folder (default $XDG_CACHE_HOME/fwaudit)")
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Say which database a scan would use, its age and how many records it has",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := vulns.Status(opt)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), info.String())
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "build [DIR]",
		Short: "Compile the embedded feed into a grype database (in the cache, or DIR)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			if dir == "" {
				// building the cache copy is what Status does on first use
				info, err := vulns.Status(opt)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				fmt.Fprintln(cmd.OutOrStdout(), info.String())
				return nil
			}
			info, err := vulns.BuildDB(ctx, dir)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), info.String())
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "import ARCHIVE",
		Short: "Import a grype database archive (for air-gapped labs) into fwaudit's cache",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := vulns.Import(args[0], opt); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			info, err := vulns.Status(opt)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), info.String())
			return nil
		},
	})
	cmd.AddCommand(newDBUpdateCmd(&opt))
	return cmd
}

// newDBUpdateCmd is `fwaudit db update`, the only fwaudit command that uses
// the network: it does what `grype db update` does, with grype's own
// distribution client (grype's default listing URL) and installer, into
// grype's standard cache ($GRYPE_DB_CACHE_DIR or $XDG_CACHE_HOME/grype/db),
// where scans find it when no database was imported.
func newDBUpdateCmd(opt *vulns.Options) *cobra.Command {
	dcfg := distribution.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the latest grype vulnerability database (the only command that uses the network)",
		Long: `update checks grype's database listing (` + dcfg.LatestURL + `) and, when a
newer database than the one in grype's cache is listed, downloads it, checks
its checksum and installs it into grype's standard cache ($GRYPE_DB_CACHE_DIR,
else $XDG_CACHE_HOME/grype/db): what 'grype db update' does. Scans use it
unless --vuln-db names another database or one was imported with 'fwaudit db
import' (that one comes first). Scans themselves never use the network.

HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured. Exit code 2 when the
listing cannot be read or the download fails; the database already in place
is then left as it was.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dcfg.CheckTimeout <= 0 || dcfg.UpdateTimeout <= 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("db update: timeouts must be positive")}
			}
			dcfg.ID = clio.Identification{Name: "fwaudit", Version: scan.Version}
			// an explicit update must check, and report a failed check
			dcfg.RequireUpdateCheck = true
			client, err := distribution.NewClient(dcfg)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("db update: %w", err)}
			}
			icfg := installation.DefaultConfig(dcfg.ID)
			icfg.DBRootDir = vulns.GrypeCacheRoot()
			// check now, however recently grype last checked
			icfg.UpdateCheckMaxFrequency = 0
			cur, err := installation.NewCurator(icfg, client)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("db update: %w", err)}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "checking %s for a newer grype database...\n", dcfg.LatestURL)
			updated, err := cur.Update()
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("db update: no database downloaded from %s: %w "+
					"(scans still work offline with the database in place, see 'fwaudit db status'; "+
					"without network access, fetch the archive elsewhere and use 'fwaudit db import')", dcfg.LatestURL, err)}
			}
			out := cmd.OutOrStdout()
			if updated {
				fmt.Fprintf(out, "installed the latest grype database into %s\n", icfg.DBDirectoryPath())
			} else {
				fmt.Fprintf(out, "the grype database in %s is up to date\n", icfg.DBDirectoryPath())
			}
			info, err := vulns.Status(*opt)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintln(out, "scans use:", info.String())
			if info.Source != vulns.SourceGrype {
				fmt.Fprintf(out, "note: scans use the %s database, not grype's (see 'fwaudit db --help' for the order)\n", info.Source)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&dcfg.CheckTimeout, "timeout", dcfg.CheckTimeout, "time allowed to read the database listing")
	cmd.Flags().DurationVar(&dcfg.UpdateTimeout, "download-timeout", dcfg.UpdateTimeout, "time allowed to download the database")
	cmd.Flags().StringVar(&dcfg.LatestURL, "url", dcfg.LatestURL, "grype database listing to update from")
	cmd.Flags().StringVar(&dcfg.CACert, "ca-cert", "", "PEM file of CA certificates to trust (for a TLS-inspecting proxy)")
	return cmd
}
