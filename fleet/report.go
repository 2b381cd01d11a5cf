package fleet

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/rules/builtin"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
	"github.com/fwaudit/fwaudit/scan"
)

// FleetSchema names the fleet.json format.
const FleetSchema = "fwaudit-fleet/1"

// RuleShared is the rule of the cross-image finding.
const RuleShared = "shared-secret"

// Fleet is fleet.json.
type Fleet struct {
	Schema string       `json:"schema"`
	Tool   report.Tool  `json:"tool"`
	Images []FleetImage `json:"images"`
	// Shared: secrets found in two or more images.
	Shared []Shared `json:"shared"`
	// PSTI1Failures: images that would fail UK PSTI requirement 1
	// (universal default passwords).
	PSTI1Failures []ImageRef `json:"psti_1_failures"`
	// VulnerableComponents: the components most often vulnerable across
	// the fleet.
	VulnerableComponents []FleetComponent `json:"vulnerable_components"`
	// Guidelines are the Code of Practice guideline numbers of the matrix.
	Guidelines []string `json:"guidelines"`
}

// FleetImage is one image of fleet.json.
type FleetImage struct {
	Name    string `json:"name"`
	SHA256  string `json:"sha256"`
	Status  string `json:"status"`
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
	Version string `json:"version"`
	Path    string `json:"path"`
	Error   string `json:"error,omitempty"`
	// Findings by severity.
	Findings map[string]int `json:"findings"`
	// CoP verdicts by guideline number.
	CoP map[string]string `json:"cop"`
	// Report is the folder (relative to fleet.json) with the image's
	// report files.
	Report string `json:"report,omitempty"`
}

// Shared is one secret in several images.
type Shared struct {
	Kind        string        `json:"kind"`
	Fingerprint string        `json:"fingerprint"`
	Images      []SharedImage `json:"images"`
}

// SharedImage is an image and the path in it that carries a shared
// secret.
type SharedImage struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Path   string `json:"path"`
	Layer  string `json:"layer,omitempty"`
}

// ImageRef names an image and why it is listed.
type ImageRef struct {
	Name     string   `json:"name"`
	SHA256   string   `json:"sha256"`
	Findings []string `json:"findings"`
}

// FleetComponent is a vulnerable component and how many images carry it.
type FleetComponent struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	Images          int    `json:"images"`
	Vulnerabilities int    `json:"vulnerabilities"`
	Worst           string `json:"worst"`
}

