package extract

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestTPLinkFixture(t *testing.T) {
	img := ctrFixture(t, "tplink.bin")
	if !(tplinkFormat{}).Identify(img) {
		t.Fatal("not identified")
	}
	if n, _ := (tplinkFormat{}).Bound(bytes.NewReader(img), int64(len(img))); n != int64(len(img)) {
		t.Errorf("Bound = %d, want %d (fw_length 0x3C0000 is past the stripped file)", n, len(img))
	}
	w, n, err := ctrUnpack(t, "tplink", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if a := w.Anomalies(); len(a) != 0 {
		t.Errorf("anomalies on a valid image (MD5 should verify): %v", a)
	}
	if got := strings.Join(ctrFiles(t, w), ","); got != "kernel.bin,rootfs.bin" {
		t.Fatalf("files = %s", got)
	}
	if !bytes.Equal(ctrOut(t, w, "rootfs.bin"), ctrFixture(t, "sqfs-xz.img")) {
		t.Error("rootfs.bin differs from sqfs-xz.img")
	}
	k := ctrOut(t, w, "kernel.bin")
	if sniffCodec(k) != "lzma" {
		t.Fatalf("kernel.bin is not lzma: % x", k[:16])
	}
	kw, _, err := ctrUnpack(t, "lzma", k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, kw, "data"), ctrFixture(t, "vmlinux.bin")) {
		t.Error("kernel.bin does not decompress to vmlinux.bin")
	}
}

func TestTPLinkBadMD5(t *testing.T) {
	img := bytes.Clone(ctrFixture(t, "tplink.bin"))
	img[len(img)-1] ^= 1
	w, _, err := ctrUnpack(t, "tplink", img)
	if err != nil {
		t.Fatal(err)
	}
	if !ctrHasAnomaly(w, "MD5 does not verify") {
		t.Errorf("no MD5 anomaly: %v", w.Anomalies())
	}
	if w.Files() != 2 {
		t.Errorf("files = %d, want 2 despite the bad MD5", w.Files())
	}
}

func TestTPLinkV2(t *testing.T) {
	kernel := ctrFixture(t, "data.lzma")
	img := ctrTPLinkV2(kernel, []byte("hsqs-rootfs"))
	if !(tplinkFormat{}).Identify(img) {
		t.Fatal("v2 not identified")
	}
	w, n, err := ctrUnpack(t, "tplink", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) || len(w.Anomalies()) != 0 {
		t.Errorf("consumed %d of %d, anomalies %v", n, len(img), w.Anomalies())
	}
	if !bytes.Equal(ctrOut(t, w, "kernel.bin"), kernel) || string(ctrOut(t, w, "rootfs.bin")) != "hsqs-rootfs" {
		t.Error("parts differ")
	}
	img[0x200] ^= 1
	w, _, _ = ctrUnpack(t, "tplink", img)
	if !ctrHasAnomaly(w, "MD5") {
		t.Error("v2 MD5 not checked")
	}
}

func TestTPLinkIdentify(t *testing.T) {
	img := ctrFixture(t, "tplink.bin")[:0x200]
	cases := map[string]func([]byte){
		"version 4":      func(b []byte) { b[0] = 4 },
		"binary vendor":  func(b []byte) { b[8] = 0x01 },
		"no kernel":      func(b []byte) { binary.BigEndian.PutUint32(b[0x84:], 0) },
		"kernel in hdr":  func(b []byte) { binary.BigEndian.PutUint32(b[0x80:], 0x10) },
		"huge rootfs":    func(b []byte) { binary.BigEndian.PutUint32(b[0x8c:], 1<<30) },
		"rootfs < krnl":  func(b []byte) { binary.BigEndian.PutUint32(b[0x88:], 0x100) },
		"garbage string": func(b []byte) { b[0x3f] = 'x' },
	}
	for name, mut := range cases {
		b := bytes.Clone(img)
		mut(b)
		if (tplinkFormat{}).Identify(b) {
			t.Errorf("%s: identified", name)
		}
	}
	if (tplinkFormat{}).Identify(append([]byte("\x01\x00\x00\x00TP-LINK"), ctrRandom(5, 600)...)) {
		t.Error("identified random data after the magic")
	}
}

// TestTPLinkReal: the two real "up_boot" images hold the boot loader and
// a complete inner image; both MD5s (boot salt outside, normal salt
// inside) verify, and the kernel decompresses to Linux 2.6.31.
func TestTPLinkReal(t *testing.T) {
	for _, name := range []string{"real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin", "real/tplink_mr3020_v1_3.17.2_testroot.tpl"} {
		t.Run(name, func(t *testing.T) {
			img := ctrReadShared(t, name)
			w, n, err := ctrUnpack(t, "tplink", img)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(img)) {
				t.Errorf("consumed %d, want %d", n, len(img))
			}
			if a := w.Anomalies(); len(a) != 0 {
				t.Errorf("anomalies: %v", a)
			}
			if b := ctrOut(t, w, "boot.bin"); !bytes.Contains(b, []byte("U-Boot 1.1.4")) {
				t.Error("boot.bin lacks U-Boot 1.1.4")
			}
			if r := ctrOut(t, w, "rootfs.bin"); !bytes.HasPrefix(r, []byte("hsqs")) {
				t.Error("rootfs.bin is not SquashFS")
			}
			if !bytes.Equal(ctrOut(t, w, "rootfs.bin")[:64], img[0x120200:0x120240]) {
				t.Error("rootfs.bin is not at 0x100000 from the inner header")
			}
			kw, _, err := ctrUnpack(t, "lzma", ctrOut(t, w, "kernel.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(ctrOut(t, kw, "data"), []byte("Linux version 2.6.31")) {
				t.Error("kernel does not decompress to Linux 2.6.31")
			}
		})
	}
}

// TestTPLinkEngineWR841N checks the layer chain the engine builds.
func TestTPLinkEngineWR841N(t *testing.T) {
	res := ctrExtract(t, ctrShared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"))
	var tp, lz, sq *Layer
	for _, l := range res.Layers {
		switch {
		case l.Path == "tplink@0x0":
			tp = l
		case l.Path == "tplink@0x0 > kernel.bin > lzma@0x0":
			lz = l
		case l.Path == "tplink@0x0 > rootfs.bin > squashfs@0x0":
			sq = l
		}
	}
	if tp == nil || lz == nil {
		var paths []string
		for _, l := range res.Layers {
			paths = append(paths, l.Path)
		}
		t.Fatalf("layers: %v", paths)
	}
	if tp.Status != StatusOK || tp.Size != res.Size {
		t.Errorf("tplink layer: %s size %d", tp.Status, tp.Size)
	}
	if !bytes.Contains(ctrLayerFile(t, lz, "data"), []byte("Linux version 2.6.31")) {
		t.Error("no Linux 2.6.31 banner in the decompressed kernel")
	}
	if _, ok := Lookup("squashfs"); ok {
		if sq == nil || sq.Status != StatusOK || sq.Files < 300 {
			t.Errorf("squashfs layer: %+v", sq)
		}
	}
}

func FuzzTPLink(f *testing.F) {
	f.Add(ctrFixture(f, "tplink.bin")[:0x400])
	f.Add(ctrTPLinkV2([]byte("kernel"), []byte("rootfs")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !(tplinkFormat{}).Identify(data) {
			return
		}
		fuzzCtr(t, "tplink", data)
	})
}
