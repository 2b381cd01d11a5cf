package compress

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"

	"github.com/fwaudit/fwaudit/extract/compress/lzma"
	ulzma "github.com/ulikunitz/xz/lzma"
)

// lzma: LZMA-alone (13-byte header). Our own decoder is the fast one;
// ulikunitz/xz/lzma ("lzma-ref") is the reference. LZMA-alone has no magic:
// it is sniffed by LZMAHeaderOK, after every codec that has one.
func init() {
	Register(Codec{Name: "lzma", Rank: 30, Weak: true, Label: "LZMA",
		Magics: [][]byte{{0x5d, 0x00, 0x00}},
		Sniff:  LZMAHeaderOK,
		Kernel: [][]byte{{0x5d, 0x00, 0x00}},
		UImage: 3, FIT: "lzma",
		Window: lzmaWindow,
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			out, _, err := lzma.DecodeAlone(dst[:0], src, int64(maxOut))
			return out, err
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := lzma.NewReader(r, DictLimit)
			if err != nil {
				return nil, err
			}
			return nopCloser(zr), nil
		}})
	Register(Codec{Name: "lzma-ref",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := ulzma.ReaderConfig{DictCap: DictLimit}.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := ulzma.ReaderConfig{DictCap: DictLimit}.NewReader(r)
			if err != nil {
				return nil, err
			}
			return nopCloser(zr), nil
		}})
}

// LZMAHeaderOK checks an LZMA-alone header: valid properties (< 225, and
// lc+lp <= 8 with lp <= 4), a dictionary of 2^n or 2^n+2^(n-1) bytes
// between 4 KiB and 2 GiB, an uncompressed size that is unknown (-1) or
// between 1 byte and 1 GiB, and a zero first byte of range-coded data
// (the encoder always emits one).
func LZMAHeaderOK(h []byte) bool {
	if len(h) < 14 {
		return false
	}
	p := h[0]
	if p >= 9*5*5 {
		return false
	}
	lc, lp := int(p%9), int(p/9%5)
	if lc+lp > 8 {
		return false
	}
	d := binary.LittleEndian.Uint32(h[1:5])
	if d < 4<<10 || d > 1<<31 {
		return false
	}
	if rest := d &^ (1 << (31 - bits.LeadingZeros32(d))); rest != 0 && rest != 1<<(30-bits.LeadingZeros32(d)) {
		return false
	}
	u := binary.LittleEndian.Uint64(h[5:13])
	if u != ^uint64(0) && (u == 0 || u > 1<<30) {
		return false
	}
	return h[13] == 0
}

// lzmaWindow lowers an LZMA-alone header's dictionary size to DictLimit
// when it declares more.
func lzmaWindow(r io.ReaderAt, size int64) (int64, []byte, uint64, bool) {
	h := ReadHeader(r, 0, size, 5)
	if len(h) < 5 {
		return 0, nil, 0, false
	}
	d := binary.LittleEndian.Uint32(h[1:])
	if uint64(d) <= DictLimit {
		return 0, nil, 0, false
	}
	return 1, binary.LittleEndian.AppendUint32(nil, DictLimit), uint64(d), true
}
