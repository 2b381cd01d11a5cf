package compress

import (
	"bytes"
	"io"
	"math/rand"
	"testing"

	uxz "github.com/ulikunitz/xz"
)

func xzEncode(t testing.TB, data []byte, cfg uxz.WriterConfig) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := cfg.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func xzReference(t testing.TB, src []byte) []byte {
	t.Helper()
	r, err := uxz.ReaderConfig{SingleStream: true}.NewReader(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The one-pass xz path decodes what ulikunitz/xz (the reference) decodes,
// byte for byte, for every check the fast path takes (CRC32, CRC64, none),
// for compressible, random (stored LZMA2 chunks) and mixed blocks and for
// blocks of several LZMA2 chunks; the fast path is really taken.
func TestXZSingleMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	random := make([]byte, 200<<10)
	r.Read(random)
	mixed := append(append(testPayload(300<<10), random[:100<<10]...), testPayload(400<<10)...)
	inputs := map[string][]byte{
		"text":   testPayload(128 << 10),
		"random": random[:128<<10],
		"mixed":  mixed, // more than one LZMA2 chunk (2 MiB of output each at most)
		"small":  []byte("hello, squashfs\n"),
		"zeros":  make([]byte, 1<<20),
	}
	checks := map[string]byte{"crc32": uxz.CRC32, "crc64": uxz.CRC64, "none": uxz.None}
	for name, data := range inputs {
		for cname, check := range checks {
			src := xzEncode(t, data, uxz.WriterConfig{CheckSum: check, DictCap: 1 << 20})
			want := xzReference(t, src)
			got, ok := DecodeXZSingle(make([]byte, 0, len(data)), src, max(len(data), 1<<20))
			if !ok {
				t.Errorf("%s/%s: fast path not taken", name, cname)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s: %d bytes differ from the reference's %d", name, cname, len(got), len(want))
			}
			// the codec (fast path or fallback) gives the same bytes
			c, _ := Get("xz")
			if out, err := c.Block(nil, src, len(data)+1); err != nil || !bytes.Equal(out, want) {
				t.Errorf("%s/%s: xz codec: %d bytes, %v", name, cname, len(out), err)
			}
		}
	}
}

// What the fast path cannot prove right falls back: SHA-256 checks, a
// dictionary smaller than the output bound, output beyond maxOut, trailing
// bytes, and every corrupted byte (caught by the structure or the check).
func TestXZSingleRefuses(t *testing.T) {
	data := testPayload(64 << 10)
	sha := xzEncode(t, data, uxz.WriterConfig{CheckSum: uxz.SHA256, DictCap: 1 << 20})
	if _, ok := DecodeXZSingle(nil, sha, len(data)); ok {
		t.Error("SHA-256 check taken by the fast path")
	}
	src := xzEncode(t, data, uxz.WriterConfig{CheckSum: uxz.CRC32, DictCap: 64 << 10})
	if _, ok := DecodeXZSingle(nil, src, 1<<20); ok {
		t.Error("dictionary (64 KiB) smaller than the output bound (1 MiB) taken")
	}
	if _, ok := DecodeXZSingle(nil, src, len(data)-1); ok {
		t.Error("output beyond maxOut taken")
	}
	if _, ok := DecodeXZSingle(nil, append(append([]byte{}, src...), 0, 0, 0, 0), len(data)); ok {
		t.Error("trailing bytes taken")
	}
	if got, ok := DecodeXZSingle(nil, src, len(data)); !ok || !bytes.Equal(got, data) {
		t.Fatalf("intact stream: ok=%v, %d bytes", ok, len(got))
	}
	bad := make([]byte, len(src))
	for i := 0; i < len(src); i += max(1, len(src)/300) {
		copy(bad, src)
		bad[i] ^= 0x55
		if got, ok := DecodeXZSingle(nil, bad, len(data)); ok && !bytes.Equal(got, data) {
			t.Fatalf("byte %d corrupted: fast path returned wrong data", i)
		}
	}
}

// Hostile input: the fast path never panics, and whatever it accepts is what
// the reference decoder gives.
func FuzzXZSingle(f *testing.F) {
	for _, data := range [][]byte{testPayload(4 << 10), []byte("x"), make([]byte, 300)} {
		f.Add(xzEncode(f, data, uxz.WriterConfig{CheckSum: uxz.CRC32, DictCap: 1 << 20}))
		f.Add(xzEncode(f, data, uxz.WriterConfig{CheckSum: uxz.None, DictCap: 1 << 20}))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, ok := DecodeXZSingle(nil, src, 64<<10)
		if !ok {
			return
		}
		r, err := uxz.ReaderConfig{SingleStream: true}.NewReader(bytes.NewReader(src))
		if err != nil {
			t.Fatalf("fast path accepted what the reference refuses: %v", err)
		}
		want, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("fast path gave %d bytes, reference %d (%v)", len(out), len(want), err)
		}
	})
}
