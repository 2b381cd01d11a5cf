package compress

import (
	"bytes"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	uxz "github.com/ulikunitz/xz"
	ulzma "github.com/ulikunitz/xz/lzma"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "firmware", name))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return b
}

// Each stream codec decodes the fixture made by the real tool to data.txt.
func TestStreamsDecodeFixtures(t *testing.T) {
	want := fixture(t, "data.txt")
	cases := map[string]string{
		"gzip": "data.gz", "xz": "data.xz", "xz-ref": "data.xz", "lzma": "data.lzma",
		"lzma-ref": "data.lzma", "bzip2": "data.bz2", "zstd": "data.zst", "lz4-frame": "data.lz4",
		"lzop": "data.lzo",
	}
	for codec, file := range cases {
		t.Run(codec, func(t *testing.T) {
			c, ok := Get(codec)
			if !ok {
				t.Fatalf("codec %s not registered", codec)
			}
			r, err := c.Stream(bytes.NewReader(fixture(t, file)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s decoded %d bytes, want %d identical to data.txt", codec, len(got), len(want))
			}
			blk, err := c.Block(nil, fixture(t, file), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(blk, want) {
				t.Errorf("%s block decode differs", codec)
			}
		})
	}
}

func testPayload(n int) []byte {
	r := rand.New(rand.NewSource(7))
	var b bytes.Buffer
	words := []string{"root", "admin", "busybox", "/etc/init.d/rcS", "\x00\x00\x00\x01", "dropbear", "0123456789"}
	for b.Len() < n {
		if r.Intn(4) == 0 {
			var x [16]byte
			r.Read(x[:])
			b.Write(x[:])
		} else {
			b.WriteString(words[r.Intn(len(words))])
		}
	}
	return b.Bytes()[:n]
}

// The fast decoders on the hot paths give byte-for-byte what the reference
// decoders give.
func TestFastMatchesReference(t *testing.T) {
	data := testPayload(3 << 20)
	var lz bytes.Buffer
	w, err := ulzma.NewWriter(&lz)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	var xzb bytes.Buffer
	xw, err := uxz.NewWriter(&xzb)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(data)
	xw.Close()
	for _, pair := range [][3]string{{"lzma", "lzma-ref", ""}, {"xz", "xz-ref", ""}} {
		src := lz.Bytes()
		if pair[0] == "xz" {
			src = xzb.Bytes()
		}
		fast, _ := Get(pair[0])
		ref, _ := Get(pair[1])
		a, err := fast.Block(nil, src, 4<<20)
		if err != nil {
			t.Fatalf("%s: %v", pair[0], err)
		}
		b, err := ref.Block(nil, src, 4<<20)
		if err != nil {
			t.Fatalf("%s: %v", pair[1], err)
		}
		if !bytes.Equal(a, b) || !bytes.Equal(a, data) {
			t.Errorf("%s and %s disagree (%d vs %d bytes)", pair[0], pair[1], len(a), len(b))
		}
	}
}

func TestBlockLimit(t *testing.T) {
	zeros := make([]byte, 1<<20)
	var lz bytes.Buffer
	w, _ := ulzma.NewWriter(&lz)
	w.Write(zeros)
	w.Close()
	for _, name := range []string{"lzma", "lzma-ref"} {
		c, _ := Get(name)
		if _, err := c.Block(nil, lz.Bytes(), 4096); err == nil {
			t.Errorf("%s: 1 MiB block decoded with a 4 KiB limit", name)
		}
	}
}

func TestCorruptBlocksError(t *testing.T) {
	junk := testPayload(4096)
	for _, name := range Names() {
		c, _ := Get(name)
		if c.Block == nil {
			continue
		}
		if out, err := c.Block(nil, junk, 1<<16); err == nil && bytes.Equal(out, junk) {
			t.Errorf("%s accepted junk as itself", name)
		}
	}
}

func FuzzBlocks(f *testing.F) {
	f.Add([]byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0})
	f.Add([]byte{0x11, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, name := range Names() {
			c, _ := Get(name)
			if c.Block != nil {
				out, _ := c.Block(nil, b, 1<<16)
				if len(out) > 1<<16 {
					t.Fatalf("%s exceeded the output limit: %d", name, len(out))
				}
			}
		}
	})
}

func benchDecode(b *testing.B, codec string, src []byte, n int) {
	c, _ := Get(codec)
	buf := make([]byte, 0, n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := c.Block(buf, src, n)
		if err != nil || len(out) != n {
			b.Fatal(err)
		}
	}
}

// BenchmarkLZMA compares our decoder with the reference on the same stream:
// go test -bench 'LZMA|XZ' ./extract/compress/
func BenchmarkLZMA(b *testing.B) {
	data := testPayload(8 << 20)
	var lz bytes.Buffer
	w, _ := ulzma.NewWriter(&lz)
	w.Write(data)
	w.Close()
	b.Run("fast", func(b *testing.B) { benchDecode(b, "lzma", lz.Bytes(), len(data)) })
	b.Run("reference", func(b *testing.B) { benchDecode(b, "lzma-ref", lz.Bytes(), len(data)) })
}

func BenchmarkXZ(b *testing.B) {
	data := testPayload(8 << 20)
	var xzb bytes.Buffer
	w, _ := uxz.NewWriter(&xzb)
	w.Write(data)
	w.Close()
	b.Run("fast", func(b *testing.B) { benchDecode(b, "xz", xzb.Bytes(), len(data)) })
	b.Run("reference", func(b *testing.B) { benchDecode(b, "xz-ref", xzb.Bytes(), len(data)) })
}

// Trailing garbage after a complete bzip2 stream ends it cleanly (the
// stream's CRC was checked), like bzip2 -d does.
func TestBzip2TrailingGarbage(t *testing.T) {
	data := append(fixture(t, "data.bz2"), []byte("garbage after the stream")...)
	c, _ := Get("bzip2")
	r, _ := c.Stream(bytes.NewReader(data))
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, fixture(t, "data.txt")) {
		t.Errorf("bzip2 with trailing garbage: %d bytes, %v", len(got), err)
	}
}
