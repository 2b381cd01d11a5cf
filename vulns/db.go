package vulns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adrg/xdg"
	"gorm.io/gorm"

	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/anchore/grype/grype/db/v6/installation"

	feed "github.com/fwaudit/fwaudit/rules/vulns"
)

// Sources named in DBInfo.Source.
const (
	SourceEmbedded = "embedded feed"
	SourceImported = "imported"
	SourceGrype    = "grype cache"
	SourcePath     = "path"
)

// ProviderID is the provider the embedded feed's records are stored under:
// "nvd", like grype's own NVD records, so matches carry grype's usual
// "nvd:cpe" namespace.
const ProviderID = "nvd"

// ProviderProcessor names fwaudit as the processor of the embedded feed.
const ProviderProcessor = "fwaudit"

// DBInfo describes a vulnerability database.
type DBInfo struct {
	// Source is SourceEmbedded, SourceImported, SourceGrype or SourcePath.
	Source string `json:"source"`
	// Path is the database file.
	Path string `json:"path"`
	// Built is when the database was built.
	Built time.Time `json:"built"`
	// Schema is the grype schema version ("6.1.9").
	Schema string `json:"schema"`
	// Records counts vulnerability records.
	Records int `json:"records"`
	// Digest is the embedded feed's digest a compiled feed was built from
	// ("" for other databases).
	Digest string `json:"digest,omitempty"`
	// DataDate is the date of the data itself: when the embedded feed's
	// records were read from NVD, or, for a grype database, when it was
	// built from its sources (not when fwaudit's cache was written).
	DataDate time.Time `json:"data_date"`
	// Summary names the feed and its size: "curated: 215 records for 22
	// components" for the embedded feed, "grype database: N records from
	// P providers" otherwise.
	Summary string `json:"summary"`
}

// String is a one-line description ("embedded feed: 215 records, built
// 2026-11-21T10:00:00Z, /root/.cache/fwaudit/vulndb/embedded/6/vulnerability.db").
func (d DBInfo) String() string {
	s := fmt.Sprintf("%s: %d records, built %s, %s", d.Source, d.Records, d.Built.UTC().Format(time.RFC3339), d.Path)
	if d.Summary != "" {
		s += fmt.Sprintf("\n%s, data of %s", d.Summary, d.DataDate.UTC().Format("2006-01-02"))
	}
	return s
}

// FeedSummary is the embedded feed's size: "curated: N records for M
// components" (records that can match, and distinct CPE products).
func FeedSummary(f *feed.Feed) string {
	n := 0
	products := map[string]bool{}
	for _, v := range f.Vulnerabilities {
		if len(v.Affected) > 0 {
			n++
		}
		for _, a := range v.Affected {
			products[a.Vendor+":"+a.Product] = true
		}
	}
	return fmt.Sprintf("curated: %d records for %d components", n, len(products))
}

// defaultCacheDir is fwaudit's cache directory ($XDG_CACHE_HOME/fwaudit).
func defaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set --cache-dir): %w", err)
	}
	return filepath.Join(d, "fwaudit"), nil
}

func (o Options) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	return defaultCacheDir()
}

// embeddedRoot and importedRoot are grype "DB root" directories (the
// database lives in <root>/6/vulnerability.db, as in grype's cache).
func embeddedRoot(cache string) string { return filepath.Join(cache, "vulndb", "embedded") }
func importedRoot(cache string) string { return filepath.Join(cache, "vulndb", "imported") }

// GrypeCacheRoot is where grype keeps its database: $GRYPE_DB_CACHE_DIR,
// else $XDG_CACHE_HOME/grype/db.
func GrypeCacheRoot() string {
	if d := os.Getenv("GRYPE_DB_CACHE_DIR"); d != "" {
		return d
	}
	return filepath.Join(xdg.CacheHome, "grype", "db")
}

