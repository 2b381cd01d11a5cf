// Package compress holds the decompressors formats use: streaming readers
// for whole compressed streams and block decoders for file systems that
// compress fixed-size blocks (SquashFS, JFFS2, UBIFS). Fast decoders sit on
// the hot paths behind the same interface as the reference decoders, so
// tests compare them byte for byte.
package compress

import (
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	lzo "github.com/anchore/go-lzo"
	"github.com/fwaudit/fwaudit/extract/compress/lzma"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	uxz "github.com/ulikunitz/xz"
	ulzma "github.com/ulikunitz/xz/lzma"
	xi2 "github.com/xi2/xz"
)

// ErrTooLarge is returned when a block decodes to more than allowed.
var ErrTooLarge = errors.New("decompressed data exceeds the limit")

// DictLimit caps the dictionary an LZMA/xz stream may ask for.
const DictLimit = 128 << 20

// Block decodes one independently compressed block into dst[:0] (dst's
// capacity is reused), with at most maxOut bytes of output.
type Block func(dst, src []byte, maxOut int) ([]byte, error)

// Stream opens a streaming decompressor over r.
type Stream func(r io.Reader) (io.ReadCloser, error)

// Codec is one compression method.
type Codec struct {
	Name   string
	Block  Block
	Stream Stream
}

var codecs = map[string]Codec{}

func register(c Codec) { codecs[c.Name] = c }

// Get returns the codec of that name: gzip, zlib, deflate, xz, xz-ref,
// lzma, lzma-ref, lzo, lz4, lz4-frame, zstd, bzip2.
func Get(name string) (Codec, bool) {
	c, ok := codecs[name]
	return c, ok
}

// Names lists the codecs, sorted.
func Names() []string {
	var out []string
	for n := range codecs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// readAllLimited reads r into dst up to maxOut bytes; more is ErrTooLarge.
func readAllLimited(dst []byte, r io.Reader, maxOut int) ([]byte, error) {
	buf := bytes.NewBuffer(dst[:0])
	n, err := io.Copy(buf, io.LimitReader(r, int64(maxOut)+1))
	if err != nil {
		return buf.Bytes(), err
	}
	if n > int64(maxOut) {
		return buf.Bytes()[:maxOut], ErrTooLarge
	}
	return buf.Bytes(), nil
}

func nopCloser(r io.Reader) io.ReadCloser { return io.NopCloser(r) }

func init() {
	register(Codec{Name: "gzip",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := gzip.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, err
			}
			zr.Multistream(false)
			return zr, nil
		}})
	register(Codec{Name: "zlib",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := zlib.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return zlib.NewReader(r) }})
	register(Codec{Name: "deflate",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			return readAllLimited(dst, flate.NewReader(bytes.NewReader(src)), maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return flate.NewReader(r), nil }})
	// xz: xi2/xz (a port of xz-embedded) is the fast decoder; ulikunitz/xz
	// is the reference.
	register(Codec{Name: "xz",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			if out, ok := DecodeXZSingle(dst, src, maxOut); ok {
				return out, nil
			}
			zr, err := xi2.NewReader(bytes.NewReader(src), DictLimit)
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := xi2.NewReader(r, DictLimit)
			if err != nil {
				return nil, err
			}
			zr.Multistream(false)
			return nopCloser(zr), nil
		}})
	register(Codec{Name: "xz-ref",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := uxz.ReaderConfig{DictCap: DictLimit, SingleStream: true}.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := uxz.ReaderConfig{DictCap: DictLimit, SingleStream: true}.NewReader(r)
			if err != nil {
				return nil, err
			}
			return nopCloser(zr), nil
		}})
	// lzma: LZMA-alone (13-byte header). Our own decoder is the fast one;
	// ulikunitz/xz/lzma is the reference.
	register(Codec{Name: "lzma",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			out, _, err := lzma.DecodeAlone(dst[:0], src, int64(maxOut))
			return out, err
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := lzma.NewReader(r, DictLimit)
			if err != nil {
				return nil, err
			}
			return nopCloser(zr), nil
		}})
	register(Codec{Name: "lzma-ref",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := ulzma.ReaderConfig{DictCap: DictLimit}.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := ulzma.ReaderConfig{DictCap: DictLimit}.NewReader(r)
			if err != nil {
				return nil, err
			}
			return nopCloser(zr), nil
		}})
	register(Codec{Name: "lzo",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			if cap(dst) < maxOut {
				dst = make([]byte, maxOut)
			}
			dst = dst[:maxOut]
			n, err := lzoDecompress(src, dst)
			if err != nil {
				return nil, err
			}
			return dst[:n], nil
		}})
	register(Codec{Name: "lz4", // raw LZ4 block, as SquashFS stores it
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			if cap(dst) < maxOut {
				dst = make([]byte, maxOut)
			}
			dst = dst[:maxOut]
			n, err := lz4.UncompressBlock(src, dst)
			if err != nil {
				return nil, err
			}
			return dst[:n], nil
		}})
	register(Codec{Name: "lz4-frame",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			return readAllLimited(dst, lz4.NewReader(bytes.NewReader(src)), maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return nopCloser(lz4.NewReader(r)), nil }})
	register(Codec{Name: "zstd",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			d, err := zstdBlockDecoder()
			if err != nil {
				return nil, err
			}
			out, err := d.DecodeAll(src, dst[:0])
			if err != nil {
				return nil, err
			}
			if len(out) > maxOut {
				return out[:maxOut], ErrTooLarge
			}
			return out, nil
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) {
			d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderMaxWindow(DictLimit))
			if err != nil {
				return nil, err
			}
			return d.IOReadCloser(), nil
		}})
	register(Codec{Name: "bzip2",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			return readAllLimited(dst, bzip2.NewReader(bytes.NewReader(src)), maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return nopCloser(bzip2End{bzip2.NewReader(r)}), nil }})
}

var (
	zstdOnce   sync.Once
	zstdShared *zstd.Decoder
	zstdErr    error
)

// zstdBlockDecoder returns one shared decoder; DecodeAll is safe for
// concurrent use.
func zstdBlockDecoder() (*zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdShared, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(256<<20))
	})
	return zstdShared, zstdErr
}

// lzoDecompress wraps the LZO1X decoder, turning its panics on hostile
// input into errors.
func lzoDecompress(src, dst []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("lzo: corrupt block (%v)", r)
		}
	}()
	return lzo.Decompress(src, dst)
}

// bzip2End ends a bzip2 stream cleanly when trailing data that is not
// another bzip2 stream follows it (compress/bzip2 reads concatenated
// streams and calls anything else after the end marker an error, though
// every byte of output was already delivered and checked).
type bzip2End struct{ r io.Reader }

func (b bzip2End) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var se bzip2.StructuralError
	if errors.As(err, &se) && string(se) == "bad magic value in continuation file" {
		return n, io.EOF
	}
	return n, err
}
