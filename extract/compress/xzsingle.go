package compress

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"

	"github.com/fwaudit/fwaudit/extract/compress/lzma"
)

var crc64Table = crc64.MakeTable(crc64.ECMA)

var xzMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0}

// DecodeXZSingle is the fast path for a whole xz stream of one block whose
// only filter is LZMA2 with a dictionary of at least maxOut bytes — what
// mksquashfs -comp xz writes for each block. It decodes with lzma's
// one-pass LZMA2 decoder into dst[:0] and verifies the block's check
// (CRC32 or CRC64), the index and the stream footer.
//
// ok is false when the stream is anything else or does not verify (other
// filters such as BCJ, SHA-256 checks, several blocks, trailing bytes,
// corrupt data): the caller then decodes src with the general decoder,
// which gives the same output or the error to report. So the fast path
// never changes what is extracted, only how fast.
func DecodeXZSingle(dst, src []byte, maxOut int) (out []byte, ok bool) {
	if len(src) < 12+12+12 || !bytes.Equal(src[:6], xzMagic) {
		return nil, false
	}
	flags := src[6:8]
	if flags[0] != 0 || crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(src[8:12]) {
		return nil, false
	}
	var checkSize int
	switch flags[1] {
	case 0x00:
	case 0x01:
		checkSize = 4
	case 0x04:
		checkSize = 8
	default:
		return nil, false
	}
	// block header
	p := 12
	hsize := (int(src[p]) + 1) * 4
	if src[p] == 0 || p+hsize > len(src) {
		return nil, false
	}
	h := src[p : p+hsize]
	if crc32.ChecksumIEEE(h[:hsize-4]) != binary.LittleEndian.Uint32(h[hsize-4:]) {
		return nil, false
	}
	bf := h[1]
	if bf&0x3F != 0 { // one filter, no reserved bits
		return nil, false
	}
	q := 2
	var csize, usize uint64 = 0, 0
	var hasC, hasU bool
	var good bool
	if bf&0x40 != 0 {
		if csize, q, good = vli(h[:hsize-4], q); !good {
			return nil, false
		}
		hasC = true
	}
	if bf&0x80 != 0 {
		if usize, q, good = vli(h[:hsize-4], q); !good {
			return nil, false
		}
		hasU = true
	}
	var id, psize uint64
	if id, q, good = vli(h[:hsize-4], q); !good || id != 0x21 {
		return nil, false
	}
	if psize, q, good = vli(h[:hsize-4], q); !good || psize != 1 || q >= hsize-4 {
		return nil, false
	}
	dp := h[q]
	q++
	if dp > 40 {
		return nil, false
	}
	if dp < 40 && uint64(2|dp&1)<<(dp/2+11) < uint64(maxOut) {
		return nil, false // matches could reach further back than the declared dictionary
	}
	for _, b := range h[q : hsize-4] {
		if b != 0 {
			return nil, false
		}
	}
	p += hsize
	out, n, err := lzma.DecodeLZMA2(dst[:0], src[p:], maxOut)
	if err != nil {
		return nil, false
	}
	if (hasC && csize != uint64(n)) || (hasU && usize != uint64(len(out))) {
		return nil, false
	}
	p += n
	unpadded := hsize + n + checkSize
	for ; (p-12)%4 != 0; p++ {
		if p >= len(src) || src[p] != 0 {
			return nil, false
		}
	}
	if p+checkSize > len(src) {
		return nil, false
	}
	switch checkSize {
	case 4:
		if crc32.ChecksumIEEE(out) != binary.LittleEndian.Uint32(src[p:]) {
			return nil, false
		}
	case 8:
		if crc64.Checksum(out, crc64Table) != binary.LittleEndian.Uint64(src[p:]) {
			return nil, false
		}
	}
	p += checkSize
	// index: one record of this block
	ix := p
	if p >= len(src) || src[p] != 0 {
		return nil, false
	}
	q = p + 1
	var cnt, up, us uint64
	if cnt, q, good = vli(src, q); !good || cnt != 1 {
		return nil, false
	}
	if up, q, good = vli(src, q); !good || up != uint64(unpadded) {
		return nil, false
	}
	if us, q, good = vli(src, q); !good || us != uint64(len(out)) {
		return nil, false
	}
	for ; (q-ix)%4 != 0; q++ {
		if q >= len(src) || src[q] != 0 {
			return nil, false
		}
	}
	if q+4 > len(src) || crc32.ChecksumIEEE(src[ix:q]) != binary.LittleEndian.Uint32(src[q:]) {
		return nil, false
	}
	q += 4
	// footer
	if q+12 != len(src) {
		return nil, false
	}
	f := src[q:]
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f) ||
		binary.LittleEndian.Uint32(f[4:]) != uint32((q-ix)/4-1) ||
		!bytes.Equal(f[8:10], flags) || f[10] != 'Y' || f[11] != 'Z' {
		return nil, false
	}
	return out, true
}

// vli decodes an xz variable-length integer at b[p:].
func vli(b []byte, p int) (uint64, int, bool) {
	var v uint64
	for i := 0; i < 9; i++ {
		if p >= len(b) {
			return 0, p, false
		}
		c := b[p]
		p++
		v |= uint64(c&0x7F) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				return 0, p, false
			}
			return v, p, true
		}
	}
	return 0, p, false
}
