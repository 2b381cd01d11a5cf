package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/fleet"
)

// storeFlag is --store, shared by the fleet commands and worker.
func storeFlag(cmd *cobra.Command, p *string) {
	def := os.Getenv("FWAUDIT_STORE")
	if def == "" {
		def = fleet.DefaultStore
	}
	cmd.Flags().StringVar(p, "store", def, "fleet store: sqlite:PATH (embedded) or postgres://user:pass@host/db (many machines); env FWAUDIT_STORE")
}

// openStore opens a store; every failure is exit 2.
func openStore(ctx context.Context, url string, create bool) (*fleet.Store, error) {
	s, err := fleet.Open(ctx, url, create)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return s, nil
}

// storeSession opens the store under a context that SIGINT and SIGTERM
// cancel; done closes the store and stops the signal handling.
func storeSession(url string, create bool) (ctx context.Context, s *fleet.Store, done func(), err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	s, err = openStore(ctx, url, create)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return ctx, s, func() { s.Close(); stop() }, nil
}

// workerFlags are the scan options of in-process and remote workers.
type workerFlags struct {
	out     string
	noSBOM  bool
	noVulns bool
	vulnDB  string
	jobs    int
	workdir string
}

func (w *workerFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&w.out, "out", "", "folder each image's report files go into (<out>/<name>-<sha256 prefix>/); in a multi-machine fleet, a folder every worker mounts")
	f.BoolVar(&w.noSBOM, "no-sbom", false, "skip the SBOM (syft) stage")
	f.BoolVar(&w.noVulns, "no-vulns", false, "skip vulnerability matching")
	f.StringVar(&w.vulnDB, "vuln-db", "", "grype v6 vulnerability database (as scan --vuln-db)")
	f.IntVar(&w.jobs, "jobs", runtime.GOMAXPROCS(0), "analyzers run at once inside one image")
	f.StringVar(&w.workdir, "workdir", "", "where images are unpacked (default: a temporary folder)")
}

func (w *workerFlags) worker(concurrency int) *fleet.Worker {
	return &fleet.Worker{
		Scan:        fleet.ScanOptions{SkipSBOM: w.noSBOM, SkipVulns: w.noVulns, VulnDB: w.vulnDB, Jobs: w.jobs, WorkDir: w.workdir},
		Out:         w.out,
		Concurrency: concurrency,
		Log: func(format string, a ...any) {
			fmt.Fprintf(os.Stderr, "fwaudit: "+format+"\n", a...)
		},
	}
}

func newFleetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Audit many images as one fleet: queue, work, report, and find secrets shared between images",
		Long: `fleet audits many firmware images at once. Images are queued in a store
(an embedded SQLite file by default, PostgreSQL for workers on many
machines), worked by River workers running the same pipeline as scan, and
reported together: an image × Code of Practice guideline matrix, UK PSTI
requirement 1 failures, the components most often vulnerable, and the
secrets (private keys, password hashes, tokens, certificates, pre-shared
keys) found in two or more images.

  fwaudit fleet add firmware/            queue every file under firmware/
  fwaudit fleet run --workers 2          work the queue here until it is empty
  fwaudit worker --store postgres://...  a worker on another machine
  fwaudit fleet status                   queued / running / done / failed
  fwaudit fleet report --out fleet/      fleet.json, fleet.csv, fleet.html and
                                         each image's own report files

Fingerprints of secrets are keyed with a key kept in the store (see
docs/fleet.md). Exit code 2: the store cannot be reached, holds no fleet,
or is of another schema version.`,
	}
	cmd.AddCommand(newFleetAddCmd(), newFleetRunCmd(), newFleetStatusCmd(), newFleetReportCmd())
	return cmd
}

