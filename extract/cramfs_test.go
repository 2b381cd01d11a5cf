package extract

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCramfsRootfs(t *testing.T) {
	want := archManifest(t)
	for _, file := range []string{"cramfs-le.img", "cramfs-be.img"} {
		t.Run(file, func(t *testing.T) {
			data := archRead(t, archFixture(t, file))
			f := archFormat(t, "cramfs")
			if !f.Identify(data[:HeaderSize]) {
				t.Fatal("not identified")
			}
			if b, err := f.Bound(bytes.NewReader(data), int64(len(data))); b != int64(len(data)) || err != nil {
				t.Errorf("bound %d %v, want %d", b, err, len(data))
			}
			junk := append(append([]byte{}, data...), "trailing junk"...)
			res := archUnpack(t, f, junk, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.consumed != int64(len(data)) {
				t.Errorf("consumed %d, want %d", res.consumed, len(data))
			}
			got := archTree(t, res.dir, res.w.Modes())
			archCompare(t, got, want)
			if n := archModesChecked(got); n < 25 {
				t.Errorf("only %d modes recorded", n)
			}
			if len(res.w.Anomalies()) != 0 {
				t.Errorf("anomalies: %+v", res.w.Anomalies())
			}
			j2CheckSpecials(t, res.w)
		})
	}
}

func TestCramfsHoles(t *testing.T) {
	data := archRead(t, archFixture(t, "cramfs-holes.img"))
	res := archUnpack(t, cramfsFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	b, err := os.ReadFile(filepath.Join(res.dir, "sparse.bin"))
	want := string(make([]byte, 8192)) + "middle\n" + string(make([]byte, 12288)) + "end\n"
	if err != nil || string(b) != want {
		t.Errorf("sparse.bin: %d bytes %v", len(b), err)
	}
	// the image really has holes: fewer zlib streams than blocks
	if n := bytes.Count(data, []byte{0x78, 0x9c}); n >= 6 {
		t.Errorf("%d zlib streams for 6 blocks: no holes in the fixture", n)
	}
}

func TestCramfsSamples(t *testing.T) {
	for _, c := range []struct {
		file  string
		files map[string]int64
	}{
		// as fsck.cramfs -x lists them
		{"formats/binwalk_cramfs.bin", map[string]int64{"lsb-release": 104}},
		{"formats/fact_sevenz__cramfs.img", map[string]int64{"testfile1": 62, "testfile2": 28, "generic folder/test file 3_.txt": 20}},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			data := archRead(t, archShared(t, c.file))
			if !(cramfsFormat{}).Identify(data) {
				t.Fatal("not identified")
			}
			res := archUnpack(t, cramfsFormat{}, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
			if res.err != nil {
				t.Fatal(res.err)
			}
			for name, size := range c.files {
				fi, err := os.Stat(filepath.Join(res.dir, name))
				if err != nil || fi.Size() != size {
					t.Errorf("%s: %v %v", name, fi, err)
				}
			}
			if res.w.Files() != int64(len(c.files)) {
				t.Errorf("%d files", res.w.Files())
			}
			if res.consumed != int64(len(data)) || len(res.w.Anomalies()) != 0 {
				t.Errorf("consumed %d, anomalies %+v", res.consumed, res.w.Anomalies())
			}
		})
	}
}

// cramfsFixCRC recomputes the v2 CRC of an image patched by a test.
func cramfsFixCRC(img []byte) {
	binary.LittleEndian.PutUint32(img[32:], 0)
	binary.LittleEndian.PutUint32(img[32:], crc32.ChecksumIEEE(img))
}

func TestCramfsHostile(t *testing.T) {
	orig := archRead(t, archShared(t, "formats/fact_sevenz__cramfs.img"))
	// "generic folder" (entry at 0x4c) points at the root directory: a loop
	loop := append([]byte{}, orig...)
	root := binary.LittleEndian.Uint32(loop[64+8:])
	dir := binary.LittleEndian.Uint32(loop[0x4c+8:])
	binary.LittleEndian.PutUint32(loop[0x4c+8:], dir&0x3f|root&^0x3f)
	binary.LittleEndian.PutUint32(loop[0x4c+4:], binary.LittleEndian.Uint32(loop[64+4:]))
	cramfsFixCRC(loop)
	res := archUnpack(t, cramfsFormat{}, loop, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if !archHasAnomaly(res.w.Anomalies(), AnomalyLoop, "generic folder") {
		t.Errorf("loop: %v %+v", res.err, res.w.Anomalies())
	}
	// a wrong CRC is reported; a name with a slash is refused
	bad := append([]byte{}, orig...)
	i := bytes.Index(bad, []byte("testfile1"))
	copy(bad[i:], "../file1")
	res = archUnpack(t, cramfsFormat{}, bad, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	var details []string
	for _, a := range res.w.Anomalies() {
		details = append(details, a.Kind+" "+a.Path+" "+a.Detail)
	}
	all := strings.Join(details, "\n")
	if !strings.Contains(all, "image CRC") || !strings.Contains(all, "bad-name ../file1") {
		t.Errorf("anomalies:\n%s", all)
	}
	if _, err := os.Stat(filepath.Join(res.dir, "testfile2")); err != nil {
		t.Errorf("testfile2: %v", err)
	}
	// truncated: the files whose blocks are present are extracted
	cut := archRead(t, archFixture(t, "cramfs-le.img"))
	cut = cut[:len(cut)/2]
	res = archUnpack(t, cramfsFormat{}, cut, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.w.Files() == 0 || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "") {
		t.Errorf("truncated: %d files, %+v", res.w.Files(), res.w.Anomalies())
	}
	if (cramfsFormat{}).Identify(append([]byte{0x45, 0x3d, 0xcd, 0x28}, make([]byte, 100)...)) {
		t.Error("identified a bare magic")
	}
}

func FuzzCramfs(f *testing.F) {
	for _, n := range []string{"cramfs-holes.img", "cramfs-be.img"} {
		f.Add(fuzzRaw(fuzzFixture(n), 4096))
	}
	le, be := fuzzFixture("cramfs-le.img"), fuzzFixture("cramfs-be.img")
	f.Add(fuzzPatch(1, 4, []byte{0xff, 0xff, 0, 0}))
	f.Add(fuzzPatch(2, 0x40, []byte{0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, cramfsFormat{}, fuzzInput(data, le, be)) })
}

func BenchmarkCramfs(b *testing.B) {
	data := archRead(b, archFixture(b, "cramfs-le.img"))
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		res := archUnpack(b, cramfsFormat{}, data, filepath.Join(b.TempDir(), "out"), DefaultLimits())
		if res.err != nil {
			b.Fatal(res.err)
		}
	}
}
