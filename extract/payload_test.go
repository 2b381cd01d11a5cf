package extract

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Helpers for the container and stream format tests (uImage, FIT, TRX,
// TP-Link, kernels, xz, lzma). They are prefixed ctr.

// ctrFixture reads a committed fixture of testdata/firmware.
func ctrFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "firmware", name))
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	return b
}

// ctrShared returns the path of a real sample of ../shared/firmware,
// skipping the test when it is missing (failing in CI).
func ctrShared(tb testing.TB, rel string) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "shared", "firmware", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real sample missing in CI: %v", err)
		}
		tb.Skipf("real sample not available: %v", err)
	}
	return p
}

func ctrReadShared(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(ctrShared(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ctrUnpack runs the named format's Unpack over data.
func ctrUnpack(tb testing.TB, format string, data []byte) (*Writer, int64, error) {
	tb.Helper()
	return ctrUnpackLimits(tb, format, data, DefaultLimits())
}

func ctrUnpackLimits(tb testing.TB, format string, data []byte, l Limits) (*Writer, int64, error) {
	tb.Helper()
	f, ok := Lookup(format)
	if !ok {
		tb.Fatalf("format %s not registered", format)
	}
	w, err := NewWriter(filepath.Join(tb.TempDir(), "out"), l, int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	w.single = f.Kind() != Filesystem
	n, err := f.Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w)
	return w, n, err
}

// ctrOut reads an output file of w.
func ctrOut(tb testing.TB, w *Writer, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(w.Dir(), filepath.FromSlash(name)))
	if err != nil {
		tb.Fatalf("output %s: %v", name, err)
	}
	return b
}

// ctrFiles lists the regular files w wrote, slash-separated and sorted.
func ctrFiles(tb testing.TB, w *Writer) []string {
	tb.Helper()
	var out []string
	filepath.WalkDir(w.Dir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(w.Dir(), p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func ctrHasAnomaly(w *Writer, substr string) bool {
	for _, a := range w.Anomalies() {
		if strings.Contains(a.Detail, substr) {
			return true
		}
	}
	return false
}

func ctrGunzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func ctrGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func ctrRandom(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// ctrExtract runs the whole engine over a file.
func ctrExtract(tb testing.TB, path string) *Result {
	tb.Helper()
	res, err := Extract(context.Background(), path, filepath.Join(tb.TempDir(), "work"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// ctrLayerFile reads a file of a layer.
func ctrLayerFile(tb testing.TB, l *Layer, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(l.Root, filepath.FromSlash(name)))
	if err != nil {
		tb.Fatalf("layer %s: %v", l.Path, err)
	}
	return b
}

// --- builders ---------------------------------------------------------------

// ctrUImage builds a legacy uImage; badDCRC stores a wrong data CRC.
func ctrUImage(typ, comp byte, name string, data []byte, badDCRC bool) []byte {
	h := make([]byte, uimageHeaderLen)
	be := binary.BigEndian
	copy(h, uimageMagic)
	be.PutUint32(h[8:], 1400000000)
	be.PutUint32(h[12:], uint32(len(data)))
	be.PutUint32(h[16:], 0x80060000)
	be.PutUint32(h[20:], 0x80060000)
	dcrc := crc32.ChecksumIEEE(data)
	if badDCRC {
		dcrc ^= 1
	}
	be.PutUint32(h[24:], dcrc)
	h[28], h[29], h[30], h[31] = 5, 5, typ, comp
	copy(h[32:], name)
	be.PutUint32(h[4:], crc32.ChecksumIEEE(h))
	return append(h, data...)
}

// ctrTRX builds a TRX v1/v2 image of the parts (each padded to 4 bytes).
func ctrTRX(version int, parts ...[]byte) []byte {
	hl := 28
	if version == 2 {
		hl = 32
	}
	img := make([]byte, hl)
	var offs []int
	for _, p := range parts {
		offs = append(offs, len(img))
		img = append(img, p...)
		for len(img)%4 != 0 {
			img = append(img, 0)
		}
	}
	le := binary.LittleEndian
	copy(img, "HDR0")
	le.PutUint32(img[4:], uint32(len(img)))
	le.PutUint32(img[12:], uint32(version)<<16)
	for i, o := range offs {
		le.PutUint32(img[16+4*i:], uint32(o))
	}
	le.PutUint32(img[8:], crc32.ChecksumIEEE(img[12:])^0xffffffff)
	return img
}

// ctrTPLinkV2 builds a v2 TP-Link image (mktplinkfw2 layout) with a
// valid MD5.
func ctrTPLinkV2(kernel, rootfs []byte) []byte {
	rootOfs := (tplinkHeaderLen + len(kernel) + 0xffff) &^ 0xffff
	img := bytes.Repeat([]byte{0xff}, rootOfs+len(rootfs))
	copy(img[tplinkHeaderLen:], kernel)
	copy(img[rootOfs:], rootfs)
	h := img[:tplinkHeaderLen]
	be := binary.BigEndian
	be.PutUint32(h, 0x02000000)
	copy(h[4:0x34], append([]byte("ver. 1.0"), make([]byte, 40)...))
	be.PutUint32(h[0x34:], 0x89700001)
	be.PutUint32(h[0x38:], 1)
	be.PutUint32(h[0x3c:], 0)
	copy(h[0x40:], tplinkSaltV2Normal)
	be.PutUint32(h[0x50:], 0)
	copy(h[0x54:], make([]byte, 16))
	be.PutUint32(h[0x64:], 0xffffffff)
	be.PutUint32(h[0x68:], 0x80002000)
	be.PutUint32(h[0x6c:], 0x80002000)
	be.PutUint32(h[0x70:], 0x7a0000)
	be.PutUint32(h[0x74:], tplinkHeaderLen)
	be.PutUint32(h[0x78:], uint32(len(kernel)))
	be.PutUint32(h[0x7c:], uint32(rootOfs))
	be.PutUint32(h[0x80:], uint32(len(rootfs)))
	be.PutUint32(h[0x84:], 0)
	be.PutUint32(h[0x88:], 0)
	be.PutUint16(h[0x8c:], 0x55aa)
	h[0x90] = 0xa5
	sum := md5.Sum(img)
	copy(h[0x40:], sum[:])
	return img
}

// ctrFDT builds flattened device trees.
type ctrFDT struct {
	st   []byte
	strs []byte
	off  map[string]uint32
}

func (f *ctrFDT) u32(v uint32) { f.st = binary.BigEndian.AppendUint32(f.st, v) }
func (f *ctrFDT) pad() {
	for len(f.st)%4 != 0 {
		f.st = append(f.st, 0)
	}
}
func (f *ctrFDT) begin(name string) *ctrFDT {
	f.u32(fdtBeginNode)
	f.st = append(append(f.st, name...), 0)
	f.pad()
	return f
}
func (f *ctrFDT) end() *ctrFDT { f.u32(fdtEndNode); return f }
func (f *ctrFDT) prop(name string, v []byte) *ctrFDT {
	if f.off == nil {
		f.off = map[string]uint32{}
	}
	o, ok := f.off[name]
	if !ok {
		o = uint32(len(f.strs))
		f.off[name] = o
		f.strs = append(append(f.strs, name...), 0)
	}
	f.u32(fdtProp)
	f.u32(uint32(len(v)))
	f.u32(o)
	f.st = append(f.st, v...)
	f.pad()
	return f
}
func (f *ctrFDT) str(name, v string) *ctrFDT { return f.prop(name, append([]byte(v), 0)) }
func (f *ctrFDT) cell(name string, v uint32) *ctrFDT {
	return f.prop(name, binary.BigEndian.AppendUint32(nil, v))
}

// bytes finishes the tree (version 17).
func (f *ctrFDT) bytes() []byte {
	f.u32(fdtEnd)
	rsv := 40
	st := rsv + 16
	strOff := st + len(f.st)
	total := strOff + len(f.strs)
	out := make([]byte, total)
	be := binary.BigEndian
	copy(out, fdtMagic)
	be.PutUint32(out[4:], uint32(total))
	be.PutUint32(out[8:], uint32(st))
	be.PutUint32(out[12:], uint32(strOff))
	be.PutUint32(out[16:], uint32(rsv))
	be.PutUint32(out[20:], 17)
	be.PutUint32(out[24:], 16)
	be.PutUint32(out[32:], uint32(len(f.strs)))
	be.PutUint32(out[36:], uint32(len(f.st)))
	copy(out[st:], f.st)
	copy(out[strOff:], f.strs)
	return out
}

func TestSniffCodec(t *testing.T) {
	cases := map[string][]byte{
		"gzip":      ctrFixture(t, "data.gz"),
		"xz":        ctrFixture(t, "data.xz"),
		"lzma":      ctrFixture(t, "data.lzma"),
		"bzip2":     ctrFixture(t, "data.bz2"),
		"zstd":      ctrFixture(t, "data.zst"),
		"lz4-frame": ctrFixture(t, "data.lz4"),
		"":          ctrFixture(t, "data.txt"),
	}
	for want, b := range cases {
		if got := sniffCodec(b); got != want {
			t.Errorf("sniffCodec = %q, want %q", got, want)
		}
	}
}

// TestWriteDecodedNoOutput: a payload that does not decode creates no file
// and wraps ErrNotFormat, so the engine can drop the candidate.
func TestWriteDecodedNoOutput(t *testing.T) {
	w, err := NewWriter(filepath.Join(t.TempDir(), "out"), DefaultLimits(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	junk := append([]byte{0x1f, 0x8b, 0x08, 0}, ctrRandom(1, 1000)...)
	_, _, err = writeDecoded(context.Background(), "gzip", bytes.NewReader(junk), w, "x")
	if !errors.Is(err, ErrNotFormat) {
		t.Fatalf("err = %v, want ErrNotFormat", err)
	}
	if w.Entries() != 0 {
		t.Errorf("%d entries created for a payload that does not decode", w.Entries())
	}
}
