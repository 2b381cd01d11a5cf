package extract

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "testdata", "firmware", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s missing: %v (rebuild with testdata/firmware/build.sh)", name, err)
	}
	return p
}

func extractFixture(t testing.TB, name string, lim Limits) *Result {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	res, err := Extract(context.Background(), fixture(t, name), work, Options{Limits: lim})
	if err != nil {
		t.Fatalf("Extract(%s): %v", name, err)
	}
	return res
}

func layerByPath(res *Result, p string) *Layer {
	for _, l := range res.Layers {
		if l.Path == p {
			return l
		}
	}
	return nil
}

func layerPaths(res *Result) []string {
	var out []string
	for _, l := range res.Layers {
		out = append(out, l.Path+" ["+string(l.Status)+"]")
	}
	return out
}

func TestExtractRawFlash(t *testing.T) {
	res := extractFixture(t, "flash.bin", DefaultLimits())
	sq := layerByPath(res, "squashfs@0x80000")
	if sq == nil || sq.Status != StatusOK {
		t.Fatalf("no ok squashfs layer at 0x80000; layers: %v", layerPaths(res))
	}
	if _, err := os.Stat(filepath.Join(sq.Root, "etc", "shadow")); err != nil {
		t.Errorf("squashfs root lacks /etc/shadow: %v", err)
	}
	ui := layerByPath(res, "uimage@0x10000")
	if ui == nil || ui.Status != StatusOK {
		t.Fatalf("no ok uimage layer at 0x10000; layers: %v", layerPaths(res))
	}
	// the kernel payload must be readable: its banner is in some descendant file
	found := false
	filepath.WalkDir(ui.Root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "Linux version 2.6.31") {
				found = true
			}
		}
		return nil
	})
	if !found {
		t.Errorf("kernel banner not found under the uImage layer")
	}
	for _, l := range res.Layers {
		if l.Parent == "" && l.ID != "L0" {
			t.Errorf("layer %s has no parent", l.Path)
		}
	}
}

func TestExtractNested(t *testing.T) {
	res := extractFixture(t, "nested.tar.gz", DefaultLimits())
	var cpio *Layer
	for _, l := range res.Layers {
		if l.Format == "cpio" {
			cpio = l
		}
	}
	if cpio == nil {
		t.Fatalf("no cpio layer; layers: %v", layerPaths(res))
	}
	// gzip -n stores no file name, so the stream output is called "data"
	want := "gzip@0x0 > data > tar@0x0 > /firmware/rootfs.squashfs > squashfs@0x0 > /boot/initramfs.cpio.gz > gzip@0x0 > data > cpio@0x0"
	if cpio.Path != want {
		t.Errorf("cpio layer path\n got %q\nwant %q", cpio.Path, want)
	}
	b, err := os.ReadFile(filepath.Join(cpio.Root, "etc", "shadow"))
	if err != nil || !strings.HasPrefix(string(b), "root:$1$fwaudit4$") {
		t.Errorf("cpio /etc/shadow = %q, %v", b, err)
	}
	if cpio.Depth != 5 {
		t.Errorf("cpio depth = %d, want 5", cpio.Depth)
	}
}

func TestNestingBombStopsAtDepth(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxDepth = 6
	res := extractFixture(t, "nest-bomb.gz", lim)
	gz, depthHit := 0, false
	for _, l := range res.Layers {
		if l.Format == "gzip" && l.Status == StatusOK {
			gz++
		}
		for _, a := range l.Anomalies {
			if a.Kind == AnomalyDepth {
				depthHit = true
			}
		}
	}
	if gz != 6 {
		t.Errorf("unpacked %d gzip layers, want exactly 6 (the depth limit)", gz)
	}
	if !depthHit {
		t.Errorf("no depth-limit anomaly recorded; layers %v", layerPaths(res))
	}
}

func TestDecompressionBombIsBounded(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxRatio = 20
	res := extractFixture(t, "bomb.gz", lim)
	l := layerByPath(res, "gzip@0x0")
	if l == nil {
		t.Fatalf("no gzip layer: %v", layerPaths(res))
	}
	if l.Status != StatusPartial {
		t.Errorf("bomb layer status %s, want partial", l.Status)
	}
	maxOut := int64(RatioFloor) + 256<<10 // 20x of 1 MB is below the floor
	if l.Bytes > maxOut {
		t.Errorf("bomb wrote %d bytes, bound is about %d", l.Bytes, maxOut)
	}
	hit := false
	for _, a := range l.Anomalies {
		if a.Kind == AnomalyLimit && strings.Contains(a.Detail, "ratio") {
			hit = true
		}
	}
	if !hit {
		t.Errorf("no ratio limit anomaly: %+v", l.Anomalies)
	}
}