// SharedSecrets finds the secrets (same kind and keyed fingerprint) in two
// or more images, from the store's fleet_shared_secrets view.
func (s *Store) SharedSecrets(ctx context.Context) ([]Shared, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.secret_kind, f.fingerprint, i.name, i.sha256, f.path, f.layer
		FROM fleet_findings f
		JOIN fleet_shared_secrets v ON v.secret_kind = f.secret_kind AND v.fingerprint = f.fingerprint
		JOIN fleet_images i ON i.sha256 = f.image
		WHERE i.status = 'done'
		ORDER BY f.secret_kind, f.fingerprint, i.name, i.sha256, f.path, f.layer`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Shared
	seen := map[string]bool{}
	for rows.Next() {
		var kind, fp string
		var im SharedImage
		if err := rows.Scan(&kind, &fp, &im.Name, &im.SHA256, &im.Path, &im.Layer); err != nil {
			return nil, err
		}
		k := kind + "\x00" + fp + "\x00" + im.SHA256 + "\x00" + im.Path
		if seen[k] {
			continue // one secret found by two rules at one path
		}
		seen[k] = true
		if n := len(out); n == 0 || out[n-1].Kind != kind || out[n-1].Fingerprint != fp {
			out = append(out, Shared{Kind: kind, Fingerprint: fp})
		}
		out[len(out)-1].Images = append(out[len(out)-1].Images, im)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// the view counts images over every stored result; keep groups still
	// shared among finished images
	kept := out[:0]
	for _, g := range out {
		imgs := map[string]bool{}
		for _, im := range g.Images {
			imgs[im.SHA256] = true
		}
		if len(imgs) >= 2 {
			kept = append(kept, g)
		}
	}
	return kept, nil
}

// SharedFindings turns the shared secrets into one finding per image and
// path carrying it, keyed by image SHA-256.
func SharedFindings(shared []Shared) map[string][]analyzers.Finding {
	out := map[string][]analyzers.Finding{}
	for _, g := range shared {
		names := map[string]bool{}
		var where []string
		for _, im := range g.Images {
			names[im.SHA256] = true
			where = append(where, im.Name+":"+im.Path)
		}
		for _, im := range g.Images {
			f := analyzers.Finding{
				Rule:     RuleShared,
				Category: RuleShared,
				Severity: analyzers.Severity(builtin.Severity(RuleShared)),
				Layer:    im.Layer,
				Path:     im.Path,
				Evidence: fmt.Sprintf("%s %s in %d images: %s", g.Kind, g.Fingerprint, len(names), strings.Join(where, ", ")),
				Message: fmt.Sprintf("The same %s (fingerprint %s) is in %s and in %d other image(s) of the fleet: %s. A secret shipped in several products is a universal default: whoever extracts it from one image holds it for all of them (Code of Practice guidelines 1 and 4, UK PSTI requirement 1).",
					g.Kind, g.Fingerprint, im.Path, len(names)-1, strings.Join(where, ", ")),
				Fingerprint: g.Fingerprint,
				Guidelines:  builtin.Guidelines(RuleShared),
				Analyzer:    "fleet",
			}
			f.SetID()
			out[im.SHA256] = append(out[im.SHA256], f)
		}
	}
	return out
}

// Build assembles fleet.json from per-image summaries, streaming the
// stored reports: each finished image's report is read from the store,
// judged again with its shared-secret findings (scan.Rejudge: the one
// compliance judgement a scan makes, over the report's own data and the
// added findings), handed to each (which may write it; nil skips) and
// dropped before the next is read. Memory grows with the summaries (one
// row of fleet.json per image), not with the reports.
func (s *Store) Build(ctx context.Context, each func(Image, *report.Report) error) (*Fleet, error) {
	if err := s.Reconcile(ctx); err != nil {
		return nil, err
	}
	imgs, err := s.Images(ctx)
	if err != nil {
		return nil, err
	}
	shared, err := s.SharedSecrets(ctx)
	if err != nil {
		return nil, err
	}
	extra := SharedFindings(shared)
	fl := &Fleet{Schema: FleetSchema, Tool: report.Tool{Name: "fwaudit", Version: scan.Version}, Images: []FleetImage{}, Shared: shared, PSTI1Failures: []ImageRef{}}
	if fl.Shared == nil {
		fl.Shared = []Shared{}
	}
	guidelines := map[string]bool{}
	for _, im := range imgs {
		fi := FleetImage{Name: im.Name, SHA256: im.SHA256, Status: im.Status, Vendor: im.Vendor, Product: im.Product, Version: im.Version,
			Path: im.Path, Error: im.Error, Findings: map[string]int{}, CoP: map[string]string{}}
		for _, sev := range report.Severities {
			fi.Findings[string(sev)] = 0
		}
		if im.Status == StatusDone {
			r, err := s.Report(ctx, im.SHA256)
			if err != nil {
				return nil, err
			}
			if r != nil {
				if err := scan.Rejudge(r, extra[im.SHA256]); err != nil {
					return nil, fmt.Errorf("%s: %v", im.Name, err)
				}
				fi.Report = filepath.Base(ImageDir("", im.Name, im.SHA256))
				for _, f := range r.Findings {
					fi.Findings[string(f.Severity)]++
				}
				if r.Compliance != nil {
					for _, it := range r.Compliance.Frameworks[rulescompliance.CoP] {
						fi.CoP[it.ID] = string(it.Verdict)
						guidelines[it.ID] = true
					}
					for _, it := range r.Compliance.Frameworks[rulescompliance.PSTI] {
						if it.ID == "1" && it.Verdict == compliance.Fail {
							fl.PSTI1Failures = append(fl.PSTI1Failures, ImageRef{Name: im.Name, SHA256: im.SHA256, Findings: it.Findings})
						}
					}
				}
				if each != nil {
					if err := each(im, r); err != nil {
						return nil, fmt.Errorf("%s: %v", im.Name, err)
					}
				}
			}
		}
		fl.Images = append(fl.Images, fi)
	}
	for g := range guidelines {
		fl.Guidelines = append(fl.Guidelines, g)
	}
	sort.Slice(fl.Guidelines, func(i, j int) bool {
		a, _ := strconv.Atoi(fl.Guidelines[i])
		b, _ := strconv.Atoi(fl.Guidelines[j])
		return a < b
	})
	if fl.Guidelines == nil {
		fl.Guidelines = []string{}
	}
	fl.VulnerableComponents, err = s.vulnerableComponents(ctx, 25)
	if err != nil {
		return nil, err
	}
	return fl, nil
}

func (s *Store) vulnerableComponents(ctx context.Context, limit int) ([]FleetComponent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c.name, c.version, COUNT(DISTINCT c.image), MAX(c.vulns)
		FROM fleet_components c JOIN fleet_images i ON i.sha256 = c.image
		WHERE c.vulns > 0 AND i.status = 'done'
		GROUP BY c.name, c.version
		ORDER BY COUNT(DISTINCT c.image) DESC, MAX(c.vulns) DESC, c.name, c.version LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []FleetComponent{}
	for rows.Next() {
		var c FleetComponent
		if err := rows.Scan(&c.Name, &c.Version, &c.Images, &c.Vulnerabilities); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		var w string
		// the worst severity any image records for it
		r2, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT worst FROM fleet_components WHERE name=? AND version=? AND worst<>''`), out[i].Name, out[i].Version)
		if err != nil {
			return nil, err
		}
		for r2.Next() {
			var v string
			r2.Scan(&v)
			if sev, err := analyzers.ParseSeverity(v); err == nil {
				if cur, err := analyzers.ParseSeverity(w); err != nil || sev.Rank() > cur.Rank() {
					w = string(sev)
				}
			}
		}
		r2.Close()
		out[i].Worst = w
	}
	return out, nil
}

