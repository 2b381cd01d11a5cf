package lzma

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

func TestDecodePropsByte(t *testing.T) {
	for _, tc := range []struct {
		b          byte
		lc, lp, pb int
		ok         bool
	}{
		{0x5d, 3, 0, 2, true},
		{0, 0, 0, 0, true},
		{224, 8, 4, 4, true},
		{(0*5+2)*9 + 1, 1, 2, 0, true},
		{225, 0, 0, 0, false},
		{255, 0, 0, 0, false},
	} {
		lc, lp, pb, err := DecodePropsByte(tc.b)
		if (err == nil) != tc.ok || (tc.ok && (lc != tc.lc || lp != tc.lp || pb != tc.pb)) {
			t.Errorf("DecodePropsByte(%#x) = %d,%d,%d,%v", tc.b, lc, lp, pb, err)
		}
		if tc.ok && (Props{LC: lc, LP: lp, PB: pb}).Byte() != tc.b {
			t.Errorf("Props.Byte round trip failed for %#x", tc.b)
		}
	}
}

func TestParseHeader(t *testing.T) {
	h := []byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	p, size, err := ParseHeader(h)
	if err != nil || p != (Props{LC: 3, LP: 0, PB: 2, DictSize: 8 << 20}) || size != -1 {
		t.Fatalf("ParseHeader = %+v, %d, %v", p, size, err)
	}
	binary.LittleEndian.PutUint64(h[5:], 12345)
	if _, size, err = ParseHeader(h); err != nil || size != 12345 {
		t.Fatalf("size = %d, %v", size, err)
	}
	binary.LittleEndian.PutUint64(h[5:], 1<<63)
	if _, _, err = ParseHeader(h); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge size: err = %v", err)
	}
	if _, _, err = ParseHeader(h[:12]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short header: err = %v", err)
	}
	h[0] = 225
	if _, _, err = ParseHeader(h); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad props: err = %v", err)
	}
}

// TestEmpty covers empty streams. The known-size one cannot be produced by
// ulikunitz's writer (and its reader rejects it, as it always reads one
// operation first); xz-utils accepts it: the range coder flush of an empty
// stream is 5 zero bytes. The second one is what
// `xz --format=lzma` writes for an empty input.
func TestEmpty(t *testing.T) {
	for _, tc := range []struct {
		stream []byte
		n      int
	}{
		{[]byte{0x5d, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE, 0xEE}, 18},
		{[]byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0x00, 0x83, 0xff, 0xfb, 0xff, 0xff, 0xc0, 0, 0, 0, 0x11}, 23},
	} {
		out, n, err := DecodeAlone(nil, tc.stream, 0)
		if err != nil || len(out) != 0 || n != tc.n {
			t.Fatalf("DecodeAlone: %q %d %v", out, n, err)
		}
		out, zn, err := readerDecode(tc.stream, true, 0)
		if err != nil || len(out) != 0 || zn != int64(tc.n) {
			t.Fatalf("Reader: %q %d %v", out, zn, err)
		}
	}
}

func streams(t *testing.T) map[string][]byte {
	m := map[string][]byte{}
	m["text_eos"] = compress(t, genText(20000, 1), wcfg{props: Props{LC: 3, PB: 2}, eos: true})
	m["mixed_sized"] = compress(t, genMixed(100000, 2), wcfg{props: Props{LC: 3, PB: 2}, sized: true})
	m["rep_sized_eos"] = compress(t, genRepetitive(30000, 3), wcfg{props: Props{LC: 1, LP: 2}, sized: true, eos: true})
	m["random_eos_lc8"] = compress(t, genRandom(3000, 4), wcfg{props: Props{LC: 8, LP: 4, PB: 4}, eos: true})
	return m
}

func TestTruncated(t *testing.T) {
	for name, s := range streams(t) {
		t.Run(name, func(t *testing.T) {
			step := len(s)/500 + 1
			for k := 0; k < len(s); k += step {
				checkTruncated(t, s[:k])
			}
			checkTruncated(t, s[:len(s)-1])
		})
	}
}

