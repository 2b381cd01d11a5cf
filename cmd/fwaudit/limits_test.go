package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The time and work bounds are flags and .fwaudit.yaml keys; a bound that
// is hit is in the report.
func TestLayerBoundFlagAndConfig(t *testing.T) {
	img := absFixture(t, "rootfs.tar")
	hasLayerLimit := func(out string) bool {
		for _, f := range readReport(t, out).Findings {
			if f.Rule == "extraction-anomaly/layer-limit" && strings.Contains(f.Message, "layers per image (1)") {
				return true
			}
		}
		return false
	}
	dir := t.TempDir()
	t.Chdir(dir)
	out := filepath.Join(dir, "flag")
	if code := run([]string{"scan", "-q", "--no-sbom", "--no-vulns", "--fail-on", "none", "--max-layers", "1", "--out", out, img}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !hasLayerLimit(out) {
		t.Error("--max-layers 1: no layer-limit finding")
	}
	writeConfig(t, dir, "limits:\n  max_layers: 1\n  layer_timeout: 30s\n  max_hash_work: 1000000\n")
	out = filepath.Join(dir, "config")
	if code := run([]string{"scan", "-q", "--no-sbom", "--no-vulns", "--fail-on", "none", "--out", out, img}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !hasLayerLimit(out) {
		t.Error("limits.max_layers 1: no layer-limit finding")
	}
	for _, bad := range [][]string{{"--max-layers", "0"}, {"--layer-timeout", "-1s"}, {"--max-hash-work", "0"}, {"--max-entries", "0"}} {
		if code := run(append([]string{"scan", "-q", "--no-config", "--no-sbom", "--no-vulns"}, append(bad, img)...)); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// The carving budget is a flag and a .fwaudit.yaml key: with a per-file
// budget below the size of the headerless firmware blob in a vendor update
// zip, the blob is not carved (its SquashFS is not found) and the report
// says so; by default it is carved.
func TestCarveBudgetFlagAndConfig(t *testing.T) {
	img := absFixture(t, "hg532e-update.zip")
	scan := func(out string, flags ...string) (budgetHit, squashfs bool) {
		args := append([]string{"scan", "-q", "--no-sbom", "--no-vulns", "--fail-on", "none", "--out", out}, flags...)
		if code := run(append(args, img)); code != 0 {
			t.Fatalf("%v: exit %d", flags, code)
		}
		r := readReport(t, out)
		for _, f := range r.Findings {
			if f.Rule == "extraction-anomaly/limit" && strings.Contains(f.Message, "exceed the carving budget of 65536 bytes per file") {
				budgetHit = true
			}
		}
		for _, l := range r.Layers {
			if l.Format == "squashfs" {
				squashfs = true
			}
		}
		return
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if hit, sq := scan(filepath.Join(dir, "default")); hit || !sq {
		t.Fatalf("default budget: budget reported %v, squashfs found %v; want false, true", hit, sq)
	}
	if hit, sq := scan(filepath.Join(dir, "flag"), "--carve-file-bytes", "64KiB"); !hit || sq {
		t.Errorf("--carve-file-bytes 64KiB: budget reported %v, squashfs found %v; want true, false", hit, sq)
	}
	writeConfig(t, dir, "limits:\n  carve_file_bytes: 64KiB\n")
	if hit, sq := scan(filepath.Join(dir, "config")); !hit || sq {
		t.Errorf("limits.carve_file_bytes 64KiB: budget reported %v, squashfs found %v; want true, false", hit, sq)
	}
	for _, bad := range [][]string{{"--carve-file-bytes", "0"}, {"--carve-min-size", "lots"}, {"--carve-image-bytes", "-1"}} {
		if code := run(append([]string{"scan", "-q", "--no-config", "--no-sbom", "--no-vulns"}, append(bad, img)...)); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// The analysis bounds are flags of the commands that analyse (scan, diff),
// not of extract, which would accept and ignore them.
func TestAnalysisBoundsOnlyWhereAnalysed(t *testing.T) {
	img := absFixture(t, "rootfs.tar")
	dir := t.TempDir()
	for _, flag := range []string{"--analyzer-timeout=1m", "--max-hash-work=1000"} {
		if code := run([]string{"extract", "-q", "-o", filepath.Join(dir, "x"), flag, img}); code != exitUsage {
			t.Errorf("extract %s: exit %d, want %d (unknown flag)", flag, code, exitUsage)
		}
		if code := run([]string{"scan", "-q", "--no-config", "--no-sbom", "--no-vulns", "--fail-on", "none", "--out", filepath.Join(dir, "s"+flag[2:6]), flag, img}); code != 0 {
			t.Errorf("scan %s: exit %d, want 0", flag, code)
		}
	}
	for _, c := range []struct {
		cmd  []string
		want bool
	}{{[]string{"extract", "--help"}, false}, {[]string{"scan", "--help"}, true}, {[]string{"diff", "--help"}, true}} {
		_, b := captureStdout(t, c.cmd)
		out := string(b)
		if !strings.Contains(out, "--max-depth") {
			t.Fatalf("%v: no help printed: %q", c.cmd, out)
		}
		if got := strings.Contains(out, "--analyzer-timeout") && strings.Contains(out, "--max-hash-work"); got != c.want {
			t.Errorf("%v lists the analysis bounds: %v, want %v", c.cmd, got, c.want)
		}
	}
}
