package compress

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand"
	"testing"

	uxz "github.com/ulikunitz/xz"
	xi2 "github.com/xi2/xz"
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

// What the fast path cannot prove right falls back: SHA-256 checks, output
// beyond maxOut, trailing bytes, and every corrupted byte (caught by the
// structure or the check).
func TestXZSingleRefuses(t *testing.T) {
	data := testPayload(64 << 10)
	sha := xzEncode(t, data, uxz.WriterConfig{CheckSum: uxz.SHA256, DictCap: 1 << 20})
	if _, ok := DecodeXZSingle(nil, sha, len(data)); ok {
		t.Error("SHA-256 check taken by the fast path")
	}
	src := xzEncode(t, data, uxz.WriterConfig{CheckSum: uxz.CRC32, DictCap: 64 << 10})
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

// withDict rewrites the dictionary size byte of the first block header of
// the xz stream src (LZMA2 the only filter, no size fields) and fixes the
// header's CRC32.
func withDict(t *testing.T, src []byte, dictByte byte) []byte {
	t.Helper()
	out := bytes.Clone(src)
	h := out[12:]
	hsize := (int(h[0]) + 1) * 4
	if h[1] != 0 || h[2] != 0x21 || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h[:hsize])
	}
	h[4] = dictByte
	binary.LittleEndian.PutUint32(h[hsize-4:], crc32.ChecksumIEEE(h[:hsize-4]))
	return out
}

// xi2Decode decodes src as the streaming decoder does (one stream).
func xi2Decode(src []byte) ([]byte, error) {
	zr, err := xi2.NewReader(bytes.NewReader(src), DictLimit)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return io.ReadAll(zr)
}

// DecodeXZStream decodes streams of several blocks (as xz -T and
// ulikunitz's BlockSize write them) and streams followed by other bytes,
// gives what the reference gives and reports where the stream ends.
func TestXZStreamBlocksAndTrailing(t *testing.T) {
	data := append(testPayload(700<<10), make([]byte, 300<<10)...)
	for _, bs := range []int64{64 << 10, 256 << 10, 4 << 20} {
		src := xzEncode(t, data, uxz.WriterConfig{CheckSum: uxz.CRC64, DictCap: 1 << 20, BlockSize: bs})
		want := xzReference(t, src)
		got, n, ok := DecodeXZStream(nil, src, 4<<20, DictLimit)
		if !ok || n != len(src) || !bytes.Equal(got, want) {
			t.Fatalf("block size %d: ok=%v consumed %d of %d, %d bytes (want %d)", bs, ok, n, len(src), len(got), len(want))
		}
		tail := append(bytes.Clone(src), "\x00\x00\x00\x00trailing data"...)
		if got, n, ok := DecodeXZStream(nil, tail, 4<<20, DictLimit); !ok || n != len(src) || !bytes.Equal(got, want) {
			t.Fatalf("block size %d with trailing bytes: ok=%v consumed %d, want %d", bs, ok, n, len(src))
		}
		if _, ok := DecodeXZSingle(nil, tail, 4<<20); ok {
			t.Errorf("block size %d: DecodeXZSingle took trailing bytes", bs)
		}
		if _, _, ok := DecodeXZStream(nil, src, len(data)-1, DictLimit); ok {
			t.Errorf("block size %d: output beyond maxOut taken", bs)
		}
	}
}

// A match that reaches further back than the declared dictionary is
// corrupt data to a decoder holding only the dictionary (xi2, the
// reference): the one-pass decoder, whose output holds it all, refuses it
// too, while the same stream declaring enough dictionary decodes.
func TestXZStreamDictionaryBound(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	block := make([]byte, 200<<10)
	r.Read(block)
	data := append(bytes.Clone(block), block...) // a 200 KiB match distance
	src := xzEncode(t, data, uxz.WriterConfig{CheckSum: uxz.CRC32, DictCap: 1 << 20})
	if got, n, ok := DecodeXZStream(nil, src, 1<<20, DictLimit); !ok || n != len(src) || !bytes.Equal(got, data) {
		t.Fatalf("as encoded (1 MiB dictionary): ok=%v", ok)
	}
	small := withDict(t, src, 12) // 2 << (6+11) = 256 KiB: still enough
	if got, _, ok := DecodeXZStream(nil, small, 1<<20, DictLimit); !ok || !bytes.Equal(got, data) {
		t.Fatalf("256 KiB dictionary: ok=%v", ok)
	}
	tiny := withDict(t, src, 8) // 2 << (4+11) = 64 KiB: the match reaches beyond it
	if _, err := xi2Decode(tiny); err == nil {
		t.Fatal("premise: xi2 decodes a match beyond its 64 KiB dictionary")
	}
	if _, _, ok := DecodeXZStream(nil, tiny, 1<<20, DictLimit); ok {
		t.Error("one-pass decoder took a match beyond the declared 64 KiB dictionary")
	}
	if _, ok := DecodeXZSingle(nil, tiny, 1<<20); ok {
		t.Error("DecodeXZSingle took a match beyond the declared 64 KiB dictionary")
	}
	huge := withDict(t, src, 40) // 4 GiB: beyond DictLimit, which xi2 refuses
	if _, err := xi2Decode(huge); err == nil {
		t.Fatal("premise: xi2 takes a 4 GiB dictionary")
	}
	if _, _, ok := DecodeXZStream(nil, huge, 1<<20, DictLimit); ok {
		t.Error("a dictionary beyond DictLimit taken")
	}
}

// Hostile input: whatever the one-pass stream decoder accepts, xi2 (the
// streaming decoder it stands in for) decodes to the same bytes, and the
// stream it reports ends where a stream footer is.
func FuzzXZStream(f *testing.F) {
	for _, data := range [][]byte{testPayload(4 << 10), []byte("x"), make([]byte, 300)} {
		f.Add(xzEncode(f, data, uxz.WriterConfig{CheckSum: uxz.CRC64, DictCap: 1 << 20}))
		f.Add(xzEncode(f, data, uxz.WriterConfig{CheckSum: uxz.CRC32, DictCap: 1 << 20, BlockSize: 1 << 10}))
		f.Add(append(xzEncode(f, data, uxz.WriterConfig{CheckSum: uxz.None, DictCap: 1 << 20}), "tail"...))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, n, ok := DecodeXZStream(nil, src, 64<<10, DictLimit)
		if !ok {
			return
		}
		want, err := xi2Decode(src[:n])
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("one-pass gave %d bytes, xi2 %d (%v)", len(out), len(want), err)
		}
		if n < 12 || src[n-2] != 'Y' || src[n-1] != 'Z' {
			t.Fatalf("stream said to end at %d, not after a footer", n)
		}
	})
}