func checkTruncated(t *testing.T, b []byte) {
	t.Helper()
	if _, _, err := DecodeAlone(nil, b, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeAlone of %d bytes: err = %v", len(b), err)
	}
	if _, _, err := readerDecode(b, len(b)%2 == 0, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Reader of %d bytes: err = %v", len(b), err)
	}
	if !testing.Short() {
		if _, _, err := refDecode(b, 1<<30); err == nil {
			t.Fatalf("reference decoder accepted %d truncated bytes", len(b))
		}
	}
}

// TestCorrupt flips random bytes; decoding must not panic or hang, and
// whenever two decoders both succeed their outputs must agree.
func TestCorrupt(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	iters := 300
	if testing.Short() {
		iters = 60
	}
	for name, s := range streams(t) {
		for i := 0; i < iters; i++ {
			b := bytes.Clone(s)
			for k := 1 + r.IntN(3); k > 0; k-- {
				b[HeaderLen+r.IntN(len(b)-HeaderLen)] ^= byte(1 + r.IntN(255))
			}
			compareDecoders(t, name, b, 1<<20)
		}
	}
}

func compareDecoders(t *testing.T, name string, b []byte, maxOut int64) {
	t.Helper()
	got, n, err := DecodeAlone(nil, b, maxOut)
	if err == nil && (n > len(b) || int64(len(got)) > maxOut) {
		t.Fatalf("%s: consumed %d of %d, output %d", name, n, len(b), len(got))
	}
	zout, zn, zerr := readerDecodeMax(b, len(b)%3 == 0, 1<<20, maxOut)
	if err == nil && zerr == nil && (!bytes.Equal(got, zout) || int64(n) != zn) {
		t.Fatalf("%s: Decode and Reader disagree (len %d/%d, consumed %d/%d)", name, len(got), len(zout), n, zn)
	}
	ref, _, rerr := refDecode(b, maxOut+1)
	if rerr == nil && int64(len(ref)) <= maxOut {
		if err == nil && !bytes.Equal(got, ref) {
			t.Fatalf("%s: output differs from reference (len %d vs %d)", name, len(got), len(ref))
		}
		if err != nil && !errors.Is(err, ErrLimit) {
			t.Fatalf("%s: reference decoder succeeded (%d bytes) but Decode failed: %v", name, len(ref), err)
		}
	}
}

func TestDecodeRaw(t *testing.T) {
	data := genMixed(200000, 9)
	comp := compress(t, data, wcfg{props: Props{LC: 3, PB: 2}, sized: true})
	p, size, err := ParseHeader(comp)
	if err != nil || size != int64(len(data)) {
		t.Fatal(err, size)
	}
	raw := comp[HeaderLen:]
	out, n, err := Decode(nil, raw, p, size, 0)
	if err != nil || !bytes.Equal(out, data) || n != len(raw) {
		t.Fatalf("Decode: %v, equal=%v, consumed %d/%d", err, bytes.Equal(out, data), n, len(raw))
	}
	// Without an end marker the size must be known.
	if _, _, err = Decode(nil, raw, p, -1, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown size without end marker: err = %v", err)
	}
	// A shorter size yields the prefix, and an error because the stream
	// does not end there.
	for _, k := range []int64{1, 1000, 77777} {
		out, _, err := Decode(nil, raw, p, k, 0)
		if !bytes.Equal(out, data[:k]) || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix %d: equal=%v err=%v", k, bytes.Equal(out, data[:k]), err)
		}
	}
	// NewRawReader.
	z, err := NewRawReader(bytes.NewReader(raw), p, size, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(z)
	if err != nil || !bytes.Equal(got, data) || z.Consumed() != int64(len(raw)) {
		t.Fatalf("NewRawReader: %v equal=%v consumed %d/%d", err, bytes.Equal(got, data), z.Consumed(), len(raw))
	}
}

