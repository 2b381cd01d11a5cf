package extract

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestUImageFixtures(t *testing.T) {
	vmlinux := ctrFixture(t, "vmlinux.bin")
	for _, name := range []string{"uimage-gzip.bin", "uimage-lzma.bin"} {
		t.Run(name, func(t *testing.T) {
			img := ctrFixture(t, name)
			if !(uimageFormat{}).Identify(img) {
				t.Fatal("not identified")
			}
			if n, _ := (uimageFormat{}).Bound(bytes.NewReader(img), int64(len(img))); n != int64(len(img)) {
				t.Errorf("Bound = %d, want %d", n, len(img))
			}
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
			if !bytes.Equal(ctrOut(t, w, "kernel"), vmlinux) {
				t.Error("kernel differs from vmlinux.bin")
			}
			if a := w.Anomalies(); len(a) != 0 {
				t.Errorf("anomalies on a valid image: %v", a)
			}
			d := DescribeUImage(img)
			for _, s := range []string{`"Linux-2.6.31"`, "linux mips kernel", "load 0x80060000"} {
				if !strings.Contains(d, s) {
					t.Errorf("Describe = %q, lacks %q", d, s)
				}
			}
		})
	}
}

func TestUImageMulti(t *testing.T) {
	img := ctrFixture(t, "uimage-multi.bin")
	w, n, err := ctrUnpack(t, "uimage", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if got := strings.Join(ctrFiles(t, w), ","); got != "kernel,ramdisk" {
		t.Fatalf("files = %s", got)
	}
	if !bytes.Equal(ctrOut(t, w, "kernel"), ctrFixture(t, "vmlinux.bin")) {
		t.Error("kernel differs from vmlinux.bin")
	}
	if !bytes.Equal(ctrOut(t, w, "ramdisk"), ctrGunzip(t, ctrFixture(t, "initramfs.cpio.gz"))) {
		t.Error("ramdisk differs from initramfs.cpio")
	}
}

// TestUImageBadDataCRC: a wrong data CRC is an anomaly; the data is still
// written.
func TestUImageBadDataCRC(t *testing.T) {
	payload := []byte(strings.Repeat("firmware payload ", 100))
	good := ctrUImage(5, 0, "fw", payload, false)
	w, _, err := ctrUnpack(t, "uimage", good)
	if err != nil || ctrHasAnomaly(w, "CRC32") {
		t.Fatalf("good image: err %v, anomalies %v", err, w.Anomalies())
	}
	bad := ctrUImage(5, 0, "fw", payload, true)
	w, _, err = ctrUnpack(t, "uimage", bad)
	if err != nil {
		t.Fatal(err)
	}
	if !ctrHasAnomaly(w, "data CRC32 mismatch") {
		t.Errorf("no CRC anomaly: %v", w.Anomalies())
	}
	if !bytes.Equal(ctrOut(t, w, "firmware"), payload) {
		t.Error("payload not written despite the bad CRC")
	}
}

func TestUImageIdentify(t *testing.T) {
	img := ctrFixture(t, "uimage-gzip.bin")
	bad := bytes.Clone(img)
	bad[40] ^= 1 // name byte: header CRC no longer matches
	if (uimageFormat{}).Identify(bad) {
		t.Error("identified with a wrong header CRC")
	}
	random := append(bytes.Clone(uimageMagic), ctrRandom(2, 200)...)
	if (uimageFormat{}).Identify(random) {
		t.Error("identified random data")
	}
	if (uimageFormat{}).Identify(img[:63]) {
		t.Error("identified a short header")
	}
}

// TestUImageBadPayload: a payload that does not decompress is written raw
// with an anomaly; a truncated image reports an error but keeps what is
// there.
func TestUImageBadPayload(t *testing.T) {
	junk := ctrRandom(3, 4096)
	w, _, err := ctrUnpack(t, "uimage", ctrUImage(2, 1, "k", junk, false))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "kernel.gzip"), junk) || !ctrHasAnomaly(w, "does not decompress") {
		t.Errorf("raw fallback missing: files %v anomalies %v", ctrFiles(t, w), w.Anomalies())
	}

	img := ctrFixture(t, "uimage-lzma.bin")
	cut := img[:len(img)/2]
	w, n, err := ctrUnpack(t, "uimage", cut)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated image: err = %v", err)
	}
	if n != int64(len(cut)) {
		t.Errorf("consumed %d of a truncated image of %d", n, len(cut))
	}
	if w.Files() != 1 {
		t.Errorf("files = %d, want the partial kernel", w.Files())
	}
}

// TestUImageMultiHostile: a size table without terminator or with too many
// entries fails cleanly.
func TestUImageMultiHostile(t *testing.T) {
	var data []byte
	for i := 0; i < 100; i++ {
		data = binary.BigEndian.AppendUint32(data, 4)
	}
	if _, _, err := ctrUnpack(t, "uimage", ctrUImage(4, 0, "m", data, false)); err == nil {
		t.Error("no error for an unterminated size table")
	}
	data = binary.BigEndian.AppendUint32(nil, 1<<30)
	data = binary.BigEndian.AppendUint32(data, 0)
	data = append(data, "tiny"...)
	w, _, _ := ctrUnpack(t, "uimage", ctrUImage(4, 0, "m", data, false))
	if !ctrHasAnomaly(w, "runs past the data") {
		t.Errorf("no anomaly for an oversized sub-image: %v", w.Anomalies())
	}
}

func TestUImageReal(t *testing.T) {
	img := ctrReadShared(t, "formats/fact_uboot__uboot.image_with_header")
	w, n, err := ctrUnpack(t, "uimage", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != 32817 {
		t.Errorf("consumed %d, want 32817 (64 + data size)", n)
	}
	out := ctrOut(t, w, "firmware")
	if !bytes.Contains(out, []byte("U-Boot")) {
		t.Error("decompressed firmware lacks the U-Boot banner")
	}
	if d := DescribeUImage(img); !strings.Contains(d, "mips") || !strings.Contains(d, "lzma") {
		t.Errorf("Describe = %q", d)
	}
}

func FuzzUImage(f *testing.F) {
	for _, n := range []string{"uimage-gzip.bin", "uimage-lzma.bin", "uimage-multi.bin"} {
		f.Add(ctrFixture(f, n)[:4096])
	}
	f.Add(ctrUImage(4, 0, "m", []byte{0, 0, 0, 4, 0, 0, 0, 0, 'a', 'b', 'c', 'd'}, false))
	f.Add(ctrUImage(2, 3, "k", ctrFixture(f, "data.lzma"), false))
	f.Fuzz(func(t *testing.T, data []byte) {
		// fix the header CRC so mutations get past Identify
		if len(data) >= uimageHeaderLen && bytes.Equal(data[:4], uimageMagic) {
			data = ctrUImage(data[30], data[31], "", data[uimageHeaderLen:], data[5]&1 == 1)
		}
		if !(uimageFormat{}).Identify(data) {
			return
		}
		fuzzCtr(t, "uimage", data)
	})
}

func TestUImageLzop(t *testing.T) {
	z, want := ctrFixture(t, "data.lzo"), ctrFixture(t, "data.txt") // made by lzop (build-lzop.sh)
	w, _, err := ctrUnpack(t, "uimage", ctrUImage(6, 4, "boot.scr", z, false))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "script"), want) {
		t.Error("lzo-compressed script not decoded")
	}
}