func schemaDir(root string) string { return filepath.Join(root, fmt.Sprint(v6.ModelVersion)) }

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// locate picks the database Options select, without building anything:
// the directory holding vulnerability.db, its source, and whether it is
// the (possibly not yet built) embedded feed.
//
// With DBPath set it is that database (a directory holding
// vulnerability.db, or the file itself). Otherwise the first that exists of
// a database imported into the cache (Import), grype's own database in its
// standard cache location, and the embedded feed compiled into the cache.
func locate(opt Options) (dir, source string, err error) {
	if opt.DBPath != "" {
		p := opt.DBPath
		st, err := os.Stat(p)
		if err != nil {
			return "", "", fmt.Errorf("vulnerability database: %w", err)
		}
		if st.IsDir() {
			if !exists(filepath.Join(p, v6.VulnerabilityDBFileName)) && exists(filepath.Join(schemaDir(p), v6.VulnerabilityDBFileName)) {
				p = schemaDir(p) // a grype DB root
			}
			if !exists(filepath.Join(p, v6.VulnerabilityDBFileName)) {
				return "", "", fmt.Errorf("vulnerability database: no %s in %s", v6.VulnerabilityDBFileName, opt.DBPath)
			}
			return p, SourcePath, nil
		}
		if filepath.Base(p) != v6.VulnerabilityDBFileName {
			if isArchive(p) {
				return "", "", fmt.Errorf("vulnerability database: %s is an archive: import it first (fwaudit db import)", p)
			}
			return "", "", fmt.Errorf("vulnerability database: %s: want a directory or a file named %s", p, v6.VulnerabilityDBFileName)
		}
		return filepath.Dir(p), SourcePath, nil
	}
	cache, err := opt.cacheDir()
	if err != nil {
		return "", "", err
	}
	if d := schemaDir(importedRoot(cache)); exists(filepath.Join(d, v6.VulnerabilityDBFileName)) {
		return d, SourceImported, nil
	}
	if d := schemaDir(GrypeCacheRoot()); exists(filepath.Join(d, v6.VulnerabilityDBFileName)) {
		return d, SourceGrype, nil
	}
	return schemaDir(embeddedRoot(cache)), SourceEmbedded, nil
}

func isArchive(p string) bool {
	for _, ext := range []string{".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tar"} {
		if strings.HasSuffix(strings.ToLower(p), ext) {
			return true
		}
	}
	return false
}

// open opens the database Options select, compiling the embedded feed
// into the cache first if it is missing or was built from another feed.
func open(ctx context.Context, opt Options) (v6.Reader, DBInfo, error) {
	dir, source, err := locate(opt)
	if err != nil {
		return nil, DBInfo{}, err
	}
	if source == SourceEmbedded {
		if err := ensureEmbedded(ctx, dir); err != nil {
			return nil, DBInfo{}, err
		}
	}
	r, info, err := openDir(dir)
	if err != nil {
		return nil, info, err
	}
	info.Source = source
	return r, info, nil
}

