package extract

import (
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// A stream may declare a window or dictionary far larger than the decoders
// accept (zstd --long=31, xz or LZMA-alone with a 1 GiB dictionary) while
// its data is small: declaring it must not hide the stream. No match can
// reach further back than the output so far, so a decoder with a smaller
// window decodes the stream exactly as long as the output fits in that
// window; past it, a match that reaches further is a decoding error, which
// is reported on the layer like any other. The functions below rewrite the
// declared size down to compress.DictLimit in a view of the stream and say
// so (the caller records an anomaly).

// patchedReaderAt is r with the bytes at off replaced by b.
type patchedReaderAt struct {
	r   io.ReaderAt
	off int64
	b   []byte
}

func (p patchedReaderAt) ReadAt(buf []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(buf, off)
	for i := range p.b {
		if at := p.off + int64(i) - off; at >= 0 && at < int64(n) {
			buf[at] = p.b[i]
		}
	}
	return n, err
}

// windowAnomaly records that a declared window was clamped.
func windowAnomaly(w *Writer, format string, declared uint64) {
	w.Anomaly(AnomalyLimit, "", "the "+format+" stream declares a window/dictionary of "+humanBytes(declared)+
		", more than the decoder's bound of "+humanBytes(compress.DictLimit)+
		"; decoded with that bound (exact while the output fits in it; a longer match is reported as an error)")
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return itoa(n>>30) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// clampZstdWindow returns r with the first frame's window descriptor
// lowered to DictLimit when it declares more.
func clampZstdWindow(r io.ReaderAt, size int64, w *Writer) io.ReaderAt {
	h := readHeader(r, 0, size, 6)
	if len(h) < 6 || h[4]&0x20 != 0 { // single segment: no window descriptor
		return r
	}
	wd := h[5]
	wlog := 10 + uint(wd>>3)
	declared := (uint64(1) << wlog) + (uint64(1)<<wlog)/8*uint64(wd&7)
	if declared <= compress.DictLimit {
		return r
	}
	limitLog := uint(0)
	for uint64(1)<<(limitLog+1) <= compress.DictLimit {
		limitLog++
	}
	windowAnomaly(w, "zstd", declared)
	return patchedReaderAt{r, 5, []byte{byte((limitLog - 10) << 3)}}
}

// clampLZMADict returns r with an LZMA-alone header's dictionary size
// lowered to DictLimit when it declares more.
func clampLZMADict(r io.ReaderAt, size int64, w *Writer) io.ReaderAt {
	h := readHeader(r, 0, size, 5)
	if len(h) < 5 {
		return r
	}
	d := binary.LittleEndian.Uint32(h[1:])
	if uint64(d) <= compress.DictLimit {
		return r
	}
	windowAnomaly(w, "LZMA", uint64(d))
	return patchedReaderAt{r, 1, binary.LittleEndian.AppendUint32(nil, compress.DictLimit)}
}

// clampXZDict returns r with the LZMA2 dictionary of the first block's
// filter lowered to DictLimit (and the block header's CRC32 fixed) when it
// declares more. Later blocks are left alone.
func clampXZDict(r io.ReaderAt, size int64, w *Writer) io.ReaderAt {
	const at = 12 // block header after the stream header
	b0 := readHeader(r, at, size, 1)
	if len(b0) < 1 || b0[0] == 0 {
		return r
	}
	hlen := (int(b0[0]) + 1) * 4
	hdr := readHeader(r, at, size, hlen)
	if len(hdr) < hlen || crc32.ChecksumIEEE(hdr[:hlen-4]) != binary.LittleEndian.Uint32(hdr[hlen-4:]) {
		return r
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
			return r
		}
	}
	if flags&0x80 != 0 {
		if _, ok := varint(); !ok {
			return r
		}
	}
	for f := 0; f <= int(flags&3); f++ {
		id, ok1 := varint()
		n, ok2 := varint()
		if !ok1 || !ok2 || p+int(n) > hlen-4 {
			return r
		}
		if id == 0x21 && n == 1 { // LZMA2: one byte of dictionary size
			db := hdr[p]
			if db > 40 {
				return r
			}
			declared := uint64(2|uint64(db&1)) << (db/2 + 11)
			if db == 40 {
				declared = 1<<32 - 1
			}
			if declared <= compress.DictLimit {
				return r
			}
			limit := byte(0)
			for uint64(2|uint64(limit&1))<<(limit/2+11) < compress.DictLimit {
				limit++
			}
			windowAnomaly(w, "xz", declared)
			patched := append([]byte(nil), hdr...)
			patched[p] = limit
			binary.LittleEndian.PutUint32(patched[hlen-4:], crc32.ChecksumIEEE(patched[:hlen-4]))
			return patchedReaderAt{r, at, patched}
		}
		p += int(n)
	}
	return r
}
