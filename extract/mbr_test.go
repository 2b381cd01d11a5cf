package extract

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fwPart checks that a partition file holds "part N\n" then 'x' padding.
func fwPart(tb testing.TB, dir, name string, n int, sectors int) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	want := "part " + string(rune('0'+n)) + "\n"
	if err != nil || len(b) != sectors*512 || !strings.HasPrefix(string(b), want) || b[len(b)-1] != 'x' {
		tb.Errorf("%s: %d bytes, %v", name, len(b), err)
	}
}

func TestMBRFixture(t *testing.T) {
	data := archRead(t, archFixture(t, "mbr.img"))
	f := archFormat(t, "mbr")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	fwSame(t, fwFiles(t, res.dir), []string{"partitions/", "partitions/1-linux.img 4096", "partitions/2-linux-swap.img 2048",
		"partitions/5-fat32.img 3072", "partitions/6-linux.img 2560"})
	fwPart(t, res.dir, "partitions/5-fat32.img", 5, 6)
	fwPart(t, res.dir, "partitions/6-linux.img", 6, 5)
	if res.consumed != 56*512 {
		t.Errorf("consumed %d, want the extended partition's end %d", res.consumed, 56*512)
	}
	if b, _ := f.Bound(bytes.NewReader(data), int64(len(data))); b != 56*512 {
		t.Errorf("bound %d", b)
	}
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
}

func TestMBRSample(t *testing.T) {
	data := archRead(t, archShared(t, "formats/binwalk_mbr.bin"))
	res := archUnpack(t, mbrFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	// one Linux partition, sectors 1-9 (fdisk -l)
	fwSame(t, fwFiles(t, res.dir), []string{"partitions/", "partitions/1-linux.img 4608"})
}

// TestMBRStrict: boot sectors and random 0x55aa must not pass.
func TestMBRStrict(t *testing.T) {
	data := archRead(t, archFixture(t, "mbr.img"))
	mbr := append([]byte{}, data[:512]...)
	for _, c := range []struct {
		name string
		mod  func(b []byte)
	}{
		{"status byte", func(b []byte) { b[0x1be] = 0x01 }},
		{"no entries", func(b []byte) { copy(b[0x1be:0x1fe], make([]byte, 64)) }},
		{"empty type with data", func(b []byte) { b[0x1be+16*3+9] = 1 }},
		{"zero length", func(b []byte) { binary.LittleEndian.PutUint32(b[0x1be+12:], 0) }},
		{"overlap", func(b []byte) { binary.LittleEndian.PutUint32(b[0x1be+16+8:], 5) }},
		{"protective", func(b []byte) { b[0x1be+4] = 0xee }},
		{"fat boot sector", func(b []byte) { b[0], b[1], b[2] = 0xeb, 0x3c, 0x90; copy(b[0x36:], "FAT16   ") }},
	} {
		b := append([]byte{}, mbr...)
		c.mod(b)
		if (mbrFormat{}).Identify(b) {
			t.Errorf("%s: identified", c.name)
		}
	}
	if !(mbrFormat{}).Identify(mbr) {
		t.Error("the fixture's MBR not identified")
	}
	rng := rand.New(rand.NewSource(1))
	hits := 0
	for i := 0; i < 20000; i++ {
		b := make([]byte, 512)
		rng.Read(b)
		b[510], b[511] = 0x55, 0xaa
		if (mbrFormat{}).Identify(b) {
			hits++
		}
	}
	if hits != 0 {
		t.Errorf("%d random sectors identified", hits)
	}
	// partitions all beyond the blob: a coincidence
	far := append([]byte{}, mbr...)
	copy(far[0x1be:0x1fe], make([]byte, 64))
	copy(far[0x1be:], []byte{0, 0, 0, 0, 0x83, 0, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0})
	res := archUnpack(t, mbrFormat{}, far, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err == nil || res.w.Files() != 0 {
		t.Errorf("far partitions: %v, %d files", res.err, res.w.Files())
	}
}

// TestMBREBRLoop: an extended boot record that links to itself.
func TestMBREBRLoop(t *testing.T) {
	data := append([]byte{}, archRead(t, archFixture(t, "mbr.img"))...)
	binary.LittleEndian.PutUint32(data[16*512+0x1be+16+8:], 0) // next EBR = the first one
	data[16*512+0x1be+16+8] = 0
	res := archUnpack(t, mbrFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	// start 0 is refused by the EBR check: logical 6 is lost, with an anomaly
	if res.err != nil || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "") && !archHasAnomaly(res.w.Anomalies(), AnomalyLoop, "") {
		t.Errorf("%v %+v", res.err, res.w.Anomalies())
	}
	if _, err := os.Stat(filepath.Join(res.dir, "partitions/6-linux.img")); err == nil {
		t.Error("logical 6 extracted through a broken chain")
	}
}

func FuzzMBR(f *testing.F) {
	img := fuzzFixture("mbr.img")
	f.Add(fuzzRaw(img, 1024))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 16*512+446+8, []byte{16, 0, 0, 0})) // an EBR that points at itself
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, mbrFormat{}, fuzzInput(data, img)) })
}

func BenchmarkMBR(b *testing.B) { fwBench(b, mbrFormat{}, archRead(b, archFixture(b, "mbr.img"))) }
