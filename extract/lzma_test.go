package extract

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestLZMAFixture(t *testing.T) {
	x := ctrFixture(t, "data.lzma")
	if !(lzmaFormat{}).Identify(x) {
		t.Fatal("not identified")
	}
	w, n, err := ctrUnpack(t, "lzma", x)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 13 || n > int64(len(x)) {
		t.Errorf("consumed %d of %d", n, len(x))
	}
	if !bytes.Equal(ctrOut(t, w, "data"), ctrFixture(t, "data.txt")) {
		t.Error("output differs from data.txt")
	}
	// the magics cover the fixture's header
	found := false
	for _, m := range (lzmaFormat{}).Magics() {
		found = found || bytes.HasPrefix(x, m.Bytes)
	}
	if !found {
		t.Errorf("no magic matches the header % x", x[:5])
	}
}

func TestLZMAIdentify(t *testing.T) {
	hdr := func(props byte, dict uint32, size uint64, first byte) []byte {
		b := []byte{props}
		b = binary.LittleEndian.AppendUint32(b, dict)
		b = binary.LittleEndian.AppendUint64(b, size)
		return append(b, first, 1, 2, 3)
	}
	cases := []struct {
		name string
		h    []byte
		want bool
	}{
		{"8M unknown size", hdr(0x5d, 8<<20, ^uint64(0), 0), true},
		{"3M known size", hdr(0x5d, 3<<20, 1<<20, 0), true},
		{"props 0", hdr(0, 1<<16, 100, 0), true},
		{"props 225", hdr(225, 1<<16, 100, 0), false},
		{"lc+lp > 8", hdr(8+4*9, 1<<16, 100, 0), false},
		{"odd dict", hdr(0x5d, 5<<20, 100, 0), false},
		{"dict 1K", hdr(0x5d, 1<<10, 100, 0), false},
		// a dictionary above the decoder bound is taken (and clamped)
		{"dict 256M", hdr(0x5d, 256<<20, 100, 0), true},
		{"dict 1G", hdr(0x5d, 1<<30, ^uint64(0), 0), true},
		{"dict 4G-1", hdr(0x5d, 1<<32-1, 100, 0), false},
		{"size 0", hdr(0x5d, 1<<20, 0, 0), false},
		{"size 2G", hdr(0x5d, 1<<20, 2<<30, 0), false},
		{"first byte", hdr(0x5d, 1<<20, 100, 1), false},
	}
	for _, c := range cases {
		if got := (lzmaFormat{}).Identify(c.h); got != c.want {
			t.Errorf("%s: Identify = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestLZMAGarbage: a plausible header over random data is dropped
// (ErrNotFormat, nothing created).
func TestLZMAGarbage(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		data := append([]byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, ctrRandom(seed, 8192)...)
		w, _, err := ctrUnpack(t, "lzma", data)
		if err == nil {
			t.Fatalf("seed %d: random data decoded without error", seed)
		}
		if w.Entries() != 0 {
			t.Errorf("seed %d: %d entries for random data (err %v)", seed, w.Entries(), err)
		}
	}
}

func FuzzLZMA(f *testing.F) {
	f.Add(ctrFixture(f, "data.lzma"))
	f.Add(ctrFixture(f, "tplink.bin")[0x200:0x1200])
	f.Fuzz(func(t *testing.T, data []byte) {
		if !(lzmaFormat{}).Identify(data) {
			return
		}
		fuzzCtr(t, "lzma", data)
	})
}
