package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

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
network.`,
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
	return cmd
}
