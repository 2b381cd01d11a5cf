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

// A hostile shadow file asking for bcrypt cost 31 is not tried (one guess
// would take hours); the analyzer says so instead of stalling.
func TestCostlyHashNotTried(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "shadow"), []byte("root:$2b$31$abcdefghijklmnopqrstuu5Ttt1Ek3QwJ0bs6vU4yFhB9fGq5uJ0u:19000:0:99999:7:::\n"), 0o644)
	l := &extract.Layer{Path: "test", Kind: "filesystem", Root: dir, Files: 1}
	fs, err := New(Options{}).Analyze(context.Background(), analyzers.NewTarget([]*extract.Layer{l}))
	if err == nil || !strings.Contains(err.Error(), "not tried") {
		t.Errorf("err = %v, want a note that the hash was not tried", err)
	}
	if len(fs) != 0 {
		t.Errorf("findings %v", fs)
	}
}
