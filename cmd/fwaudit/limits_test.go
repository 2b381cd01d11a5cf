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
