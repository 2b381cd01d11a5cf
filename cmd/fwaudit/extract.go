package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

func newExtractCmd() *cobra.Command {
	var out string
	var quiet bool
	var lf limitFlags
	cmd := &cobra.Command{
		Use:   "extract IMAGE -o DIR",
		Short: "Unpack every layer of a firmware image into DIR, with DIR/layers.json describing the tree",
		Long: `extract unpacks IMAGE layer by layer, the same way scan does, and keeps the
result: each layer gets its own folder under DIR/layers/, and DIR/layers.json
describes the layer tree (id, parent, format, offset, size, status, error,
file count, anomalies such as refused path traversals or symlink escapes,
device nodes recorded instead of created).

Nothing is ever written outside DIR, and fwaudit never needs root.`,
		Example: `  fwaudit extract router.bin -o tree/
  jq '.layers[] | {id, format, status, files}' tree/layers.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr("extract needs an output folder: -o DIR")
			}
			lim, err := lf.limits()
			if err != nil {
				return usageErr("%v", err)
			}
			if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
				return usageErr("output folder %s is not empty", out)
			}
			if _, err := os.Stat(args[0]); err != nil {
				return usageErr("%v", err)
			}
			p := newProgress(quiet)
			res, err := extract.Extract(context.Background(), args[0], out, extract.Options{Limits: lim, Progress: p.event})
			p.done()
			if err != nil {
				return usageErr("cannot read %s: %v", args[0], err)
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "layers.json"), append(report.EscapeInvisibleJSON(b), '\n'), 0o644); err != nil {
				return err
			}
			if !quiet {
				w := cmd.OutOrStdout()
				for _, l := range res.Layers {
					fmt.Fprintf(w, "%-5s %-12s %-11s off=0x%-8x files=%-6d %s\n", l.ID, l.Format, l.Status, l.Offset, l.Files, l.Dir)
				}
				fmt.Fprintf(w, "%d layers, %d files written to %s\n", len(res.Layers), res.Files, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "folder to unpack into (created; must be empty)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	lf.add(cmd, false)
	return cmd
}
