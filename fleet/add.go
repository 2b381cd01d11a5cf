package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Meta is what is known of an image besides its bytes.
type Meta struct {
	Vendor, Product, Version string
}

// Manifest maps image paths (as given, cleaned, and absolute) to metadata.
type Manifest map[string]Meta

// ReadManifest reads a CSV manifest: path,vendor,product,version (a
// header line naming "path" first is skipped). Relative paths are relative
// to the manifest's folder.
func ReadManifest(file string) (Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(io.LimitReader(f, 64<<20))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	m := Manifest{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %v", file, err)
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "path") {
			continue
		}
		if len(rec) < 2 || len(rec) > 4 || strings.TrimSpace(rec[0]) == "" {
			return nil, fmt.Errorf("manifest %s: record %d: want path,vendor,product,version", file, line)
		}
		for len(rec) < 4 {
			rec = append(rec, "")
		}
		p := strings.TrimSpace(rec[0])
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(file), p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		m[abs] = Meta{Vendor: strings.TrimSpace(rec[1]), Product: strings.TrimSpace(rec[2]), Version: strings.TrimSpace(rec[3])}
	}
	return m, nil
}

// AddResult says what fleet add did with each file.
type AddResult struct {
	Added, Scanned, Queued int
	// Skipped lists files that are not regular files or could not be
	// read, with the reason.
	Skipped []string
	Images  []AddedImage
}

// AddedImage is one file fleet add looked at.
type AddedImage struct {
	Path, SHA256 string
	// State: "added", "already scanned", "already queued".
	State string
	Meta
}

// Files lists the regular files under paths (folders recursively, sorted;
// symbolic links are followed for the paths given, not inside folders).
func Files(paths []string) ([]string, []string, error) {
	var out, skipped []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		if fi.Mode().IsRegular() {
			out = append(out, p)
			continue
		}
		if !fi.IsDir() {
			skipped = append(skipped, p+": not a regular file")
			continue
		}
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				skipped = append(skipped, q+": "+err.Error())
				return nil
			}
			if d.Type().IsRegular() {
				out = append(out, q)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	sort.Strings(out)
	return out, skipped, nil
}

// HashFile returns the SHA-256 and size of a file.
func HashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Add records the images under paths and enqueues one job per image that
// has no result from this scanner (fwaudit version and rules) and no job
// waiting. Re-adding the same files adds nothing.
func (s *Store) Add(ctx context.Context, paths []string, man Manifest, scanner string) (*AddResult, error) {
	files, skipped, err := Files(paths)
	if err != nil {
		return nil, err
	}
	q, err := s.newQueue(ctx, nil)
	if err != nil {
		return nil, err
	}
	res := &AddResult{Skipped: skipped}
	seen := map[string]bool{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return res, err
		}
		sum, size, err := HashFile(abs)
		if err != nil {
			res.Skipped = append(res.Skipped, f+": "+err.Error())
			continue
		}
		if seen[sum] {
			// the same bytes twice in this run: one image
			continue
		}
		seen[sum] = true
		meta := DetectMeta(abs)
		if m, ok := man[abs]; ok {
			meta = mergeMeta(m, meta)
		}
		ai := AddedImage{Path: abs, SHA256: sum, Meta: meta}
		var status, done, wanted string
		err = s.db.QueryRowContext(ctx, s.q(`SELECT status, scanner, wanted FROM fleet_images WHERE sha256=?`), sum).Scan(&status, &done, &wanted)
		switch {
		case err == nil && status == StatusDone && done == scanner:
			ai.State = "already scanned"
			res.Scanned++
			// the manifest may bring metadata the first add lacked
			s.updateMeta(ctx, sum, meta)
		case err == nil && (status == StatusQueued || status == StatusRunning || status == StatusRetrying) && wanted == scanner:
			ai.State = "already queued"
			res.Queued++
			s.updateMeta(ctx, sum, meta)
		default:
			now := time.Now().UTC().Format(time.RFC3339)
			if err == nil {
				_, err = s.db.ExecContext(ctx, s.q(`UPDATE fleet_images SET path=?, name=?, vendor=?, product=?, version=?, status=?, error='', wanted=?, added_at=? WHERE sha256=?`),
					abs, filepath.Base(abs), meta.Vendor, meta.Product, meta.Version, StatusQueued, scanner, now, sum)
			} else {
				_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO fleet_images (sha256, name, path, size, vendor, product, version, status, wanted, added_at) VALUES (?,?,?,?,?,?,?,?,?,?)`),
					sum, filepath.Base(abs), abs, size, meta.Vendor, meta.Product, meta.Version, StatusQueued, scanner, now)
			}
			if err != nil {
				return res, fmt.Errorf("recording %s: %v", f, err)
			}
			if _, err := q.insert(ctx, ScanArgs{SHA256: sum, Path: abs, Scanner: scanner}); err != nil {
				return res, fmt.Errorf("enqueueing %s: %v", f, err)
			}
			ai.State = "added"
			res.Added++
		}
		res.Images = append(res.Images, ai)
	}
	return res, nil
}

func mergeMeta(a, b Meta) Meta {
	if a.Vendor == "" {
		a.Vendor = b.Vendor
	}
	if a.Product == "" {
		a.Product = b.Product
	}
	if a.Version == "" {
		a.Version = b.Version
	}
	return a
}

func (s *Store) updateMeta(ctx context.Context, sum string, m Meta) {
	s.db.ExecContext(ctx, s.q(`UPDATE fleet_images SET vendor=CASE WHEN ?<>'' THEN ? ELSE vendor END, product=CASE WHEN ?<>'' THEN ? ELSE product END, version=CASE WHEN ?<>'' THEN ? ELSE version END WHERE sha256=?`),
		m.Vendor, m.Vendor, m.Product, m.Product, m.Version, m.Version, sum)
}

// Image statuses.
const (
	StatusQueued   = "queued"
	StatusRunning  = "running"
	StatusRetrying = "retrying"
	StatusDone     = "done"
	StatusFailed   = "failed"
)
