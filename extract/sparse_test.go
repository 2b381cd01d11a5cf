package extract

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"path/filepath"
	"testing"
)

// fwGunzip reads a gzip-compressed fixture.
func fwGunzip(tb testing.TB, name string) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archRead(tb, archFixture(tb, name))))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestSparseFixture(t *testing.T) {
	data := archRead(t, archFixture(t, "ext4.simg"))
	f := archFormat(t, "android-sparse")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, f, append(data, "trailing junk"...), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.consumed != int64(len(data)) {
		t.Errorf("consumed %d of %d", res.consumed, len(data))
	}
	got := archRead(t, filepath.Join(res.dir, "image.raw"))
	if !bytes.Equal(got, fwGunzip(t, "ext4.img.gz")) {
		t.Error("image.raw differs from ext4.img")
	}
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
	// a wrong CRC chunk is reported
	bad := append([]byte{}, data...)
	bad[len(bad)-1] ^= 0xff
	res = archUnpack(t, f, bad, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "image.raw") {
		t.Errorf("%v %+v", res.err, res.w.Anomalies())
	}
	// truncated in the middle of a raw chunk
	res = archUnpack(t, f, data[:len(data)/2], filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || res.consumed > int64(len(data)/2) {
		t.Errorf("truncated: %v, consumed %d", res.err, res.consumed)
	}
}

func TestSparseSample(t *testing.T) {
	data := archRead(t, archShared(t, "formats/fact_android_simg__simg.img"))
	res := archUnpack(t, sparseFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	// 2560 blocks of 4096 bytes, as the header says (simg2img gives the same size)
	fwSame(t, fwFiles(t, res.dir), []string{"image.raw 10485760"})
	if res.consumed != int64(len(data)) || len(res.w.Anomalies()) != 0 {
		t.Errorf("consumed %d, anomalies %+v", res.consumed, res.w.Anomalies())
	}
}

// TestSparseBomb: a tiny image declaring a huge don't-care run stops at
// the writer's limits.
func TestSparseBomb(t *testing.T) {
	var b []byte
	le := binary.LittleEndian
	b = le.AppendUint32(b, sparseMagic)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 28)
	b = le.AppendUint16(b, 12)
	b = le.AppendUint32(b, 4096)
	b = le.AppendUint32(b, 1<<30)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, sparseDontCare)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 1<<30)
	b = le.AppendUint32(b, 12)
	l := DefaultLimits()
	l.MaxTotalBytes = 8 << 20
	res := archUnpack(t, sparseFormat{}, b, filepath.Join(t.TempDir(), "out"), l)
	if !IsLimit(res.err) || res.w.Written() > 8<<20 {
		t.Errorf("err %v, wrote %d", res.err, res.w.Written())
	}
}

func FuzzSparse(f *testing.F) {
	img := fuzzFixture("ext4.simg")
	f.Add(fuzzRaw(img, 2048))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 16, []byte{0xff, 0xff, 0xff, 0x0f}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, sparseFormat{}, fuzzInput(data, img)) })
}

func BenchmarkSparse(b *testing.B) {
	fwBench(b, sparseFormat{}, archRead(b, archFixture(b, "ext4.simg")))
}
