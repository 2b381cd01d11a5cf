package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ueBlock builds an environment block of size bytes (redundant: with a
// flags byte), as mkenvimage does.
func ueBlock(size int, redundant bool, vars ...string) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 0xff
	}
	off := 4
	if redundant {
		b[4] = 1
		off = 5
	}
	p := off
	for _, v := range vars {
		p += copy(b[p:], v+"\x00")
	}
	b[p] = 0
	binary.LittleEndian.PutUint32(b, crc32.ChecksumIEEE(b[off:]))
	return b
}

// the variables of flash.bin's environment (testdata/firmware/README.md §10)
var ueFlashVars = []string{
	"bootargs=console=ttyS0,115200 root=31:2 rootfstype=squashfs init=/sbin/init mtdparts=spi0.0:64k(u-boot)ro,448k(kernel),448k(rootfs),64k(u-boot-env)",
	"bootcmd=bootm 0x9f010000", "bootdelay=1", "baudrate=115200", "ethaddr=00:aa:bb:cc:dd:ee",
	"ipaddr=192.168.1.1", "serverip=192.168.1.100",
}

func TestUBootEnvFlash(t *testing.T) {
	flash := archRead(t, archFixture(t, "flash.bin"))
	env := flash[0xF0000:]
	f := archFormat(t, "uboot-env")
	if !f.Identify(env[:HeaderSize]) {
		t.Fatal("not identified")
	}
	if n, err := f.Bound(bytes.NewReader(env), int64(len(env))); n != 0x10000 || err != nil {
		t.Errorf("bound %#x %v", n, err)
	}
	res := archUnpack(t, f, env, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || res.consumed != 0x10000 {
		t.Fatalf("consumed %#x: %v", res.consumed, res.err)
	}
	b, err := os.ReadFile(filepath.Join(res.dir, UBootEnvFile))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(got) != len(ueFlashVars) {
		t.Fatalf("%d lines:\n%s", len(got), b)
	}
	want := map[string]bool{}
	for _, v := range ueFlashVars {
		want[v] = true
	}
	for _, l := range got {
		if !want[l] {
			t.Errorf("unexpected line %q", l)
		}
	}
	// the boot loader's default environment at 0x3000 has no CRC: not a block
	i := bytes.Index(flash, []byte("\x00bootcmd=bootm"))
	if i < 0 || i > 0x10000 {
		t.Fatalf("boot loader strings not found (%#x)", i)
	}
	if _, err := f.Bound(bytes.NewReader(flash[i+1-4:]), int64(len(flash)-(i+1-4))); err == nil {
		t.Error("bound accepted the boot loader's strings")
	}
}

func TestUBootEnvEngine(t *testing.T) {
	res, _ := archEngine(t, "flash.bin")
	ls := archLayers(res, "uboot-env")
	if len(ls) != 1 || ls[0].Offset != 0xF0000 || ls[0].Size != 0x10000 {
		for _, l := range ls {
			t.Logf("layer at %#x size %#x", l.Offset, l.Size)
		}
		t.Fatalf("%d uboot-env layers", len(ls))
	}
	b, err := os.ReadFile(filepath.Join(ls[0].Root, UBootEnvFile))
	if err != nil || !strings.Contains(string(b), "\nethaddr=00:aa:bb:cc:dd:ee\n") {
		t.Errorf("%s: %q %v", UBootEnvFile, b, err)
	}
}

func TestUBootEnvForms(t *testing.T) {
	for _, c := range []struct {
		size      int
		redundant bool
	}{{0x2000, false}, {0x4000, true}, {0x40000, false}, {0x1f000, true}} {
		vars := []string{"baudrate=115200", "bootcmd=run x\nrun y", "weird=a\\b\x01", "ver=U-Boot 2020.01"}
		blk := ueBlock(c.size, c.redundant, vars...)
		data := append(append([]byte{}, blk...), bytes.Repeat([]byte{0xff}, 100)...)
		if !(ubootEnvFormat{}).Identify(data) {
			t.Fatalf("%#x: not identified", c.size)
		}
		res := archUnpack(t, ubootEnvFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
		if c.size == 0x1f000 {
			// not a common size and not the whole input: not found
			if res.err == nil {
				t.Errorf("%#x: found", c.size)
			}
			continue
		}
		if res.err != nil || res.consumed != int64(c.size) {
			t.Fatalf("%#x: consumed %#x %v", c.size, res.consumed, res.err)
		}
		b, _ := os.ReadFile(filepath.Join(res.dir, UBootEnvFile))
		want := "baudrate=115200\nbootcmd=run x\\nrun y\nweird=a\\\\b\\x01\nver=U-Boot 2020.01\n"
		if string(b) != want {
			t.Errorf("%#x: %q", c.size, b)
		}
	}
	// a partition dump of any size: the whole input is tried too
	blk := ueBlock(0x1f000, false, "bootcmd=x")
	res := archUnpack(t, ubootEnvFormat{}, blk, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || res.consumed != 0x1f000 {
		t.Errorf("whole partition: %#x %v", res.consumed, res.err)
	}
	// a bad CRC is not an environment
	blk[10] ^= 1
	if n, err := (ubootEnvFormat{}).Bound(bytes.NewReader(blk), int64(len(blk))); err == nil {
		t.Errorf("bad CRC accepted: %d", n)
	}
	// an entry without '=' is reported
	blk = ueBlock(0x1000, false, "bootcmd=x", "noequals", "a=b")
	res = archUnpack(t, ubootEnvFormat{}, blk, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	b, _ := os.ReadFile(filepath.Join(res.dir, UBootEnvFile))
	if string(b) != "bootcmd=x\na=b\n" || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, UBootEnvFile) {
		t.Errorf("%q %+v", b, res.w.Anomalies())
	}
}

func FuzzUBootEnv(f *testing.F) {
	f.Add(ueBlock(0x400, false, "bootcmd=x", "a=b\n"))
	f.Add(ueBlock(0x400, true, "bootargs=console=ttyS0", "noequals"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 8 && len(data) <= 0x40000 && data[0]&1 == 0 {
			// mostly make the CRC match (the whole input is a candidate
			// size) so that parsing is reached
			data = append([]byte{}, data...)
			binary.LittleEndian.PutUint32(data, crc32.ChecksumIEEE(data[4:]))
		}
		fuzzArch(t, ubootEnvFormat{}, data)
	})
}

func BenchmarkUBootEnv(b *testing.B) {
	flash := archRead(b, archFixture(b, "flash.bin"))
	b.SetBytes(int64(len(flash)))
	for i := 0; i < b.N; i++ {
		// as carving sees it: a candidate and the rest of the flash
		w, err := NewWriter(filepath.Join(b.TempDir(), "out"), DefaultLimits(), int64(len(flash)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (ubootEnvFormat{}).Unpack(context.Background(), bytes.NewReader(flash[0xF0000:]), 0x10000, w); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}
