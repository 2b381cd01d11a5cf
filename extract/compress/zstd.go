package compress

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstd: a Zstandard frame. Its window descriptor may declare more than the
// decoder accepts (zstd --long=31); Window lowers it to DictLimit.
func init() {
	Register(Codec{Name: "zstd", Rank: 60,
		Magics: [][]byte{{0x28, 0xb5, 0x2f, 0xfd}},
		Kernel: [][]byte{{0x28, 0xb5, 0x2f, 0xfd}},
		UImage: 6, FIT: "zstd",
		Window: zstdWindow,
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

// zstdWindow lowers the first frame's window descriptor to DictLimit when
// it declares more.
func zstdWindow(r io.ReaderAt, size int64) (int64, []byte, uint64, bool) {
	h := ReadHeader(r, 0, size, 6)
	if len(h) < 6 || h[4]&0x20 != 0 { // single segment: no window descriptor
		return 0, nil, 0, false
	}
	wd := h[5]
	wlog := 10 + uint(wd>>3)
	declared := (uint64(1) << wlog) + (uint64(1)<<wlog)/8*uint64(wd&7)
	if declared <= DictLimit {
		return 0, nil, 0, false
	}
	limitLog := uint(0)
	for uint64(1)<<(limitLog+1) <= DictLimit {
		limitLog++
	}
	return 5, []byte{byte((limitLog - 10) << 3)}, declared, true
}
