package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

// benchFindings is how many findings each synthetic stored report holds:
// enough that a report (~200 KB of JSON) outweighs its summary by far.
const benchFindings = 150

// syntheticReport is a stored report of the size of a real router image's:
// layers, benchFindings findings with evidence and messages, components
// with vulnerabilities, and its compliance judgement. Every fifth image
// carries one of five SSH host keys, so the fleet has shared secrets.
func syntheticReport(i int) *report.Report {
	sum := sha256.Sum256([]byte(fmt.Sprint("image ", i)))
	sha := hex.EncodeToString(sum[:])
	layers := []*extract.Layer{
		{ID: "L0", Path: "image.bin", Format: "raw", Kind: "blob", Size: 8 << 20, Status: extract.StatusOK},
		{ID: "L1", Parent: "L0", Path: "image.bin@0x40000", Format: "squashfs", Kind: "filesystem", Size: 6 << 20, Status: extract.StatusOK, Files: 900},
	}
	var fs []analyzers.Finding
	for j := 0; j < benchFindings; j++ {
		f := analyzers.Finding{
			Rule: "weak-crypto-config", Category: "insecure-config", Severity: analyzers.Medium,
			Layer: "image.bin@0x40000", LayerID: "L1", Path: fmt.Sprintf("/etc/config/service%03d.conf", j), Line: j + 1,
			Evidence:   fmt.Sprintf("ssl_protocols SSLv3 TLSv1 # service %d of image %d, evidence line long enough to look real", j, i),
			Message:    "The service allows protocol versions with known weaknesses; an attacker on the path can downgrade the connection and read or change what it carries. Allow TLS 1.2 and later only.",
			Guidelines: []int{5}, Analyzer: "transport",
		}
		f.Fingerprint = analyzers.Fingerprint(f.Path + f.Evidence)
		f.SetID()
		fs = append(fs, f)
	}
	if i%5 == 0 {
		key := fmt.Sprintf("-----BEGIN OPENSSH PRIVATE KEY----- host key %d", (i/5)%5)
		f := analyzers.Finding{Rule: "private-key", Category: "private-key", Severity: analyzers.Critical,
			Layer: "image.bin@0x40000", LayerID: "L1", Path: "/etc/ssh/ssh_host_ed25519_key", Evidence: "OPENSSH PRIVATE KEY (redacted)",
			Message: "A private key ships in the image.", Guidelines: []int{1, 4}, Analyzer: "secrets"}
		f.Fingerprint = analyzers.Fingerprint(key)
		f.SetID()
		fs = append(fs, f)
	}
	analyzers.SortFindings(fs)
	var comps []report.Component
	for j := 0; j < 30; j++ {
		c := report.Component{Name: fmt.Sprintf("component%02d", j), Version: fmt.Sprintf("1.%d.%d", j, i%3), Type: "binary",
			CPEs: []string{fmt.Sprintf("cpe:2.3:a:vendor:component%02d:1.%d:*:*:*:*:*:*:*", j, j)}, Paths: []string{fmt.Sprintf("/usr/bin/c%02d", j)}, Layers: []string{"L1"}, FoundBy: "fwaudit-binary"}
		for k := 0; k < j%4; k++ {
			c.Vulnerabilities = append(c.Vulnerabilities, report.Vulnerability{ID: fmt.Sprintf("CVE-2020-%04d", j*10+k), Severity: "high", CVSS: 7.5, URL: "https://nvd.nist.gov/vuln/detail/CVE-2020-0001"})
		}
		comps = append(comps, c)
	}
	cov := map[string]analyzers.Coverage{}
	for _, a := range []string{"accounts", "credentials", "secrets", "transport", "services", "components", "vulns", "update"} {
		cov[a] = analyzers.Coverage{Examined: 3, Examples: []string{"/etc/passwd"}, What: "files"}
	}
	r := &report.Report{
		Schema: report.SchemaVersion, Tool: report.Tool{Name: "fwaudit", Version: "bench"},
		Image:  report.Image{Path: fmt.Sprintf("image%04d.bin", i), Name: fmt.Sprintf("image%04d.bin", i), SHA256: sha, Size: 8 << 20},
		Layers: layers, Findings: fs, Components: comps,
		Analyzers:  report.AnalyzerSummary{Ran: []string{"accounts", "components", "credentials", "secrets", "services", "transport", "update", "vulns"}, Failures: []analyzers.Failure{}, Coverage: cov},
		Assessment: &report.Assessment{Status: report.Assessed},
		Stats:      report.Stats{FindingCount: map[string]int{}},
	}
	res := compliance.Evaluate(compliance.Input{Findings: fs, Ran: r.Analyzers.Ran, Layers: layers, Coverage: cov}, nil)
	r.Compliance = &res
	for _, f := range fs {
		r.Stats.FindingCount[string(f.Severity)]++
	}
	return r
}

