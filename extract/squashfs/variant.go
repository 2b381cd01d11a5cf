package squashfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/fwaudit/fwaudit/extract/compress"
	"github.com/fwaudit/fwaudit/extract/compress/lzma"
)

// Compression variants.
//
// Vendor SquashFS builds often store blocks in another framing than the
// superblock says: SquashFS 1.x-3.x have no compressor field at all (zlib
// is implied) and vendors patched in LZMA in several framings; some
// SquashFS 4 images name lzma for xz data or the reverse. Like sasquatch,
// a block the nominal compressor cannot decode is tried with the other
// variants; the variant that worked is remembered for the image and tried
// first on the next block, so the search costs one failed attempt per
// image, not per block.
//
// Variants (in the order they are tried after the remembered one):
//   - the superblock's compressor;
//   - zlib (with its header);
//   - LZMA-alone: properties byte, 32-bit dictionary size, 64-bit size
//     (sqlzma, mksquashfs 4 lzma);
//   - LZMA with the 5-byte properties header only, no size (Broadcom's
//     SquashFS 2/3 "7z" LZMA);
//   - raw LZMA without any header, lc/lp/pb 3/0/2 or found by trial;
//   - xz;
//   - raw deflate (zlib streams with the header stripped).
//
// A variant is accepted only when it decodes the block cleanly: to the
// exact size expected for data blocks, or to a proper end (end marker,
// checksum, range coder flushed) otherwise. LZMA streams that carry
// neither a size nor an end marker (Broadcom metadata and fragment blocks)
// are decoded to the length at which the range coder ends exactly.
const (
	varNominal = iota
	varZlib
	varLZMAAlone
	varLZMAProps
	varLZMARaw
	varXZ
	varDeflate
	numVariants
)

var variantNames = [numVariants]string{"nominal", "zlib", "lzma-alone", "lzma-props", "lzma-raw", "xz", "deflate-raw"}

// Budgets for the expensive searches a hostile image could trigger on
// every block.
const (
	scanBudget  = 512 // size searches for LZMA streams without size or end marker
	bruteBudget = 2   // lc/lp/pb searches for raw LZMA streams
)

// variantState is shared by the decoders of one image.
type variantState struct {
	pref     atomic.Int32 // variant that decoded the last block
	rawProps atomic.Int32 // properties byte of raw LZMA streams
	scans    atomic.Int32
	brutes   atomic.Int32
	used     [numVariants]atomic.Bool
	known    atomic.Bool // some block was decoded: the searches are off
	nominal  string      // the superblock's compressor
}

var defaultProps = lzma.Props{LC: 3, LP: 0, PB: 2}

func (v *variantState) init(sb *Superblock) {
	v.rawProps.Store(int32(defaultProps.Byte()))
	v.scans.Store(scanBudget)
	v.brutes.Store(bruteBudget)
	v.nominal = sb.CompressorName()
}

