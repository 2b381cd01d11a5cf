// Package fleet audits many firmware images as one fleet: a store (SQLite
// by default, PostgreSQL for many machines) holds the images, one River job
// per image and the results the fleet report queries (layers, findings
// with keyed fingerprints, components, Code of Practice verdicts); River
// workers run the scan pipeline on each image; the report finds the
// secrets shared between images.
package fleet

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // pure-Go SQLite (modernc.org/sqlite's library), already in the binary for syft
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/fwaudit/fwaudit/analyzers"
)

// SchemaVersion is the version of fwaudit's own tables this build reads
// and writes. A store of another version is refused. Version 2: stored
// reports carry the compliance judgement's inputs (compliance.threshold,
// compliance.hints), which fleet report re-judges shared secrets with.
const SchemaVersion = 2

// DefaultStore is the store used without --store.
const DefaultStore = "sqlite:fleet.db"

// Store is an open fleet store.
type Store struct {
	URL     string
	dialect string // "sqlite" or "postgres"
	db      *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only: River's pgx driver
	key     []byte
}

// StoreError is a store that cannot be used: unreachable, missing, or of
// another schema version.
type StoreError struct{ Err error }

func (e *StoreError) Error() string { return e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

func storeErr(format string, a ...any) error { return &StoreError{fmt.Errorf(format, a...)} }

// Open opens the store at url ("sqlite:PATH" or "postgres://..."). With
// create, a missing store is created (River's tables, then fwaudit's, and a
// fresh fingerprint key); without, a missing store is an error.
func Open(ctx context.Context, rawURL string, create bool) (*Store, error) {
	if rawURL == "" {
		rawURL = DefaultStore
	}
	s := &Store{URL: rawURL}
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if p == "" || strings.ContainsAny(p, "?#") {
			return nil, storeErr("store %q: want sqlite:PATH (a file; no query)", rawURL)
		}
		if _, err := os.Stat(p); err != nil {
			if !create || !errors.Is(err, os.ErrNotExist) {
				return nil, storeErr("store %s: %v (fleet add creates it)", rawURL, err)
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, storeErr("store %s: %v", rawURL, err)
			}
		}
		dsn := "file:" + p + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, storeErr("store %s: %v", rawURL, err)
		}
		// SQLite allows one writer; River's SQLite driver wants one
		// connection per process.
		db.SetMaxOpenConns(1)
		s.dialect, s.db = "sqlite", db
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return nil, storeErr("store: %v", err)
		}
		cfg, err := pgxpool.ParseConfig(rawURL)
		if err != nil {
			return nil, storeErr("store %s: %v", redactURL(rawURL), err)
		}
		if cfg.ConnConfig.ConnectTimeout == 0 {
			cfg.ConnConfig.ConnectTimeout = 10 * time.Second
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, storeErr("store %s: %v", redactURL(rawURL), err)
		}
		s.dialect, s.pool, s.db = "postgres", pool, stdlib.OpenDBFromPool(pool)
	default:
		return nil, storeErr("store %q: want sqlite:PATH or postgres://...", rawURL)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, storeErr("store %s cannot be reached: %v", redactURL(rawURL), err)
	}
	if err := s.prepare(ctx, create); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// redactURL hides a password in a store URL for messages.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	return p.Redacted()
}

// Close closes the store.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Key is the store's fingerprint key.
func (s *Store) Key() []byte { return s.key }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// q rewrites ? placeholders to PostgreSQL's $n.
func (s *Store) q(query string) string {
	if s.dialect != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (s *Store) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	var err error
	if s.dialect == "sqlite" {
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?`, name).Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema=current_schema() AND table_name=$1`, name).Scan(&n)
	}
	return n > 0, err
}

// prepare checks (or creates) River's tables and fwaudit's, and loads the
// fingerprint key.
func (s *Store) prepare(ctx context.Context, create bool) error {
	exists, err := s.tableExists(ctx, "fwaudit_meta")
	if err != nil {
		return storeErr("store %s: %v", redactURL(s.URL), err)
	}
	if !exists && !create {
		return storeErr("store %s holds no fleet (fleet add creates one)", redactURL(s.URL))
	}
	if err := s.migrateRiver(ctx); err != nil {
		return storeErr("store %s: River migrations: %v", redactURL(s.URL), err)
	}
	if !exists {
		if err := s.createSchema(ctx); err != nil {
			return storeErr("store %s: creating the fleet tables: %v", redactURL(s.URL), err)
		}
	}
	var v, key string
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM fwaudit_meta WHERE key=?`), "schema_version").Scan(&v); err != nil {
		return storeErr("store %s: reading the schema version: %v", redactURL(s.URL), err)
	}
	if v != fmt.Sprint(SchemaVersion) {
		return storeErr("store %s has fleet schema version %s; this fwaudit reads version %d only (use the fwaudit that created it, or a new store)", redactURL(s.URL), v, SchemaVersion)
	}
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM fwaudit_meta WHERE key=?`), "fingerprint_key").Scan(&key); err != nil {
		return storeErr("store %s: reading the fingerprint key: %v", redactURL(s.URL), err)
	}
	k, err := hex.DecodeString(key)
	if err != nil || len(k) < analyzers.MinFingerprintKey {
		return storeErr("store %s: bad fingerprint key", redactURL(s.URL))
	}
	s.key = k
	return nil
}

