package extract

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The evasion fixtures of issue 13 (testdata/hostile/build.sh): each hides
// the same /etc/shadow; each must still be extracted, like the control.
func TestEvasionStillExtracted(t *testing.T) {
	for _, name := range []string{
		"squashfs-sparse.sqfs", "ext2-sparse.img",
		"rootfs-zstd-long.tar.zst", "rootfs-xz-1g.tar.xz", "rootfs-lzma-1g.tar.lzma",
	} {
		t.Run(name, func(t *testing.T) {
			img := filepath.Join("..", "testdata", "hostile", name)
			res, err := Extract(context.Background(), img, t.TempDir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var found *Layer
			for _, l := range res.Layers {
				if l.Root == "" {
					continue
				}
				if b, err := os.ReadFile(filepath.Join(l.Root, "etc", "shadow")); err == nil && string(b) == "root::16500:0:99999:7:::\n" {
					found = l
				}
			}
			if found == nil {
				for _, l := range res.Layers {
					t.Logf("%s %s %s %v", l.Path, l.Status, l.Error, l.Anomalies)
				}
				t.Fatal("/etc/shadow not extracted")
			}
			if strings.HasPrefix(name, "rootfs-") && layerAnomaly(res, "", AnomalyLimit, "declares a window/dictionary") == nil {
				t.Error("the clamped window is not reported")
			}
		})
	}
}

// A file cut at a bound is reported on its layer: the sparse file of the
// SquashFS passes the layer's ratio bound, the sparse file of the ext2 the
// size of one file.
func TestEvasionCutReported(t *testing.T) {
	for name, what := range map[string]string{
		"squashfs-sparse.sqfs": "for this entry: compression ratio",
		"ext2-sparse.img":      "for this entry",
	} {
		res, err := Extract(context.Background(), filepath.Join("..", "testdata", "hostile", name), t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		l := layerAnomaly(res, "", AnomalyLimit, what)
		if l == nil || l.Status != StatusPartial {
			t.Errorf("%s: no %q cut on a partial layer: %+v", name, what, res.Layers)
		}
	}
}
