package extract

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestZImageFixture(t *testing.T) {
	img := ctrFixture(t, "zImage-arm.bin")
	if !(zimageFormat{}).Identify(img) {
		t.Fatal("not identified")
	}
	if n, _ := (zimageFormat{}).Bound(bytes.NewReader(img), int64(len(img))); n != int64(len(img)) {
		t.Errorf("Bound = %d, want %d", n, len(img))
	}
	w, n, err := ctrUnpack(t, "zimage", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if !bytes.Equal(ctrOut(t, w, "vmlinux"), ctrFixture(t, "vmlinux.bin")) {
		t.Error("vmlinux differs from vmlinux.bin")
	}
}

func TestBzImageFixture(t *testing.T) {
	img := ctrFixture(t, "bzImage-x86.bin")
	if !(bzimageFormat{}).Identify(img) {
		t.Fatal("not identified")
	}
	if n, _ := (bzimageFormat{}).Bound(bytes.NewReader(img), int64(len(img))); n != int64(len(img)) {
		t.Errorf("Bound = %d, want %d (from syssize)", n, len(img))
	}
	w, _, err := ctrUnpack(t, "bzimage", img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "vmlinux"), ctrFixture(t, "vmlinux.bin")) {
		t.Error("vmlinux differs from vmlinux.bin")
	}
}

// TestZImageSwapped: a little-endian zImage stored as big-endian 32-bit
// words is found through its big-endian magic and unswapped.
func TestZImageSwapped(t *testing.T) {
	img := ctrFixture(t, "zImage-arm.bin")
	sw := make([]byte, len(img)&^3)
	for i := 0; i+4 <= len(sw); i += 4 {
		binary.BigEndian.PutUint32(sw[i:], binary.LittleEndian.Uint32(img[i:]))
	}
	if !(zimageFormat{}).Identify(sw) {
		t.Fatal("swapped image not identified")
	}
	w, _, err := ctrUnpack(t, "zimage", sw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctrOut(t, w, "vmlinux"), ctrFixture(t, "vmlinux.bin")) {
		t.Error("vmlinux differs from vmlinux.bin")
	}
}

func TestKernelNoPayload(t *testing.T) {
	img := bytes.Clone(ctrFixture(t, "zImage-arm.bin"))
	for i := 0x400; i < len(img)-0x44; i++ { // wipe the gzip payload
		img[i] = 0x55
	}
	w, _, err := ctrUnpack(t, "zimage", img)
	if err == nil || w.Files() != 0 {
		t.Errorf("err %v, files %d for a zImage without payload", err, w.Files())
	}
	bz := bytes.Clone(ctrFixture(t, "bzImage-x86.bin"))
	binary.LittleEndian.PutUint32(bz[0x248:], 1<<30) // payload past the end
	if _, _, err := ctrUnpack(t, "bzimage", bz); err == nil {
		t.Error("no error for a payload offset past the end")
	}
}

func TestKernelIdentify(t *testing.T) {
	z := ctrFixture(t, "zImage-arm.bin")[:0x40]
	for name, mut := range map[string]func([]byte){
		"no branch": func(b []byte) { b[0x23], b[0x20] = 0, 0 },
		"end<start": func(b []byte) { binary.LittleEndian.PutUint32(b[0x28:], 0xffff0000) },
		"too small": func(b []byte) { binary.LittleEndian.PutUint32(b[0x2c:], 0x10) },
	} {
		b := bytes.Clone(z)
		mut(b)
		if (zimageFormat{}).Identify(b) {
			t.Errorf("zImage %s: identified", name)
		}
	}
	bz := ctrFixture(t, "bzImage-x86.bin")[:0x400]
	for name, mut := range map[string]func([]byte){
		"no 55aa":     func(b []byte) { b[0x1fe] = 0 },
		"version 3.0": func(b []byte) { b[0x207] = 3 },
	} {
		b := bytes.Clone(bz)
		mut(b)
		if (bzimageFormat{}).Identify(b) {
			t.Errorf("bzImage %s: identified", name)
		}
	}
}

func TestKernelReal(t *testing.T) {
	cases := []struct{ file, format, banner string }{
		{"formats/fact_linuxkernel__bzImage_xz", "bzimage", "Linux version 5.4.72"},
		{"formats/fact_linuxkernel__zImage_be32", "zimage", "Linux version"},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			img := ctrReadShared(t, c.file)
			f, _ := Lookup(c.format)
			if !f.Identify(img[:min(len(img), HeaderSize)]) {
				t.Fatal("not identified")
			}
			w, _, err := ctrUnpack(t, c.format, img)
			if err != nil && c.format == "bzimage" {
				t.Fatal(err)
			}
			if !bytes.Contains(ctrOut(t, w, "vmlinux"), []byte(c.banner)) {
				t.Errorf("vmlinux lacks %q", c.banner)
			}
		})
	}
}

func FuzzKernel(f *testing.F) {
	z, bz := ctrFixture(f, "zImage-arm.bin"), ctrFixture(f, "bzImage-x86.bin")
	f.Add(fuzzRaw(z, 4096))
	f.Add(fuzzRaw(bz, 4096))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(2, 0x1f1, []byte{0xff}))
	f.Fuzz(func(t *testing.T, data []byte) {
		data = fuzzInput(data, z, bz)
		for _, name := range []string{"zimage", "bzimage"} {
			fm, _ := Lookup(name)
			if !fm.Identify(data[:min(len(data), HeaderSize)]) {
				continue
			}
			if _, err := fm.Bound(bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatalf("%s: Bound failed after Identify: %v", name, err)
			}
			fuzzCtr(t, name, data)
		}
	})
}

// BenchmarkKernelLZMA decodes the WR841N kernel (LZMA, 2.2 MB out).
func BenchmarkKernelLZMA(b *testing.B) {
	img := ctrReadShared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	k := img[0x20400 : 0x20400+0xb9e0e]
	f, _ := Lookup("lzma")
	b.SetBytes(int64(len(k)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := NewWriter(b.TempDir()+"/out", DefaultLimits(), int64(len(k)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Unpack(b.Context(), bytes.NewReader(k), int64(len(k)), w); err != nil {
			b.Fatal(err)
		}
		if w.Written() != 2219160 {
			b.Fatalf("wrote %d bytes", w.Written())
		}
		w.Close()
	}
}
