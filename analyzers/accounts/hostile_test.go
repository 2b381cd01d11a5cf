package accounts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// The work bound grants words round by round: every hash gets its likeliest
// words first, and no hash takes the whole budget.
func TestBudgetJobsRoundRobin(t *testing.T) {
	words := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	mk := func(h string) *crackJob {
		j := &crackJob{hash: h, cands: words}
		j.found.Store(int64(len(words)))
		return j
	}
	sha := "$6$rounds=1000$saltsalt$" + strings.Repeat("a", 86)
	jobs := []*crackJob{mk(sha), mk(sha + "x"), mk("$2b$10$" + strings.Repeat("a", 53))}
	// round 1: 1000 + 1000 + 65536; round 2: 1000 + 1000; then 464 left
	cut := budgetJobs(jobs, 70000)
	if cut != 3 || len(jobs[0].cands) != 2 || len(jobs[1].cands) != 2 || len(jobs[2].cands) != 1 {
		t.Errorf("cut %d, grants %d %d %d; want 3, 2 2 1", cut, len(jobs[0].cands), len(jobs[1].cands), len(jobs[2].cands))
	}
	if jobs[0].found.Load() != 2 {
		t.Errorf("found not reset to the granted words: %d", jobs[0].found.Load())
	}
	// within the budget nothing is cut
	jobs = []*crackJob{mk(sha)}
	if cut := budgetJobs(jobs, 10*1000); cut != 0 || len(jobs[0].cands) != 10 {
		t.Errorf("within budget: cut %d, %d words", cut, len(jobs[0].cands))
	}
}

// A shadow file of many costly hashes hits the work bound, which is
// reported; a weak account in the same file is still found.
func TestWorkBoundReported(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	var b strings.Builder
	b.WriteString("root::19000:0:99999:7:::\n")
	for i := 0; i < 20; i++ {
		b.WriteString("u" + string(rune('a'+i)) + ":$6$rounds=400000$salt" + string(rune('a'+i)) + "$" + strings.Repeat("b", 86) + ":19000:0:99999:7:::\n")
	}
	os.WriteFile(filepath.Join(dir, "etc", "shadow"), []byte(b.String()), 0o600)
	l := &extract.Layer{Path: "test", Kind: "filesystem", Root: dir, Files: 1}
	fs, err := New(Options{MaxWork: 5 * 100000, Passwords: []string{"admin", "root", "1234"}}).Analyze(context.Background(), analyzers.NewTarget([]*extract.Layer{l}))
	if err == nil || !strings.Contains(err.Error(), "limit reached") {
		t.Errorf("err = %v, want the work bound reported", err)
	}
	if !hasCritical(fs, "/etc/shadow") {
		t.Errorf("the empty root password was not reported: %+v", fs)
	}
}

func hasCritical(fs []analyzers.Finding, path string) bool {
	for _, f := range fs {
		if f.Severity == analyzers.Critical && f.Path == path {
			return true
		}
	}
	return false
}

// A 1 MiB comment line first hides nothing: the account after it is read.
func TestLongFirstLine(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	data := "#" + strings.Repeat("x", 1<<20) + "\nroot::19000:0:99999:7:::\n"
	os.WriteFile(filepath.Join(dir, "etc", "shadow"), []byte(data), 0o600)
	l := &extract.Layer{Path: "test", Kind: "filesystem", Root: dir, Files: 1}
	fs, err := New(Options{}).Analyze(context.Background(), analyzers.NewTarget([]*extract.Layer{l}))
	if err != nil {
		t.Errorf("err = %v", err)
	}
	if !hasCritical(fs, "/etc/shadow") {
		t.Fatalf("no finding past the long line: %+v", fs)
	}
	for _, f := range fs {
		if f.Severity == analyzers.Critical && f.Line != 2 {
			t.Errorf("line %v, want 2 (line numbers survive the blanked line)", f.Line)
		}
	}
}

// A path longer than the host allows by name (the issue used 1,000
// levels) is no hiding place.
func TestDeepPath(t *testing.T) {
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := ""
	for i := 0; i < 500; i++ { // 4.5 KB: past PATH_MAX
		p += "deepdir0/"
		if err := r.Mkdir(strings.TrimSuffix(p, "/"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Mkdir(p+"etc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFile(p+"etc/shadow", []byte("root::19000:0:99999:7:::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &extract.Layer{Path: "test", Kind: "filesystem", Root: dir, Files: 1}
	fs, err := New(Options{}).Analyze(context.Background(), analyzers.NewTarget([]*extract.Layer{l}))
	if err != nil {
		t.Errorf("err = %v", err)
	}
	if !hasCritical(fs, "/"+p+"etc/shadow") {
		t.Fatalf("no finding under the 1,000-level path: %d findings", len(fs))
	}
}