// Compression describes how the image's blocks were decoded so far: the
// superblock's compressor, or the variants used instead ("lzma-props",
// "lzma-raw lc=3 lp=0 pb=2", ...).
func (img *Image) Compression() string {
	var names []string
	for v := 0; v < numVariants; v++ {
		if !img.vs.used[v].Load() {
			continue
		}
		n := variantNames[v]
		switch v {
		case varNominal:
			n = img.vs.nominal
		case varLZMARaw:
			lc, lp, pb, _ := lzma.DecodePropsByte(byte(img.vs.rawProps.Load()))
			n = fmt.Sprintf("lzma-raw lc=%d lp=%d pb=%d", lc, lp, pb)
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return img.vs.nominal
	}
	return fmt.Sprint(names)
}

// decoder decodes blocks of one image, trying the variants. Each worker
// (and the metadata reader) owns one.
type decoder interface {
	// decode appends the decoded block to dst[:0]; want is the exact size
	// expected (data blocks) or -1.
	decode(dst, src []byte, maxOut, want int) ([]byte, error)
	close()
}

type adaptiveDecoder struct {
	img     *Image
	vs      *variantState
	nominal blockCodec
	zlib    compress.Block
	deflate compress.Block
	xz      *xzDecoder
	// nominalIs is the variant the nominal compressor duplicates (zlib,
	// xz), skipped in the search.
	nominalIs int
}

// newDecoder returns a decoder for the image.
func (img *Image) newDecoder() decoder {
	a := &adaptiveDecoder{img: img, vs: &img.vs, nominal: img.nominalCodec(), xz: &xzDecoder{}, nominalIs: -1}
	if c, ok := compress.Get("zlib"); ok {
		a.zlib = c.Block
	}
	if c, ok := compress.Get("deflate"); ok {
		a.deflate = c.Block
	}
	switch img.sb.Compressor {
	case CompGzip:
		a.nominalIs = varZlib
	case CompXZ:
		a.nominalIs = varXZ
	}
	return a
}

func (a *adaptiveDecoder) close() {
	a.nominal.close()
	a.xz.close()
}

func (a *adaptiveDecoder) decode(dst, src []byte, maxOut, want int) ([]byte, error) {
	pref := int(a.vs.pref.Load())
	out, err := a.try(pref, dst, src, maxOut, want)
	if err == nil {
		if !a.vs.used[pref].Load() {
			a.vs.used[pref].Store(true)
			a.vs.known.Store(true)
		}
		return out, nil
	}
	first := err
	for v := 0; v < numVariants; v++ {
		if v == pref || v == a.nominalIs || !plausible(v, src) {
			continue
		}
		o, e := a.try(v, dst, src, maxOut, want)
		if e == nil {
			a.vs.pref.Store(int32(v))
			a.vs.used[v].Store(true)
			a.vs.known.Store(true)
			return o, nil
		}
		if v == varNominal {
			first = e
		}
	}
	return nil, first
}

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// plausible filters the variants by the first bytes of the block (a range
// coder's first byte is always 0).
func plausible(v int, src []byte) bool {
	switch v {
	case varZlib:
		return len(src) >= 2 && src[0]&0x0f == 8 && src[0]>>4 <= 7 && (uint16(src[0])<<8|uint16(src[1]))%31 == 0
	case varLZMAAlone:
		return len(src) > lzma.HeaderLen && src[0] <= 224 && src[lzma.HeaderLen] == 0
	case varLZMAProps:
		return len(src) > 5 && src[0] <= 224 && src[5] == 0
	case varLZMARaw:
		return len(src) > 0 && src[0] == 0
	case varXZ:
		return bytes.HasPrefix(src, xzMagic)
	}
	return len(src) > 0
}

var errNoCodec = errors.New("no decoder")

func (a *adaptiveDecoder) try(v int, dst, src []byte, maxOut, want int) (out []byte, err error) {
	switch v {
	case varNominal:
		out, err = a.nominal.decode(dst, src, maxOut)
	case varZlib, varDeflate:
		c := a.zlib
		if v == varDeflate {
			c = a.deflate
		}
		if c == nil {
			return nil, errNoCodec
		}
		out, err = c(dst[:0], src, maxOut)
	case varXZ:
		out, err = a.xz.decode(dst, src, maxOut)
	case varLZMAAlone:
		p, size, e := lzma.ParseHeader(src)
		if e != nil {
			return nil, e
		}
		if size > int64(maxOut) || size >= 0 && want >= 0 && size != int64(want) {
			return nil, fmt.Errorf("lzma: header size %d, want %d", size, want)
		}
		if size < 0 {
			size = int64(want)
		}
		return a.lzma(dst, src[lzma.HeaderLen:], p, size, maxOut)
	case varLZMAProps:
		var p lzma.Props
		var e error
		if p.LC, p.LP, p.PB, e = lzma.DecodePropsByte(src[0]); e != nil {
			return nil, e
		}
		p.DictSize = binary.LittleEndian.Uint32(src[1:5])
		return a.lzma(dst, src[5:], p, int64(want), maxOut)
	case varLZMARaw:
		return a.lzmaRaw(dst, src, maxOut, want)
	default:
		return nil, errNoCodec
	}
	if err == nil && want >= 0 && len(out) != want {
		err = fmt.Errorf("decodes to %d bytes, want %d", len(out), want)
	}
	return out, err
}

// lzmaRaw decodes a headerless LZMA stream with the image's properties;
// when they fail on the first blocks, the other lc/lp/pb combinations are
// tried (budgeted).
func (a *adaptiveDecoder) lzmaRaw(dst, src []byte, maxOut, want int) ([]byte, error) {
	pb := byte(a.vs.rawProps.Load())
	var p lzma.Props
	p.LC, p.LP, p.PB, _ = lzma.DecodePropsByte(pb)
	out, err := a.lzma(dst, src, p, int64(want), maxOut)
	// Once blocks of the image decode, a failing block is damage, not
	// other properties.
	if err == nil || a.vs.known.Load() || a.vs.brutes.Add(-1) < 0 {
		return out, err
	}
	for b := 0; b <= 224; b++ {
		if byte(b) == pb {
			continue
		}
		var q lzma.Props
		q.LC, q.LP, q.PB, _ = lzma.DecodePropsByte(byte(b))
		// No size search here: only a known size or an end marker
		// validates a guess.
		o, _, e := lzma.Decode(dst[:0], src, q, int64(want), int64(maxOut))
		if e == nil {
			a.vs.rawProps.Store(int32(b))
			return o, nil
		}
	}
	return out, err
}

// lzma decodes a raw LZMA stream of size bytes (-1: unknown). A stream of
// unknown size must end with an end marker, or else it is decoded to the
// length at which the range coder ends exactly.
func (a *adaptiveDecoder) lzma(dst, src []byte, p lzma.Props, size int64, maxOut int) ([]byte, error) {
	if size >= 0 {
		out, _, err := lzma.Decode(dst[:0], src, p, size, int64(maxOut))
		return out, err
	}
	out, _, err := lzma.Decode(dst[:0], src, p, -1, int64(maxOut))
	if err == nil || len(out) == 0 || !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, lzma.ErrLimit) {
		return out, err
	}
	if a.vs.scans.Add(-1) < 0 {
		return out, err
	}
	if o, ok := findSize(dst, src, p, len(out), maxOut); ok {
		return o, nil
	}
	return nil, err
}

// findSize looks for the output size at which a stream without end marker
// decodes cleanly (the range coder's code is 0 after the last symbol). n
// is the length decoded before the input ran out (or the limit was hit):
// the real size is at most n. Decoding with a size that is too large runs
// out of input; one that is too small leaves the range coder unfinished
// (except within a few bytes of the real size, where checking for an end
// marker may also run out of input): a binary search followed by a short
// scan finds it.
func findSize(dst, src []byte, p lzma.Props, n, maxOut int) ([]byte, bool) {
	probe := func(k int) ([]byte, int) {
		o, _, err := lzma.Decode(dst[:0], src, p, int64(k), int64(maxOut))
		switch {
		case err == nil:
			return o, 0
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, 1
		}
		return nil, -1
	}
	for _, k := range []int{n, n - 1} {
		if k > 0 {
			if o, r := probe(k); r == 0 {
				return o, true
			}
		}
	}
	lo, hi := 0, n-1
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		o, r := probe(mid)
		switch r {
		case 0:
			return o, true
		case 1:
			hi = mid
		default:
			lo = mid
		}
	}
	for k := min(n-2, hi+16); k >= max(1, hi-64); k-- {
		if o, r := probe(k); r == 0 {
			return o, true
		}
	}
	return nil, false
}
