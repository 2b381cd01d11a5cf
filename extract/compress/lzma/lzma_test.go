package lzma

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	ulzma "github.com/ulikunitz/xz/lzma"
)

// ---- data generators ----

func genRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var words = []string{"the", "firmware", "kernel", "squashfs", "partition", "bootloader",
	"image", "flash", "0x1000", "uImage", "rootfs", "lzma", "compressed", "block",
	"header", "vendor", "device", "config", "=", "\n", "  ", "/etc/init.d/rcS", "busybox"}

func genText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(3) == 0 {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func genRepetitive(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, 0, n)
	for len(b) < n {
		switch r.IntN(4) {
		case 0: // run of one byte
			c := byte(r.Uint32())
			for k := r.IntN(600); k > 0; k-- {
				b = append(b, c)
			}
		case 1: // short period pattern
			per := 1 + r.IntN(7)
			pat := make([]byte, per)
			for i := range pat {
				pat[i] = byte(r.Uint32())
			}
			for k := r.IntN(500); k > 0; k-- {
				b = append(b, pat[k%per])
			}
		case 2: // copy from far back
			if len(b) > 10 {
				off := r.IntN(len(b))
				l := r.IntN(300)
				for k := 0; k < l; k++ {
					b = append(b, b[off+k])
				}
			}
		default:
			b = append(b, byte(r.Uint32()), byte(r.Uint32()))
		}
	}
	return b[:n]
}

// genMixed imitates a firmware image: code-like binary, text, tables, padding.
func genMixed(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 4))
	b := make([]byte, 0, n)
	for len(b) < n {
		k := 4096 + r.IntN(64<<10)
		switch r.IntN(5) {
		case 0:
			b = append(b, genText(k, r.Uint64())...)
		case 1:
			b = append(b, genRepetitive(k, r.Uint64())...)
		case 2: // "machine code": 32-bit words with structured opcodes
			for i := 0; i < k/4; i++ {
				op := uint32(r.IntN(16))<<26 | uint32(r.IntN(32))<<21 | uint32(r.IntN(256))
				b = append(b, byte(op), byte(op>>8), byte(op>>16), byte(op>>24))
			}
		case 3: // erased flash
			for i := 0; i < k/8; i++ {
				b = append(b, 0xFF)
			}
		default:
			b = append(b, genRandom(k/8, r.Uint64())...)
		}
	}
	return b[:n]
}

// ---- reference helpers ----

type wcfg struct {
	props  Props
	eos    bool // write an end marker
	sized  bool // size in header
	dict   int
	suffix int // bytes of trailing garbage appended after the stream
}

func (c wcfg) String() string {
	return fmt.Sprintf("lc%d_lp%d_pb%d_eos%v_sized%v_dict%d", c.props.LC, c.props.LP, c.props.PB, c.eos, c.sized, c.dict)
}

func compress(tb testing.TB, data []byte, c wcfg) []byte {
	tb.Helper()
	var buf bytes.Buffer
	wc := ulzma.WriterConfig{
		Properties: &ulzma.Properties{LC: c.props.LC, LP: c.props.LP, PB: c.props.PB},
		DictCap:    c.dict,
		EOSMarker:  c.eos,
	}
	if c.sized {
		wc.SizeInHeader = true
		wc.Size = int64(len(data))
	}
	w, err := wc.NewWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// refDecode decodes with ulikunitz/xz and reports the bytes it consumed.
func refDecode(b []byte, maxOut int64) ([]byte, int, error) {
	br := bytes.NewReader(b)
	// ulikunitz allocates the whole dictionary up front; keep it small
	// for arbitrary input (it then rejects larger header dictionaries).
	dictCap := 1 << 26
	if maxOut < 1<<20 {
		dictCap = 1 << 20
	}
	r, err := ulzma.ReaderConfig{DictCap: dictCap}.NewReader(br)
	if err != nil {
		return nil, 0, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxOut))
	return out, len(b) - br.Len(), err
}

// smallReader hands out data in small, irregular pieces.
type smallReader struct {
	b []byte
	i int
}

func (s *smallReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := 1 + s.i%7
	s.i++
	n = min(n, len(p), len(s.b))
	copy(p, s.b[:n])
	s.b = s.b[n:]
	return n, nil
}

func readerDecode(b []byte, small bool, dictLimit int64) ([]byte, int64, error) {
	return readerDecodeMax(b, small, dictLimit, 1<<40)
}

