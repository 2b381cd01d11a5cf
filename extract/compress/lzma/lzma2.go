package lzma

import (
	"fmt"
	"slices"
)

// DecodeLZMA2 decodes a raw LZMA2 stream (the payload of an xz block) from
// src and appends the output to dst, producing at most maxOut bytes. Like
// Decode, the output is the dictionary, so it decodes in one pass without a
// separate window: this is the fast path for SquashFS xz blocks.
//
// It returns the output and the number of bytes of src consumed, the end
// marker (control byte 0) included. Every chunk is checked the way
// xz-embedded checks it: a dictionary reset first, properties before the
// first LZMA chunk, each chunk's compressed and uncompressed sizes used up
// exactly with a finished range coder.
func DecodeLZMA2(dst, src []byte, maxOut int) (out []byte, consumed int, err error) {
	return DecodeLZMA2Dict(dst, src, maxOut, 0)
}

// DecodeLZMA2Dict is DecodeLZMA2 for a stream that declared a dictionary
// of dict bytes (0: no limit): a match reaching further back than dict
// bytes is corrupt data, as it is to a decoder that holds only the
// dictionary (xz-embedded, xz-utils), although the one-pass output holds
// everything decoded since the last dictionary reset.
func DecodeLZMA2Dict(dst, src []byte, maxOut, dict int) (out []byte, consumed int, err error) {
	if dict < 0 {
		dict = 0
	}
	start := len(dst)
	end := start + maxOut
	buf := dst[:cap(dst)]
	pos, base := start, start
	ip := 0
	needDictReset, needProps := true, true
	var d *decoder
	defer func() {
		if d != nil {
			putDecoder(d)
		}
	}()
	var tail [2 * margin]byte
	for {
		if ip >= len(src) {
			return buf[:pos], ip, errTruncated
		}
		c := src[ip]
		if c == 0 {
			return buf[:pos], ip + 1, nil
		}
		if c >= 0xE0 || c == 0x01 {
			needProps, needDictReset = true, false
			base = pos
		} else if needDictReset {
			return buf[:pos], ip, fmt.Errorf("%w: lzma2: no dictionary reset at the start", ErrCorrupt)
		}
		if c < 0x80 {
			// uncompressed chunk
			if c > 2 {
				return buf[:pos], ip, fmt.Errorf("%w: lzma2: bad control byte %#x", ErrCorrupt, c)
			}
			if ip+3 > len(src) {
				return buf[:pos], ip, errTruncated
			}
			n := int(src[ip+1])<<8 | int(src[ip+2]) + 1
			ip += 3
			if ip+n > len(src) {
				return buf[:pos], ip, errTruncated
			}
			if pos+n > end {
				return buf[:pos], ip, fmt.Errorf("%w: output exceeds maximum %d", ErrLimit, maxOut)
			}
			buf = grow(buf, pos, n)
			copy(buf[pos:], src[ip:ip+n])
			pos += n
			ip += n
			continue
		}
		if ip+5 > len(src) {
			return buf[:pos], ip, errTruncated
		}
		usize := int(c&0x1F)<<16 | int(src[ip+1])<<8 | int(src[ip+2]) + 1
		csize := int(src[ip+3])<<8 | int(src[ip+4]) + 1
		ip += 5
		reset := (c >> 5) & 3
		if reset >= 2 {
			if ip >= len(src) {
				return buf[:pos], ip, errTruncated
			}
			pb := src[ip]
			ip++
			if pb >= 9*5*5 {
				return buf[:pos], ip, fmt.Errorf("%w: lzma2: bad properties byte %#x", ErrCorrupt, pb)
			}
			p := Props{LC: int(pb % 9), LP: int(pb / 9 % 5), PB: int(pb / 45)}
			if p.LC+p.LP > 4 {
				return buf[:pos], ip, fmt.Errorf("%w: lzma2: lc+lp > 4", ErrCorrupt)
			}
			if d == nil {
				d = getDecoder(p)
			} else {
				d.reset(p)
			}
			needProps = false
		} else if needProps {
			return buf[:pos], ip, fmt.Errorf("%w: lzma2: LZMA chunk without properties", ErrCorrupt)
		} else if reset == 1 {
			d.reset(Props{LC: int(d.lc), LP: int(d.lp), PB: int(d.pb)})
		}
		if ip+csize > len(src) {
			return buf[:pos], ip, errTruncated
		}
		if pos+usize > end {
			return buf[:pos], ip, fmt.Errorf("%w: output exceeds maximum %d", ErrLimit, maxOut)
		}
		buf = grow(buf, pos, usize)
		in := src[:ip+csize]
		chunkEnd := ip + csize
		if err := d.initRange(in[ip:]); err != nil {
			return buf[:pos], ip, err
		}
		ip += 5
		d.buf, d.pos, d.base = buf, pos, base
		d.dictMax = dict
		d.pending, d.eos = 0, false
		d.prev = 0
		if pos > base {
			d.prev = buf[pos-1]
		}
		limit := pos + usize
		for d.pos < limit {
			if chunkEnd-ip > margin {
				ip, err = d.run(in, ip, chunkEnd-margin, limit)
			} else {
				n := copy(tail[:], in[ip:])
				clear(tail[n:])
				var tip int
				tip, err = d.run(tail[:], 0, n, limit)
				ip += tip
				if err == nil && tip > n {
					err = errTruncated
				}
				if err == nil && d.pos < limit && !d.eos {
					err = errTruncated
				}
			}
			if err == nil && d.eos {
				err = fmt.Errorf("%w: lzma2: end marker inside a chunk", ErrCorrupt)
			}
			if err != nil {
				return buf[:d.pos], min(ip, len(src)), err
			}
		}
		// the chunk must end exactly: no match left over, the range
		// coder finished, every compressed byte used
		if ip < chunkEnd {
			n := copy(tail[:], in[ip:])
			clear(tail[n:])
			ip += d.normalize(tail[:], 0)
		}
		if d.pending > 0 || d.code != 0 || ip != chunkEnd {
			return buf[:d.pos], min(ip, len(src)), fmt.Errorf("%w: lzma2: chunk does not end cleanly", ErrCorrupt)
		}
		pos = d.pos
		d.buf = nil
	}
}

// grow makes buf[pos:pos+n] usable, keeping buf[:pos].
func grow(buf []byte, pos, n int) []byte {
	if pos+n <= len(buf) {
		return buf
	}
	b := slices.Grow(buf[:pos], n)
	return b[:cap(b)]
}
