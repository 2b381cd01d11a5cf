package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// Adding a codec or a format is one file plus its registration (see
// docs/architecture.md, "Extraction"). This test is that file: it registers a
// throw-away codec and a throw-away container format, and sees the codec
// sniffed, found behind a kernel decompressor, named by a uImage byte and
// a FIT compression property, and the format carved out of a blob by the
// engine, with no other file changed.

const (
	testCodec  = "test-xor"
	testFormat = "test-box"
)

var (
	testCodecMagic  = []byte("XOR5A\x00")
	testFormatMagic = []byte("FWTESTBOX\x00")
)

type testXorReader struct{ r io.Reader }

func (x testXorReader) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	for i := range p[:n] {
		p[i] ^= 0x5a
	}
	return n, err
}

// testBoxFormat: the magic, a big-endian payload length, 2 bytes of
// padding, then the payload compressed with test-xor.
type testBoxFormat struct{}

func (testBoxFormat) Name() string    { return testFormat }
func (testBoxFormat) Kind() Kind      { return Container }
func (testBoxFormat) Magics() []Magic { return []Magic{{0, testFormatMagic}} }
func (testBoxFormat) Identify(h []byte) bool {
	return len(h) >= 16 && bytes.Equal(h[:10], testFormatMagic)
}
func (testBoxFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	h := readAtMost(r, 0, size, 16)
	if len(h) < 16 {
		return 0, ErrNotFormat
	}
	return 16 + int64(binary.BigEndian.Uint32(h[10:])), nil
}
func (f testBoxFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	n, err := f.Bound(r, size)
	if err != nil {
		return 0, err
	}
	n = min(n, size)
	return n, writePayload(ctx, w, "payload", testCodec, r, 16, n-16)
}

func registerThrowAways() {
	if _, ok := compress.Get(testCodec); !ok {
		compress.Register(compress.Codec{Name: testCodec, Rank: 1000,
			Magics: [][]byte{testCodecMagic}, Kernel: [][]byte{testCodecMagic},
			UImage: 0xf0, FIT: "test-xor",
			Stream: func(r io.Reader) (io.ReadCloser, error) {
				hdr := make([]byte, len(testCodecMagic))
				if _, err := io.ReadFull(r, hdr); err != nil || !bytes.Equal(hdr, testCodecMagic) {
					return nil, io.ErrUnexpectedEOF
				}
				return io.NopCloser(testXorReader{r}), nil
			}})
	}
	if _, ok := Lookup(testFormat); !ok {
		Register(testBoxFormat{})
	}
}

func testXorEncode(plain []byte) []byte {
	enc := append(bytes.Clone(testCodecMagic), plain...)
	for i := len(testCodecMagic); i < len(enc); i++ {
		enc[i] ^= 0x5a
	}
	return enc
}

func TestRegisterThrowAwayCodecAndFormat(t *testing.T) {
	registerThrowAways()
	plain := ctrFixture(t, "data.txt")
	enc := testXorEncode(plain)

	if got := sniffCodec(enc); got != testCodec {
		t.Errorf("sniffCodec = %q, want %q", got, testCodec)
	}

	// a uImage whose compression byte is the codec's
	w, _, err := ctrUnpack(t, "uimage", ctrUImage(2, 0xf0, "k", enc, false))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "kernel"), plain) {
		t.Error("uImage payload not decoded by the registered codec")
	}

	// a FIT image whose compression property is the codec's FIT name
	var g ctrFDT
	g.begin("").begin("images").begin("k").str("compression", "test-xor").prop("data", enc).end().end().end()
	fw, _, err := ctrUnpack(t, "fit", g.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, fw, "images/k"), plain) {
		t.Error("FIT payload not decoded by the registered codec")
	}

	// a kernel image whose payload is the codec's stream
	kw, err := NewWriter(filepath.Join(t.TempDir(), "k"), DefaultLimits(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer kw.Close()
	if err := kernelPayload(context.Background(), append(bytes.Repeat([]byte{0xe1}, 64), enc...), 0, kw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, kw, "vmlinux"), plain) {
		t.Error("kernel payload not decoded by the registered codec")
	}

	// the format, carved out of a blob by the engine
	box := append(bytes.Clone(testFormatMagic), 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(box[10:], uint32(len(enc)))
	box = append(box, enc...)
	blob := append(bytes.Repeat([]byte{0xe1, 0x07}, 256), box...)
	img := filepath.Join(t.TempDir(), "img.bin")
	if err := os.WriteFile(img, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Extract(context.Background(), img, filepath.Join(t.TempDir(), "work"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var l *Layer
	for _, x := range res.Layers {
		if x.Format == testFormat {
			l = x
		}
	}
	if l == nil || l.Status != StatusOK || l.Offset != 512 {
		t.Fatalf("no ok %s layer at 512: %v", testFormat, layerPaths(res))
	}
	got, err := os.ReadFile(filepath.Join(l.Root, "payload"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("%s payload differs from the input (%v)", testFormat, err)
	}
}
