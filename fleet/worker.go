package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/fwaudit/fwaudit/report"
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

// ImageResult is one scanned image: its report and SBOM documents.
type ImageResult struct {
	Report *report.Report
	SBOM   map[string][]byte
}

// scanImage runs the scan pipeline on one image: the one place the fleet
// calls it.
func scanImage(ctx context.Context, path string, o ScanOptions) (*ImageResult, error) {
	opt := scan.Options{Jobs: o.Jobs, SkipSBOM: o.SkipSBOM, SkipVulns: o.SkipVulns}
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
	opt.Vulns.DBPath = o.VulnDB
	res, err := scan.Run(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	return &ImageResult{Report: res.Report, SBOM: res.SBOM}, nil
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
		enc.Encode(compliance.Default())
		enc.Encode(components.Default())
		enc.Encode(credentials.Default())
		enc.Encode(eol.Default())
		enc.Encode(passwords.Defaults())
		enc.Encode(services.Default())
		enc.Encode(tokens.Default())
		enc.Encode(transport.Default())
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
	dir := ""
	if w.Out != "" {
		dir = ImageDir(w.Out, filepath.Base(a.Path), a.SHA256)
		if err := WriteImage(dir, res.Report, res.SBOM); err != nil {
			return fmt.Errorf("writing the report files: %v", err)
		}
	}
	if err := w.Store.SaveResult(ctx, a.SHA256, Scanner(), w.ID, job.Attempt, dir, res.Report); err != nil {
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
	return scanImage(ctx, a.Path, w.Scan)
}

// reportFiles are the single-image report files, as fwaudit scan --out
// writes them.
var reportFiles = []struct {
	name  string
	write func(w *bytes.Buffer, r *report.Report) error
}{
	{"report.json", func(b *bytes.Buffer, r *report.Report) error { return report.WriteJSON(b, r) }},
	{"report.md", func(b *bytes.Buffer, r *report.Report) error { return report.WriteMarkdown(b, r) }},
	{"report.html", func(b *bytes.Buffer, r *report.Report) error { return report.WriteHTML(b, r) }},
	{"findings.sarif", func(b *bytes.Buffer, r *report.Report) error { return report.WriteSARIF(b, r) }},
}

// WriteImage writes one image's report files (and SBOM documents, if
// given) into dir.
func WriteImage(dir string, r *report.Report, sbom map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range reportFiles {
		var b bytes.Buffer
		if err := f.write(&b, r); err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
		if err := writeFileAtomic(filepath.Join(dir, f.name), b.Bytes()); err != nil {
			return err
		}
	}
	for name, b := range sbom {
		if err := writeFileAtomic(filepath.Join(dir, filepath.Base(name)), b); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so a
// worker killed mid-write leaves the old file or the new one.
func writeFileAtomic(p string, b []byte) error {
	tmp := fmt.Sprintf("%s.tmp-%d-%d", p, os.Getpid(), time.Now().UnixNano())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