// WriteReport writes each finished image's report files (with its
// shared-secret findings, judged again) into out as its report is read
// from the store, one at a time, then fleet.json, fleet.csv and
// fleet.html from the per-image summaries.
func (s *Store) WriteReport(ctx context.Context, out string) (*Fleet, error) {
	fl, err := s.Build(ctx, func(im Image, r *report.Report) error {
		sub := filepath.Base(ImageDir("", im.Name, im.SHA256))
		dir := filepath.Join(out, sub)
		// the SBOM documents the worker wrote, if it wrote elsewhere
		sbom := map[string][]byte{}
		if im.ReportDir != "" && filepath.Clean(im.ReportDir) != filepath.Clean(dir) {
			for _, n := range []string{"sbom.cdx.json", "sbom.spdx.json", "vulns.cdx.json", "vex.openvex.json"} {
				if b, err := os.ReadFile(filepath.Join(im.ReportDir, n)); err == nil {
					sbom[n] = b
				}
			}
		}
		return WriteImage(out, sub, r, sbom)
	})
	if err != nil {
		return nil, err
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fl); err != nil {
		return nil, err
	}
	js = *bytes.NewBuffer(report.EscapeInvisibleJSON(js.Bytes()))
	var cb bytes.Buffer
	if err := WriteCSV(&cb, fl); err != nil {
		return nil, err
	}
	var hb bytes.Buffer
	if err := WriteHTML(&hb, fl); err != nil {
		return nil, err
	}
	files := map[string][]byte{"fleet.json": js.Bytes(), "fleet.csv": cb.Bytes(), "fleet.html": hb.Bytes()}
	if _, err := scan.WriteFiles(out, "", files); err != nil {
		return nil, err
	}
	return fl, nil
}

// WriteCSV writes one line per image: identity, status, findings by
// severity, the Code of Practice verdicts and the shared secrets it
// carries.
func WriteCSV(w *bytes.Buffer, fl *Fleet) error {
	cw := csv.NewWriter(w)
	head := []string{"name", "sha256", "status", "vendor", "product", "version"}
	for _, s := range report.Severities {
		head = append(head, string(s))
	}
	for _, g := range fl.Guidelines {
		head = append(head, "cop_"+g)
	}
	head = append(head, "shared_secrets", "error")
	cw.Write(head)
	shared := map[string]int{}
	for _, g := range fl.Shared {
		seen := map[string]bool{}
		for _, im := range g.Images {
			if !seen[im.SHA256] {
				seen[im.SHA256] = true
				shared[im.SHA256]++
			}
		}
	}
	for _, im := range fl.Images {
		rec := []string{csvSafe(im.Name), im.SHA256, im.Status, csvSafe(im.Vendor), csvSafe(im.Product), csvSafe(im.Version)}
		for _, s := range report.Severities {
			rec = append(rec, strconv.Itoa(im.Findings[string(s)]))
		}
		for _, g := range fl.Guidelines {
			rec = append(rec, im.CoP[g])
		}
		rec = append(rec, strconv.Itoa(shared[im.SHA256]), csvSafe(im.Error))
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a firmware string as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
