// Package lzma is a fast, pure-Go decoder for raw LZMA ("LZMA1") streams and
// the LZMA-alone (.lzma) container.
//
// It is written for the hot paths of firmware unpacking: Decode decodes
// directly into the output slice (the output doubles as the dictionary), and
// the range decoder is fully inlined in the main loop with its state kept in
// local variables. Reader offers a streaming interface whose memory is
// bounded by the (capped) dictionary size.
//
// Hostile input is expected: corrupt or truncated data yields an error
// wrapping ErrCorrupt, never a panic, and memory use is bounded by the
// limits passed by the caller.
package lzma

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// HeaderLen is the length of the LZMA-alone header.
const HeaderLen = 13

// DefaultDictLimit is the dictionary limit used by NewReader and
// NewRawReader when the caller passes dictLimit <= 0.
const DefaultDictLimit = 64 << 20

// minDictSize is the smallest dictionary the streaming reader uses (as in
// xz-utils and ulikunitz/xz).
const minDictSize = 1 << 12

var (
	// ErrCorrupt is wrapped by all errors caused by invalid or truncated
	// compressed data.
	ErrCorrupt = errors.New("lzma: corrupt input")
	// ErrLimit is wrapped by errors reporting that a caller supplied limit
	// (maximum output size, dictionary limit) would be exceeded.
	ErrLimit = errors.New("lzma: limit exceeded")

	errTruncated = fmt.Errorf("%w: %w", ErrCorrupt, io.ErrUnexpectedEOF)
	errDist      = fmt.Errorf("%w: match distance beyond available data", ErrCorrupt)
	errTrailing  = fmt.Errorf("%w: range coder not finished at end of stream", ErrCorrupt)
	errEarlyEOS  = fmt.Errorf("%w: end marker before declared size", ErrCorrupt)
	errOverrun   = fmt.Errorf("%w: match extends beyond declared size", ErrCorrupt)
)

// Props are the LZMA coder properties.
type Props struct {
	LC, LP, PB int
	DictSize   uint32
}

// Byte returns the encoded lc/lp/pb properties byte.
func (p Props) Byte() byte {
	return byte((p.PB*5+p.LP)*9 + p.LC)
}

func (p Props) validate() error {
	if p.LC < 0 || p.LC > 8 || p.LP < 0 || p.LP > 4 || p.PB < 0 || p.PB > 4 {
		return fmt.Errorf("%w: invalid properties lc=%d lp=%d pb=%d", ErrCorrupt, p.LC, p.LP, p.PB)
	}
	return nil
}

// DecodePropsByte splits the lc/lp/pb properties byte. All combinations
// LZMA1 allows are accepted (lc <= 8, lp <= 4, pb <= 4; lc+lp is not
// restricted to 4 as in LZMA2, vendor firmware does use such values).
func DecodePropsByte(b byte) (lc, lp, pb int, err error) {
	if b > (4*5+4)*9+8 {
		return 0, 0, 0, fmt.Errorf("%w: invalid properties byte %#x", ErrCorrupt, b)
	}
	lc = int(b % 9)
	b /= 9
	return lc, int(b % 5), int(b / 5), nil
}

// ParseHeader parses the 13-byte LZMA-alone header: the properties byte,
// the little-endian 32-bit dictionary size and the little-endian 64-bit
// uncompressed size (-1 when unknown).
func ParseHeader(b []byte) (p Props, size int64, err error) {
	if len(b) < HeaderLen {
		return p, 0, fmt.Errorf("%w: header: %w", ErrCorrupt, io.ErrUnexpectedEOF)
	}
	p.LC, p.LP, p.PB, err = DecodePropsByte(b[0])
	if err != nil {
		return Props{}, 0, err
	}
	p.DictSize = binary.LittleEndian.Uint32(b[1:5])
	u := binary.LittleEndian.Uint64(b[5:13])
	if u == math.MaxUint64 {
		return p, -1, nil
	}
	if u > math.MaxInt64 {
		return Props{}, 0, fmt.Errorf("%w: invalid uncompressed size %#x", ErrCorrupt, u)
	}
	return p, int64(u), nil
}

// DecodeAlone decodes a whole LZMA-alone (.lzma) buffer, appending the
// output to dst. maxOut bounds the output (<= 0: no limit). It returns the
// output and the number of bytes of src used, header included. On error the
// data decoded so far is returned.
func DecodeAlone(dst, src []byte, maxOut int64) ([]byte, int, error) {
	p, size, err := ParseHeader(src)
	if err != nil {
		return dst, 0, err
	}
	out, n, err := Decode(dst, src[HeaderLen:], p, size, maxOut)
	return out, n + HeaderLen, err
}

