package compress

import (
	"bytes"
	"github.com/klauspost/compress/gzip"
	"io"
)

// gzip (RFC 1952). Stream reads one member; extract joins members.
func init() {
	Register(Codec{Name: "gzip", Rank: 10,
		Magics: [][]byte{{0x1f, 0x8b, 0x08}},
		Kernel: [][]byte{{0x1f, 0x8b, 0x08}},
		UImage: 1, FIT: "gzip",
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
}
