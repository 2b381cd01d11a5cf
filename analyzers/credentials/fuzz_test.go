package credentials

import (
	"bytes"
	"context"
	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	credrules "github.com/fwaudit/fwaudit/analyzers/credentials/detect"
)

// fuzzPaths are where the fuzzer's input is written: one path per family
// of detectors.
var fuzzPaths = []string{
	"etc/ppp/chap-secrets",
	"etc/config/wireless",
	"etc/hostapd.conf",
	"etc/lighttpd/.htpasswd",
	"etc/httpd.conf",
	"etc/mosquitto/passwd",
	"root/.netrc",
	"etc/init.d/svc",
	"etc/snmpd.conf",
	"uboot-env.txt",
	"etc/default.cfg",
}

// FuzzCredentials feeds arbitrary text to every detector and to the whole
// analyzer (as each kind of file at once, plus a file for $(cat ...)): no
// panic, findings complete, lines inside the file, match bounds kept.
func FuzzCredentials(f *testing.F) {
	for _, r := range credrules.Default() {
		for _, ex := range r.Examples.True {
			f.Add([]byte(ex.Text))
		}
		for _, s := range r.Examples.False {
			f.Add([]byte(s))
		}
	}
	f.Add([]byte("#!/bin/sh\nA=$(cat /etc/s)\nB=$A\nC=$B\ncurl -u x:$C http://h\n"))
	f.Add([]byte("config wifi-iface\n\toption encryption 'psk2'\n\toption key 'k'\n<!-- unterminated"))
	f.Add([]byte("admin:$7$99999999999$c2FsdA==$" + strings.Repeat("A", 86) + "==\n"))
	f.Add([]byte("u:r:0123456789abcdef0123456789abcdef\nadmin:" + apr1Admin + "\n"))
	// the files are rewritten on every input: in memory when possible
	dir := f.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "fwaudit-fuzz-cred-"); err == nil {
			dir = d
			f.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	// Keep each execution fast: a short dictionary, cheap hashes only and
	// small budgets (the bounds themselves are tested in TestCostlyHashes).
	hashes.MaxBcryptCost, maxPBKDF2Iter, hashes.MaxShaRounds = 5, 2000, 10000
	hashBudget, runBudget = 2*time.Millisecond, 10*time.Millisecond
	a := NewWith(Options{Passwords: []string{"admin", "1234", "password"}, MaxHashes: 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, r := range credrules.Default() {
			ms := r.Scan(data)
			if len(ms) > credrules.MaxMatchesPerFile+16 {
				t.Fatalf("%s: %d matches", r.ID, len(ms))
			}
			for _, m := range ms {
				if m.Line < 1 || m.Line > lines {
					t.Fatalf("%s: line %d of %d", r.ID, m.Line, lines)
				}
				if m.File == "" && m.Secret == "" && !r.UserOnly {
					t.Fatalf("%s: empty secret accepted: %+v", r.ID, m)
				}
			}
		}
		for _, p := range fuzzPaths {
			host := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
				t.Fatal(err)
			}
			body := data
			if p == "etc/init.d/svc" && !bytes.HasPrefix(data, []byte("#!")) {
				body = append([]byte("#!/bin/sh\n"), data...)
			}
			if err := os.WriteFile(host, body, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "etc", "s"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fs, err := a.Analyze(context.Background(), dirTarget(dir))
		if err != nil && !strings.Contains(err.Error(), "not tried") {
			t.Fatalf("Analyze: %v", err)
		}
		check(t, fs)
		for _, fd := range fs {
			if fd.Line > lines+1 { // +1: the shebang added to the script
				t.Fatalf("%s: line %d of %d", key(fd), fd.Line, lines)
			}
		}
	})
}
