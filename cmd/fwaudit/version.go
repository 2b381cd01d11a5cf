package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/scan"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fwaudit's version and the versions of syft it uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "fwaudit %s\n", scan.Version)
			fmt.Fprintf(out, "go      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					if d.Path == "github.com/anchore/syft" || d.Path == "github.com/anchore/grype" {
						fmt.Fprintf(out, "%-7s %s\n", d.Path[len("github.com/anchore/"):], d.Version)
					}
				}
			}
			return nil
		},
	}
}