// ensureEmbedded builds the embedded feed into dir unless a database built
// from the same feed is there. The build goes to a temporary directory next
// to dir and is renamed into place, so concurrent runs never see half a
// database.
func ensureEmbedded(ctx context.Context, dir string) error {
	if current(dir) {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("vulnerability database: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return fmt.Errorf("vulnerability database: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := BuildDB(ctx, tmp); err != nil {
		return err
	}
	if current(dir) {
		return nil // another run built it meanwhile
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("vulnerability database: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// another run may have put its build in place meanwhile
		if exists(filepath.Join(dir, v6.VulnerabilityDBFileName)) {
			return nil
		}
		return fmt.Errorf("vulnerability database: %w", err)
	}
	os.RemoveAll(old)
	return nil
}

// current reports whether dir holds a database built from the embedded
// feed as it is now.
func current(dir string) bool {
	if !exists(filepath.Join(dir, v6.VulnerabilityDBFileName)) {
		return false
	}
	r, info, err := openDir(dir)
	if err != nil {
		return false
	}
	r.Close()
	return info.Digest == feed.Digest()
}

// openDir opens the v6 database in dir read-only and describes it.
func openDir(dir string) (v6.Reader, DBInfo, error) {
	path := filepath.Join(dir, v6.VulnerabilityDBFileName)
	info := DBInfo{Source: SourcePath, Path: path}
	if !exists(path) {
		return nil, info, fmt.Errorf("vulnerability database: %s does not exist", path)
	}
	r, err := v6.NewReader(v6.Config{DBDirPath: dir})
	if err != nil {
		return nil, info, fmt.Errorf("vulnerability database %s: %w", path, err)
	}
	if m, err := r.GetDBMetadata(); err == nil && m != nil {
		if m.BuildTimestamp != nil {
			info.Built = m.BuildTimestamp.UTC()
		}
		info.Schema = fmt.Sprintf("%d.%d.%d", m.Model, m.Revision, m.Addition)
	}
	nprov := 0
	if ps, err := r.AllProviders(); err == nil {
		nprov = len(ps)
		for _, p := range ps {
			if p.ID == ProviderID && p.Processor == ProviderProcessor {
				info.Digest = p.InputDigest
				if p.DateCaptured != nil {
					info.DataDate = p.DateCaptured.UTC()
				}
			}
		}
	}
	if g, ok := r.(interface{ GetDB() *gorm.DB }); ok {
		var n int64
		if err := g.GetDB().Model(&v6.VulnerabilityHandle{}).Count(&n).Error; err == nil {
			info.Records = int(n)
		}
	}
	if info.Digest != "" {
		if f, err := feed.Default(); err == nil && info.Digest == feed.Digest() {
			info.Summary = FeedSummary(f)
		} else {
			info.Summary = fmt.Sprintf("curated (an older fwaudit feed): %d records", info.Records)
		}
	} else {
		info.DataDate = info.Built
		info.Summary = fmt.Sprintf("grype database: %d records from %d providers", info.Records, nprov)
	}
	return r, info, nil
}

// Status describes the database Options select, building the embedded
// feed into the cache if that is the one and it is missing or stale.
func Status(opt Options) (DBInfo, error) {
	r, info, err := open(context.Background(), opt)
	if err != nil {
		return info, err
	}
	r.Close()
	return info, nil
}

// BuildDB compiles the embedded feed (rules/vulns) into a grype v6
// database, dir/vulnerability.db (dir is created; an existing database
// there is replaced). Every record becomes a vulnerability handle of
// provider "nvd" and every affected product an affected-CPE handle whose
// ranges are grype version constraints, the same shape grype's own NVD
// transformer writes, so grype's CPE matching finds them.
func BuildDB(ctx context.Context, dir string) (DBInfo, error) {
	f, err := feed.Default()
	if err != nil {
		return DBInfo{}, err
	}
	return buildDB(ctx, dir, f, feed.Digest())
}

func buildDB(ctx context.Context, dir string, f *feed.Feed, digest string) (DBInfo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return DBInfo{}, fmt.Errorf("build vulnerability database: %w", err)
	}
	for _, name := range []string{v6.VulnerabilityDBFileName, v6.ImportMetadataFileName} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return DBInfo{}, fmt.Errorf("build vulnerability database: %w", err)
		}
	}
	w, err := v6.NewWriter(v6.Config{DBDirPath: dir})
	if err != nil {
		return DBInfo{}, fmt.Errorf("build vulnerability database: %w", err)
	}
	now := time.Now().UTC()
	captured := now
	if t, err := time.Parse("2006-01-02", f.Collected); err == nil {
		captured = t
	}
	prov := &v6.Provider{
		ID:           ProviderID,
		Version:      fmt.Sprint(f.Format),
		Processor:    ProviderProcessor,
		DateCaptured: &captured,
		InputDigest:  digest,
	}
	err = writeFeed(ctx, w, f, prov)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return DBInfo{}, fmt.Errorf("build vulnerability database: %w", err)
	}
	// the writer drops every index when it closes (grype distributes its
	// database that way); put them back as grype does after a download.
	if err := v6.Hydrater()(dir); err != nil {
		return DBInfo{}, fmt.Errorf("build vulnerability database: index: %w", err)
	}
	r, info, err := openDir(dir)
	if err != nil {
		return info, err
	}
	r.Close()
	info.Source = SourceEmbedded
	return info, nil
}

func writeFeed(ctx context.Context, w v6.ReadWriter, f *feed.Feed, prov *v6.Provider) error {
	if err := w.SetDBMetadata(); err != nil {
		return err
	}
	for i := range f.Vulnerabilities {
		if err := ctx.Err(); err != nil {
			return err
		}
		fv := &f.Vulnerabilities[i]
		vh := vulnerabilityHandle(fv, prov)
		if err := w.AddVulnerabilities(vh); err != nil {
			return fmt.Errorf("%s: %w", fv.ID, err)
		}
		for _, h := range cpeHandles(fv) {
			h.VulnerabilityID = vh.ID
			if err := w.AddAffectedCPEs(h); err != nil {
				return fmt.Errorf("%s: %w", fv.ID, err)
			}
		}
	}
	return nil
}

