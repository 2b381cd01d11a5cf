package lzma

import (
	"fmt"
	"io"
)

const (
	inBufSize     = 64 << 10
	initialWindow = 64 << 10
)

// Reader decompresses an LZMA stream read from an io.Reader. Its memory use
// is bounded by the dictionary size (capped by the dictLimit given to the
// constructor) plus a 64 KiB input buffer; the window grows with the output
// up to that size.
//
// The Reader reads ahead from the underlying reader; use Consumed to learn
// where the compressed stream ended.
type Reader struct {
	r   io.Reader
	d   *decoder
	err error // sticky: io.EOF at the end of the stream

	in    []byte
	inEnd int
	ip    int
	inEOF bool
	rerr  error // read error of r, reported once the buffered input is used up
	// discarded counts input bytes dropped from the front of in, including
	// the header for NewReader.
	discarded int64

	size    int64 // -1 if unknown
	total   int64 // bytes decoded
	readPos int
	window  int   // final window size
	dict    int64 // dictionary size as requested by the stream (clamped)
	limited bool  // window was reduced by dictLimit
}

// NewReader returns a Reader for an LZMA-alone (.lzma) stream; it reads and
// checks the 13-byte header. dictLimit caps the dictionary memory (<= 0:
// DefaultDictLimit); a header asking for a larger dictionary is accepted
// but decoding fails if a match actually reaches beyond the limit.
func NewReader(r io.Reader, dictLimit int64) (*Reader, error) {
	var h [HeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	p, size, err := ParseHeader(h[:])
	if err != nil {
		return nil, err
	}
	z, err := NewRawReader(r, p, size, dictLimit)
	if err != nil {
		return nil, err
	}
	z.discarded = HeaderLen
	return z, nil
}

// NewRawReader returns a Reader for a raw LZMA stream (no header) with the
// properties p. If size >= 0 the stream produces exactly size bytes (an end
// marker may follow); otherwise it must end with an end marker.
func NewRawReader(r io.Reader, p Props, size int64, dictLimit int64) (*Reader, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if dictLimit <= 0 {
		dictLimit = DefaultDictLimit
	}
	dict := int64(p.DictSize)
	if dict < minDictSize {
		dict = minDictSize
	}
	window := dict
	limited := false
	if size >= 0 && size < window {
		// The window never wraps: it only needs to hold the output.
		window = size
	} else {
		if window > dictLimit {
			window = dictLimit
			limited = true
		}
		// A wrapping window must be a multiple of 16 so that position
		// contexts stay correct, and at least minDictSize.
		window = (window + 15) &^ 15
		if window < minDictSize {
			window = minDictSize
		}
	}
	if window > int64(maxInt) {
		return nil, fmt.Errorf("%w: dictionary too large", ErrLimit)
	}
	z := &Reader{
		r:       r,
		in:      make([]byte, inBufSize+margin),
		size:    size,
		window:  int(window),
		dict:    dict,
		limited: limited,
	}
	z.d = new(decoder)
	z.d.reset(p)
	z.d.buf = make([]byte, min(z.window, initialWindow))
	if err := z.fill(5); err != nil {
		return nil, err
	}
	if z.inEnd < 5 {
		return nil, errTruncated
	}
	if err := z.d.initRange(z.in[:5]); err != nil {
		return nil, err
	}
	z.ip = 5
	return z, nil
}

const maxInt = int(^uint(0) >> 1)

// Consumed returns the number of compressed bytes consumed so far (for
// NewReader including the 13 header bytes). After Read has returned io.EOF
// this is the exact length of the stream.
func (z *Reader) Consumed() int64 {
	return z.discarded + int64(z.ip)
}

// Size returns the uncompressed size announced for the stream, -1 if
// unknown.
func (z *Reader) Size() int64 { return z.size }

// fill makes sure at least need (<= margin) bytes are buffered after ip,
// unless the underlying reader is exhausted. After EOF the buffer is
// followed by margin zero bytes.
func (z *Reader) fill(need int) error {
	if z.inEnd-z.ip >= need || z.inEOF {
		return nil
	}
	if z.rerr != nil {
		return z.rerr
	}
	if z.ip > 0 {
		z.discarded += int64(z.ip)
		z.inEnd = copy(z.in, z.in[z.ip:z.inEnd])
		z.ip = 0
	}
	for empty := 0; z.inEnd < need; {
		n, err := z.r.Read(z.in[z.inEnd:inBufSize])
		z.inEnd += n
		if err == io.EOF {
			z.inEOF = true
			clear(z.in[z.inEnd:])
			break
		}
		if err != nil {
			z.rerr = err
			if z.inEnd < need {
				return err
			}
			break
		}
		if n == 0 {
			if empty++; empty > 100 {
				z.rerr = io.ErrNoProgress
				return z.rerr
			}
		}
	}
	return nil
}

// view returns the input slice and the check position for decoder.run.
func (z *Reader) view() ([]byte, int) {
	if z.inEOF {
		return z.in[:z.inEnd+margin], z.inEnd
	}
	return z.in[:z.inEnd], z.inEnd - margin
}

// Read implements io.Reader. It returns io.EOF after the end marker or after
// the announced number of bytes, and errors wrapping ErrCorrupt (or
// ErrLimit) for invalid data.
func (z *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if d := z.d; z.readPos < d.pos {
			n := copy(p, d.buf[z.readPos:d.pos])
			z.readPos += n
			return n, nil
		}
		if z.err != nil {
			return 0, z.err
		}
		if err := z.decodeMore(); err != nil {
			z.err = err
		}
	}
}