// TestConcatenated decodes streams carved one after the other out of a
// blob, using the consumed byte counts.
func TestConcatenated(t *testing.T) {
	var blob []byte
	var parts [][]byte
	for i, c := range []wcfg{{props: Props{LC: 3, PB: 2}, eos: true}, {props: Props{LC: 0, LP: 2}, sized: true}, {props: Props{LC: 3, PB: 2}, sized: true, eos: true}} {
		d := genMixed(50000+i*1000, uint64(i))
		parts = append(parts, d)
		blob = append(blob, compress(t, d, c)...)
	}
	off := 0
	for i, want := range parts {
		out, n, err := DecodeAlone(nil, blob[off:], 0)
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("part %d: %v", i, err)
		}
		z, err := NewReader(bytes.NewReader(blob[off:]), 0)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := io.ReadAll(z); err != nil || !bytes.Equal(out, want) || z.Consumed() != int64(n) {
			t.Fatalf("part %d reader: %v consumed %d/%d", i, err, z.Consumed(), n)
		}
		off += n
	}
	if off != len(blob) {
		t.Fatalf("consumed %d of %d", off, len(blob))
	}
}

func TestLimits(t *testing.T) {
	data := genText(100000, 11)
	eos := compress(t, data, wcfg{props: Props{LC: 3, PB: 2}, eos: true})
	sized := compress(t, data, wcfg{props: Props{LC: 3, PB: 2}, sized: true})
	for _, s := range [][]byte{eos, sized} {
		if _, _, err := DecodeAlone(nil, s, 99999); !errors.Is(err, ErrLimit) {
			t.Fatalf("maxOut: err = %v", err)
		}
		if out, _, err := DecodeAlone(nil, s, 100000); err != nil || !bytes.Equal(out, data) {
			t.Fatalf("maxOut exact: err = %v", err)
		}
	}
	// A header announcing a huge size (and dictionary) in front of little
	// data must not allocate accordingly.
	h := bytes.Clone(sized[:HeaderLen+200])
	binary.LittleEndian.PutUint32(h[1:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint64(h[5:], 1<<40)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, _, err := DecodeAlone(nil, h, 0)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge size: err = %v", err)
	}
	if _, _, err := readerDecode(h, false, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge size reader: err = %v", err)
	}
	runtime.ReadMemStats(&ms1)
	if a := ms1.TotalAlloc - ms0.TotalAlloc; a > 8<<20 {
		t.Fatalf("allocated %d bytes for a 213 byte input", a)
	}
	// Dictionary limit: matches reaching further back than the limit fail
	// with ErrLimit, not silently.
	far := append(genRandom(200000, 12), genRandom(200000, 12)...)
	fc := compress(t, far, wcfg{props: Props{LC: 3, PB: 2}, eos: true, dict: 1 << 20})
	if _, _, err := readerDecode(fc, false, 64<<10); !errors.Is(err, ErrLimit) {
		t.Fatalf("dict limit: err = %v", err)
	}
	if out, _, err := readerDecode(fc, false, 1<<20); err != nil || !bytes.Equal(out, far) {
		t.Fatalf("dict limit 1 MiB: err = %v", err)
	}
}

// TestZeroInput makes sure that an all-zero range coder input (which decodes
// without consuming bytes for a while) terminates.
func TestZeroInput(t *testing.T) {
	b := make([]byte, 4096)
	b[0] = 0x5d
	binary.LittleEndian.PutUint64(b[5:], ^uint64(0))
	done := make(chan struct{})
	go func() {
		defer close(done)
		DecodeAlone(nil, b, 1<<20)
		readerDecode(b, false, 0)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("hang")
	}
}

func TestReaderSmallReads(t *testing.T) {
	data := genMixed(150000, 13)
	comp := compress(t, data, wcfg{props: Props{LC: 3, PB: 2}, eos: true, dict: 4096})
	z, err := NewReader(bytes.NewReader(comp), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 13)
	for {
		n, err := z.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out, data) || z.Consumed() != int64(len(comp)) {
		t.Fatalf("equal=%v consumed %d/%d", bytes.Equal(out, data), z.Consumed(), len(comp))
	}
	if n, err := z.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after EOF: %d %v", n, err)
	}
	if cap(z.d.buf) > 8192 {
		t.Fatalf("window %d bytes for a 4 KiB dictionary", cap(z.d.buf))
	}
}
