package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync/atomic"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// xzFormat is one .xz stream (the xz command's format).
type xzFormat struct{}

func init() { Register(xzFormat{}) }

var xzMagic = compress.XZMagic()

func (xzFormat) Name() string { return "xz" }
func (xzFormat) Kind() Kind   { return Stream }

var xzMagics = codecMagics("xz")

func (xzFormat) Magics() []Magic { return xzMagics }

// Identify checks the stream flags (reserved bits zero, a known check type)
// and their CRC32.
func (xzFormat) Identify(h []byte) bool {
	if len(h) < 12 || !bytes.Equal(h[:6], xzMagic) {
		return false
	}
	return xzFlagsOK(h[6:8]) && crc32.ChecksumIEEE(h[6:8]) == binary.LittleEndian.Uint32(h[8:12])
}

func xzFlagsOK(f []byte) bool {
	return f[0] == 0 && f[1]&0xf0 == 0
}

func (xzFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (xzFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	hdr := readAtMost(r, 0, size, 12)
	if !(xzFormat{}).Identify(hdr) {
		return 0, ErrNotFormat
	}
	// a stream not decoded ahead is decoded whole in one pass when it can be
	var d *predecoded
	if pre := w.pre; (pre == nil || pre.codec != "xz" || w.preUsed) && ctx.Err() == nil {
		d = decodeXZWhole(r, 0, size, xzWholeMaxOut, nil, 0)
	}
	var written, consumed int64
	var err error
	if d != nil && w.fits(int64(len(d.data))) {
		written, consumed, err = writeWhole(w, "data", d)
	} else {
		written, consumed, err = writeDecoded(ctx, "xz", io.NewSectionReader(clampWindow("xz", r, size, w), 0, size), w, "data")
	}
	switch {
	case err != nil && !IsLimit(err) && written > 0:
		// the decoder may reject what follows a complete stream (stream
		// padding that is not a multiple of 4 bytes): if the stream's
		// index accounts for every byte written, the stream is whole.
		if end, total := xzStreamEndTotal(r, size, consumed-xzLookBack, consumed, hdr[6:8]); end > 0 && total == written {
			return end, nil
		}
	case err == nil:
		// the decoder read ahead: the footer is at most that far.
		if end := xzStreamEnd(r, size, consumed-xzLookBack, consumed, hdr[6:8]); end > 0 {
			return end, nil
		}
	case IsLimit(err):
		// stopped early: the stream goes on; find where it ends.
		if end := xzStreamEnd(r, size, consumed-xzLookBack, size, hdr[6:8]); end > 0 {
			return end, err
		}
	}
	return consumed, err
}

// The one-pass path (compress.DecodeXZStream: lzma's one-pass LZMA2
// decoder, about 1.45x xi2's speed on a Debian data.tar.xz) takes an xz
// stream that ends its blob (perhaps with stream padding), of at most
// xzWholeMaxIn compressed bytes and, as its index records,
// xzWholeMaxOut decoded ones, both held in memory. Any stream it cannot
// prove whole and clean (other filters, SHA-256 checks, dictionaries
// larger than DictLimit, corrupt or truncated data, other sizes than the
// index records) goes to the streaming decoder as before, which writes the
// same bytes or reports the error.
const (
	xzWholeMaxIn  = 16 << 20
	xzWholeMaxOut = 32 << 20
)

// xzOnePass turns the one-pass path off (tests compare the two);
// xzWholeDecoded counts the streams it decoded.
var (
	xzOnePass      = true
	xzWholeDecoded atomic.Int64
)

// decodeXZWhole decodes the xz stream at off in r (size bytes in all) in
// one pass into at most maxOut bytes, or returns nil. consumed is the
// stream's exact length.
//
// held, if not nil, is a budget of bytes in memory shared with other
// goroutines (the prefetcher's): the compressed bytes and the output bound
// are charged to it before anything is allocated, and nothing is decoded
// when they would take it past heldMax; the decoded bytes stay charged.
func decodeXZWhole(r io.ReaderAt, off, size int64, maxOut int64, held *atomic.Int64, heldMax int64) *predecoded {
	n := size - off
	if !xzOnePass || n < 24 || n > xzWholeMaxIn || maxOut <= 0 {
		return nil
	}
	// a stream that ends its blob (a .deb's data.tar.xz, a .xz file):
	// its index gives the decoded size before anything is decoded
	var dst []byte
	windows := xzWholeWindows
	if total, here := xzEndStream(r, off, size); here && total > maxOut {
		return nil
	} else if here && total > 0 {
		// by its index, the stream is all of the blob: one read of it
		maxOut, windows = total, []int64{n}
		dst = make([]byte, 0, total)
	} else {
		// a stream inside a blob: a guess well above xz's usual ratio
		// (a stream that decodes to more goes to the streaming decoder)
		maxOut = min(maxOut, max(16*n, 1<<20))
	}
	if held != nil {
		if held.Add(n+maxOut) > heldMax {
			held.Add(-n - maxOut)
			return nil
		}
		defer held.Add(-n - maxOut) // charged below for what is kept
	}
	// The compressed bytes are read in growing windows, each tried in
	// turn: a stream is read at most 16 times its own length, so a blob
	// of many streams (a chunk each, up to maxBlobChunks) is not read to
	// its end once per stream.
	for _, win := range windows {
		win = min(win, n)
		src := make([]byte, win)
		if m, err := r.ReadAt(src, off); int64(m) != win && err != nil {
			return nil
		}
		out, consumed, ok := compress.DecodeXZStream(dst, src, int(maxOut), compress.DictLimit)
		if ok {
			if held != nil {
				held.Add(int64(len(out)))
			}
			xzWholeDecoded.Add(1)
			return &predecoded{codec: "xz", data: out, consumed: int64(consumed)}
		}
		if win == n {
			break // the whole blob: not a stream this path takes
		}
	}
	return nil
}

// xzWholeWindows are the compressed lengths the one-pass path tries.
var xzWholeWindows = []int64{64 << 10, 1 << 20, xzWholeMaxIn}

// xzEndTotal is the decoded size that the index of an xz stream ending the
// blob r[off:size] (perhaps followed by stream padding) records, or -1
// when the blob does not end with a stream footer whose index lies in its
// last 64 KiB. It is a bound for the one-pass decoding, which verifies it.
func xzEndTotal(r io.ReaderAt, off, size int64) int64 {
	total, _ := xzEndStream(r, off, size)
	return total
}

// xzEndStream is xzEndTotal that also reports whether, by its index, that
// last stream starts at off (so it is the stream there).
func xzEndStream(r io.ReaderAt, off, size int64) (total int64, startsAtOff bool) {
	from := max(off, size-64<<10)
	b := readAtMost(r, from, size, size-from)
	end := len(b)
	for end >= 4 && (int64(end)+from-off)%4 == 0 && binary.LittleEndian.Uint32(b[end-4:]) == 0 {
		end -= 4
	}
	if end < 12 || b[end-2] != 'Y' || b[end-1] != 'Z' {
		return -1, false
	}
	f := b[end-12:]
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f) {
		return -1, false
	}
	idx := int64(end-12) - (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4
	if idx < 0 || idx+from-off < 12 || b[idx] != 0 {
		return -1, false
	}
	total, blocks := xzIndexSizes(b[idx : end-12])
	if total < 0 {
		return -1, false
	}
	// header, blocks, index, footer
	return total, blocks >= 0 && off+12+blocks == from+idx
}

// xzLookBack is how far before the decoder's read position the footer is
// searched: well over any decoder's read-ahead.
const xzLookBack = 1 << 20

// xzStreamEnd finds the exact end of the xz stream at the start of r: the
// first stream footer (CRC32, backward size, the header's flags, "YZ") in
// [from, to) that verifies and whose backward size points at an index,
// plus any stream padding (zero 4-byte groups). It returns 0 if there is
// none.
func xzStreamEnd(r io.ReaderAt, size, from, to int64, flags []byte) int64 {
	end, _ := xzStreamEndTotal(r, size, from, to, flags)
	return end
}

// xzStreamEndTotal is xzStreamEnd that also returns the uncompressed size
// the stream's index records (-1 if the index does not parse).
func xzStreamEndTotal(r io.ReaderAt, size, from, to int64, flags []byte) (int64, int64) {
	if to > size || to <= 0 {
		to = size
	}
	if from < 12 {
		from = 12
	}
	const chunk = 1 << 20
	for base := from; base < to; base += chunk {
		buf := readAtMost(r, base, to, chunk+12)
		for i := 0; i+12 <= len(buf); {
			j := bytes.Index(buf[i+10:], []byte("YZ"))
			if j < 0 || j > chunk {
				break
			}
			f := buf[i+j : i+j+12]
			i += j + 1
			if f[8] != flags[0] || f[9] != flags[1] || crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[0:4]) {
				continue
			}
			// the index, (backward size+1)*4 bytes long, precedes the
			// footer and starts with a zero indicator byte.
			footerAt := base + int64(i-1)
			idx := footerAt - (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4
			if idx < 12 {
				continue
			}
			if b := readAtMost(r, idx, size, 1); len(b) != 1 || b[0] != 0 {
				continue
			}
			return xzPadding(r, size, footerAt+12), xzIndexTotal(readAtMost(r, idx, size, min(footerAt-idx, 1<<20)))
		}
	}
	return 0, -1
}

// xzIndexTotal sums the uncompressed sizes of the index records in idx
// (indicator, record count, records of unpadded and uncompressed size, all
// multibyte integers), or returns -1.
func xzIndexTotal(idx []byte) int64 {
	total, _ := xzIndexSizes(idx)
	return total
}

// xzIndexSizes is xzIndexTotal that also returns the length of the
// stream's blocks (their unpadded sizes rounded up to 4 bytes), or -1.
func xzIndexSizes(idx []byte) (total, blocks int64) {
	p := 1
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && p < len(idx); i++ {
			b := idx[p]
			p++
			v |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	n, ok := varint()
	if !ok || n > uint64(len(idx)) {
		return -1, -1
	}
	for i := uint64(0); i < n; i++ {
		up, ok := varint()
		if !ok || up > 1<<50 {
			return -1, -1
		}
		u, ok := varint()
		if !ok || u > 1<<50 {
			return -1, -1
		}
		total += int64(u)
		blocks += (int64(up) + 3) &^ 3
	}
	return total, blocks
}

// xzPadding extends end over stream padding: whole zero 4-byte groups.
func xzPadding(r io.ReaderAt, size, end int64) int64 {
	for {
		p := readAtMost(r, end, size, 64<<10)
		n := len(p) &^ 3
		i := 0
		for i < n && binary.LittleEndian.Uint32(p[i:]) == 0 {
			i += 4
		}
		end += int64(i)
		if i < n || n == 0 {
			return end
		}
	}
}
