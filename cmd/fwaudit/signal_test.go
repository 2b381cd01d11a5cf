package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"github.com/fwaudit/fwaudit/report"
)

var (
	goCache string
	binOnce sync.Once
	binPath string
	binErr  error
)

// fwauditBinary builds the command once per test run.
func fwauditBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fwaudit-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "fwaudit")
		build := exec.Command("go", "build", "-o", binPath, ".")
		if goCache != "" {
			build.Env = append(os.Environ(), "GOCACHE="+goCache)
		}
		out, err := build.CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// SIGTERM and SIGINT during a scan stop it, remove the work folder and
// exit with 128 + the signal number.
func TestSignalRemovesWorkFolder(t *testing.T) {
	img := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	bin := fwauditBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(bin, "scan", "-q", "--no-vulns", "--out", t.TempDir(), img)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// wait until the scan has made its work folder (bounded by the
			// scan itself: once it has exited, stop waiting)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var exitErr error
			seen := false
		wait:
			for {
				select {
				case exitErr = <-done:
					break wait
				default:
				}
				if m, _ := filepath.Glob(filepath.Join(tmp, "fwaudit-*")); len(m) > 0 {
					seen = true
					cmd.Process.Signal(sig)
					exitErr = <-done
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			if !seen {
				t.Fatalf("the scan finished before it could be interrupted (%v); stderr: %s", exitErr, stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(exitErr, &ee) || ee.ExitCode() != 128+int(sig) {
				t.Errorf("exit %v after %s, want %d; stderr: %s", exitErr, sig, 128+int(sig), stderr.String())
			}
			if m, _ := filepath.Glob(filepath.Join(tmp, "fwaudit-*")); len(m) > 0 {
				t.Errorf("work folders left behind after %s: %v", sig, m)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say the scan was interrupted: %s", stderr.String())
			}
		})
	}
}

// captureStdout runs the command in-process and returns what it printed.
func captureStdout(t *testing.T, args []string) (int, []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	var buf bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&buf, r); close(copied) }()
	code := run(args)
	os.Stdout = old
	w.Close()
	<-copied
	return code, buf.Bytes()
}

// Several images with --format json print JSON Lines: one valid report per
// line; --format jsonl does the same for one image.
func TestJSONLines(t *testing.T) {
	_, out := captureStdout(t, []string{"scan", "-q", "--no-sbom", "--no-vulns", "--fail-on", "none", "--format", "json", fixture("rootfs.tar"), fixture("data.gz")})
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for two images, want 2:\n%.400s", len(lines), out)
	}
	for i, want := range []string{"rootfs.tar", "data.gz"} {
		var r report.Report
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatalf("line %d is not a JSON document: %v", i+1, err)
		}
		if r.Image.Name != want || r.Image.Path != want {
			t.Errorf("line %d names %q (path %q), want %q without folders", i+1, r.Image.Name, r.Image.Path, want)
		}
		if err := report.Validate([]byte(lines[i])); err != nil {
			t.Errorf("line %d: %v", i+1, err)
		}
	}
	_, one := captureStdout(t, []string{"scan", "-q", "--no-sbom", "--no-vulns", "--fail-on", "none", "--format", "jsonl", fixture("data.gz")})
	if bytes.Count(one, []byte("\n")) != 1 || !json.Valid(bytes.TrimSpace(one)) {
		t.Errorf("--format jsonl on one image: %.200s", one)
	}
}

// The image's name reaches the terminal with escape sequences and
// bidirectional overrides escaped.
func TestTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"router.bin":          "router.bin",
		"a\x1b[31mred.bin":    `a\u001b[31mred.bin`,
		"evil\u202etxt.bin":   `evil\u202etxt.bin`,
		"tab\there\nnext.bin": `tab\u0009here\u000anext.bin`,
	} {
		if got := terminalSafe(in); got != want {
			t.Errorf("terminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// --fail-on's error lists every accepted value.
func TestFailOnMessage(t *testing.T) {
	r, w, _ := os.Pipe()
	old := os.Stderr
	os.Stderr = w
	code := run([]string{"scan", "--fail-on", "severe", fixture("data.gz")})
	os.Stderr = old
	w.Close()
	msg, _ := io.ReadAll(r)
	if code != exitUsage {
		t.Errorf("exit %d", code)
	}
	for _, v := range []string{"critical", "high", "medium", "low", "info", "none"} {
		if !strings.Contains(string(msg), v) {
			t.Errorf("--fail-on error %q does not list %q", msg, v)
		}
	}
}