func TestTotalLimit(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxTotalBytes = 2 << 20
	res := extractFixture(t, "bomb.xz", lim)
	if res.Bytes > 2<<20 {
		t.Errorf("wrote %d bytes with a 2 MiB total limit", res.Bytes)
	}
	l := layerByPath(res, "xz@0x0")
	if l == nil || l.Status != StatusPartial || !strings.Contains(l.Error, "total") {
		t.Fatalf("xz bomb layer: %+v", l)
	}
}

// Hostile archives: nothing may appear outside the work folder, the good
// entries are extracted, and every refusal is recorded.
func TestHostileArchivesStayInside(t *testing.T) {
	cases := map[string][]string{
		"evil-traversal.tar":  {AnomalyTraversal, AnomalyAbsolute},
		"evil-traversal.zip":  {AnomalyTraversal, AnomalyAbsolute},
		"evil-traversal.cpio": {AnomalyTraversal, AnomalyAbsolute},
		"evil-symlink.tar":    {AnomalySymlinkWrite, AnomalyLinkEscape},
	}
	for name, kinds := range cases {
		t.Run(name, func(t *testing.T) {
			outer := t.TempDir()
			work := filepath.Join(outer, "a", "b", "work")
			res, err := Extract(context.Background(), fixture(t, name), work, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// only a/b/work may exist under outer
			filepath.WalkDir(outer, func(p string, d fs.DirEntry, err error) error {
				rel, _ := filepath.Rel(outer, p)
				if rel == "." || rel == "a" || rel == filepath.Join("a", "b") || strings.HasPrefix(rel, filepath.Join("a", "b", "work")) {
					return nil
				}
				t.Errorf("written outside the work folder: %s", rel)
				return nil
			})
			got := map[string]bool{}
			for _, l := range res.Layers {
				for _, a := range l.Anomalies {
					got[a.Kind] = true
				}
			}
			for _, k := range kinds {
				if !got[k] {
					t.Errorf("anomaly %s not recorded; got %v", k, got)
				}
			}
		})
	}
}

func TestDevicesAreRecordedNotCreated(t *testing.T) {
	res := extractFixture(t, "evil-devices.tar", DefaultLimits())
	var specials []Special
	for _, l := range res.Layers {
		specials = append(specials, l.Specials...)
		if l.Root != "" {
			filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type()&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice) != 0 {
					t.Errorf("special file created on disk: %s", p)
				}
				return nil
			})
		}
	}
	kinds := map[string]bool{}
	for _, s := range specials {
		kinds[s.Kind] = true
	}
	for _, k := range []string{"char", "block", "fifo"} {
		if !kinds[k] {
			t.Errorf("no %s special recorded: %+v", k, specials)
		}
	}
}

func TestOpaqueAndUnknownImages(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, 256<<10)
	rand.Read(random)
	rp := filepath.Join(dir, "random.bin")
	os.WriteFile(rp, random, 0o644)
	res, err := Extract(context.Background(), rp, filepath.Join(dir, "w1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Layers[0].Status != StatusOpaque || res.Layers[0].Entropy < 7.5 {
		t.Errorf("random image: status %s entropy %v, want opaque", res.Layers[0].Status, res.Layers[0].Entropy)
	}
	tp := filepath.Join(dir, "text.bin")
	os.WriteFile(tp, []byte(strings.Repeat("hello firmware world\n", 5000)), 0o644)
	res, err = Extract(context.Background(), tp, filepath.Join(dir, "w2"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Layers[0].Status != StatusUnsupported || res.Layers[0].Error == "" {
		t.Errorf("text image: status %s, want unsupported with a reason", res.Layers[0].Status)
	}
}

func TestUnreadableImage(t *testing.T) {
	_, err := Extract(context.Background(), filepath.Join(t.TempDir(), "missing.bin"), t.TempDir(), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing image: err = %v, want not-exist", err)
	}
}

func TestTruncatedLayersDoNotStopTheRest(t *testing.T) {
	for _, name := range []string{"gzip-truncated.gz", "xz-truncated.xz", "sqfs-truncated.img"} {
		t.Run(name, func(t *testing.T) {
			res := extractFixture(t, name, DefaultLimits())
			if len(res.Layers) < 2 {
				t.Fatalf("truncated %s gave no layer: %v", name, layerPaths(res))
			}
			l := res.Layers[1]
			if l.Status != StatusPartial && l.Status != StatusFailed {
				t.Errorf("%s: status %s, want partial or failed", name, l.Status)
			}
			if l.Error == "" {
				t.Errorf("%s: no error text", name)
			}
		})
	}
}

// The layer tree is deterministic: same IDs, paths, statuses, counts.
func TestExtractDeterministic(t *testing.T) {
	a := extractFixture(t, "flash.bin", DefaultLimits())
	b := extractFixture(t, "flash.bin", DefaultLimits())
	strip := func(r *Result) string {
		var ls []Layer
		for _, l := range r.Layers {
			c := *l
			c.Root = ""
			ls = append(ls, c)
		}
		j, _ := json.Marshal(ls)
		return string(j)
	}
	if strip(a) != strip(b) {
		t.Errorf("two extractions differ:\n%s\n%s", strip(a), strip(b))
	}
}

func TestSampleEntropy(t *testing.T) {
	zeros := make([]byte, 100000)
	if e := sampleEntropy(bytesReaderAt(zeros), 0, int64(len(zeros))); e != 0 {
		t.Errorf("entropy of zeros = %v", e)
	}
	all := make([]byte, 256*400)
	for i := range all {
		all[i] = byte(i)
	}
	if e := sampleEntropy(bytesReaderAt(all), 0, int64(len(all))); math.Abs(e-8) > 0.01 {
		t.Errorf("entropy of uniform bytes = %v, want 8", e)
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, errors.New("EOF")
	}
	n := copy(p, b[off:])
	return n, nil
}

// FuzzExtract feeds arbitrary bytes through carving and every format:
// never a panic, nothing written outside the work folder, and the bounds
// hold.
func FuzzExtract(f *testing.F) {
	for _, name := range []string{"data.gz", "data.xz", "data.lzma", "data.bz2", "data.zst", "data.lz4", "nest-bomb.gz", "evil-traversal.cpio", "evil-symlink.tar"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "firmware", name))
		if err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		outer := fuzzDir(t)
		img := filepath.Join(outer, "img.bin")
		if err := os.WriteFile(img, data, 0o644); err != nil {
			t.Fatal(err)
		}
		lim := fuzzLimits
		lim.MaxDepth = 8
		work := filepath.Join(outer, "work")
		res, err := Extract(context.Background(), img, work, Options{Limits: lim})
		if err != nil {
			t.Fatal(err)
		}
		if res.Bytes > lim.MaxTotalBytes {
			t.Fatalf("wrote %d bytes past the %d bound", res.Bytes, lim.MaxTotalBytes)
		}
		for _, l := range res.Layers {
			for _, a := range l.Anomalies {
				if a.Kind == AnomalyPanic {
					t.Fatalf("parser panic in %s: %s", l.Path, a.Detail)
				}
			}
		}
		ents, _ := os.ReadDir(outer)
		for _, e := range ents {
			if e.Name() != "img.bin" && e.Name() != "work" {
				t.Fatalf("written outside the work folder: %s", e.Name())
			}
		}
	})
}