// benchStore is a fleet store with n finished images, each with its
// stored synthetic report.
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	b.Setenv(KeyEnv, testKey)
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "fleet.db"), true)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); analyzers.SetFingerprintKey(nil) })
	analyzers.SetFingerprintKey(s.Key())
	ctx := context.Background()
	now := time.Now().UTC().Format(time.RFC3339)
	for i := 0; i < n; i++ {
		r := syntheticReport(i)
		if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO fleet_images (sha256, name, path, size, status, added_at) VALUES (?,?,?,?,?,?)`),
			r.Image.SHA256, r.Image.Name, "/fleet/"+r.Image.Name, r.Image.Size, StatusQueued, now); err != nil {
			b.Fatal(err)
		}
		if err := s.SaveResult(ctx, r.Image.SHA256, "bench", "bench", 1, "", r); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// peakHeap samples the live heap while fn runs and returns the highest
// HeapAlloc seen, less the heap before fn started.
func peakHeap(fn func()) (peak uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var max uint64
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > max {
				max = m.HeapAlloc
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > max {
		max = ms.HeapAlloc
	}
	if max < base {
		return 0
	}
	return max - base
}

// BenchmarkFleetReport writes the fleet report of 50 and of 400 stored
// images and reports the peak live heap (MaxHeap-MB) while it runs: with
// the report streamed (one image's report in memory at a time, fleet.json
// from per-image summaries) it grows with the summaries, not with the
// reports; LiveHeap-MB is what stays live while it runs (sampled after a
// collection). Figures are in docs/fleet.md. Run: go test ./fleet -run '^$' -bench FleetReport -benchtime 1x
func BenchmarkFleetReport(b *testing.B) {
	for _, n := range []int{50, 400} {
		b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) {
			s := benchStore(b, n)
			out := b.TempDir()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			var worst uint64
			for i := 0; i < b.N; i++ {
				os.RemoveAll(out)
				var err error
				var fl *Fleet
				p := peakHeap(func() { fl, err = s.WriteReport(ctx, out) })
				if err != nil {
					b.Fatal(err)
				}
				if len(fl.Images) != n || len(fl.Shared) != 5 {
					b.Fatalf("%d images, %d shared secrets; want %d and 5", len(fl.Images), len(fl.Shared), n)
				}
				worst = max(worst, p)
			}
			b.ReportMetric(float64(worst)/(1<<20), "MaxHeap-MB")
			// the heap still live (after a collection) at ten points while
			// the images are written: what Build keeps, without the
			// garbage of the report being rendered
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base, live, k := ms.HeapAlloc, uint64(0), 0
			_, err := s.Build(ctx, func(im Image, r *report.Report) error {
				if k++; k%(n/10) == 0 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					if ms.HeapAlloc > base {
						live = max(live, ms.HeapAlloc-base)
					}
				}
				return WriteImage(out, "img", r, nil)
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(live)/(1<<20), "LiveHeap-MB")
		})
	}
}
