package squashfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
	"github.com/klauspost/compress/zstd"
	xi2 "github.com/xi2/xz"
)

// xzDictMax bounds the dictionary an xz block may declare. mksquashfs never
// uses one larger than the block size (1 MiB at most) and the kernel
// refuses them; a little slack is left for odd vendor tools.
const xzDictMax = 8 << 20

// blockCodec decompresses blocks of one compressor. Each worker (and the
// metadata reader) owns one, so codecs may keep state between blocks.
type blockCodec interface {
	decode(dst, src []byte, maxOut int) ([]byte, error)
	close()
}

// nominalCodec returns a codec for the compressor the superblock names.
func (img *Image) nominalCodec() blockCodec {
	switch img.sb.Compressor {
	case CompXZ:
		return &xzDecoder{}
	case CompLZMA:
		return &lzmaDecoder{block: img.codec}
	case CompZstd:
		return &zstdDecoder{max: uint64(max(img.sb.BlockSize, metaSize))}
	}
	return blockDecoder(img.codec)
}

// blockDecoder wraps a stateless codec from extract/compress.
type blockDecoder compress.Block

func (b blockDecoder) decode(dst, src []byte, maxOut int) ([]byte, error) {
	return b(dst, src, maxOut)
}

func (blockDecoder) close() {}

// zstdDecoder bounds the output while decoding (a frame may declare any
// content size), so a hostile block cannot make it allocate more than a
// block.
type zstdDecoder struct {
	max uint64
	d   *zstd.Decoder
	err error
}

func (z *zstdDecoder) decode(dst, src []byte, maxOut int) ([]byte, error) {
	if z.d == nil && z.err == nil {
		z.d, z.err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(z.max),
			zstd.WithDecoderMaxWindow(max(z.max, zstd.MinWindowSize)))
	}
	if z.err != nil {
		return nil, z.err
	}
	out, err := z.d.DecodeAll(src, dst[:0])
	if err == nil && len(out) > maxOut {
		return out[:maxOut], compress.ErrTooLarge
	}
	return out, err
}

func (z *zstdDecoder) close() {
	if z.d != nil {
		z.d.Close()
	}
}

// lzmaDecoder decodes the LZMA-alone blocks mksquashfs writes. The
// dictionary size of the header is capped to the output bound (a match
// cannot reach further back than the output), so a hostile header cannot
// make the decoder allocate a huge dictionary per block.
type lzmaDecoder struct {
	block compress.Block
}

func (l *lzmaDecoder) decode(dst, src []byte, maxOut int) ([]byte, error) {
	if len(src) >= 13 {
		limit := uint32(max(maxOut, 4096))
		if d := binary.LittleEndian.Uint32(src[1:]); d > limit {
			binary.LittleEndian.PutUint32(src[1:], limit)
		}
	}
	return l.block(dst, src, maxOut)
}

func (*lzmaDecoder) close() {}

// xzDecoder decodes the blocks mksquashfs writes (one LZMA2 block, CRC32)
// in one pass into dst (compress.DecodeXZSingle); any other or a corrupt
// block goes through one xz reader (and its dictionary) reused for every
// block, which gives the same output or the error.
type xzDecoder struct {
	z  *xi2.Reader
	br bytes.Reader
}

func (x *xzDecoder) decode(dst, src []byte, maxOut int) ([]byte, error) {
	if cap(dst) < maxOut {
		dst = make([]byte, 0, maxOut+1)
	}
	if out, ok := compress.DecodeXZSingle(dst, src, maxOut); ok {
		return out, nil
	}
	x.br.Reset(src)
	if x.z == nil {
		z, err := xi2.NewReader(&x.br, xzDictMax)
		if err != nil {
			return nil, err
		}
		x.z = z
	} else if err := x.z.Reset(&x.br); err != nil {
		return nil, err
	}
	x.z.Multistream(false)
	if cap(dst) < maxOut+1 {
		dst = make([]byte, 0, maxOut+1)
	}
	out := dst[:maxOut+1]
	n := 0
	for {
		m, err := x.z.Read(out[n:])
		n += m
		if err == io.EOF {
			return out[:n], nil
		}
		if err != nil {
			return out[:n], err
		}
		if n > maxOut {
			return out[:maxOut], compress.ErrTooLarge
		}
		if m == 0 {
			return out[:n], errors.New("xz: no progress")
		}
	}
}

func (*xzDecoder) close() {}

// safeDecode runs a decoder, turning panics into errors. want is the exact
// size of the output when known (data blocks), else -1.
func safeDecode(d decoder, dst, src []byte, maxOut, want int) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return d.decode(dst, src, maxOut, want)
}