// BenchmarkExtractFlash measures the whole engine on the raw flash fixture
// (carving, uImage+LZMA kernel, SquashFS xz root).
func BenchmarkExtractFlash(b *testing.B) {
	img := fixture(b, "flash.bin")
	st, _ := os.Stat(img)
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		work := filepath.Join(b.TempDir(), "w")
		if _, err := Extract(context.Background(), img, work, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormats runs the whole engine on one fixture per format that has
// no dedicated benchmark: go test -bench Formats ./extract/
func BenchmarkFormats(b *testing.B) {
	for _, c := range []struct{ format, file string }{
		{"gzip", "rootfs.tar.gz"}, {"xz", "rootfs.tar.xz"}, {"bzip2", "rootfs.tar.bz2"},
		{"zstd", "rootfs.tar.zst"}, {"lz4", "data.lz4"}, {"lzma", "data.lzma"},
		{"zip", "rootfs.zip"}, {"uimage", "uimage-lzma.bin"}, {"fit", "fit.itb"},
		{"trx", "trx.bin"}, {"tplink", "tplink.bin"}, {"zimage", "zImage-arm.bin"},
		{"bzimage", "bzImage-x86.bin"},
	} {
		b.Run(c.format, func(b *testing.B) {
			img := fixture(b, c.file)
			st, _ := os.Stat(img)
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := Extract(context.Background(), img, filepath.Join(b.TempDir(), "w"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				found := false
				for _, l := range res.Layers {
					if l.Format == c.format && l.Status == StatusOK {
						found = true
					}
				}
				if !found {
					b.Fatalf("%s: no ok %s layer", c.file, c.format)
				}
			}
		})
	}
}

// A blob full of plausible but bogus headers of one format stops being
// tried for that format after maxRejects rejections, and says so.
func TestRejectedCandidatesAreBounded(t *testing.T) {
	// xz stream headers with a valid flags CRC but no stream behind them
	hdr := []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46}
	var blob []byte
	for i := 0; i < maxRejects+100; i++ {
		blob = append(blob, hdr...)
		blob = append(blob, make([]byte, 52)...)
	}
	p := filepath.Join(t.TempDir(), "bogus.bin")
	os.WriteFile(p, blob, 0o644)
	res, err := Extract(context.Background(), p, filepath.Join(t.TempDir(), "w"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	for _, a := range res.Layers[0].Anomalies {
		if a.Kind == AnomalyLimit && strings.Contains(a.Detail, "stopped trying that format") {
			stopped = true
		}
	}
	if !stopped {
		t.Errorf("no anomaly saying carving stopped trying xz; layers: %v", layerPaths(res))
	}
}
