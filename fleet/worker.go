package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/riverqueue/river"

	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/rules/builtin"
	"github.com/fwaudit/fwaudit/rules/compliance"
	"github.com/fwaudit/fwaudit/rules/components"
	"github.com/fwaudit/fwaudit/rules/credentials"
	"github.com/fwaudit/fwaudit/rules/eol"
	"github.com/fwaudit/fwaudit/rules/passwords"
	"github.com/fwaudit/fwaudit/rules/services"
	"github.com/fwaudit/fwaudit/rules/tokens"
	"github.com/fwaudit/fwaudit/rules/transport"
	"github.com/fwaudit/fwaudit/scan"
)

var jsonUnmarshal = json.Unmarshal

// ScanOptions are what a worker passes to the scan pipeline.
type ScanOptions struct {
	SkipSBOM, SkipVulns bool
	// Jobs: analyzers run at once inside one image.
	Jobs int
	// WorkDir: where images are unpacked (a temporary folder if empty).
	WorkDir string
	// VulnDB: the grype database (see scan --vuln-db).
	VulnDB string
}

// ImageResult is one scanned image: its final report and SBOM documents,
// and the folder its files were written to (empty if none).
type ImageResult struct {
	Report *report.Report
	SBOM   map[string][]byte
	Dir    string
}

// scanImage runs the one scan pipeline (scan.Run) on one image and, with
// out set, writes its files into out/sub: the one place the fleet calls it.
func scanImage(ctx context.Context, path string, o ScanOptions, out, sub string) (*ImageResult, error) {
	opt := scan.Options{Jobs: o.Jobs, SkipSBOM: o.SkipSBOM, SkipVulns: o.SkipVulns, OutDir: out, OutSub: sub}
	opt.Vulns.DBPath = o.VulnDB
	if o.WorkDir != "" {
		// a folder of this job's own: images of one name may be worked
		// at once
		d, err := os.MkdirTemp(o.WorkDir, "job-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		opt.WorkDir = d
	}
	res, err := scan.Run(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	dir := ""
	if out != "" {
		dir = filepath.Join(out, sub)
	}
	return &ImageResult{Report: res.Report, SBOM: res.SBOM, Dir: dir}, nil
}

var (
	rulesOnce   sync.Once
	rulesDigest string
)

// Scanner names what a result was made with: the fwaudit version and a
// digest of the embedded rules. An image already scanned by the same
// scanner is not scanned again (worker options such as --no-sbom are not
// part of it).
func Scanner() string {
	rulesOnce.Do(func() {
		h := sha256.New()
		enc := json.NewEncoder(h)
		enc.Encode(builtin.Default())
		enc.Encode(compliance.Default())
		enc.Encode(eol.Default())
		enc.Encode(passwords.Defaults())
		// the rule files whose engines live in the analyzers: their data
		for _, b := range [][]byte{components.YAML, credentials.YAML, credentials.ProgramsYAML, services.YAML, tokens.YAML, transport.YAML} {
			h.Write(b)
		}
		rulesDigest = hex.EncodeToString(h.Sum(nil))[:12]
	})
	return scan.Version + "+rules." + rulesDigest
}

// Worker works the fleet's jobs: River calls Work for each image.
type Worker struct {
	river.WorkerDefaults[ScanArgs]
	Store *Store
	Scan  ScanOptions
	// Out is the folder each image's report files go into
	// (Out/<name>-<sha256 prefix>/); empty writes none.
	Out string
	// Concurrency: images worked at once by this process.
	Concurrency int
	// ID names this worker in the store (host and process).
	ID     string
	Logger *slog.Logger
	// Log receives one line per finished image.
	Log func(format string, a ...any)
}

// ImageDir is the folder an image's report files go into under out.
func ImageDir(out, name, sha string) string {
	return filepath.Join(out, safeName(name)+"-"+sha[:12])
}

// safeName keeps a file name usable as one path element.
func safeName(n string) string {
	b := []byte(n)
	for i, c := range b {
		if c == '/' || c == '\\' || c == 0 || c < 0x20 {
			b[i] = '_'
		}
	}
	s := string(b)
	if s == "" || s == "." || s == ".." {
		s = "image"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// Work scans one image and replaces its results in the store. A layer that
// fails to unpack is part of the report; only an image that cannot be
// scanned at all (gone, changed, unreadable) fails the job, which River
// retries with backoff and, after MaxAttempts, leaves failed with its
// error.
func (w *Worker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	a := job.Args
	last := job.Attempt >= job.MaxAttempts
	w.Store.markRunning(ctx, a.SHA256, job.Attempt, w.ID)
	res, err := w.scanOne(ctx, a)
	if err != nil {
		status := StatusRetrying
		if last {
			status = StatusFailed
		}
		w.Store.markFailed(context.WithoutCancel(ctx), a.SHA256, status, job.Attempt, err.Error())
		if w.Log != nil {
			w.Log("%s: attempt %d of %d failed: %v", a.Path, job.Attempt, job.MaxAttempts, err)
		}
		return err
	}
	if err := w.Store.SaveResult(ctx, a.SHA256, Scanner(), w.ID, job.Attempt, res.Dir, res.Report); err != nil {
		return fmt.Errorf("saving the result: %v", err)
	}
	if w.Log != nil {
		c := report.SeverityCounts(res.Report)
		w.Log("%s: %d findings (%d critical, %d high)", a.Path, len(res.Report.Findings), c["critical"], c["high"])
	}
	return nil
}

func (w *Worker) scanOne(ctx context.Context, a ScanArgs) (*ImageResult, error) {
	sum, _, err := HashFile(a.Path)
	if err != nil {
		return nil, err
	}
	if sum != a.SHA256 {
		return nil, fmt.Errorf("%s changed since fleet add (sha256 %s, was %s)", a.Path, sum[:12], a.SHA256[:12])
	}
	sub := ""
	if w.Out != "" {
		sub = filepath.Base(ImageDir("", filepath.Base(a.Path), a.SHA256))
	}
	return scanImage(ctx, a.Path, w.Scan, w.Out, sub)
}

// WriteImage writes one image's report files (scan.DefaultOutputs, as
// fwaudit scan --out writes them; the SBOM documents if given) into
// out/sub, through scan.WriteFiles (no link that stands there is
// followed).
func WriteImage(out, sub string, r *report.Report, sbom map[string][]byte) error {
	files, err := scan.Render(r, sbom, scan.DefaultOutputs)
	if err != nil {
		return err
	}
	_, err = scan.WriteFiles(out, sub, files)
	return err
}
