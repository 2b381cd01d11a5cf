package compress

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"io"
)

// bzip2: "BZh", the block size '1'..'9', then the first block's magic.
func init() {
	Register(Codec{Name: "bzip2", Rank: 70,
		Magics: [][]byte{[]byte("BZh")},
		Sniff: func(b []byte) bool {
			return len(b) >= 10 && string(b[:3]) == "BZh" && b[3] >= '1' && b[3] <= '9' && string(b[4:10]) == "1AY&SY"
		},
		Kernel: [][]byte{[]byte("BZh")},
		UImage: 2, FIT: "bzip2",
		Block: func(dst, src []byte, maxOut int) ([]byte, error) {
			return readAllLimited(dst, bzip2.NewReader(bytes.NewReader(src)), maxOut)
		},
		Stream: func(r io.Reader) (io.ReadCloser, error) { return nopCloser(bzip2End{bzip2.NewReader(r)}), nil }})
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
