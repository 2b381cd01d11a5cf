package lzma

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// LZMA model constants (see the LZMA SDK / xz-utils).
const (
	numStates         = 12
	posStatesMax      = 1 << 4
	numLenToPosStates = 4
	endPosModelIndex  = 14
	numFullDistances  = 128
	alignSize         = 16
	matchMinLen       = 2

	probBits  = 11
	probTotal = 1 << probBits
	probInit  = probTotal / 2
	moveBits  = 5
	topValue  = 1 << 24

	literalCoderSize = 0x300

	// eosDist is the distance value that encodes the end-of-stream marker.
	eosDist = 0xFFFFFFFF

	// margin is the number of input bytes that must be readable beyond the
	// position at which a symbol starts. A single symbol consumes at most
	// one byte per decoded bit, and no symbol has more than 64 bits
	// (the worst case is about 20 bytes), so 64 bytes are always enough.
	margin = 64
)

type lenProbs struct {
	choice  uint16
	choice2 uint16
	low     [posStatesMax][8]uint16
	mid     [posStatesMax][8]uint16
	high    [256]uint16
}

type probs struct {
	// The state-indexed tables are padded to a power of two so that
	// masked indexes need no bounds checks.
	isMatch    [256]uint16
	isRep0Long [256]uint16
	isRep      [16]uint16
	isRepG0    [16]uint16
	isRepG1    [16]uint16
	isRepG2    [16]uint16
	posSlot    [numLenToPosStates][64]uint16
	posSpecial [1 + numFullDistances - endPosModelIndex]uint16
	align      [alignSize]uint16
	lenDec     lenProbs
	repLenDec  lenProbs
}

// initialProbs has every probability set to probInit; copying it is the
// fastest way to reset a model.
var initialProbs = func() (p probs) {
	fill := func(s []uint16) {
		for i := range s {
			s[i] = probInit
		}
	}
	fill(p.isMatch[:])
	fill(p.isRep0Long[:])
	fill(p.isRep[:])
	fill(p.isRepG0[:])
	fill(p.isRepG1[:])
	fill(p.isRepG2[:])
	for i := range p.posSlot {
		fill(p.posSlot[i][:])
	}
	fill(p.posSpecial[:])
	fill(p.align[:])
	for _, l := range []*lenProbs{&p.lenDec, &p.repLenDec} {
		l.choice, l.choice2 = probInit, probInit
		for i := range l.low {
			fill(l.low[i][:])
			fill(l.mid[i][:])
		}
		fill(l.high[:])
	}
	return p
}()

// decoder holds the complete state of an LZMA decoder. The window (buf) is
// either the output buffer itself (linear mode, used by Decode) or a
// circular dictionary (used by Reader). Positions used for the lc/lp/pb
// contexts are pos-base; in circular mode base is 0 and the final window
// size is a multiple of 16, so the low bits stay correct after wrapping.
type decoder struct {
	p   probs
	lit []uint16

	lc, lp, pb uint

	rng, code uint32

	state                  uint32
	rep0, rep1, rep2, rep3 uint32
	prev                   byte

	// pending is the number of bytes of the current match (distance
	// rep0+1) that did not fit below the output limit.
	pending int

	buf     []byte
	pos     int
	base    int
	wrapped bool
	eos     bool

	// dictMax, if not zero, is the dictionary size the stream declared: a
	// one-pass decode (whose output is the window) refuses a match
	// reaching further back, as a decoder holding only that much does.
	dictMax int
}

var decoderPool sync.Pool

func getDecoder(p Props) *decoder {
	d, _ := decoderPool.Get().(*decoder)
	if d == nil {
		d = new(decoder)
	}
	d.reset(p)
	return d
}

func putDecoder(d *decoder) {
	d.buf = nil
	if cap(d.lit) > 1<<16 {
		d.lit = nil // do not pin huge literal tables (lc+lp > 5)
	}
	decoderPool.Put(d)
}

