package scan

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var sbomCreated = regexp.MustCompile(`"(timestamp|created)": "[0-9T:Z-]+"`)

// TestSharedGoldens pins every output of a full scan (report.json,
// report.md, report.html, findings.sarif and the SBOM documents) of every
// image in ../shared/firmware by SHA-256, so that a restructuring can show
// its outputs are byte-identical before and after. The images are not ours
// to commit, and neither are whole reports of them; their digests are.
//
// When a digest differs, set FWAUDIT_GOLDEN_DUMP=DIR to have the outputs
// written there (DIR/<image>/<file>), run the same on the previous commit
// into another folder, and diff the two. go test ./scan -run
// TestSharedGoldens -update rewrites testdata/golden/shared.sha256 after a
// reviewed change.
func TestSharedGoldens(t *testing.T) {
	if testing.Short() {
		t.Skip("scans all of ../shared/firmware; skipped with -short")
	}
	root := sharedFirmware(t)
	var images []string
	for _, sub := range []string{"real", "formats"} {
		ents, err := os.ReadDir(filepath.Join(root, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				images = append(images, sub+"/"+e.Name())
			}
		}
	}
	if len(images) < 40 {
		t.Fatalf("only %d images under %s", len(images), root)
	}
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	list, err := Analyzers(Rules{ScanDate: date})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "shared.sha256")
	want := map[string]string{}
	if !*updateGolden {
		f, err := os.Open(golden)
		if err != nil {
			t.Fatalf("%v (create it with -update)", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
				want[name] = sum
			}
		}
		f.Close()
	}
	dump := os.Getenv("FWAUDIT_GOLDEN_DUMP")
	got := map[string]string{}
	for _, img := range images {
		res, err := Run(context.Background(), filepath.Join(root, img), Options{
			Analyzers: list, Jobs: 2, ScanDate: date, Today: date,
		})
		if err != nil {
			t.Errorf("%s: %v", img, err)
			continue
		}
		r := res.Report
		r.Stats.ExtractMS, r.Stats.AnalyzeMS, r.Stats.SBOMMS, r.Stats.TotalMS = 0, 0, 0, 0
		for k := range r.Stats.AnalyzerMS {
			r.Stats.AnalyzerMS[k] = 0
		}
		if r.VulnDB != nil {
			r.VulnDB.Built, r.VulnDB.Path = "(normalised)", "(normalised)"
		}
		files, err := Render(r, res.SBOM, DefaultOutputs)
		if err != nil {
			t.Fatalf("%s: %v", img, err)
		}
		for name, b := range files {
			if strings.HasPrefix(name, "sbom.") {
				// The SBOMs' creation time is the one part that
				// changes between runs.
				b = sbomCreated.ReplaceAll(b, []byte(`"$1": "(normalised)"`))
			}
			sum := sha256.Sum256(b)
			got[img+"/"+name] = hex.EncodeToString(sum[:])
			if dump != "" {
				p := filepath.Join(dump, img, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	if *updateGolden {
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "%s  %s\n", got[n], n)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, n := range names {
		if w, ok := want[n]; !ok {
			t.Errorf("%s: new output, not in %s", n, golden)
		} else if w != got[n] {
			t.Errorf("%s: output differs from the golden digest (set FWAUDIT_GOLDEN_DUMP to compare)", n)
		}
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			t.Errorf("%s: output in %s no longer written", n, golden)
		}
	}
}
