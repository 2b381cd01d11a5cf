package compress

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"

	uxz "github.com/ulikunitz/xz"
	xi2 "github.com/xi2/xz"
)

// xz: xi2/xz (a port of xz-embedded) is the fast decoder, with
// DecodeXZSingle's one-pass path for SquashFS blocks; ulikunitz/xz
// ("xz-ref") is the reference.
func init() {
	Register(Codec{Name: "xz", Rank: 20,
		Magics: [][]byte{xzMagic},
		Kernel: [][]byte{xzMagic},
		FIT:    "xz",
		Window: xzWindow,
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			if out, ok := DecodeXZSingle(dst, src, maxOut); ok {
				return out, nil
			}
			zr, err := xi2.NewReader(bytes.NewReader(src), DictLimit)
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := xi2.NewReader(r, DictLimit)
			if err != nil {
				return nil, err
			}
			zr.Multistream(false)
			return nopCloser(zr), nil
		}})
	Register(Codec{Name: "xz-ref",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := uxz.ReaderConfig{DictCap: DictLimit, SingleStream: true}.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := uxz.ReaderConfig{DictCap: DictLimit, SingleStream: true}.NewReader(r)
			if err != nil {
				return nil, err
			}
			return nopCloser(zr), nil
		}})
}

// XZMagic is the xz stream header's magic.
func XZMagic() []byte { return bytes.Clone(xzMagic) }

// xzWindow lowers the LZMA2 dictionary of the first block's filter to
// DictLimit (and fixes the block header's CRC32) when it declares more.
// Later blocks are left alone.
func xzWindow(r io.ReaderAt, size int64) (int64, []byte, uint64, bool) {
	const at = 12 // block header after the stream header
	b0 := ReadHeader(r, at, size, 1)
	if len(b0) < 1 || b0[0] == 0 {
		return 0, nil, 0, false
	}
	hlen := (int(b0[0]) + 1) * 4
	hdr := ReadHeader(r, at, size, hlen)
	if len(hdr) < hlen || crc32.ChecksumIEEE(hdr[:hlen-4]) != binary.LittleEndian.Uint32(hdr[hlen-4:]) {
		return 0, nil, 0, false
	}
	flags := hdr[1]
	p := 2
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && p < hlen-4; i++ {
			c := hdr[p]
			p++
			v |= uint64(c&0x7f) << (7 * i)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 {
		if _, ok := varint(); !ok {
			return 0, nil, 0, false
		}
	}
	if flags&0x80 != 0 {
		if _, ok := varint(); !ok {
			return 0, nil, 0, false
		}
	}
	for f := 0; f <= int(flags&3); f++ {
		id, ok1 := varint()
		n, ok2 := varint()
		if !ok1 || !ok2 || p+int(n) > hlen-4 {
			return 0, nil, 0, false
		}
		if id == 0x21 && n == 1 { // LZMA2: one byte of dictionary size
			db := hdr[p]
			if db > 40 {
				return 0, nil, 0, false
			}
			declared := uint64(2|uint64(db&1)) << (db/2 + 11)
			if db == 40 {
				declared = 1<<32 - 1
			}
			if declared <= DictLimit {
				return 0, nil, 0, false
			}
			limit := byte(0)
			for uint64(2|uint64(limit&1))<<(limit/2+11) < DictLimit {
				limit++
			}
			patched := append([]byte(nil), hdr...)
			patched[p] = limit
			binary.LittleEndian.PutUint32(patched[hlen-4:], crc32.ChecksumIEEE(patched[:hlen-4]))
			return at, patched, declared, true
		}
		p += int(n)
	}
	return 0, nil, 0, false
}
