package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/internal/hostile"
)

// Every crafted case of issue 13 (internal/hostile, small) ends with a
// report that names the bound it hit, and no work folder is left in the
// temp dir. Figures at full scale: scripts/hostile.sh.
func TestHostileCasesReportAndClean(t *testing.T) {
	cases := []struct {
		name  string
		data  []byte
		limit func(*extract.Limits)
		rule  string // a finding the bound leaves
		text  string // in its message
	}{
		{"zip-eocd-flood", hostile.ZipEOCDFlood(0.01), nil, "extraction-anomaly/limit", "end of the central directory"},
		{"gpt-selfref", hostile.GPTSelfRef(1), func(l *extract.Limits) { l.MaxLayers = 10 }, "extraction-anomaly/layer-limit", "layers per image"},
		{"fit-node-flood", hostile.FITNodeFlood(0.1), nil, "extraction-anomaly/duplicate-entry", "same data"},
		{"cpio-entries", hostile.CpioMany(0.002), func(l *extract.Limits) { l.MaxEntries = 500 }, "extraction-anomaly/limit", "entries in one layer"},
		{"layer-deadline", hostile.CpioMany(0.001), func(l *extract.Limits) { l.LayerTimeout = 1 }, "extraction-anomaly/time-limit", "took longer"},
		{"image-deadline", hostile.GzipTinyMembers(0.001), func(l *extract.Limits) { l.ImageTimeout = 1 }, "extraction-anomaly/time-limit", "took longer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp := filepath.Join(dir, "tmp")
			os.Mkdir(tmp, 0o755)
			t.Setenv("TMPDIR", tmp)
			img := filepath.Join(dir, c.name+".bin")
			os.WriteFile(img, c.data, 0o644)
			lim := extract.DefaultLimits()
			if c.limit != nil {
				c.limit(&lim)
			}
			res, err := Run(context.Background(), img, Options{Limits: lim, SkipSBOM: true, SkipVulns: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Report == nil || res.Report.Compliance == nil {
				t.Fatal("no report")
			}
			found := false
			for _, f := range res.Report.Findings {
				if f.Rule == c.rule && strings.Contains(f.Message, c.text) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s finding mentioning %q", c.rule, c.text)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left in the temp dir: %v", left)
			}
		})
	}
}

// A root file system behind a 2 GiB zstd window ends like its control: the
// empty root password is a critical finding.
func TestHostileWindowEndsLikeControl(t *testing.T) {
	for _, name := range []string{"rootfs-zstd-long.tar.zst", "rootfs-xz-1g.tar.xz", "squashfs-sparse.sqfs"} {
		res, err := Run(context.Background(), filepath.Join("..", "testdata", "hostile", name), Options{SkipSBOM: true, SkipVulns: true})
		if err != nil {
			t.Fatal(err)
		}
		crit := false
		for _, f := range res.Report.Findings {
			if f.Severity == analyzers.Critical && f.Path == "/etc/shadow" {
				crit = true
			}
		}
		if !crit {
			t.Errorf("%s: no critical /etc/shadow finding", name)
		}
	}
}
