package compress

import (
	"bytes"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
	"io"
)

// zlib (RFC 1950) and raw deflate (RFC 1951): block codecs of file systems
// (SquashFS gzip, JFFS2, UBIFS, cramfs) and zip members. They have no magic
// worth sniffing in a firmware blob.
func init() {
	Register(Codec{Name: "zlib",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			zr, err := zlib.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			return readAllLimited(dst, zr, maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return zlib.NewReader(r) }})
	Register(Codec{Name: "deflate",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			return readAllLimited(dst, flate.NewReader(bytes.NewReader(src)), maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return flate.NewReader(r), nil }})
}