func (d *decoder) reset(p Props) {
	d.p = initialProbs
	n := literalCoderSize << uint(p.LC+p.LP)
	if cap(d.lit) >= n {
		d.lit = d.lit[:n]
	} else {
		d.lit = make([]uint16, n)
	}
	for i := range d.lit {
		d.lit[i] = probInit
	}
	d.lc, d.lp, d.pb = uint(p.LC), uint(p.LP), uint(p.PB)
	d.rng, d.code = 0xFFFFFFFF, 0
	d.state = 0
	d.rep0, d.rep1, d.rep2, d.rep3 = 0, 0, 0, 0
	d.prev = 0
	d.pending = 0
	d.buf = nil
	d.pos, d.base = 0, 0
	d.wrapped = false
	d.eos = false
	d.dictMax = 0
}

// initRange reads the five range coder initialisation bytes.
func (d *decoder) initRange(b []byte) error {
	if len(b) < 5 {
		return errTruncated
	}
	if b[0] != 0 {
		return fmt.Errorf("%w: first range coder byte is not zero", ErrCorrupt)
	}
	d.code = uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	d.rng = 0xFFFFFFFF
	if d.code == d.rng {
		return fmt.Errorf("%w: invalid range coder start", ErrCorrupt)
	}
	return nil
}

// copyMatch copies n bytes inside the window w from src to pos with LZ77
// semantics (forward, byte by byte meaning for overlapping ranges); src
// may lie after pos when the source wraps around the circular window.
// pos+n must not exceed len(w).
func copyMatch(w []byte, pos, src, n int) {
	if src >= pos {
		// Wrapped source: w[src:] then w[0:].
		k := len(w) - src
		if k >= n {
			copy(w[pos:pos+n], w[src:src+n])
			return
		}
		copy(w[pos:pos+k], w[src:])
		pos += k
		n -= k
		src = 0
	}
	dist := pos - src
	if dist >= n && n > 32 {
		copy(w[pos:pos+n], w[src:src+n])
		return
	}
	if dist < 8 {
		// Short period p: copy bytewise until a multiple m >= 8 of the
		// period is available, then copy 8 bytes at a time from m back.
		m := dist
		for m < 8 {
			m += dist
		}
		k := min(m-dist, n)
		d := w[pos : pos+k]
		s := w[src : src+k]
		for i := range d {
			d[i] = s[i]
		}
		pos += k
		n -= k
		src = pos - m
	}
	for n >= 8 {
		binary.LittleEndian.PutUint64(w[pos:pos+8], binary.LittleEndian.Uint64(w[src:src+8]))
		pos += 8
		src += 8
		n -= 8
	}
	if n > 0 {
		d := w[pos : pos+n]
		s := w[src : src+n]
		for i := range d {
			d[i] = s[i]
		}
	}
}

// bit decodes one adaptive bit (slow path helper).
func bit(p *uint16, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	if rng < topValue {
		rng <<= 8
		code = code<<8 | uint32(in[ip])
		ip++
	}
	bound := (rng >> probBits) * uint32(*p)
	if code < bound {
		*p += (probTotal - *p) >> moveBits
		return 0, bound, code, ip
	}
	*p -= *p >> moveBits
	return 1, rng - bound, code - bound, ip
}

// bitTree decodes an n-bit symbol with a binary tree of probabilities.
func bitTree(probs []uint16, n uint, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	sym := uint32(1)
	lim := uint32(1) << n
	for sym < lim {
		p := &probs[sym]
		if rng < topValue {
			rng <<= 8
			code = code<<8 | uint32(in[ip])
			ip++
		}
		bound := (rng >> probBits) * uint32(*p)
		if code < bound {
			rng = bound
			*p += (probTotal - *p) >> moveBits
			sym <<= 1
		} else {
			rng -= bound
			code -= bound
			*p -= *p >> moveBits
			sym = sym<<1 | 1
		}
	}
	return sym - lim, rng, code, ip
}