// Decode decodes a raw LZMA stream (no header) from src and appends the
// output to dst.
//
// If outSize >= 0 exactly outSize bytes are produced; an end marker may
// follow and is then consumed. If outSize < 0 the stream must end with an
// end marker. maxOut bounds the size of the output (not counting dst);
// maxOut <= 0 means no limit. The dictionary size in p is not used: the
// output itself is the dictionary, so matches may reach back to the start
// of the stream's output.
//
// Decode returns the output and the number of bytes of src consumed by the
// range decoder (the exact compressed length of the stream on success). On
// error it returns the data decoded so far together with the error.
func Decode(dst, src []byte, p Props, outSize int64, maxOut int64) (out []byte, consumed int, err error) {
	if err := p.validate(); err != nil {
		return dst, 0, err
	}
	if maxOut > 0 && outSize > maxOut {
		return dst, 0, fmt.Errorf("%w: uncompressed size %d exceeds maximum %d", ErrLimit, outSize, maxOut)
	}
	start := len(dst)
	// end is the largest output position we may write.
	want := int64(math.MaxInt - start)
	if outSize >= 0 && outSize < want {
		want = outSize
	} else if outSize < 0 && maxOut > 0 && maxOut < want {
		want = maxOut
	}
	if outSize > want {
		return dst, 0, fmt.Errorf("%w: uncompressed size %d too large", ErrLimit, outSize)
	}
	end := start + int(want)

	d := getDecoder(p)
	defer putDecoder(d)
	if err := d.initRange(src); err != nil {
		return dst, min(len(src), 5), err
	}
	ip := 5

	// Initial allocation: do not trust the declared size blindly, grow as
	// output is actually produced.
	buf := dst[:cap(dst)]
	if len(buf) < end {
		// LZMA rarely compresses real data more than 16:1; beyond that
		// the buffer grows geometrically as output is produced.
		guess := int64(len(src))*4 + 64<<10
		if outSize >= 0 {
			guess = int64(len(src))*16 + 1<<20
		}
		if guess > want {
			guess = want
		}
		if int64(len(buf)-start) < guess {
			buf = slices.Grow(dst, int(guess))
			buf = buf[:cap(buf)]
		}
	}
	d.buf = buf
	d.pos, d.base = start, start

	var tail [2 * margin]byte
	for {
		if d.pos == len(d.buf) && d.pos < end {
			// Grow the output (and thereby the dictionary).
			grow := len(d.buf) - start
			if grow < 64<<10 {
				grow = 64 << 10
			}
			if grow > end-d.pos {
				grow = end - d.pos
			}
			nb := slices.Grow(d.buf[:d.pos], grow)
			d.buf = nb[:cap(nb)]
		}
		limit := min(len(d.buf), end)
		if len(src)-ip > margin {
			ip, err = d.run(src, ip, len(src)-margin, limit)
		} else {
			n := copy(tail[:], src[ip:])
			clear(tail[n:])
			var tip int
			tip, err = d.run(tail[:], 0, n, limit)
			ip += tip
			if tip > n && err == nil {
				err = errTruncated
			}
		}
		if err != nil {
			return d.buf[:d.pos], min(ip, len(src)), err
		}
		if d.eos || d.pos == end {
			break
		}
	}

	out = d.buf[:d.pos]
	// End of stream handling; the remaining steps read at most one
	// symbol, so a padded view of the input is sufficient.
	in, off := src, ip
	if len(src)-ip <= margin {
		n := copy(tail[:], src[ip:])
		clear(tail[n:])
		in, off = tail[:], 0
	}
	off0 := off
	realEnd := off + (len(src) - ip)
	finish := func() (int, error) {
		switch {
		case d.eos:
			if outSize >= 0 && int64(d.pos-start) != outSize {
				return off, errEarlyEOS
			}
			off = d.normalize(in, off)
			if d.code != 0 {
				return off, errTrailing
			}
			return off, nil
		case d.pending > 0:
			if outSize < 0 {
				return off, fmt.Errorf("%w: output exceeds maximum %d", ErrLimit, maxOut)
			}
			return off, errOverrun
		}
		off = d.normalize(in, off)
		if off > realEnd {
			return off, errTruncated
		}
		if outSize >= 0 && d.code == 0 {
			return off, nil
		}
		ok, o := d.tryEOS(in, off)
		off = o
		if off > realEnd {
			return off, errTruncated
		}
		if !ok {
			if outSize < 0 {
				return off, fmt.Errorf("%w: output exceeds maximum %d", ErrLimit, maxOut)
			}
			return off, fmt.Errorf("%w: no end marker after declared size", ErrCorrupt)
		}
		off = d.normalize(in, off)
		if d.code != 0 {
			return off, errTrailing
		}
		return off, nil
	}
	off, err = finish()
	if err == nil && off > realEnd {
		err = errTruncated
	}
	consumed = min(ip+off-off0, len(src))
	return out, consumed, err
}
