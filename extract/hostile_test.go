package extract

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/internal/hostile"
	"github.com/pierrec/lz4/v4"
)

// The crafted inputs of issue 13 (internal/hostile), small, each with the
// bound that must stop it: every test asserts on the anomaly the bound
// leaves in the layer tree, never on time.

func hostileExtract(t *testing.T, data []byte, l Limits) *Result {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "image.bin")
	if err := os.WriteFile(img, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Extract(context.Background(), img, filepath.Join(dir, "work"), Options{Limits: l})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func layerAnomaly(res *Result, format, kind, detail string) *Layer {
	for _, l := range res.Layers {
		if format != "" && l.Format != format {
			continue
		}
		for _, a := range l.Anomalies {
			if a.Kind == kind && strings.Contains(a.Detail, detail) {
				return l
			}
		}
	}
	return nil
}

func countFormat(res *Result, format string) int {
	n := 0
	for _, l := range res.Layers {
		if l.Format == format {
			n++
		}
	}
	return n
}

func TestHostileZipEOCDFlood(t *testing.T) {
	// 655 candidate end records, each over a 65,535-header directory: 43
	// million headers to walk without the search bound
	res := hostileExtract(t, hostile.ZipEOCDFlood(0.01), DefaultLimits())
	l := layerAnomaly(res, "zip", AnomalyLimit, "end of the central directory")
	if l == nil {
		t.Fatalf("no search-bound anomaly: %+v", res.Layers)
	}
	if l.Status != StatusFailed {
		t.Errorf("zip layer %s, want failed (nothing could be read)", l.Status)
	}
}

func TestHostileGPTSelfRef(t *testing.T) {
	// nested partitions are prefixes of the disk already carved: each is
	// recognised by its bytes and not unpacked again
	res := hostileExtract(t, hostile.GPTSelfRef(1), DefaultLimits())
	if len(res.Layers) > 100 {
		t.Errorf("%d layers", len(res.Layers))
	}
	if layerAnomaly(res, "gpt", AnomalyDuplicateBlob, "same bytes as") == nil {
		t.Errorf("repeated partitions not reported")
	}
	// the layer bound stops what fans out anyway
	lim := DefaultLimits()
	lim.MaxLayers = 10
	res = hostileExtract(t, hostile.GPTSelfRef(1), lim)
	if len(res.Layers) > lim.MaxLayers {
		t.Errorf("%d layers, bound %d", len(res.Layers), lim.MaxLayers)
	}
	root := res.Layers[0]
	if layerAnomaly(res, "image", AnomalyLayers, "layers per image (10)") == nil || root.Status != StatusPartial {
		t.Errorf("layer bound not reported on the image: %s %+v", root.Status, root.Anomalies)
	}
}

func TestHostileGPTWholeDiskPartitions(t *testing.T) {
	// a partition that is the whole disk again is a self-reference: it is
	// reported and not unpacked again (no fan-out at all)
	disk := hostile.GPTSelfRef(1.0 / 38) // one partition, LBA 0 to the end
	res := hostileExtract(t, disk, DefaultLimits())
	if n := countFormat(res, "gpt"); n != 1 {
		t.Errorf("%d gpt layers, want 1", n)
	}
	if layerAnomaly(res, "gpt", AnomalyLoop, "self-reference") == nil {
		t.Errorf("self-reference not reported: %+v", res.Layers)
	}
}

func TestHostileFITNodeFlood(t *testing.T) {
	res := hostileExtract(t, hostile.FITNodeFlood(0.1), DefaultLimits())
	fit := layerAnomaly(res, "fit", AnomalyDuplicateName, "same data as an earlier one")
	if fit == nil {
		t.Fatalf("repeated data not reported: %+v", res.Layers)
	}
	if layerAnomaly(res, "fit", AnomalyLimit, "bytes hashed to verify FIT hash nodes") == nil {
		t.Errorf("hash-work bound not reported: %+v", fit.Anomalies)
	}
	// 300 sub-images over 100 distinct ranges: at most 100 written
	if fit.Files > 100 || fit.Files == 0 {
		t.Errorf("fit layer: %d files, %s", fit.Files, fit.Status)
	}
}

func TestHostileCpioEntries(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxEntries = 1000
	res := hostileExtract(t, hostile.CpioMany(0.005), lim) // 3,000 entries
	l := layerAnomaly(res, "cpio", AnomalyLimit, "entries in one layer")
	if l == nil {
		t.Fatalf("entry bound not reported: %+v", res.Layers)
	}
	if l.Status != StatusPartial || l.Files == 0 || l.Files > 1000 {
		t.Errorf("cpio layer %s with %d files", l.Status, l.Files)
	}
	// the archive is not carved again from where the bound stopped it
	if n := countFormat(res, "cpio"); n != 1 {
		t.Errorf("%d cpio layers, want 1", n)
	}
}

func TestHostileCpioHardlinkFIT(t *testing.T) {
	res := hostileExtract(t, hostile.CpioHardlinkFIT(0.05), DefaultLimits()) // 1,000 names
	var cp *Layer
	for _, l := range res.Layers {
		if l.Format == "cpio" {
			cp = l
		}
	}
	if cp == nil || len(cp.Links) < 999 {
		t.Fatalf("cpio layer: %+v", cp)
	}
	// the FIT is carved once, not once per name
	if n := countFormat(res, "fit"); n != 1 {
		t.Errorf("%d fit layers, want 1", n)
	}
}

func TestHostileLZ4TinyFrames(t *testing.T) {
	res := hostileExtract(t, hostile.LZ4TinyFrames(0.05), DefaultLimits()) // 100,000 frames
	if n := countFormat(res, "lz4"); n > 1 {
		t.Errorf("%d lz4 layers; the frames are one stream", n)
	}
	if len(res.Layers) < 2 || res.Layers[1].Format != "lz4" || res.Layers[1].Bytes != 5*100000 {
		t.Errorf("%d layers, first %+v", len(res.Layers), res.Layers[1])
	}
}

func TestHostileGzipTinyMembers(t *testing.T) {
	res := hostileExtract(t, hostile.GzipTinyMembers(0.05), DefaultLimits()) // 50,000 members
	if n := countFormat(res, "gzip"); n != 1 {
		t.Errorf("%d gzip layers; the members are one stream", n)
	}
	if len(res.Layers) < 2 || res.Layers[1].Bytes != 5*50000 {
		t.Errorf("%d layers, first %+v", len(res.Layers), res.Layers[1])
	}
}

func TestLayerDeadline(t *testing.T) {
	// a deadline already past when the layer starts: the layer is partial,
	// the bound is reported, and the image is still walked
	lim := DefaultLimits()
	lim.LayerTimeout = time.Nanosecond
	res := hostileExtract(t, hostile.CpioMany(0.001), lim)
	l := layerAnomaly(res, "cpio", AnomalyTime, "took longer than 1ns")
	if l == nil || l.Status != StatusPartial {
		t.Fatalf("layer deadline not reported: %+v", res.Layers)
	}
}

func TestImageDeadline(t *testing.T) {
	lim := DefaultLimits()
	lim.ImageTimeout = time.Nanosecond
	res := hostileExtract(t, hostile.CpioMany(0.001), lim)
	root := res.Layers[0]
	if layerAnomaly(res, "image", AnomalyTime, "took longer than 1ns") == nil || root.Status != StatusPartial {
		t.Fatalf("image deadline not reported: %s %+v", root.Status, root.Anomalies)
	}
}

// TestHostileManyChunksInOneBlob: tiny gzip members and LZ4 frames in
// turn (neither stream swallows the other) would make one layer each; the
// chunks carved out of one blob are bounded and the bound is reported.
func TestHostileManyChunksInOneBlob(t *testing.T) {
	var gz, lz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("tiny\n"))
	zw.Close()
	lw := lz4.NewWriter(&lz)
	lw.Write([]byte("tiny\n"))
	lw.Close()
	var blob []byte
	for range maxBlobChunks {
		blob = append(blob, gz.Bytes()...)
		blob = append(blob, lz.Bytes()...)
	}
	res := hostileExtract(t, blob, DefaultLimits())
	chunks := 0
	for _, l := range res.Layers {
		if l.Parent == "L0" && (l.Format == "gzip" || l.Format == "lz4") {
			chunks++
		}
	}
	if chunks != maxBlobChunks {
		t.Errorf("%d chunks carved from the blob, want the bound %d", chunks, maxBlobChunks)
	}
	if layerAnomaly(res, "image", AnomalyLimit, fmt.Sprintf("%d chunks carved from this blob", maxBlobChunks)) == nil {
		t.Errorf("the bound was not reported on the image: %+v", res.Layers[0].Anomalies)
	}
}
