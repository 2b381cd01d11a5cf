package fleet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
)

// postgresURL is the test server (.ci/run starts one and sets
// FWAUDIT_TEST_POSTGRES); the test skips without it, and fails under CI.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("FWAUDIT_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FWAUDIT_TEST_POSTGRES is not set: CI must start PostgreSQL (.ci/run does)")
		}
		t.Skip("FWAUDIT_TEST_POSTGRES is not set (e.g. postgres://fwaudit:fwaudit@localhost:5432/fwaudit_test): skipping the PostgreSQL fleet test")
	}
	return u
}

// freshSchema makes an empty schema for one test and returns the store URL
// that uses it.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at FWAUDIT_TEST_POSTGRES: %v", err)
		}
		t.Skipf("PostgreSQL at FWAUDIT_TEST_POSTGRES cannot be reached (%v): skipping", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("fwaudit_test_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// buildBinary builds cmd/fwaudit into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fwaudit")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/fwaudit")
	cmd.Dir = testcorpus.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBin(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fwaudit %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// results is what a fleet holds per image: status and finding IDs.
func results(t *testing.T, s *Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, im := range imgs {
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM fleet_findings WHERE image=? ORDER BY id`), im.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		out[im.Name+" "+im.SHA256[:12]] = im.Status + " " + strings.Join(ids, ",")
	}
	return out
}

// TestTwoWorkersOnPostgresWithAKilledWorker runs two fwaudit worker
// processes on PostgreSQL over the shared corpus (real/ and formats/),
// SIGKILLs one mid-image, and checks that River rescues the image, that
// every image ends with exactly one result, and that the findings equal a
// single-process SQLite run. Both runs use --no-sbom --no-vulns to keep the
// test short (the SBOM stages are the same code path for both stores).
func TestTwoWorkersOnPostgresWithAKilledWorker(t *testing.T) {
	base := postgresURL(t)
	real := testcorpus.Shared(t, "real")
	formats := testcorpus.Shared(t, "formats")
	big := filepath.Join(real, "tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	pg := freshSchema(t, base)
	bin := buildBinary(t)
	dir := t.TempDir()
	env := append(os.Environ(), KeyEnv+"="+testKey, "FWAUDIT_FLEET_JOB_TIMEOUT=20s", "FWAUDIT_FLEET_RESCUE_AFTER=21s", "FWAUDIT_FLEET_RETRY_BASE=1s", "TMPDIR="+dir)
	scanFlags := []string{"--no-sbom", "--no-vulns", "--jobs", "1"}

	// the biggest image first, so the first worker is busy with it when
	// it is killed
	runBin(t, env, bin, "fleet", "add", "--store", pg, "-q", big)
	runBin(t, env, bin, "fleet", "add", "--store", pg, "-q", real, formats)

	ctx := context.Background()
	s, err := Open(ctx, pg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := func(name string) *exec.Cmd {
		log, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, append([]string{"worker", "--store", pg, "--out", filepath.Join(dir, "out")}, scanFlags...)...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); log.Close() })
		return cmd
	}
	a := start("a")
	wantWorker := fmt.Sprintf("/%d", a.Process.Pid)
	var killed string
	deadline := time.Now().Add(90 * time.Second)
	for killed == "" {
		if time.Now().After(deadline) {
			t.Fatal("worker a never started an image")
		}
		var sha, worker string
		err := s.db.QueryRowContext(ctx, s.q(`SELECT sha256, worker FROM fleet_images WHERE status=? ORDER BY sha256 LIMIT 1`), StatusRunning).Scan(&sha, &worker)
		if err == nil && strings.HasSuffix(worker, wantWorker) {
			killed = sha
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := start("b")
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	var st, w string
	s.db.QueryRowContext(ctx, s.q(`SELECT status, worker FROM fleet_images WHERE sha256=?`), killed).Scan(&st, &w)
	if st != StatusRunning || !strings.HasSuffix(w, wantWorker) {
		t.Fatalf("worker a was not mid-image when killed: %s is %s by %s", killed[:12], st, w)
	}
	t.Logf("killed worker a (pid %d) while it scanned %s", a.Process.Pid, killed[:12])

	// worker b finishes the queue, the killed image included once River
	// rescues it
	deadline = time.Now().Add(4 * time.Minute)
	for {
		if err := s.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := s.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Queued+c.Running+c.Retrying == 0 {
			break
		}
		if time.Now().After(deadline) {
			logB, _ := os.ReadFile(filepath.Join(dir, "b.log"))
			t.Fatalf("fleet not finished after 4 minutes: %+v\n%s", c, logB)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.Process.Signal(syscall.SIGTERM)
	b.Wait()

	var attempts int
	s.db.QueryRowContext(ctx, s.q(`SELECT status, worker, attempts FROM fleet_images WHERE sha256=?`), killed).Scan(&st, &w, &attempts)
	if st != StatusDone || strings.HasSuffix(w, wantWorker) || attempts < 2 {
		t.Errorf("killed image: %s by %s after %d attempts, want done by worker b on a later attempt", st, w, attempts)
	}
	// one River job per image, one image row per SHA-256
	rows, err := s.db.QueryContext(ctx, `SELECT args->>'sha256', COUNT(*) FROM river_job WHERE kind='fwaudit_scan_image' GROUP BY 1 HAVING COUNT(*) <> 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sha string
		var n int
		rows.Scan(&sha, &n)
		t.Errorf("image %s has %d jobs", sha, n)
	}
	rows.Close()
	pgRes := results(t, s)

	// the same images, one process, SQLite
	lite := "sqlite:" + filepath.Join(dir, "single.db")
	runBin(t, env, bin, "fleet", "add", "--store", lite, "-q", real, formats)
	runBin(t, env, bin, append([]string{"fleet", "run", "--store", lite, "--workers", "1"}, scanFlags...)...)
	sl, err := Open(ctx, lite, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	liteRes := results(t, sl)
	if len(pgRes) != len(liteRes) || len(pgRes) < 30 {
		t.Errorf("%d images on PostgreSQL, %d on SQLite", len(pgRes), len(liteRes))
	}
	keys := make([]string, 0, len(liteRes))
	for k := range liteRes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !strings.HasPrefix(liteRes[k], StatusDone) && !strings.HasPrefix(liteRes[k], StatusFailed) {
			t.Errorf("%s: %s", k, liteRes[k])
		}
		if pgRes[k] != liteRes[k] {
			t.Errorf("%s:\n postgres %s\n   sqlite %s", k, pgRes[k], liteRes[k])
		}
	}
}

// TestSharedSecretRejudgedOnPostgres: the fleet report on PostgreSQL
// streams the stored reports and judges each again with its shared-secret
// findings as on SQLite (checkSharedRejudged), and writes the same
// fleet.json byte for byte.
func TestSharedSecretRejudgedOnPostgres(t *testing.T) {
	url := freshSchema(t, postgresURL(t))
	lite, _ := newStore(t) // sets the test key and fast retries
	pg, err := Open(context.Background(), url, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if string(pg.Key()) != testKey {
		t.Fatalf("PostgreSQL store key %q, want the test key", pg.Key())
	}
	onPG := checkSharedRejudged(t, pg)
	onLite := checkSharedRejudged(t, lite)
	if string(onPG) != string(onLite) {
		t.Errorf("fleet.json differs between PostgreSQL and SQLite:\n%s\n%s", onPG, onLite)
	}
}
