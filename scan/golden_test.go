package scan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/report"
)

var updateGolden = flag.Bool("update", false, "rewrite scan/testdata/golden from the fixtures")

// TestGoldenReports pins report.json and report.md of real scans of
// bundled fixtures (scan date fixed; timings, the vulnerability database's
// build time and path, the only parts that vary between runs, normalised).
// go test ./scan -run TestGoldenReports -update rewrites them after a
// reviewed change.
func TestGoldenReports(t *testing.T) {
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	list, err := Analyzers(Rules{ScanDate: date})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"flash.bin", "rootfs.tar", "evil-traversal.tar"} {
		t.Run(name, func(t *testing.T) {
			res, err := Run(context.Background(), fixture(name), Options{Analyzers: list, Jobs: 2})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report
			r.Stats.ExtractMS, r.Stats.AnalyzeMS, r.Stats.SBOMMS, r.Stats.TotalMS = 0, 0, 0, 0
			for k := range r.Stats.AnalyzerMS {
				r.Stats.AnalyzerMS[k] = 0
			}
			if r.VulnDB != nil {
				r.VulnDB.Built, r.VulnDB.Path = "(normalised)", "(normalised)"
			}
			var js, md bytes.Buffer
			if err := report.WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			if err := report.Validate(js.Bytes()); err != nil {
				t.Errorf("report.json does not validate: %v", err)
			}
			if err := report.WriteMarkdown(&md, r); err != nil {
				t.Fatal(err)
			}
			for file, got := range map[string][]byte{name + ".report.json": js.Bytes(), name + ".report.md": md.Bytes()} {
				p := filepath.Join("testdata", "golden", file)
				if *updateGolden {
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (create it with -update)", err)
				}
				if !bytes.Equal(got, want) {
					gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
					for i := 0; i < len(gl) && i < len(wl); i++ {
						if !bytes.Equal(gl[i], wl[i]) {
							t.Fatalf("%s differs at line %d:\n got %s\nwant %s\n(rerun with -update after checking the change)", file, i+1, gl[i], wl[i])
						}
					}
					t.Fatalf("%s differs in length: %d vs %d lines", file, len(gl), len(wl))
				}
			}
		})
	}
}
