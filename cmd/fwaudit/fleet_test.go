package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite"

	"github.com/fwaudit/fwaudit/fleet"
)

// TestFleetStoreErrorsExit2: a store that holds no fleet, cannot be
// reached, or is of another schema version is exit 2 for every command.
func TestFleetStoreErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	missing := "sqlite:" + filepath.Join(dir, "none.db")
	for _, args := range [][]string{
		{"fleet", "status", "--store", missing},
		{"fleet", "run", "--store", missing},
		{"fleet", "report", "--store", missing, "--out", filepath.Join(dir, "r")},
		{"worker", "--store", missing},
		{"fleet", "status", "--store", "postgres://u:p@127.0.0.1:1/db?connect_timeout=2"},
		{"fleet", "add", "--store", "mysql://x", fixture("rootfs.tar")},
	} {
		if code := run(args); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("a command other than fleet add created the store")
	}
	// another schema version
	db := filepath.Join(dir, "fleet.db")
	if code := run([]string{"fleet", "add", "-q", "--store", "sqlite:" + db, fixture("rootfs.tar")}); code != exitOK {
		t.Fatalf("fleet add: exit %d", code)
	}
	if code := run([]string{"fleet", "status", "--store", "sqlite:" + db}); code != exitOK {
		t.Fatalf("fleet status: exit %d", code)
	}
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	// a store of the previous version (its reports lack what this
	// version's fleet report needs)
	old := fmt.Sprint(fleet.SchemaVersion - 1)
	if _, err := h.Exec(`UPDATE fwaudit_meta SET value=? WHERE key='schema_version'`, old); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if code := run([]string{"fleet", "status", "--store", "sqlite:" + db}); code != exitUsage {
		t.Errorf("schema version %s: exit %d, want %d", old, code, exitUsage)
	}
}

func TestProgressBar(t *testing.T) {
	got := progressBar(fleet.Counts{Queued: 2, Running: 1, Done: 6, Failed: 1, Total: 10}, 10)
	if !strings.HasPrefix(got, "[#######...] 7/10") || !strings.Contains(got, "failed 1") || !strings.Contains(got, "queued 2") {
		t.Errorf("bar %q", got)
	}
}