// bitTreeReverse decodes an n-bit symbol, least significant bit first.
func bitTreeReverse(probs []uint16, n uint, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	m := uint32(1)
	sym := uint32(0)
	for i := uint(0); i < n; i++ {
		p := &probs[m]
		if rng < topValue {
			rng <<= 8
			code = code<<8 | uint32(in[ip])
			ip++
		}
		bound := (rng >> probBits) * uint32(*p)
		if code < bound {
			rng = bound
			*p += (probTotal - *p) >> moveBits
			m <<= 1
		} else {
			rng -= bound
			code -= bound
			*p -= *p >> moveBits
			m = m<<1 | 1
			sym |= 1 << i
		}
	}
	return sym, rng, code, ip
}

// decodeLen returns the match length minus matchMinLen (0..271).
func decodeLen(lp *lenProbs, posState uint32, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	if rng < topValue {
		rng <<= 8
		code = code<<8 | uint32(in[ip])
		ip++
	}
	bound := (rng >> probBits) * uint32(lp.choice)
	if code < bound {
		rng = bound
		lp.choice += (probTotal - lp.choice) >> moveBits
		return bitTree(lp.low[posState&15][:], 3, rng, code, in, ip)
	}
	rng -= bound
	code -= bound
	lp.choice -= lp.choice >> moveBits
	if rng < topValue {
		rng <<= 8
		code = code<<8 | uint32(in[ip])
		ip++
	}
	bound = (rng >> probBits) * uint32(lp.choice2)
	var sym uint32
	if code < bound {
		rng = bound
		lp.choice2 += (probTotal - lp.choice2) >> moveBits
		sym, rng, code, ip = bitTree(lp.mid[posState&15][:], 3, rng, code, in, ip)
		return sym + 8, rng, code, ip
	}
	rng -= bound
	code -= bound
	lp.choice2 -= lp.choice2 >> moveBits
	sym, rng, code, ip = bitTree(lp.high[:], 8, rng, code, in, ip)
	return sym + 16, rng, code, ip
}

// decodeDist returns the coded match distance (distance-1); eosDist marks
// the end of the stream.
func decodeDist(pr *probs, length uint32, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	lenState := length
	if lenState > numLenToPosStates-1 {
		lenState = numLenToPosStates - 1
	}
	var slot uint32
	slot, rng, code, ip = bitTree(pr.posSlot[lenState&3][:], 6, rng, code, in, ip)
	if slot < 4 {
		return slot, rng, code, ip
	}
	numDirect := uint(slot>>1) - 1
	dist := (2 | slot&1) << numDirect
	if slot < endPosModelIndex {
		var r uint32
		r, rng, code, ip = bitTreeReverse(pr.posSpecial[dist-slot:], numDirect, rng, code, in, ip)
		return dist + r, rng, code, ip
	}
	// Direct bits.
	var direct uint32
	for i := numDirect - 4; i > 0; i-- {
		if rng < topValue {
			rng <<= 8
			code = code<<8 | uint32(in[ip])
			ip++
		}
		rng >>= 1
		code -= rng
		t := 0 - (code >> 31)
		code += rng & t
		direct = direct<<1 + (t + 1)
	}
	dist += direct << 4
	var a uint32
	a, rng, code, ip = bitTreeReverse(pr.align[:], 4, rng, code, in, ip)
	return dist + a, rng, code, ip
}

// normalize performs the range coder normalisation that would precede the
// next bit. Doing it at the end of the stream accounts for the final byte
// the encoder flushed (matching decoders that normalise after each bit).
func (d *decoder) normalize(in []byte, ip int) int {
	if d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(in[ip])
		ip++
	}
	return ip
}

