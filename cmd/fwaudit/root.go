package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "fwaudit",
		Short: "Audit IoT firmware images: unpack every layer, find weaknesses, write an SBOM and a report",
		Long: `fwaudit audits the firmware of consumer IoT devices as it ships: a vendor
update file or a raw flash dump. It unpacks every layer (vendor headers,
uImage/TRX, compressed streams, SquashFS, cpio, tar, zip, ...), runs its
analyzers in parallel over the unpacked file systems and reports what it
finds, with evidence a person can check: the path inside the image, the
layer it came from, the line or offset and a redacted excerpt.

Start with:
  fwaudit scan router.bin                 summary table on stdout
  fwaudit scan router.bin --out results/  report.json, report.md and SBOMs
  fwaudit extract router.bin -o tree/     just the unpacked layers

Exit codes: 0 the scan completed with no finding at or above --fail-on,
1 findings at or above --fail-on (or a failing --fail-on-guideline),
2 usage error, bad configuration or baseline, or unreadable image.

Settings: .fwaudit.yaml; accepted findings: fwaudit baseline create and
scan --baseline (docs/configuration.md).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newScanCmd(), newExtractCmd(), newDBCmd(), newBaselineCmd(), newVersionCmd(), newDiffCmd())
	root.AddCommand(newFleetCmd())
	root.AddCommand(newWorkerCmd())
	return root
}