func newFleetAddCmd() *cobra.Command {
	var store, manifest string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "add PATH...",
		Short: "Queue images (files, or folders recursively); an image already scanned by this fwaudit and rules is skipped",
		Long: `add records each file under PATH (folders recursively) as an image,
identified by its SHA-256, and queues one job per image. An image already
scanned by the same fwaudit version and rules, or already queued, is not
queued again: re-adding the same files adds nothing. Identical files are
one image. Vendor, product and version come from vendor headers (TP-Link)
and file names, or from --manifest (CSV: path,vendor,product,version),
which wins. The store is created if missing.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var man fleet.Manifest
			if manifest != "" {
				m, err := fleet.ReadManifest(manifest)
				if err != nil {
					return usageErr("%v", err)
				}
				man = m
			}
			for _, a := range args {
				if _, err := os.Stat(a); err != nil {
					return usageErr("%v", err)
				}
			}
			ctx, s, done, err := storeSession(store, true)
			if err != nil {
				return err
			}
			defer done()
			res, err := s.Add(ctx, args, man, fleet.Scanner())
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			out := cmd.OutOrStdout()
			if !quiet {
				for _, im := range res.Images {
					fmt.Fprintf(out, "%s  %s  %s\n", im.SHA256[:12], im.State, im.Path)
				}
				for _, sk := range res.Skipped {
					fmt.Fprintf(os.Stderr, "fwaudit: skipped %s\n", sk)
				}
			}
			fmt.Fprintf(out, "%d added, %d already scanned, %d already queued\n", res.Added, res.Scanned, res.Queued)
			return nil
		},
	}
	storeFlag(cmd, &store)
	cmd.Flags().StringVar(&manifest, "manifest", "", "CSV of path,vendor,product,version (paths relative to the manifest)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the totals")
	return cmd
}

func newFleetRunCmd() *cobra.Command {
	var store string
	var workers int
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Work the queue in this process until it is empty",
		Long: `run works the fleet's queue in this process, --workers images at once,
until no job is left (queued, running in another worker, or waiting for a
retry). A layer that fails to unpack is part of that image's report; an
image that cannot be scanned at all is retried with backoff and then shown
as failed with its error; the fleet goes on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if workers < 1 {
				return usageErr("--workers must be at least 1")
			}
			ctx, s, done, err := storeSession(store, false)
			if err != nil {
				return err
			}
			defer done()
			if err := s.Work(ctx, wf.worker(workers), true); err != nil {
				if errors.Is(err, context.Canceled) {
					return &exitError{code: exitUsage, err: errors.New("interrupted")}
				}
				return err
			}
			c, err := s.Status(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d images: %d done, %d failed\n", c.Total, c.Done, c.Failed)
			return nil
		},
	}
	storeFlag(cmd, &store)
	cmd.Flags().IntVar(&workers, "workers", 1, "images worked at once in this process")
	wf.add(cmd)
	return cmd
}

func newFleetStatusCmd() *cobra.Command {
	var store string
	var watch bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Queued / running / done / failed counts (a progress bar on a terminal)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, s, done, err := storeSession(store, false)
			if err != nil {
				return err
			}
			defer done()
			out := cmd.OutOrStdout()
			tty := false
			if f, ok := out.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			for {
				if err := s.Reconcile(ctx); err != nil {
					return err
				}
				c, err := s.Status(ctx)
				if err != nil {
					return err
				}
				if tty {
					fmt.Fprintf(out, "\r%s", progressBar(c, 30))
				} else {
					printCounts(out, c)
				}
				if !watch || c.Queued+c.Running+c.Retrying == 0 {
					break
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(2 * time.Second):
				}
			}
			if tty {
				fmt.Fprintln(out)
			}
			imgs, err := s.Images(ctx)
			if err != nil {
				return err
			}
			for _, im := range imgs {
				if im.Status == fleet.StatusFailed {
					fmt.Fprintf(out, "failed %s %s: %s\n", im.SHA256[:12], im.Name, im.Error)
				}
			}
			return nil
		},
	}
	storeFlag(cmd, &store)
	cmd.Flags().BoolVar(&watch, "watch", false, "refresh every 2 seconds until nothing is queued or running")
	return cmd
}

func printCounts(w io.Writer, c fleet.Counts) {
	fmt.Fprintf(w, "queued %d\nrunning %d\nretrying %d\ndone %d\nfailed %d\ntotal %d\n", c.Queued, c.Running, c.Retrying, c.Done, c.Failed, c.Total)
}

// progressBar renders the counts as one line with a bar of width cells.
func progressBar(c fleet.Counts, width int) string {
	fin := c.Done + c.Failed
	n := 0
	if c.Total > 0 {
		n = fin * width / c.Total
	}
	return fmt.Sprintf("[%s%s] %d/%d  done %d  failed %d  running %d  queued %d ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), fin, c.Total, c.Done, c.Failed, c.Running+c.Retrying, c.Queued)
}

func newFleetReportCmd() *cobra.Command {
	var store, out string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write fleet.json, fleet.csv, fleet.html and every image's report files",
		Long: `report writes into --out:
  fleet.json   images (status, vendor/product/version, findings by severity,
               Code of Practice verdicts by guideline), the secrets shared
               between images ("shared"), PSTI requirement 1 failures and the
               components most often vulnerable
  fleet.csv    one line per image
  fleet.html   one self-contained page
  <name>-<sha256 prefix>/   each finished image's report.json, report.md,
               report.html, findings.sarif (and the SBOMs the worker wrote),
               with its shared-secret findings added and its compliance
               judged again with them, as a scan finding them would judge
Images are read from the store one at a time (memory grows with the
number of images by a one-line summary each, not by their reports).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr("--out is required")
			}
			ctx, s, done, err := storeSession(store, false)
			if err != nil {
				return err
			}
			defer done()
			if err := analyzers.SetFingerprintKey(s.Key()); err != nil {
				return err
			}
			fl, err := s.WriteReport(ctx, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d images, %d shared secrets → %s\n", len(fl.Images), len(fl.Shared), filepath.Join(out, "fleet.html"))
			return nil
		},
	}
	storeFlag(cmd, &store)
	cmd.Flags().StringVar(&out, "out", "", "folder to write the fleet report into")
	return cmd
}
