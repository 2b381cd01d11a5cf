package compress

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"math"

	"github.com/fwaudit/fwaudit/extract/compress/lzma"
)

var crc64Table = crc64.MakeTable(crc64.ECMA)

var xzMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0}

// DecodeXZSingle is the fast path for a whole xz stream whose blocks use
// only LZMA2 — what mksquashfs -comp xz writes for each block: src must be
// the stream and nothing else. It is DecodeXZStream without a bound on the
// declared dictionary (the one-pass decoder holds no separate window).
//
// ok is false when the stream is anything else or does not verify (other
// filters such as BCJ, SHA-256 checks, trailing bytes, corrupt data): the
// caller then decodes src with the general decoder, which gives the same
// output or the error to report. So the fast path never changes what is
// extracted, only how fast.
func DecodeXZSingle(dst, src []byte, maxOut int) (out []byte, ok bool) {
	out, n, ok := DecodeXZStream(dst, src, maxOut, 0)
	if !ok || n != len(src) {
		return nil, false
	}
	return out, true
}

// DecodeXZStream decodes the xz stream at the start of src in one pass
// into dst[:0], with lzma's one-pass LZMA2 decoder, when each of its
// blocks has LZMA2 as its only filter and a CRC32, CRC64 or no check. It
// verifies everything xz-embedded (xi2/xz, the streaming decoder) does:
// the header and block header CRCs, the declared sizes, that no match
// reaches beyond the declared dictionary, block padding, each block's
// check, every index record, the index CRC and the footer. consumed is the
// stream's length through its footer; stream padding and whatever follows
// are the caller's.
//
// dictLimit, if not zero, refuses a block declaring a larger dictionary
// (the streaming decoder's memory bound). maxOut bounds the output.
//
// ok is false for anything else: the caller decodes src with the streaming
// decoder, which gives the same output or the error to report.
func DecodeXZStream(dst, src []byte, maxOut, dictLimit int) (out []byte, consumed int, ok bool) {
	if len(src) < 12+12+12 || !bytes.Equal(src[:6], xzMagic) {
		return nil, 0, false
	}
	flags := src[6:8]
	if flags[0] != 0 || crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(src[8:12]) {
		return nil, 0, false
	}
	var checkSize int
	switch flags[1] {
	case 0x00:
	case 0x01:
		checkSize = 4
	case 0x04:
		checkSize = 8
	default:
		return nil, 0, false
	}
	type record struct{ unpadded, usize uint64 }
	var records []record
	out = dst[:0]
	p := 12
	for {
		if p >= len(src) {
			return nil, 0, false
		}
		if src[p] == 0 {
			break // the index
		}
		bstart := len(out)
		n, hsize, ok := xzBlock(&out, src[p:], maxOut-len(out), dictLimit)
		if !ok {
			return nil, 0, false
		}
		p += hsize + n
		unpadded := hsize + n + checkSize
		for ; (p-12)%4 != 0; p++ {
			if p >= len(src) || src[p] != 0 {
				return nil, 0, false
			}
		}
		if p+checkSize > len(src) {
			return nil, 0, false
		}
		switch checkSize {
		case 4:
			if crc32.ChecksumIEEE(out[bstart:]) != binary.LittleEndian.Uint32(src[p:]) {
				return nil, 0, false
			}
		case 8:
			if crc64.Checksum(out[bstart:], crc64Table) != binary.LittleEndian.Uint64(src[p:]) {
				return nil, 0, false
			}
		}
		p += checkSize
		records = append(records, record{uint64(unpadded), uint64(len(out) - bstart)})
	}
	// index: a record per block
	ix := p
	q := p + 1
	var cnt, up, us uint64
	var good bool
	if cnt, q, good = vli(src, q); !good || cnt != uint64(len(records)) {
		return nil, 0, false
	}
	for _, r := range records {
		if up, q, good = vli(src, q); !good || up != r.unpadded {
			return nil, 0, false
		}
		if us, q, good = vli(src, q); !good || us != r.usize {
			return nil, 0, false
		}
	}
	for ; (q-ix)%4 != 0; q++ {
		if q >= len(src) || src[q] != 0 {
			return nil, 0, false
		}
	}
	if q+4 > len(src) || crc32.ChecksumIEEE(src[ix:q]) != binary.LittleEndian.Uint32(src[q:]) {
		return nil, 0, false
	}
	q += 4
	// footer
	if q+12 > len(src) {
		return nil, 0, false
	}
	f := src[q : q+12]
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f) ||
		binary.LittleEndian.Uint32(f[4:]) != uint32((q-ix)/4-1) ||
		!bytes.Equal(f[8:10], flags) || f[10] != 'Y' || f[11] != 'Z' {
		return nil, 0, false
	}
	return out, q + 12, true
}

// xzBlock decodes the block at the start of src (header and LZMA2 data,
// not its padding or check), appending at most maxOut bytes to *out. It
// returns the compressed data's size and the header's.
func xzBlock(out *[]byte, src []byte, maxOut, dictLimit int) (n, hsize int, ok bool) {
	hsize = (int(src[0]) + 1) * 4
	if src[0] == 0 || hsize > len(src) {
		return 0, 0, false
	}
	h := src[:hsize]
	if crc32.ChecksumIEEE(h[:hsize-4]) != binary.LittleEndian.Uint32(h[hsize-4:]) {
		return 0, 0, false
	}
	bf := h[1]
	if bf&0x3F != 0 { // one filter, no reserved bits
		return 0, 0, false
	}
	q := 2
	var csize, usize uint64
	var hasC, hasU, good bool
	if bf&0x40 != 0 {
		if csize, q, good = vli(h[:hsize-4], q); !good {
			return 0, 0, false
		}
		hasC = true
	}
	if bf&0x80 != 0 {
		if usize, q, good = vli(h[:hsize-4], q); !good {
			return 0, 0, false
		}
		hasU = true
	}
	var id, psize uint64
	if id, q, good = vli(h[:hsize-4], q); !good || id != 0x21 {
		return 0, 0, false
	}
	if psize, q, good = vli(h[:hsize-4], q); !good || psize != 1 || q >= hsize-4 {
		return 0, 0, false
	}
	dp := h[q]
	q++
	if dp > 40 {
		return 0, 0, false
	}
	dict := uint64(1)<<32 - 1
	if dp < 40 {
		dict = uint64(2|dp&1) << (dp/2 + 11)
	}
	if dictLimit > 0 && dict > uint64(dictLimit) {
		return 0, 0, false // the streaming decoder refuses it
	}
	for _, b := range h[q : hsize-4] {
		if b != 0 {
			return 0, 0, false
		}
	}
	start := len(*out)
	o, n, err := lzma.DecodeLZMA2Dict(*out, src[hsize:], maxOut, int(min(dict, uint64(math.MaxInt))))
	if err != nil {
		return 0, 0, false
	}
	*out = o
	if (hasC && csize != uint64(n)) || (hasU && usize != uint64(len(o)-start)) {
		return 0, 0, false
	}
	return n, hsize, true
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
