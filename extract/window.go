package extract

import (
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// A stream may declare a window or dictionary far larger than the decoders
// accept (zstd --long=31, xz or LZMA-alone with a 1 GiB dictionary) while
// its data is small: declaring it must not hide the stream. No match can
// reach further back than the output so far, so a decoder with a smaller
// window decodes the stream exactly as long as the output fits in that
// window; past it, a match that reaches further is a decoding error, which
// is reported on the layer like any other. Each codec's Window function (extract/compress)
// finds the declared size; clampWindow rewrites it down to
// compress.DictLimit in a view of the stream and records an anomaly.

// windowAnomaly records that a declared window was clamped.
func windowAnomaly(w *Writer, format string, declared uint64) {
	w.Anomaly(AnomalyLimit, "", "the "+format+" stream declares a window/dictionary of "+humanBytes(declared)+
		", more than the decoder's bound of "+humanBytes(compress.DictLimit)+
		"; decoded with that bound (exact while the output fits in it; a longer match is reported as an error)")
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return itoa(n>>30) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// clampWindow returns r with the declared window or dictionary of the
// codec's stream at r's offset 0 lowered to compress.DictLimit when it
// declares more (the codec's Window function says where and how), and
// records the anomaly; r itself otherwise.
func clampWindow(codec string, r io.ReaderAt, size int64, w *Writer) io.ReaderAt {
	c, ok := compress.Get(codec)
	if !ok || c.Window == nil {
		return r
	}
	off, patch, declared, ok := c.Window(r, size)
	if !ok {
		return r
	}
	label := c.Label
	if label == "" {
		label = c.Name
	}
	windowAnomaly(w, label, declared)
	return compress.Patched(r, off, patch)
}
