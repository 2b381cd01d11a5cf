package compress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Sniff names the codec of every fixture the real tools made, and nothing
// for plain text.
func TestSniffFixtures(t *testing.T) {
	for file, want := range map[string]string{
		"data.gz": "gzip", "data.xz": "xz", "data.lzma": "lzma", "data.bz2": "bzip2",
		"data.zst": "zstd", "data.lz4": "lz4-frame", "data.lzo": "lzop", "data-crc.lzo": "lzop",
		"data.txt": "",
	} {
		b := fixture(t, file)
		if got := Sniff(b[:min(len(b), SniffLen)]); got != want {
			t.Errorf("Sniff(%s) = %q, want %q", file, got, want)
		}
	}
}

// The registry's declarations are consistent: every codec that can be
// sniffed can be streamed, no two codecs claim a magic, a uImage byte or a
// FIT name, and a weak codec (LZMA) cannot shadow a strong one because it
// is sniffed last.
func TestRegistryConsistent(t *testing.T) {
	magics, uimage, fit := map[string]string{}, map[byte]string{}, map[string]string{}
	for _, c := range Codecs() {
		if (len(c.Magics) > 0 || c.UImage != 0 || c.FIT != "" || len(c.Kernel) > 0) && c.Stream == nil {
			t.Errorf("%s: declared for payloads but has no stream decoder", c.Name)
		}
		for _, m := range c.Magics {
			if o, dup := magics[string(m)]; dup {
				t.Errorf("magic %x claimed by %s and %s", m, o, c.Name)
			}
			magics[string(m)] = c.Name
		}
		for _, k := range c.Kernel {
			if !c.HasMagic(k) {
				t.Errorf("%s: kernel signature %x is not one of its magics", c.Name, k)
			}
		}
		if c.UImage != 0 {
			if o, dup := uimage[c.UImage]; dup {
				t.Errorf("uImage byte %d claimed by %s and %s", c.UImage, o, c.Name)
			}
			uimage[c.UImage] = c.Name
		}
		if c.FIT != "" {
			if o, dup := fit[c.FIT]; dup {
				t.Errorf("FIT name %q claimed by %s and %s", c.FIT, o, c.Name)
			}
			fit[c.FIT] = c.Name
		}
	}
	// what U-Boot's image.h and FIT use (IH_COMP_*, "compression")
	for b, want := range map[byte]string{1: "gzip", 2: "bzip2", 3: "lzma", 4: "lzop", 5: "lz4-frame", 6: "zstd"} {
		if uimage[b] != want {
			t.Errorf("uImage byte %d = %q, want %q", b, uimage[b], want)
		}
	}
	for n, want := range map[string]string{"gzip": "gzip", "bzip2": "bzip2", "lzma": "lzma", "lzo": "lzop", "lz4": "lz4-frame", "zstd": "zstd", "xz": "xz"} {
		if fit[n] != want {
			t.Errorf("FIT %q = %q, want %q", n, fit[n], want)
		}
	}
	// an LZMA-alone header check accepts a gzip header's first bytes
	// often enough that order matters: gzip still wins.
	if got := Sniff(fixture(t, "data.gz")); got != "gzip" {
		t.Errorf("Sniff(gzip) = %q", got)
	}
}

// Adding a codec is one Register call: a throw-away codec registered here
// is sniffed and streamed through the registry like the real ones.
func TestRegisterThrowAwayCodec(t *testing.T) {
	const name = "test-xor"
	magic := []byte("XOR5A\x00")
	if _, ok := Get(name); !ok {
		Register(Codec{Name: name, Rank: 1000, Magics: [][]byte{magic},
			Stream: func(r io.Reader) (io.ReadCloser, error) {
				hdr := make([]byte, len(magic))
				if _, err := io.ReadFull(r, hdr); err != nil || !bytes.Equal(hdr, magic) {
					return nil, io.ErrUnexpectedEOF
				}
				return io.NopCloser(xorReader{r}), nil
			}})
	}
	plain := []byte("hello, registry")
	enc := append(bytes.Clone(magic), plain...)
	for i := len(magic); i < len(enc); i++ {
		enc[i] ^= 0x5a
	}
	if got := Sniff(enc); got != name {
		t.Fatalf("Sniff = %q, want %q", got, name)
	}
	c, _ := Get(Sniff(enc))
	r, err := c.Stream(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, plain) {
		t.Errorf("decoded %q, want %q", got, plain)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a codec name twice did not panic")
		}
	}()
	Register(Codec{Name: name})
}

type xorReader struct{ r io.Reader }

func (x xorReader) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	for i := range p[:n] {
		p[i] ^= 0x5a
	}
	return n, err
}

// Each codec's Window finds the oversized window the real tools declared
// (zstd --long=31, xz and lzma with a 1 GiB dictionary; testdata/hostile)
// and its patch brings it down to DictLimit, after which the stream
// decodes and Window has nothing left to change; normal streams are left
// alone.
func TestWindowBounds(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hostile", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for codec, file := range map[string]string{"zstd": "rootfs-zstd-long.tar.zst", "xz": "rootfs-xz-1g.tar.xz", "lzma": "rootfs-lzma-1g.tar.lzma"} {
		c, _ := Get(codec)
		b := read(file)
		r := bytes.NewReader(b)
		off, patch, declared, ok := c.Window(r, int64(len(b)))
		if !ok || declared <= DictLimit {
			t.Errorf("%s: Window = %v, declared %d; want an oversized window found", codec, ok, declared)
			continue
		}
		p := Patched(r, off, patch)
		if _, _, _, again := c.Window(p, int64(len(b))); again {
			t.Errorf("%s: the patched stream still declares more than DictLimit", codec)
		}
		whole := make([]byte, len(b))
		p.ReadAt(whole, 0)
		zr, err := c.Stream(bytes.NewReader(whole))
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if n, err := io.Copy(io.Discard, zr); err != nil || n == 0 {
			t.Errorf("%s: patched stream decoded %d bytes: %v", codec, n, err)
		}
		small := fixture(t, map[string]string{"zstd": "data.zst", "xz": "data.xz", "lzma": "data.lzma"}[codec])
		if _, _, _, ok := c.Window(bytes.NewReader(small), int64(len(small))); ok {
			t.Errorf("%s: Window changes a stream within the bound", codec)
		}
	}
}
