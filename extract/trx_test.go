package extract

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestTRXFixture(t *testing.T) {
	img := ctrFixture(t, "trx.bin")
	if !(trxFormat{}).Identify(img) {
		t.Fatal("not identified")
	}
	if n, _ := (trxFormat{}).Bound(bytes.NewReader(img), int64(len(img))); n != int64(len(img)) {
		t.Errorf("Bound = %d, want %d", n, len(img))
	}
	w, n, err := ctrUnpack(t, "trx", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if a := w.Anomalies(); len(a) != 0 {
		t.Errorf("anomalies on a valid image: %v", a)
	}
	p0, p1 := ctrOut(t, w, "part0.bin"), ctrOut(t, w, "part1.bin")
	if sniffCodec(p0) != "lzma" {
		t.Errorf("part0 is not the lzma kernel: % x", p0[:16])
	}
	sq := ctrFixture(t, "sqfs-xz.img")
	if !bytes.HasPrefix(p1, sq) || len(p1)-len(sq) > 3 {
		t.Errorf("part1 (%d bytes) is not sqfs-xz.img (%d bytes) plus padding", len(p1), len(sq))
	}
	if len(p0)+len(p1)+28 != len(img) {
		t.Errorf("parts do not cover the image")
	}
}

func TestTRXBadCRC(t *testing.T) {
	img := bytes.Clone(ctrFixture(t, "trx.bin"))
	img[len(img)-100] ^= 0xff
	w, _, err := ctrUnpack(t, "trx", img)
	if err != nil {
		t.Fatal(err)
	}
	if !ctrHasAnomaly(w, "CRC32 mismatch") {
		t.Errorf("no CRC anomaly: %v", w.Anomalies())
	}
	if w.Files() != 2 {
		t.Errorf("files = %d, want 2 despite the bad CRC", w.Files())
	}
}

func TestTRXv2AndTruncated(t *testing.T) {
	img := ctrTRX(2, []byte("kernel-part"), []byte("rootfs-part!"), []byte("third"), []byte("4th"))
	if !(trxFormat{}).Identify(img) {
		t.Fatal("v2 not identified")
	}
	w, _, err := ctrUnpack(t, "trx", img)
	if err != nil || ctrHasAnomaly(w, "CRC") {
		t.Fatalf("err %v anomalies %v", err, w.Anomalies())
	}
	if got := ctrOut(t, w, "part3.bin"); string(got) != "4th\x00" {
		t.Errorf("part3 = %q", got)
	}
	cut := img[:len(img)-8]
	w, n, err := ctrUnpack(t, "trx", cut)
	if err == nil || n != int64(len(cut)) {
		t.Errorf("truncated: err %v consumed %d", err, n)
	}
	if w.Files() == 0 {
		t.Error("nothing written for a truncated image")
	}
}

func TestTRXIdentify(t *testing.T) {
	img := ctrTRX(1, []byte("abcd"), []byte("efgh"))
	cases := map[string]func([]byte){
		"version 3":          func(b []byte) { b[14] = 3 },
		"offset past len":    func(b []byte) { binary.LittleEndian.PutUint32(b[20:], 1<<20) },
		"offsets decreasing": func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 32) },
		"offset in header":   func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 8) },
		"len too small":      func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 20) },
		"len huge":           func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 1<<31) },
	}
	if !(trxFormat{}).Identify(img) {
		t.Fatal("valid image not identified")
	}
	for name, mut := range cases {
		b := bytes.Clone(img)
		mut(b)
		if (trxFormat{}).Identify(b) {
			t.Errorf("%s: identified", name)
		}
	}
	if (trxFormat{}).Identify(append([]byte("HDR0"), ctrRandom(4, 60)...)) {
		t.Error("identified random data")
	}
}

func TestTRXReal(t *testing.T) {
	img := ctrReadShared(t, "formats/fact_trx__trx.img")
	w, n, err := ctrUnpack(t, "trx", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4096 {
		t.Errorf("consumed %d, want 4096", n)
	}
	if p := ctrOut(t, w, "part0.bin"); !bytes.HasPrefix(p, []byte("PK\x03\x04")) {
		t.Errorf("part0 is not the zip the sample holds: % x", p[:8])
	}
	if ctrHasAnomaly(w, "CRC") {
		t.Errorf("CRC anomaly on the real sample: %v", w.Anomalies())
	}
}

func FuzzTRX(f *testing.F) {
	f.Add(ctrFixture(f, "trx.bin")[:4096])
	f.Add(ctrTRX(1, []byte("abcd"), []byte("efgh")))
	f.Add(ctrTRX(2, []byte("a"), []byte("b"), []byte("c"), []byte("d")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !(trxFormat{}).Identify(data) {
			return
		}
		b, err := (trxFormat{}).Bound(bytes.NewReader(data), int64(len(data)))
		if err != nil || b < 28 {
			t.Fatalf("Bound = %d, %v after Identify", b, err)
		}
		fuzzCtr(t, "trx", data)
	})
}
