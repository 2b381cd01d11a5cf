package extract

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

func TestXZFixture(t *testing.T) {
	x := ctrFixture(t, "data.xz")
	want := ctrFixture(t, "data.txt")
	cases := []struct {
		name string
		data []byte
		end  int
	}{
		{"alone", x, len(x)},
		{"then random", append(bytes.Clone(x), ctrRandom(6, 200<<10)...), len(x)},
		{"then padding", append(bytes.Clone(x), 0, 0, 0, 0, 0, 0, 0, 0, 'Z'), len(x) + 8},
		{"odd zeros", append(bytes.Clone(x), 0, 0, 0, 0, 0, 0), len(x) + 4},
		{"then another xz", append(bytes.Clone(x), x...), len(x)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !(xzFormat{}).Identify(c.data) {
				t.Fatal("not identified")
			}
			w, n, err := ctrUnpack(t, "xz", c.data)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(c.end) {
				t.Errorf("consumed %d, want %d", n, c.end)
			}
			if !bytes.Equal(ctrOut(t, w, "data"), want) {
				t.Error("output differs from data.txt")
			}
		})
	}
}

func TestXZTruncatedAndIdentify(t *testing.T) {
	x := ctrFixture(t, "xz-truncated.xz")
	w, _, err := ctrUnpack(t, "xz", x)
	if err == nil {
		t.Error("no error for a truncated stream")
	}
	if w.Files() != 1 || w.Written() == 0 {
		t.Errorf("truncated stream: %d files, %d bytes; want the partial output", w.Files(), w.Written())
	}
	bad := bytes.Clone(ctrFixture(t, "data.xz"))
	bad[7] = 0x0a // check type changed: flags CRC no longer matches
	if (xzFormat{}).Identify(bad) {
		t.Error("identified with a wrong stream-flags CRC")
	}
	if (xzFormat{}).Identify(append(bytes.Clone(xzMagic), ctrRandom(7, 20)...)) {
		t.Error("identified random flags")
	}
	// a valid header with garbage after it is not an xz stream: nothing
	// is created.
	junk := append(bytes.Clone(ctrFixture(t, "data.xz")[:12]), ctrRandom(8, 4096)...)
	w, _, err = ctrUnpack(t, "xz", junk)
	if err == nil || w.Entries() != 0 {
		t.Errorf("garbage: err %v, entries %d", err, w.Entries())
	}
}

// TestXZLimitEnd: when a limit stops decoding, the stream's end is still
// found from its footer.
func TestXZLimitEnd(t *testing.T) {
	x := ctrFixture(t, "bomb.xz")
	data := append(bytes.Clone(x), "trailing"...)
	_, n, err := ctrUnpackLimits(t, "xz", data, Limits{MaxDepth: 4, MaxFileBytes: 1 << 20, MaxRatio: 10, MaxFiles: 10})
	if !IsLimit(err) {
		t.Fatalf("err = %v, want a limit", err)
	}
	if n != int64(len(x)) {
		t.Errorf("consumed %d, want %d", n, len(x))
	}
}

func FuzzXZ(f *testing.F) {
	// data.xz declares a 64 MiB LZMA2 dictionary, which the decoder
	// allocates for every input: add it with the smallest dictionary
	// (4 KiB, enough for its 1.6 kB), block header CRC32 fixed.
	small := bytes.Clone(ctrFixture(f, "data.xz"))
	if hs := (int(small[12]) + 1) * 4; len(small) > 12+hs && small[14] == 0x21 && small[15] == 1 {
		small[16] = 0
		binary.LittleEndian.PutUint32(small[12+hs-4:], crc32.ChecksumIEEE(small[12:12+hs-4]))
		f.Add(small)
	}
	f.Add(ctrFixture(f, "data.xz"))
	f.Add(ctrFixture(f, "xz-truncated.xz")[:2048])
	f.Fuzz(func(t *testing.T, data []byte) {
		if !(xzFormat{}).Identify(data) {
			return
		}
		fuzzCtr(t, "xz", data)
	})
}
