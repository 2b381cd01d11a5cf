package compress

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"io"
	"testing"
)

// decodeLzop reads a whole lzop file.
func decodeLzop(z []byte) ([]byte, error) {
	c, _ := Get("lzop")
	r, err := c.Stream(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// The files made by the real lzop tool (build-lzop.sh: -9 with Adler-32,
// -1 --crc32) decode to the tool's input.
func TestLzopToolFixtures(t *testing.T) {
	want := fixture(t, "data.txt")
	for _, name := range []string{"data.lzo", "data-crc.lzo"} {
		got, err := decodeLzop(fixture(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s decoded %d bytes, want %d identical to data.txt", name, len(got), len(want))
		}
		c, _ := Get("lzop")
		blk, err := c.Block(nil, fixture(t, name), 1<<20)
		if err != nil || !bytes.Equal(blk, want) {
			t.Errorf("%s: block decode differs (%v)", name, err)
		}
		if _, err := c.Block(nil, fixture(t, name), 100); err != ErrTooLarge {
			t.Errorf("%s: block decode past maxOut: err = %v, want ErrTooLarge", name, err)
		}
	}
}

// ctrLzopA is an LZO1X block decoding to 34 'A's: one literal, a match of
// 33 at distance 1, the end marker.
var ctrLzopA = []byte{18, 'A', 0x20 | 31, 0, 0, 0x11, 0, 0}

// ctrLzop builds an lzop file: an LZO1X block (34 'A's), then data in
// stored blocks of up to 200 bytes, with Adler-32 checksums of the
// decompressed blocks. It returns the file and what it decodes to.
func ctrLzop(data []byte) ([]byte, []byte) {
	out := append([]byte(nil), lzopMagic...)
	be := binary.BigEndian
	out = be.AppendUint16(out, 0x1030)       // version
	out = be.AppendUint16(out, 0x2080)       // lib version
	out = be.AppendUint16(out, 0x0940)       // version needed
	out = append(out, 1, 5)                  // method LZO1X_1, level
	out = be.AppendUint32(out, lzopAdler32D) // flags
	out = be.AppendUint32(out, 0o100644)     // mode
	out = be.AppendUint32(out, 0)            // mtime low
	out = be.AppendUint32(out, 0)            // mtime high
	out = append(out, 1, 'x')                // name
	out = be.AppendUint32(out, 0)            // header checksum (not checked)
	a := bytes.Repeat([]byte("A"), 34)
	out = be.AppendUint32(out, 34)
	out = be.AppendUint32(out, uint32(len(ctrLzopA)))
	out = be.AppendUint32(out, adler32.Checksum(a))
	out = append(out, ctrLzopA...)
	want := append(a, data...)
	for len(data) > 0 {
		n := min(len(data), 200)
		blk := data[:n]
		data = data[n:]
		out = be.AppendUint32(out, uint32(n))
		out = be.AppendUint32(out, uint32(n))
		out = be.AppendUint32(out, adler32.Checksum(blk))
		out = append(out, blk...)
	}
	return be.AppendUint32(out, 0), want
}

// Stored blocks (compressed size = decompressed size) and their checksums.
func TestLzopStoredBlocks(t *testing.T) {
	z, want := ctrLzop(fixture(t, "data.txt"))
	got, err := decodeLzop(z)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("lzop decoded %d bytes, want %d", len(got), len(want))
	}
	bad := bytes.Clone(z)
	bad[len(bad)-10] ^= 0x40
	if _, err := decodeLzop(bad); err == nil {
		t.Fatal("corrupted lzop data decoded without error")
	}
}

// Hostile headers and block sizes are errors, not allocations.
func TestLzopHostile(t *testing.T) {
	z := fixture(t, "data.lzo")
	for name, mut := range map[string]func([]byte) []byte{
		"bad magic":   func(b []byte) []byte { b[1] = 'X'; return b },
		"method 9":    func(b []byte) []byte { b[15] = 9; return b },
		"header only": func(b []byte) []byte { return b[:20] },
		"huge block": func(b []byte) []byte {
			// the first block's decompressed size, after the 8-byte name
			// and header checksum (see build-lzop.sh's header)
			binary.BigEndian.PutUint32(b[0x2a+4:], 1<<30)
			return b
		},
	} {
		if _, err := decodeLzop(mut(bytes.Clone(z))); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// FuzzLzop: any input decodes or fails; never a panic, never more than the
// bound per block.
func FuzzLzop(f *testing.F) {
	f.Add(fixture(f, "data.lzo"))
	f.Add(fixture(f, "data-crc.lzo"))
	z, _ := ctrLzop([]byte("0123456789"))
	f.Add(z)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := Get("lzop")
		r, err := c.Stream(bytes.NewReader(data))
		if err != nil {
			return
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(r, 8<<20))
		if n > int64(len(data))*256+lzopMaxBlock {
			t.Fatalf("decoded %d bytes from %d", n, len(data))
		}
	})
}
