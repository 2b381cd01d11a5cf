package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/internal/hostile"
)

// cancelCase is an input of one parser family large enough that unpacking
// it walks many entries, blocks, partitions or frames.
type cancelCase struct {
	format string
	data   func(t *testing.T) []byte
	// layer is the format the engine names the input's layer when it
	// differs (the node flood is a device tree before it is a FIT; both
	// are fit.go's parser)
	layer string
}

func cancelCases() []cancelCase {
	file := func(name string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return archRead(t, archFixture(t, name)) }
	}
	gen := func(f func(float64) []byte, scale float64) func(t *testing.T) []byte {
		return func(*testing.T) []byte { return f(scale) }
	}
	return []cancelCase{
		{format: "tar", data: func(*testing.T) []byte {
			files := map[string][]byte{}
			for i := range 3000 {
				files[fmt.Sprintf("d%d/f%d", i%7, i)] = []byte("x")
			}
			return hostile.Tar(files)
		}},
		{format: "zip", data: func(t *testing.T) []byte {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for i := range 3000 {
				w, err := zw.Create(fmt.Sprintf("d%d/f%d", i%7, i))
				if err != nil {
					t.Fatal(err)
				}
				w.Write([]byte("x"))
			}
			zw.Close()
			return b.Bytes()
		}},
		{format: "cpio", data: gen(hostile.CpioMany, 0.01)},
		{format: "gpt", data: gen(hostile.GPTSelfRef, 1)},
		{format: "mbr", data: file("mbr.img")},
		{format: "fit", data: gen(hostile.FITNodeFlood, 0.02), layer: "dtb"},
		{format: "ext", data: file("ext2.img")},
		{format: "squashfs", data: file("sqfs-xz.img")},
		{format: "ubi", data: file("ubi-zstd.ubi")},
		{format: "romfs", data: file("romfs.img")},
		{format: "trx", data: file("trx.bin")},
		{format: "tplink", data: file("tplink.bin")},
		{format: "uimage", data: file("uimage-multi.bin")},
		{format: "android-sparse", data: file("ext4.simg")},
		{format: "uboot-env", data: func(*testing.T) []byte {
			vars := []string{"bootcmd=bootm 0x9f020000"}
			for i := range 5000 {
				vars = append(vars, fmt.Sprintf("v%d=%d", i, i))
			}
			return ueBlock(128<<10, false, vars...)
		}},
		{format: "gzip", data: gen(hostile.GzipTinyMembers, 0.02)},
		{format: "lz4", data: gen(hostile.LZ4TinyFrames, 0.02)},
		{format: "bzip2", data: file("data.bz2")},
		{format: "xz", data: file("data.xz")},
		{format: "zstd", data: file("data.zst")},
		{format: "lzma", data: file("data.lzma")},
	}
}

// Every parser's loops see the context: with a context already cancelled
// the parser stops with an error having yielded less than the whole input
// (nothing, or what came before its first check), and in the engine a
// layer deadline that is reached makes the layer partial with a
// time-limit anomaly while the image is still walked. (Not a timed test:
// the assertions are on what was yielded and reported.)
func TestCancelReachesEveryParser(t *testing.T) {
	for _, tc := range cancelCases() {
		t.Run(tc.format, func(t *testing.T) {
			f, ok := Lookup(tc.format)
			if !ok {
				t.Fatalf("no format %q", tc.format)
			}
			data := tc.data(t)
			unpack := func(ctx context.Context) (files, written int64, err error) {
				w, _ := newTestWriter(t, DefaultLimits())
				_, err = f.Unpack(ctx, bytes.NewReader(data), int64(len(data)), w)
				w.Close()
				return w.Files(), w.Written(), err
			}
			files, written, err := unpack(context.Background())
			if err != nil || files == 0 {
				t.Fatalf("the input does not unpack: %d files, %v", files, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			cf, cw, cerr := unpack(ctx)
			if cerr == nil {
				t.Errorf("cancelled: no error (%d of %d files, %d of %d bytes)", cf, files, cw, written)
			}
			if cf >= files && cw >= written {
				t.Errorf("cancelled: all %d files and %d bytes yielded anyway", cf, cw)
			}

			dir := t.TempDir()
			img := filepath.Join(dir, "image.bin")
			if err := os.WriteFile(img, data, 0o644); err != nil {
				t.Fatal(err)
			}
			lim := DefaultLimits()
			lim.LayerTimeout = time.Nanosecond
			res, err := Extract(context.Background(), img, filepath.Join(dir, "work"), Options{Limits: lim})
			if err != nil {
				t.Fatal(err)
			}
			layer := tc.format
			if tc.layer != "" {
				layer = tc.layer
			}
			l := layerAnomaly(res, layer, AnomalyTime, "took longer than 1ns")
			if l == nil || l.Status != StatusPartial {
				t.Fatalf("layer deadline not reported on a %s layer: %v", layer, layerPaths(res))
			}
		})
	}
}