// readerDecodeMax decodes with Reader, failing with ErrLimit once more than
// maxOut bytes were produced.
func readerDecodeMax(b []byte, small bool, dictLimit, maxOut int64) ([]byte, int64, error) {
	var src io.Reader = bytes.NewReader(b)
	if small {
		src = &smallReader{b: b}
	}
	z, err := NewReader(src, dictLimit)
	if err != nil {
		return nil, 0, err
	}
	var out bytes.Buffer
	buf := make([]byte, 1000)
	for {
		n, err := z.Read(buf)
		out.Write(buf[:n])
		if int64(out.Len()) > maxOut {
			return out.Bytes(), z.Consumed(), ErrLimit
		}
		if err == io.EOF {
			return out.Bytes(), z.Consumed(), nil
		}
		if err != nil {
			return out.Bytes(), z.Consumed(), err
		}
	}
}

func checkAll(t *testing.T, data []byte, c wcfg) {
	t.Helper()
	comp := compress(t, data, c)
	stream := append(comp[:len(comp):len(comp)], bytes.Repeat([]byte{0xA5}, c.suffix)...)
	ref, refN, err := refDecode(stream, 1<<40)
	if err != nil {
		t.Fatalf("%v: reference decoder: %v", c, err)
	}
	if !bytes.Equal(ref, data) {
		t.Fatalf("%v: reference decoder output differs from input", c)
	}
	if refN != len(comp) {
		t.Logf("%v: reference consumed %d of %d", c, refN, len(comp))
	}
	got, n, err := DecodeAlone(nil, stream, 0)
	if err != nil {
		t.Fatalf("%v: DecodeAlone: %v", c, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%v: DecodeAlone output differs (len %d vs %d)", c, len(got), len(data))
	}
	if n != len(comp) || n != refN {
		t.Fatalf("%v: DecodeAlone consumed %d, stream length %d, reference %d", c, n, len(comp), refN)
	}
	// Appending to a non-empty dst must keep the prefix and not let
	// matches reach into it.
	prefix := []byte("prefix-")
	got, _, err = DecodeAlone(append([]byte(nil), prefix...), stream, 0)
	if err != nil || !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], data) {
		t.Fatalf("%v: DecodeAlone with prefix: err=%v", c, err)
	}
	for _, small := range []bool{false, true} {
		if small && len(data) > 1<<20 {
			continue
		}
		got, zn, err := readerDecode(stream, small, 0)
		if err != nil {
			t.Fatalf("%v: Reader(small=%v): %v", c, small, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%v: Reader(small=%v) output differs (len %d vs %d)", c, small, len(got), len(data))
		}
		if zn != int64(len(comp)) {
			t.Fatalf("%v: Reader(small=%v) consumed %d, want %d", c, small, zn, len(comp))
		}
	}
}

func TestAgainstReference(t *testing.T) {
	gens := []struct {
		name string
		f    func(int, uint64) []byte
	}{{"random", genRandom}, {"text", genText}, {"repetitive", genRepetitive}, {"mixed", genMixed}}
	sizes := []int{0, 1, 2, 17, 300, 5000, 70000, 300000}
	cfgs := []wcfg{
		{props: Props{LC: 3, LP: 0, PB: 2}, eos: true},
		{props: Props{LC: 3, LP: 0, PB: 2}, sized: true},
		{props: Props{LC: 3, LP: 0, PB: 2}, sized: true, eos: true, suffix: 9},
		{props: Props{LC: 0, LP: 2, PB: 0}, eos: true, suffix: 100},
		{props: Props{LC: 1, LP: 2, PB: 0}, sized: true},
		{props: Props{LC: 8, LP: 4, PB: 4}, eos: true},
		{props: Props{LC: 4, LP: 4, PB: 1}, sized: true, eos: true},
		{props: Props{LC: 3, LP: 0, PB: 2}, eos: true, dict: 4096, suffix: 70},
	}
	for _, g := range gens {
		for _, n := range sizes {
			for i, c := range cfgs {
				if testing.Short() && n > 70000 && i > 1 {
					continue
				}
				if n == 0 && c.sized && !c.eos {
					continue // ulikunitz's writer cannot produce this; see TestEmpty
				}
				t.Run(fmt.Sprintf("%s_%d_%v", g.name, n, c), func(t *testing.T) {
					checkAll(t, g.f(n, uint64(n)*31+uint64(i)), c)
				})
			}
		}
	}
}

func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	data := genMixed(6<<20, 42)
	checkAll(t, data, wcfg{props: Props{LC: 3, LP: 0, PB: 2}, eos: true, dict: 1 << 20})
	checkAll(t, data, wcfg{props: Props{LC: 0, LP: 2, PB: 0}, sized: true, dict: 1 << 16})
}
