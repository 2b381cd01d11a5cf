package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDBUpdateOffline: with the network unreachable (every proxy pointed at
// a closed port) `db update` fails quickly with a clear message and exit
// 2, leaving grype's cache as it was. It runs in a child process because
// net/http reads the proxy variables once per process.
func TestDBUpdateOffline(t *testing.T) {
	if os.Getenv("FWAUDIT_TEST_DB_UPDATE_CHILD") == "1" {
		// run prints the error on stderr, which the parent reads too
		code := run([]string{"db", "update", "--timeout", "5s", "--download-timeout", "5s"})
		fmt.Printf("CHILD-EXIT=%d\n", code)
		return
	}
	grype := filepath.Join(t.TempDir(), "grype")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDBUpdateOffline$", "-test.v")
	cmd.Env = append(os.Environ(),
		"FWAUDIT_TEST_DB_UPDATE_CHILD=1",
		"GRYPE_DB_CACHE_DIR="+grype,
		// port 9 (discard) on loopback: nothing listens, so the proxy
		// connection is refused at once
		"HTTPS_PROXY=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
		"HTTP_PROXY=http://127.0.0.1:9", "http_proxy=http://127.0.0.1:9",
		"NO_PROXY=", "no_proxy=",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("child test failed: %v\n%s", err, out)
	}
	s := string(out)
	t.Logf("child output:\n%s", s)
	if strings.Contains(s, "panic") || strings.Contains(s, "goroutine ") {
		t.Fatalf("db update panicked:\n%s", s)
	}
	if !strings.Contains(s, "CHILD-EXIT=2\n") {
		t.Errorf("db update offline: want exit 2\n%s", s)
	}
	for _, want := range []string{"db update: no database downloaded from https://grype.anchore.io/databases", "127.0.0.1:9", "fwaudit db import"} {
		if !strings.Contains(s, want) {
			t.Errorf("message lacks %q:\n%s", want, s)
		}
	}
	if took > 60*time.Second {
		t.Errorf("db update took %v to fail", took)
	}
	if _, err := os.Stat(filepath.Join(grype, "6", "vulnerability.db")); err == nil {
		t.Error("a database appeared in grype's cache")
	}
}

func TestDBUpdateFlags(t *testing.T) {
	cmd := newRootCmd()
	cmd.SetArgs([]string{"db", "update", "--timeout", "0s"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "timeouts must be positive") {
		t.Errorf("zero timeout: %v", err)
	}
	if code := run([]string{"db", "update", "extra"}); code != exitUsage {
		t.Errorf("db update with an argument: exit %d", code)
	}
}
