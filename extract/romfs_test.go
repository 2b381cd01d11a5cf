package extract

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rfImg builds romfs images (the test's own encoder, from the kernel's
// Documentation/filesystems/romfs.rst).
type rfImg struct{ buf []byte }

type rfEnt struct {
	name string
	typ  int
	exec bool
	spec uint32
	data []byte
}

func rfPad16(b []byte) []byte {
	for len(b)%16 != 0 {
		b = append(b, 0)
	}
	return b
}

func rfNameBytes(name string) []byte { return rfPad16(append([]byte(name), 0)) }

// add writes one header with its data and returns its offset; next is
// patched later by chain.
func (b *rfImg) add(e rfEnt) int {
	off := len(b.buf)
	h := make([]byte, 16)
	binary.BigEndian.PutUint32(h, uint32(e.typ))
	if e.exec {
		h[3] |= 8
	}
	binary.BigEndian.PutUint32(h[4:], e.spec)
	binary.BigEndian.PutUint32(h[8:], uint32(len(e.data)))
	b.buf = append(append(b.buf, h...), rfNameBytes(e.name)...)
	b.buf = rfPad16(append(b.buf, e.data...))
	return off
}

// chain links headers into a directory list and fixes their checksums.
func (b *rfImg) chain(offs ...int) {
	for i, o := range offs {
		next := uint32(0)
		if i+1 < len(offs) {
			next = uint32(offs[i+1])
		}
		w := binary.BigEndian.Uint32(b.buf[o:])&15 | next
		binary.BigEndian.PutUint32(b.buf[o:], w)
		b.sum(o)
	}
}

func (b *rfImg) sum(o int) {
	n := 16 + len(rfNameBytes(string(b.buf[o+16:o+16+bytes.IndexByte(b.buf[o+16:], 0)])))
	binary.BigEndian.PutUint32(b.buf[o+12:], 0)
	binary.BigEndian.PutUint32(b.buf[o+12:], -romfsSum(b.buf[o:o+n]))
}

func rfNew() *rfImg {
	b := &rfImg{}
	b.buf = append([]byte(romfsMagic), make([]byte, 8)...)
	b.buf = append(b.buf, rfNameBytes("test")...)
	return b
}

func (b *rfImg) finish() []byte {
	b.buf = append(b.buf, make([]byte, 1024-len(b.buf)%1024)...)
	binary.BigEndian.PutUint32(b.buf[8:], uint32(len(b.buf)))
	binary.BigEndian.PutUint32(b.buf[12:], 0)
	binary.BigEndian.PutUint32(b.buf[12:], -romfsSum(b.buf[:min(512, len(b.buf))]))
	return b.buf
}

func TestRomfsRootfs(t *testing.T) {
	want := archManifest(t)
	data := archRead(t, archFixture(t, "romfs.img"))
	f := archFormat(t, "romfs")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, f, append(append([]byte{}, data...), "junk after"...), filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	// the superblock's size; genromfs pads the file to 1 KiB beyond it
	if full := int64(binary.BigEndian.Uint32(data[8:])); res.consumed != full || int64(len(data))-full >= 1024 {
		t.Errorf("consumed %d, want %d (file %d)", res.consumed, full, len(data))
	}
	// romfs keeps no permissions, only an executable bit: compare content
	got := archTree(t, res.dir, nil)
	archCompare(t, got, want)
	for p, exec := range map[string]bool{"etc/init.d/rcS": true, "bin/busybox": true, "etc/passwd": false} {
		if m, _ := res.w.Mode(p); (m&0o111 != 0) != exec {
			t.Errorf("%s: mode %v", p, m)
		}
	}
	archSameFile(t, res.dir, "usr/bin/tool", "usr/bin/tool-hl")
	if !archHasLink(res.w.Links(), "usr/bin/tool-hl", "usr/bin/tool", true) {
		t.Errorf("links %+v", res.w.Links())
	}
	sp := res.w.Specials()
	if len(sp) != 3 || sp[0].Path != "dev/console" || sp[0].Kind != "char" || sp[0].Major != 5 || sp[0].Minor != 1 ||
		sp[1].Kind != "fifo" || sp[2].Path != "dev/mtdblock0" || sp[2].Kind != "block" || sp[2].Major != 31 {
		t.Errorf("specials %+v", sp)
	}
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
}

func TestRomfsBinwalkSample(t *testing.T) {
	data := archRead(t, archShared(t, "formats/binwalk_romfs.bin"))
	if !(romfsFormat{}).Identify(data) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, romfsFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	// one file, as the hex dump shows: lsb-release, 104 bytes
	b, err := os.ReadFile(filepath.Join(res.dir, "lsb-release"))
	if err != nil || len(b) != 104 || !strings.HasPrefix(string(b), "DISTRIB_ID=Ubuntu\n") {
		t.Errorf("lsb-release: %q %v", b, err)
	}
	if res.w.Files() != 1 || res.consumed != 0xf0 || len(res.w.Anomalies()) != 0 {
		t.Errorf("%d files, consumed %#x, anomalies %+v", res.w.Files(), res.consumed, res.w.Anomalies())
	}
}

// rfHostile builds an image with a chain loop, a directory cycle, a bad
// name, a bad checksum and a hard link before its target.
func rfHostile() []byte {
	b := rfNew()
	dot := b.add(rfEnt{name: ".", typ: romfsDir})
	link := b.add(rfEnt{name: "early-link", typ: romfsHardlink})
	file := b.add(rfEnt{name: "file", typ: romfsReg, exec: true, data: []byte("content\n")})
	sl := b.add(rfEnt{name: "sh", typ: romfsSymlink, data: []byte("/bin/busybox")})
	dir := b.add(rfEnt{name: "dir", typ: romfsDir})
	evil := b.add(rfEnt{name: "a/../../x", typ: romfsReg, data: []byte("evil")})
	ddot := b.add(rfEnt{name: ".", typ: romfsDir})
	loop := b.add(rfEnt{name: "loop", typ: romfsDir, spec: uint32(dot)})
	bad := b.add(rfEnt{name: "badsum", typ: romfsReg, data: []byte("bad sum")})
	c1 := b.add(rfEnt{name: "c1", typ: romfsReg, data: []byte("1")})
	binary.BigEndian.PutUint32(b.buf[dot+4:], uint32(dot))
	binary.BigEndian.PutUint32(b.buf[link+4:], uint32(file))
	binary.BigEndian.PutUint32(b.buf[dir+4:], uint32(ddot))
	binary.BigEndian.PutUint32(b.buf[ddot+4:], uint32(ddot))
	b.chain(dot, link, file, sl, dir, evil)
	b.chain(ddot, loop, bad, c1)
	// c1's chain points back to bad: a loop in the list
	binary.BigEndian.PutUint32(b.buf[c1:], uint32(bad)|romfsReg)
	b.sum(c1)
	b.buf[bad+12] ^= 1
	return b.finish()
}

func TestRomfsHostile(t *testing.T) {
	img := rfHostile()
	if !(romfsFormat{}).Identify(img) {
		t.Fatal("not identified")
	}
	base, dir := archHostileDirs(t)
	res := archUnpack(t, romfsFormat{}, img, dir, DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	archOnlyUnder(t, base, dir)
	for name, want := range map[string]string{"file": "content\n", "early-link": "content\n", "dir/badsum": "bad sum", "dir/c1": "1"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	as := res.w.Anomalies()
	for _, a := range []struct{ kind, path string }{{AnomalyBadName, "a/../../x"}, {AnomalyLoop, "dir/loop"}, {AnomalyLoop, "dir"}, {AnomalyMalformed, "badsum"}} {
		if !archHasAnomaly(as, a.kind, a.path) {
			t.Errorf("no %s anomaly for %s in %+v", a.kind, a.path, as)
		}
	}
	if !archHasLink(res.w.Links(), "sh", "/bin/busybox", false) || !archHasLink(res.w.Links(), "early-link", "file", true) {
		t.Errorf("links %+v", res.w.Links())
	}
	// a bad superblock checksum is not romfs
	bad := append([]byte{}, img...)
	bad[100] ^= 0x40
	if (romfsFormat{}).Identify(bad) {
		t.Error("identified with a bad checksum")
	}
}

func FuzzRomfs(f *testing.F) {
	f.Add(fuzzRaw(rfHostile(), 4096))
	img := fuzzFixture("romfs.img")
	f.Add(fuzzRaw(img, 4096))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 8, []byte{0, 0, 0x10, 0}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, romfsFormat{}, fuzzInput(data, img)) })
}

func BenchmarkRomfs(b *testing.B) {
	data := archRead(b, archFixture(b, "romfs.img"))
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		res := archUnpack(b, romfsFormat{}, data, filepath.Join(b.TempDir(), "out"), DefaultLimits())
		if res.err != nil {
			b.Fatal(res.err)
		}
	}
}
