package extract

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"
)

func TestFITFixture(t *testing.T) {
	img := ctrFixture(t, "fit.itb")
	if !(fitFormat{}).Identify(img) {
		t.Fatal("not identified")
	}
	w, n, err := ctrUnpack(t, "fit", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if got := strings.Join(ctrFiles(t, w), ","); got != "images/fdt-1.dtb,images/kernel-1,images/ramdisk-1" {
		t.Fatalf("files = %s", got)
	}
	if a := w.Anomalies(); len(a) != 0 {
		t.Errorf("anomalies on a valid image (hashes should verify): %v", a)
	}
	if !bytes.Equal(ctrOut(t, w, "images/kernel-1"), ctrFixture(t, "vmlinux.bin")) {
		t.Error("kernel-1 (gzip) not decompressed to vmlinux.bin")
	}
	if !bytes.Equal(ctrOut(t, w, "images/ramdisk-1"), ctrFixture(t, "initramfs.cpio.gz")) {
		t.Error("ramdisk-1 (compression none) differs")
	}
	if !bytes.Equal(ctrOut(t, w, "images/fdt-1.dtb"), ctrFixture(t, "board.dtb")) {
		t.Error("fdt-1.dtb differs from board.dtb")
	}
	// the dtb format steps aside for a FIT
	if _, _, err := ctrUnpack(t, "dtb", img); err == nil || !strings.Contains(err.Error(), "FIT") {
		t.Errorf("dtb on a FIT: %v", err)
	}
}

func TestFITHashMismatch(t *testing.T) {
	img := bytes.Clone(ctrFixture(t, "fit.itb"))
	dtb := ctrFixture(t, "board.dtb")
	i := bytes.Index(img, dtb)
	if i < 0 {
		t.Fatal("board.dtb not inside fit.itb")
	}
	// change the model string inside the embedded dtb
	j := bytes.Index(img[i:i+len(dtb)], []byte("fwaudit test board"))
	img[i+j] = 'F'
	w, _, err := ctrUnpack(t, "fit", img)
	if err != nil {
		t.Fatal(err)
	}
	if !ctrHasAnomaly(w, "crc32 hash mismatch") {
		t.Errorf("no hash anomaly: %v", w.Anomalies())
	}
	if w.Files() != 3 {
		t.Errorf("files = %d, want 3", w.Files())
	}
}

func TestDTB(t *testing.T) {
	b := ctrFixture(t, "board.dtb")
	w, n, err := ctrUnpack(t, "dtb", b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(b)) {
		t.Errorf("consumed %d, want %d", n, len(b))
	}
	dts := string(ctrOut(t, w, "devicetree.dts"))
	for _, s := range []string{`model = "fwaudit test board";`, `compatible = "fwaudit,test-board", "brcm,bcm2835";`,
		`bootargs = "console=ttyAMA0,115200 root=/dev/ram0 rdinit=/init";`, "reg = <0x0 0x4000000>;", "serial@20201000 {"} {
		if !strings.Contains(dts, s) {
			t.Errorf("devicetree.dts lacks %q:\n%s", s, dts)
		}
	}
	if _, _, err := ctrUnpack(t, "fit", b); err == nil {
		t.Error("fit accepted a tree without /images")
	}
}

// TestFITExternal: images stored after the tree (mkimage -E), by
// data-offset and by data-position, count in the bound.
func TestFITExternal(t *testing.T) {
	kernel := ctrGzip(ctrFixture(t, "data.txt"))
	script := []byte("setenv bootargs console=ttyS0\n")
	sum := sha256.Sum256(script)
	var f ctrFDT
	f.begin("").str("description", "external").begin("images")
	f.begin("kernel").str("type", "kernel").str("compression", "gzip").cell("data-offset", 0).cell("data-size", uint32(len(kernel))).end()
	f.begin("script").str("type", "script").str("compression", "none").cell("data-position", 0).cell("data-size", uint32(len(script)))
	f.begin("hash-1").str("algo", "sha256").prop("value", sum[:]).end().end()
	f.begin("../evil").str("type", "firmware").prop("data", []byte("escaped?")).end()
	f.begin("nodata").str("type", "firmware").end()
	f.end().end()
	tree := f.bytes()
	for len(tree)%4 != 0 {
		tree = append(tree, 0)
	}
	img := append(bytes.Clone(tree), kernel...)
	pos := len(img)
	img = append(img, script...)
	// patch data-position now that it is known
	setCell(t, img[:len(tree)], "data-position", uint32(pos))
	img = append(img, ctrRandom(9, 100)...) // something after the FIT

	if b, err := (fitFormat{}).Bound(bytes.NewReader(img), int64(len(img))); err != nil || b != int64(pos+len(script)) {
		t.Errorf("Bound = %d, %v; want %d", b, err, pos+len(script))
	}
	w, n, err := ctrUnpack(t, "fit", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(pos+len(script)) {
		t.Errorf("consumed %d, want %d", n, pos+len(script))
	}
	if !bytes.Equal(ctrOut(t, w, "images/kernel"), ctrFixture(t, "data.txt")) {
		t.Error("external kernel not decompressed")
	}
	if !bytes.Equal(ctrOut(t, w, "images/script"), script) {
		t.Error("external script differs")
	}
	if string(ctrOut(t, w, "images/evil")) != "escaped?" {
		t.Error("image named ../evil not written inside the folder as evil")
	}
	if !ctrHasAnomaly(w, "nodata: no data") {
		t.Errorf("no anomaly for an image without data: %v", w.Anomalies())
	}
	if ctrHasAnomaly(w, "hash mismatch") {
		t.Errorf("sha256 of the script should verify: %v", w.Anomalies())
	}
}

// setCell sets the first u32 property called name in a tree built by
// ctrFDT (whose strings are in order of first use).
func setCell(t *testing.T, tree []byte, name string, v uint32) {
	t.Helper()
	h, _ := parseFDTHeader(tree)
	strs := tree[h.OffStrings : h.OffStrings+h.SizeStrings]
	no := bytes.Index(strs, append([]byte(name), 0))
	st := tree[h.OffStruct : h.OffStruct+h.SizeStruct]
	for i := 0; i+12 <= len(st); i += 4 {
		if binary.BigEndian.Uint32(st[i:]) == fdtProp && binary.BigEndian.Uint32(st[i+4:]) == 4 && binary.BigEndian.Uint32(st[i+8:]) == uint32(no) {
			binary.BigEndian.PutUint32(st[i+12:], v)
			return
		}
	}
	t.Fatalf("property %s not found", name)
}

func TestFITHostile(t *testing.T) {
	// nesting deeper than the bound
	var f ctrFDT
	for i := 0; i < fdtMaxDepth+5; i++ {
		f.begin("n")
	}
	for i := 0; i < fdtMaxDepth+5; i++ {
		f.end()
	}
	if _, _, err := ctrUnpack(t, "dtb", f.bytes()); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("deep tree: %v", err)
	}
	// a property longer than the structure block
	var g ctrFDT
	g.begin("").prop("x", []byte("abcd")).end()
	b := g.bytes()
	h, _ := parseFDTHeader(b)
	binary.BigEndian.PutUint32(b[h.OffStruct+12:], 1<<30)
	if _, _, err := ctrUnpack(t, "dtb", b); err == nil {
		t.Error("oversized property accepted")
	}
	// a property name offset outside the strings block
	b = g.bytes()
	binary.BigEndian.PutUint32(b[h.OffStruct+16:], 1<<20)
	if _, _, err := ctrUnpack(t, "dtb", b); err == nil {
		t.Error("bad name offset accepted")
	}
	// an unbalanced tree
	var u ctrFDT
	u.begin("").begin("a").end()
	if _, _, err := ctrUnpack(t, "dtb", u.bytes()); err == nil {
		t.Error("unbalanced tree accepted")
	}
	// bad header fields
	good := ctrFixture(t, "board.dtb")
	for name, mut := range map[string]func([]byte){
		"version 18":     func(b []byte) { b[23] = 18 },
		"struct outside": func(b []byte) { binary.BigEndian.PutUint32(b[8:], 1<<20) },
		"total tiny":     func(b []byte) { binary.BigEndian.PutUint32(b[4:], 8) },
	} {
		b := bytes.Clone(good)
		mut(b)
		if (dtbFormat{}).Identify(b) {
			t.Errorf("%s: identified", name)
		}
	}
}

func TestFITReal(t *testing.T) {
	img := ctrReadShared(t, "formats/fact_uboot__fit.itb")
	w, n, err := ctrUnpack(t, "fit", img)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(img)) {
		t.Errorf("consumed %d, want %d", n, len(img))
	}
	if got := strings.Join(ctrFiles(t, w), ","); got != "images/fdt.dtb,images/kernel,images/rootfs" {
		t.Errorf("files = %s", got)
	}
	if r := ctrOut(t, w, "images/rootfs"); !bytes.HasPrefix(r, []byte("hsqs")) {
		t.Error("rootfs image is not SquashFS")
	}
	if a := w.Anomalies(); len(a) != 0 {
		t.Errorf("anomalies: %v", a)
	}
}

func FuzzFIT(f *testing.F) {
	f.Add(ctrFixture(f, "board.dtb"))
	b := ctrFixture(f, "fit.itb")
	f.Add(b[:4096])
	var g ctrFDT
	g.begin("").begin("images").begin("k").str("compression", "gzip").prop("data", ctrGzip([]byte("hello"))).end().end().end()
	f.Add(g.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if !(fitFormat{}).Identify(data) {
			return
		}
		for _, name := range []string{"fit", "dtb"} {
			fuzzCtr(t, name, data)
		}
	})
}