func vulnerabilityHandle(fv *feed.Vulnerability, prov *v6.Provider) *v6.VulnerabilityHandle {
	status := v6.VulnerabilityActive
	if fv.Status == "disputed" {
		status = v6.VulnerabilityDisputed
	}
	blob := &v6.VulnerabilityBlob{
		ID:          fv.ID,
		Description: fv.Description,
		References:  []v6.Reference{{URL: fv.URL}},
	}
	for _, u := range fv.References {
		blob.References = append(blob.References, v6.Reference{URL: u})
	}
	if c := fv.CVSS; c != nil {
		vector := c.Vector
		if c.Version == "2.0" {
			// grype reads a bare vector as v2; "CVSS:2.0/" is not a
			// prefix its parser accepts
			vector = strings.TrimPrefix(vector, "CVSS:2.0/")
		}
		blob.Severities = []v6.Severity{{
			Scheme: v6.SeveritySchemeCVSS,
			Value:  v6.CVSSSeverity{Vector: vector, Version: c.Version},
			Source: "nvd@nist.gov",
			Rank:   1,
		}}
	}
	vh := &v6.VulnerabilityHandle{
		Name:       fv.ID,
		Status:     status,
		ProviderID: prov.ID,
		Provider:   prov,
		BlobValue:  blob,
	}
	if t, err := time.Parse("2006-01-02", fv.Published); err == nil {
		vh.PublishedDate = &t
	}
	return vh
}

// cpeHandles turns a record's affected products into affected-CPE handles:
// one per product, with one grype range per feed range and per exact
// version.
func cpeHandles(fv *feed.Vulnerability) []*v6.AffectedCPEHandle {
	var out []*v6.AffectedCPEHandle
	for _, a := range fv.Affected {
		var ranges []v6.Range
		for _, r := range a.Ranges {
			vr := v6.Range{Version: v6.Version{Constraint: r.Constraint()}}
			if r.Fixed != "" {
				vr.Fix = &v6.Fix{Version: r.Fixed, State: v6.FixedStatus}
			}
			ranges = append(ranges, vr)
		}
		for _, v := range a.Versions {
			ranges = append(ranges, v6.Range{Version: v6.Version{Constraint: "= " + exactVersion(v)}})
		}
		out = append(out, &v6.AffectedCPEHandle{
			CPE: &v6.Cpe{Part: a.Part, Vendor: a.Vendor, Product: a.Product},
			BlobValue: &v6.PackageBlob{
				CVEs:   []string{fv.ID},
				Ranges: ranges,
			},
		})
	}
	return out
}

// exactVersion turns a feed version with a CPE update ("1.0.0:pre1") into
// the version grype compares. grype searches with a CPE's version field
// only, so an OpenSSH portable patch level ("5.2:p1", the 5.2 release) is
// dropped, while a pre-release or dated snapshot is kept as grype's own NVD
// transformer writes it ("1.0.0-pre1": never equal to the release).
func exactVersion(v string) string {
	ver, upd, ok := strings.Cut(v, ":")
	if !ok {
		return v
	}
	if len(upd) >= 2 && upd[0] == 'p' && strings.Trim(upd[1:], "0123456789") == "" {
		return ver
	}
	return ver + "-" + upd
}

// Import installs a grype v6 database archive (vulnerability-db_*.tar.zst
// or .tar.gz, as grype distributes it) or a vulnerability.db file into the
// cache, where MatchSBOM and Status prefer it to grype's cache and the
// embedded feed. grype's importer hydrates it (builds its indexes) and
// records its checksum. URLs are refused: nothing is downloaded.
func Import(archive string, opt Options) error {
	if strings.Contains(archive, "://") {
		return fmt.Errorf("vulnerability database import: %s: only local files can be imported", archive)
	}
	if _, err := os.Stat(archive); err != nil {
		return fmt.Errorf("vulnerability database import: %w", err)
	}
	abs, err := filepath.Abs(archive)
	if err != nil {
		return fmt.Errorf("vulnerability database import: %w", err)
	}
	cache, err := opt.cacheDir()
	if err != nil {
		return err
	}
	cur, err := installation.NewCurator(installation.Config{DBRootDir: importedRoot(cache)}, nil)
	if err != nil {
		return fmt.Errorf("vulnerability database import: %w", err)
	}
	if err := cur.Import(abs); err != nil {
		// grype keeps a failed import's temporary directory for
		// investigation; the error says enough
		tmps, _ := filepath.Glob(filepath.Join(importedRoot(cache), fmt.Sprintf("tmp-v%d-import*", v6.ModelVersion)))
		for _, d := range tmps {
			os.RemoveAll(d)
		}
		return fmt.Errorf("vulnerability database import: %w", err)
	}
	return nil
}
