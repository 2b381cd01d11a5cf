package extract

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The lzop fixtures are made by the real lzop tool (testdata/firmware/
// build-lzop.sh).

// TestLzopFormat: an lzop file is one stream layer, written under the name
// its header stores, byte-identical to the input of lzop, and the whole
// file is consumed.
func TestLzopFormat(t *testing.T) {
	want := ctrFixture(t, "data.txt")
	for _, name := range []string{"data.lzo", "data-crc.lzo"} {
		t.Run(name, func(t *testing.T) {
			z := ctrFixture(t, name)
			if !(lzopFormat{}).Identify(z[:min(len(z), HeaderSize)]) {
				t.Fatal("not identified")
			}
			w, n, err := ctrUnpack(t, "lzop", z)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(z)) {
				t.Errorf("consumed %d, want %d", n, len(z))
			}
			if got := ctrFiles(t, w); len(got) != 1 || got[0] != "data.txt" {
				t.Fatalf("files = %v, want [data.txt]", got)
			}
			if !bytes.Equal(ctrOut(t, w, "data.txt"), want) {
				t.Error("decoded data differs from data.txt")
			}
		})
	}
}

// TestLzopTruncatedAndCorrupt: a file cut inside its only block decodes
// to nothing, so it is not taken for lzop (and creates no file); a flipped
// byte fails the block checksum.
func TestLzopTruncatedAndCorrupt(t *testing.T) {
	z := ctrFixture(t, "data.lzo")
	w, _, err := ctrUnpack(t, "lzop", z[:len(z)-10])
	if !errors.Is(err, ErrNotFormat) || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("truncated lzop: err = %v, want ErrNotFormat for an unexpected EOF", err)
	}
	if w.Entries() != 0 {
		t.Errorf("%d entries created for a truncated block", w.Entries())
	}
	bad := bytes.Clone(z)
	bad[len(bad)-40] ^= 0x40
	if _, _, err := ctrUnpack(t, "lzop", bad); err == nil {
		t.Error("corrupted lzop data decoded without error")
	}
	if (lzopFormat{}).Identify(append(bytes.Clone(z[:15]), 9)) {
		t.Error("lzop header with method 9 identified")
	}
}

// TestLzopExtracted: the engine finds an lzop file inside a blob and
// unpacks it like any other stream.
func TestLzopExtracted(t *testing.T) {
	res := extractFixture(t, "data.lzo", Limits{})
	l := layerByPath(res, "lzop@0x0")
	if l == nil || l.Status != StatusOK {
		t.Fatalf("no ok lzop layer: %v", layerPaths(res))
	}
	got, err := os.ReadFile(filepath.Join(l.Root, "data.txt"))
	if err != nil || !bytes.Equal(got, ctrFixture(t, "data.txt")) {
		t.Errorf("lzop layer's data.txt differs from the input (%v)", err)
	}
}

// TestUImageLzo: a uImage marked IH_COMP_LZO (4) carries an lzop file; the
// compression byte maps to the lzop codec through the codec registry.
func TestUImageLzo(t *testing.T) {
	img := ctrFixture(t, "uimage-lzo.bin")
	w, n, err := ctrUnpack(t, "uimage", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if got := ctrFiles(t, w); len(got) != 1 || got[0] != "kernel" {
		t.Fatalf("files = %v, want [kernel]", got)
	}
	if !bytes.Equal(ctrOut(t, w, "kernel"), ctrFixture(t, "data.txt")) {
		t.Error("kernel differs from data.txt")
	}
	if a := w.Anomalies(); len(a) != 0 {
		t.Errorf("anomalies on a valid image: %v", a)
	}
	if d := DescribeUImage(img); !strings.Contains(d, "lzop") {
		t.Errorf("Describe = %q, lacks the lzop compression", d)
	}
}

// TestKernelLzopPayload: a kernel whose compressed payload is lzop is
// found by the kernel payload search (the codecs' Kernel signatures).
func TestKernelLzopPayload(t *testing.T) {
	img := append(bytes.Repeat([]byte{0xe1}, 300), ctrFixture(t, "data.lzo")...)
	w, err := NewWriter(filepath.Join(t.TempDir(), "out"), DefaultLimits(), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := kernelPayload(t.Context(), img, 0, w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "vmlinux"), ctrFixture(t, "data.txt")) {
		t.Error("vmlinux differs from data.txt")
	}
}

func FuzzLzop(f *testing.F) { fuzzStream(f, "lzop", "data.lzo", "data-crc.lzo") }

// TestFITLzo: a FIT image whose compression property is "lzo" carries an
// lzop file, decoded by the lzop codec (the FIT table comes from the codec
// registry).
func TestFITLzo(t *testing.T) {
	var g ctrFDT
	g.begin("").begin("images").begin("k").str("compression", "lzo").prop("data", ctrFixture(t, "data.lzo")).end().end().end()
	w, _, err := ctrUnpack(t, "fit", g.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "images/k"), ctrFixture(t, "data.txt")) {
		t.Errorf("images/k differs from data.txt (files %v)", ctrFiles(t, w))
	}
	for _, a := range w.Anomalies() {
		if strings.Contains(a.Detail, "compression") || strings.Contains(a.Detail, "decompress") {
			t.Errorf("anomaly: %v", a)
		}
	}
}
