package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	mrand "math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const hg532eBin = "HG532eV100R001C02B017_upgrade_main.bin"

// zipMember writes one member of a committed zip fixture to a temp file.
func zipMember(t *testing.T, zipName, member string) string {
	t.Helper()
	zr, err := zip.OpenReader(fixture(t, zipName))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != member {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		p := filepath.Join(t.TempDir(), member)
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, rc); err != nil {
			t.Fatal(err)
		}
		out.Close()
		return p
	}
	t.Fatalf("%s has no member %s", zipName, member)
	return ""
}

func extractPath(t *testing.T, p string, lim Limits) *Result {
	t.Helper()
	res, err := Extract(context.Background(), p, filepath.Join(t.TempDir(), "work"), Options{Limits: lim})
	if err != nil {
		t.Fatalf("Extract(%s): %v", p, err)
	}
	return res
}

// layerSummary describes the layers under prefix (path, format, status,
// files, bytes, size) and every file they hold with its sha256.
func layerSummary(t *testing.T, res *Result, prefix string) []string {
	t.Helper()
	var out []string
	for _, l := range res.Layers {
		if l.Format == "image" || !strings.HasPrefix(l.Path, prefix) {
			continue
		}
		rel := strings.TrimPrefix(l.Path, prefix)
		out = append(out, strings.Join([]string{rel, l.Format, string(l.Status), itoa64(l.Files), itoa64(l.Bytes), itoa64(l.Size), itoa64(int64(len(l.Anomalies)))}, " "))
		if l.Root == "" {
			continue
		}
		filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			r, _ := filepath.Rel(l.Root, p)
			out = append(out, "  "+rel+" "+filepath.ToSlash(r)+" "+hex.EncodeToString(sum[:8]))
			return nil
		})
	}
	sort.Strings(out)
	return out
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// A vendor update zip whose member is a headerless firmware .bin is
// unpacked exactly as the .bin alone: same layers, same files.
func TestCarveArchiveMemberLikeImage(t *testing.T) {
	bin := zipMember(t, "hg532e-update.zip", hg532eBin)
	alone := extractPath(t, bin, DefaultLimits())
	inZip := extractFixture(t, "hg532e-update.zip", DefaultLimits())
	t.Logf("alone: %v", layerPaths(alone))
	t.Logf("zip: %v", layerPaths(inZip))
	want := layerSummary(t, alone, "")
	got := layerSummary(t, inZip, "zip@0x0 > /"+hg532eBin+" > ")
	if !slices.Contains(want, "  squashfs@0xecef9 etc/shadow "+shadowSum) || !slices.Contains(want, "lzma@0x21a8 lzma ok 1 65536 "+itoa64(layerByPath(alone, "lzma@0x21a8").Size)+" 0") {
		t.Fatalf("the .bin alone did not give its kernel and root file system:\n%s", strings.Join(want, "\n"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("member unpacked differently from the image alone:\n--- in zip\n%s\n--- alone\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// shadowSum is the first 8 bytes (hex) of the sha256 of the HG532e
// fixture's /etc/shadow (build-recall.sh).
var shadowSum = func() string {
	sum := sha256.Sum256([]byte("root:$1$fwaudit4$syvAx786rCopmuJGuS.pc1:16503:0:99999:7:::\n"))
	return hex.EncodeToString(sum[:8])
}()

// The carving budget is bounded per image and per file, and a hit is an
// anomaly on the layer that holds the file.
func TestCarveBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  Limits
		want string
	}{
		{"image", Limits{CarveImageBytes: 4096}, "carving budget of 4096 bytes per image used up"},
		{"file", Limits{CarveFileBytes: 4096}, "exceed the carving budget of 4096 bytes per file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := DefaultLimits()
			lim.CarveImageBytes, lim.CarveFileBytes = tc.lim.CarveImageBytes, tc.lim.CarveFileBytes
			res := extractFixture(t, "hg532e-update.zip", lim)
			if l := layerByPath(res, "zip@0x0 > /"+hg532eBin+" > squashfs@0xecef9"); l != nil {
				t.Fatalf("carved past the budget: %v", layerPaths(res))
			}
			z := layerByPath(res, "zip@0x0")
			found := false
			for _, a := range z.Anomalies {
				if a.Kind == AnomalyLimit && a.Path == "/"+hg532eBin && strings.Contains(a.Detail, tc.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no limit anomaly %q on the zip layer: %+v", tc.want, z.Anomalies)
			}
		})
	}
}

func TestFinalType(t *testing.T) {
	elf, err := os.ReadFile(fixture(t, "login.cgi"))
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("#!/bin/sh\n# start the web server\nhttpd -p 80 -h /www\n")
	sq, err := os.ReadFile(fixture(t, "sqfs-xz.img"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		hdr, tail []byte
		want      string
	}{
		{"elf", elf[:512], elf[len(elf)-512:], "elf"},
		{"script", text, text, "text"},
		{"utf8", []byte("Grüße, 设备 ✓\n"), []byte("ok\n"), "text"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), nil, "png"},
		// a makeself-style installer: a script with an archive appended
		{"script+archive", text, sq[:512], ""},
		{"squashfs", sq[:512], sq[len(sq)-512:], ""},
		{"nul", []byte("abc\x00def"), []byte("x"), ""},
		{"controls", bytes.Repeat([]byte{1, 2, 3, 'a'}, 100), []byte("x"), ""},
	} {
		if got := finalType(tc.hdr, tc.tail); got != tc.want {
			t.Errorf("%s: finalType = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A random member is carved but yields no opaque layers; an ELF member is
// not carved even when a SquashFS sits inside it; a member holding a
// SquashFS after a small unknown header is carved.
func TestCarveMemberKinds(t *testing.T) {
	sq, err := os.ReadFile(fixture(t, "sqfs-xz.img"))
	if err != nil {
		t.Fatal(err)
	}
	elf, err := os.ReadFile(fixture(t, "login.cgi"))
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 200<<10)
	mrand.New(mrand.NewSource(1)).Read(random)
	if e := sampleEntropy(bytes.NewReader(random), 0, int64(len(random))); e < 7.5 {
		t.Fatalf("test data entropy %.2f: would not be opaque anyway", e)
	}
	hdr := bytes.Repeat([]byte{0}, 0x400)
	copy(hdr, "VENDOR-FW-UPDATE v1\x00")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"random.bin", random},
		{"tool.elf", append(append([]byte{}, elf...), sq...)},
		{"fw.bin", append(hdr, sq...)},
	} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store})
		w.Write(m.data)
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "update.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	res := extractPath(t, p, DefaultLimits())
	var got []string
	for _, l := range res.Layers[1:] {
		got = append(got, l.Path)
	}
	want := []string{"zip@0x0", "zip@0x0 > /fw.bin > squashfs@0x400"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("layers %q, want %q", got, want)
	}
}