// tryEOS tries to decode an end-of-stream marker at the current position.
// in must have margin readable bytes after ip.
func (d *decoder) tryEOS(in []byte, ip int) (bool, int) {
	rng, code := d.rng, d.code
	pr := &d.p
	posState := uint32(d.pos-d.base) & (1<<d.pb - 1)
	var b uint32
	b, rng, code, ip = bit(&pr.isMatch[d.state*posStatesMax+posState], rng, code, in, ip)
	if b == 0 {
		return false, ip
	}
	b, rng, code, ip = bit(&pr.isRep[d.state], rng, code, in, ip)
	if b != 0 {
		return false, ip
	}
	var length, dist uint32
	length, rng, code, ip = decodeLen(&pr.lenDec, posState, rng, code, in, ip)
	dist, rng, code, ip = decodeDist(pr, length, rng, code, in, ip)
	d.rng, d.code = rng, code
	return dist == eosDist, ip
}

// run decodes symbols into d.buf until d.pos reaches limit, the input
// position passes inCheck, an end marker is decoded (d.eos) or the data is
// found to be corrupt. in must have at least margin readable bytes after
// inCheck. It returns the new input position.
func (d *decoder) run(in []byte, ip, inCheck, limit int) (int, error) {
	win := d.buf
	wlen := len(win)
	buf := win[:limit]
	pos := d.pos

	if d.pending > 0 {
		n := d.pending
		if n > limit-pos {
			n = limit - pos
		}
		src := pos - int(d.rep0) - 1
		if src < 0 {
			src += wlen
		}
		copyMatch(win, pos, src, n)
		pos += n
		d.pending -= n
		if n > 0 {
			d.prev = win[pos-1]
		}
	}

	rng, code := d.rng, d.code
	state := d.state
	rep0, rep1, rep2, rep3 := d.rep0, d.rep1, d.rep2, d.rep3
	prev := uint32(d.prev)
	pr := &d.p
	lit := d.lit
	lc := d.lc
	lcShift := 8 - lc
	lpMask := uint32(1)<<d.lp - 1
	pbMask := uint32(1)<<d.pb - 1
	base := d.base
	dictMax := math.MaxInt
	if d.dictMax > 0 {
		dictMax = d.dictMax
	}
	var err error

	for pos < len(buf) && ip <= inCheck {
		tot := uint32(pos - base)
		posState := tot & pbMask

		// isMatch
		p := &pr.isMatch[(state<<4|posState)&0xFF]
		if rng < topValue {
			rng <<= 8
			code = code<<8 | uint32(in[ip])
			ip++
		}
		bound := (rng >> probBits) * uint32(*p)
		if code < bound {
			rng = bound
			*p += (probTotal - *p) >> moveBits

			// Literal.
			probs := lit[literalCoderSize*(((tot&lpMask)<<lc)+(prev>>lcShift)):]
			probs = probs[:literalCoderSize]
			sym := uint32(1)
			if state < 7 {
				for sym < 0x100 {
					pp := &probs[sym]
					if rng < topValue {
						rng <<= 8
						code = code<<8 | uint32(in[ip])
						ip++
					}
					pv := uint32(*pp)
					bound := (rng >> probBits) * pv
					// Branchless bit: m0 is all ones if the bit is 0.
					m0 := uint32((uint64(code) - uint64(bound)) >> 32)
					code -= bound &^ m0
					rng = bound&m0 | (rng-bound)&^m0
					*pp = uint16(pv - uint32(int32(pv-m0&(probTotal-31))>>moveBits))
					sym = sym<<1 + (m0 + 1)
				}
				if state < 4 {
					state = 0
				} else {
					state -= 3
				}
			} else {
				src := pos - int(rep0) - 1
				if src < 0 {
					src += wlen
				}
				match := uint32(win[src])
				offs := uint32(0x100)
				for sym < 0x100 {
					match <<= 1
					b := offs
					offs &= match
					pp := &probs[offs+b+sym]
					if rng < topValue {
						rng <<= 8
						code = code<<8 | uint32(in[ip])
						ip++
					}
					pv := uint32(*pp)
					bound := (rng >> probBits) * pv
					m0 := uint32((uint64(code) - uint64(bound)) >> 32)
					code -= bound &^ m0
					rng = bound&m0 | (rng-bound)&^m0
					*pp = uint16(pv - uint32(int32(pv-m0&(probTotal-31))>>moveBits))
					sym = sym<<1 + (m0 + 1)
					offs ^= b & m0
				}
				if state < 10 {
					state -= 3
				} else {
					state -= 6
				}
			}
			prev = sym & 0xFF
			buf[pos] = byte(sym)
			pos++
			continue
		}
		rng -= bound
		code -= bound
		*p -= *p >> moveBits

		// isRep
		p = &pr.isRep[state&15]
		if rng < topValue {
			rng <<= 8
			code = code<<8 | uint32(in[ip])
			ip++
		}
		bound = (rng >> probBits) * uint32(*p)
		var length uint32
		if code < bound {
			rng = bound
			*p += (probTotal - *p) >> moveBits
			// Simple match.
			rep3, rep2, rep1 = rep2, rep1, rep0
			length, rng, code, ip = decodeLen(&pr.lenDec, posState, rng, code, in, ip)
			if state < 7 {
				state = 7
			} else {
				state = 10
			}
			rep0, rng, code, ip = decodeDist(pr, length, rng, code, in, ip)
			if rep0 == eosDist {
				d.eos = true
				break
			}
		} else {
			rng -= bound
			code -= bound
			*p -= *p >> moveBits
			// isRepG0
			p = &pr.isRepG0[state&15]
			if rng < topValue {
				rng <<= 8
				code = code<<8 | uint32(in[ip])
				ip++
			}
			bound = (rng >> probBits) * uint32(*p)
			if code < bound {
				rng = bound
				*p += (probTotal - *p) >> moveBits
				// isRep0Long
				p = &pr.isRep0Long[(state<<4|posState)&0xFF]
				if rng < topValue {
					rng <<= 8
					code = code<<8 | uint32(in[ip])
					ip++
				}
				bound = (rng >> probBits) * uint32(*p)
				if code < bound {
					rng = bound
					*p += (probTotal - *p) >> moveBits
					// Short rep: one byte at distance rep0.
					if !(uint64(rep0) < uint64(min(pos-base, dictMax)) || (d.wrapped && uint64(rep0) < uint64(wlen))) {
						err = errDist
						break
					}
					if state < 7 {
						state = 9
					} else {
						state = 11
					}
					src := pos - int(rep0) - 1
					if src < 0 {
						src += wlen
					}
					b := win[src]
					buf[pos] = b
					prev = uint32(b)
					pos++
					continue
				}
				rng -= bound
				code -= bound
				*p -= *p >> moveBits
			} else {
				rng -= bound
				code -= bound
				*p -= *p >> moveBits
				var dist uint32
				var b uint32
				b, rng, code, ip = bit(&pr.isRepG1[state&15], rng, code, in, ip)
				if b == 0 {
					dist = rep1
				} else {
					b, rng, code, ip = bit(&pr.isRepG2[state&15], rng, code, in, ip)
					if b == 0 {
						dist = rep2
					} else {
						dist = rep3
						rep3 = rep2
					}
					rep2 = rep1
				}
				rep1 = rep0
				rep0 = dist
			}
			length, rng, code, ip = decodeLen(&pr.repLenDec, posState, rng, code, in, ip)
			if state < 7 {
				state = 8
			} else {
				state = 11
			}
		}

		// Copy the match.
		if !(uint64(rep0) < uint64(min(pos-base, dictMax)) || (d.wrapped && uint64(rep0) < uint64(wlen))) {
			err = errDist
			break
		}
		n := int(length) + matchMinLen
		if avail := len(buf) - pos; n > avail {
			d.pending = n - avail
			n = avail
		}
		src := pos - int(rep0) - 1
		if src < 0 {
			src += wlen
		}
		copyMatch(win, pos, src, n)
		pos += n
		prev = uint32(win[pos-1])
	}

	d.rng, d.code = rng, code
	d.state = state
	d.rep0, d.rep1, d.rep2, d.rep3 = rep0, rep1, rep2, rep3
	d.prev = byte(prev)
	d.pos = pos
	return ip, err
}