func (s *Store) migrateRiver(ctx context.Context) error {
	if s.dialect == "postgres" {
		m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(s.db), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// schemaTables are fwaudit's own tables (portable SQL: SQLite and
// PostgreSQL).
var schemaTables = []string{
	`CREATE TABLE fwaudit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE fleet_images (
		sha256 TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		path TEXT NOT NULL,
		size BIGINT NOT NULL,
		vendor TEXT NOT NULL DEFAULT '',
		product TEXT NOT NULL DEFAULT '',
		version TEXT NOT NULL DEFAULT '',
		status TEXT NOT NULL,
		error TEXT NOT NULL DEFAULT '',
		attempts INTEGER NOT NULL DEFAULT 0,
		wanted TEXT NOT NULL DEFAULT '',
		scanner TEXT NOT NULL DEFAULT '',
		worker TEXT NOT NULL DEFAULT '',
		added_at TEXT NOT NULL DEFAULT '',
		finished_at TEXT NOT NULL DEFAULT '',
		report_dir TEXT NOT NULL DEFAULT '',
		report TEXT
	)`,
	`CREATE TABLE fleet_layers (
		image TEXT NOT NULL REFERENCES fleet_images(sha256) ON DELETE CASCADE,
		id TEXT NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL,
		status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (image, id)
	)`,
	`CREATE TABLE fleet_findings (
		image TEXT NOT NULL REFERENCES fleet_images(sha256) ON DELETE CASCADE,
		id TEXT NOT NULL, rule TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL,
		layer TEXT NOT NULL, path TEXT NOT NULL, line INTEGER NOT NULL DEFAULT 0,
		fingerprint TEXT NOT NULL DEFAULT '', secret_kind TEXT NOT NULL DEFAULT '',
		evidence TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '', cop TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (image, id)
	)`,
	`CREATE INDEX fleet_findings_secret ON fleet_findings (secret_kind, fingerprint)`,
	`CREATE TABLE fleet_components (
		image TEXT NOT NULL REFERENCES fleet_images(sha256) ON DELETE CASCADE,
		name TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL DEFAULT '', purl TEXT NOT NULL DEFAULT '',
		vulns INTEGER NOT NULL DEFAULT 0, worst TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX fleet_components_image ON fleet_components (image)`,
	`CREATE TABLE fleet_verdicts (
		image TEXT NOT NULL REFERENCES fleet_images(sha256) ON DELETE CASCADE,
		framework TEXT NOT NULL, item TEXT NOT NULL, verdict TEXT NOT NULL,
		PRIMARY KEY (image, framework, item)
	)`,
	// the same secret (kind and keyed fingerprint) in two or more images
	`CREATE VIEW fleet_shared_secrets AS
		SELECT secret_kind, fingerprint, COUNT(DISTINCT image) AS images
		FROM fleet_findings WHERE secret_kind <> '' AND fingerprint <> ''
		GROUP BY secret_kind, fingerprint HAVING COUNT(DISTINCT image) >= 2`,
}

func (s *Store) createSchema(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, st := range schemaTables {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%v: %s", err, strings.Fields(st)[:3])
		}
	}
	key := []byte(os.Getenv(KeyEnv))
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
	} else if len(key) < analyzers.MinFingerprintKey {
		return fmt.Errorf("%s: %d bytes, want at least %d", KeyEnv, len(key), analyzers.MinFingerprintKey)
	}
	for k, v := range map[string]string{
		"schema_version":  fmt.Sprint(SchemaVersion),
		"fingerprint_key": hex.EncodeToString(key),
		"created_at":      time.Now().UTC().Format(time.RFC3339),
	} {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fwaudit_meta (key, value) VALUES (?, ?)`), k, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// KeyEnv names the environment variable holding a fingerprint key: single
// scans use it, and a new fleet store takes it as its key.
const KeyEnv = "FWAUDIT_FINGERPRINT_KEY"