func (z *Reader) decodeMore() error {
	d := z.d
	if z.size >= 0 && z.total == z.size {
		return z.finish()
	}
	if d.pos == len(d.buf) {
		if len(d.buf) < z.window {
			n := min(2*len(d.buf), z.window)
			nb := make([]byte, n)
			copy(nb, d.buf[:d.pos])
			d.buf = nb
		} else {
			d.pos, z.readPos = 0, 0
			d.wrapped = true
		}
	}
	limit := len(d.buf)
	if z.size >= 0 {
		if rem := z.size - z.total; int64(limit-d.pos) > rem {
			limit = d.pos + int(rem)
		}
	}
	if err := z.fill(margin); err != nil {
		return err
	}
	in, check := z.view()
	start := d.pos
	ip, err := d.run(in, z.ip, check, limit)
	z.ip = ip
	z.total += int64(d.pos - start)
	if err == errDist && z.limited && d.distValidUnlimited(z.total, z.dict) {
		err = fmt.Errorf("%w: match distance %d exceeds the dictionary limit of %d bytes", ErrLimit, d.rep0+1, z.window)
	}
	if err != nil {
		return err
	}
	if z.inEOF && z.ip > z.inEnd {
		return errTruncated
	}
	if d.eos {
		if z.size >= 0 && z.total != z.size {
			return errEarlyEOS
		}
		return z.finish()
	}
	return nil
}

// distValidUnlimited reports whether rep0 would have been valid without the
// dictionary limit.
func (d *decoder) distValidUnlimited(total, dict int64) bool {
	return int64(d.rep0) < total && int64(d.rep0) < dict
}

// finish handles the end of the stream (end marker decoded or announced
// size reached) and returns io.EOF on success.
func (z *Reader) finish() error {
	d := z.d
	if err := z.fill(margin); err != nil {
		return err
	}
	in, _ := z.view()
	ip := d.normalize(in, z.ip)
	if d.eos || (z.size >= 0 && d.code == 0 && d.pending == 0) {
		z.ip = ip
		if z.inEOF && ip > z.inEnd {
			return errTruncated
		}
		if d.code != 0 {
			return errTrailing
		}
		return io.EOF
	}
	if d.pending > 0 {
		return errOverrun
	}
	ok, ip := d.tryEOS(in, ip)
	if ok {
		ip = d.normalize(in, ip)
	}
	z.ip = ip
	if z.inEOF && ip > z.inEnd {
		return errTruncated
	}
	if !ok {
		return fmt.Errorf("%w: no end marker after declared size", ErrCorrupt)
	}
	if d.code != 0 {
		return errTrailing
	}
	return io.EOF
}
