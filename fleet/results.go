package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/report"
)

// SecretKind says which kind of secret a finding's fingerprint stands for
// ("private-key", "password-hash", "password", "pre-shared-key", "token",
// "certificate"), or "" when it is not a secret that may not be shared
// between products (an empty password field, a CA bundle, a component).
func SecretKind(f analyzers.Finding) string {
	if f.Fingerprint == "" {
		return ""
	}
	switch f.Category {
	case "private-key":
		return "private-key"
	case "certificate":
		if f.Rule == "certificate-trust-store" {
			return ""
		}
		return "certificate"
	case "api-token":
		return "token"
	case "hardcoded-credential":
		switch {
		case f.Rule == "empty-password", strings.Contains(f.Evidence, "no password set"):
			return ""
		case strings.Contains(f.Rule, "psk"), strings.Contains(f.Rule, "pre-shared"), strings.Contains(f.Rule, "wpa"):
			return "pre-shared-key"
		case f.Analyzer == "accounts":
			return "password-hash"
		}
		return "password"
	}
	return ""
}

func (s *Store) markRunning(ctx context.Context, sha string, attempt int, worker string) {
	s.db.ExecContext(ctx, s.q(`UPDATE fleet_images SET status=?, attempts=?, worker=? WHERE sha256=? AND status<>?`),
		StatusRunning, attempt, worker, sha, StatusDone)
}

func (s *Store) markFailed(ctx context.Context, sha, status string, attempt int, msg string) {
	if len(msg) > 4000 {
		msg = msg[:4000]
	}
	s.db.ExecContext(ctx, s.q(`UPDATE fleet_images SET status=?, attempts=?, error=?, finished_at=? WHERE sha256=? AND status<>?`),
		status, attempt, msg, time.Now().UTC().Format(time.RFC3339), sha, StatusDone)
}

// SaveResult replaces an image's results (layers, findings, components,
// verdicts, the report) in one transaction, so an image worked twice
// (a retry after its worker died) has exactly one result.
func (s *Store) SaveResult(ctx context.Context, sha, scanner, worker string, attempt int, dir string, r *report.Report) error {
	js, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []string{"fleet_layers", "fleet_findings", "fleet_components", "fleet_verdicts"} {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE image=?`), sha); err != nil {
			return err
		}
	}
	for _, l := range r.Layers {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fleet_layers (image, id, path, format, status, error) VALUES (?,?,?,?,?,?)`),
			sha, l.ID, l.Path, l.Format, string(l.Status), l.Error); err != nil {
			return fmt.Errorf("layer %s: %v", l.ID, err)
		}
	}
	for _, f := range r.Findings {
		cop := make([]string, len(f.Guidelines))
		for i, g := range f.Guidelines {
			cop[i] = fmt.Sprint(g)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fleet_findings (image, id, rule, category, severity, layer, path, line, fingerprint, secret_kind, evidence, message, cop) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`),
			sha, f.ID, f.Rule, f.Category, string(f.Severity), f.Layer, f.Path, f.Line, f.Fingerprint, SecretKind(f), f.Evidence, f.Message, strings.Join(cop, ",")); err != nil {
			return fmt.Errorf("finding %s: %v", f.ID, err)
		}
	}
	for _, c := range r.Components {
		worst := ""
		if len(c.Vulnerabilities) > 0 {
			worst = c.Vulnerabilities[0].Severity
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fleet_components (image, name, version, type, purl, vulns, worst) VALUES (?,?,?,?,?,?,?)`),
			sha, c.Name, c.Version, c.Type, c.PURL, len(c.Vulnerabilities), worst); err != nil {
			return err
		}
	}
	if r.Compliance != nil {
		for fw, items := range r.Compliance.Frameworks {
			for _, it := range items {
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fleet_verdicts (image, framework, item, verdict) VALUES (?,?,?,?)`),
					sha, fw, it.ID, string(it.Verdict)); err != nil {
					return err
				}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE fleet_images SET status=?, error='', scanner=?, worker=?, attempts=?, finished_at=?, report_dir=?, report=? WHERE sha256=?`),
		StatusDone, scanner, worker, attempt, time.Now().UTC().Format(time.RFC3339), dir, string(js), sha); err != nil {
		return err
	}
	return tx.Commit()
}

// Image is one row of the fleet.
type Image struct {
	SHA256, Name, Path       string
	Vendor, Product, Version string
	Status, Error            string
	Attempts                 int
	ReportDir                string
}

// Images lists the fleet's images by name, then SHA-256.
func (s *Store) Images(ctx context.Context) ([]Image, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256, name, path, vendor, product, version, status, error, attempts, report_dir FROM fleet_images ORDER BY name, sha256`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		var im Image
		if err := rows.Scan(&im.SHA256, &im.Name, &im.Path, &im.Vendor, &im.Product, &im.Version, &im.Status, &im.Error, &im.Attempts, &im.ReportDir); err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// Report loads an image's stored report (nil if it has none).
func (s *Store) Report(ctx context.Context, sha string) (*report.Report, error) {
	var js sql.NullString
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT report FROM fleet_images WHERE sha256=?`), sha).Scan(&js); err != nil {
		return nil, err
	}
	if !js.Valid || js.String == "" {
		return nil, nil
	}
	var r report.Report
	if err := json.Unmarshal([]byte(js.String), &r); err != nil {
		return nil, fmt.Errorf("stored report of %s: %v", sha[:12], err)
	}
	return &r, nil
}

// Counts of images by status.
type Counts struct {
	Queued, Running, Retrying, Done, Failed, Total int
}

// Reconcile marks failed the images whose jobs River discarded without
// the worker recording it (a worker killed on the last attempt, rescued
// and discarded by River).
func (s *Store) Reconcile(ctx context.Context) error {
	q, err := s.newQueue(ctx, nil)
	if err != nil {
		return err
	}
	disc, err := q.discarded(ctx)
	if err != nil {
		return err
	}
	shas := make([]string, 0, len(disc))
	for sha := range disc {
		shas = append(shas, sha)
	}
	sort.Strings(shas)
	for _, sha := range shas {
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE fleet_images SET status=?, error=CASE WHEN error='' THEN ? ELSE error END WHERE sha256=? AND status IN (?,?,?)`),
			StatusFailed, disc[sha], sha, StatusRunning, StatusRetrying, StatusQueued); err != nil {
			return err
		}
	}
	return nil
}

// Status counts the images by status.
func (s *Store) Status(ctx context.Context) (Counts, error) {
	var c Counts
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM fleet_images GROUP BY status`)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return c, err
		}
		switch st {
		case StatusQueued:
			c.Queued += n
		case StatusRunning:
			c.Running += n
		case StatusRetrying:
			c.Retrying += n
		case StatusDone:
			c.Done += n
		case StatusFailed:
			c.Failed += n
		}
		c.Total += n
	}
	return c, rows.Err()
}
