// Package compress holds the decompressors formats use: streaming readers
// for whole compressed streams and block decoders for file systems that
// compress fixed-size blocks (SquashFS, JFFS2, UBIFS). Fast decoders sit on
// the hot paths behind the same interface as the reference decoders, so
// tests compare them byte for byte.
//
// Each codec lives in a file of its own and registers itself from init:
// its decoders, the signatures its streams start with, how to tell such a
// stream from a coincidence (Sniff), and the identifiers container formats
// use for it (U-Boot uImage, FIT). Sniffing payloads and the compression
// tables of the kernel, uImage and FIT formats are built from this
// registry, so adding a codec is one file here.
package compress

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"sync"
)

// ErrTooLarge is returned when a block decodes to more than allowed.
var ErrTooLarge = errors.New("decompressed data exceeds the limit")

// DictLimit caps the dictionary an LZMA/xz stream may ask for.
const DictLimit = 128 << 20

// Block decodes one independently compressed block into dst[:0] (dst's
// capacity is reused), with at most maxOut bytes of output.
type Block func(dst, src []byte, maxOut int) ([]byte, error)

// Stream opens a streaming decompressor over r. It reads one stream and
// ends (io.EOF) at its end, leaving what follows unread as far as the
// decoder allows.
type Stream func(r io.Reader) (io.ReadCloser, error)

// Codec is one compression method.
type Codec struct {
	// Name identifies the codec ("gzip", "lzop", "lz4-frame").
	Name string
	// Block decodes a whole block in memory; Stream decodes a stream.
	// Either may be nil (raw LZO has no stream form, lzop no block form
	// file systems use).
	Block  Block
	Stream Stream

	// Magics are the signatures a stream of this codec starts with. A
	// codec without magics (a raw block codec) is never sniffed.
	Magics [][]byte
	// Sniff decides whether b, the first bytes of a candidate stream (up
	// to SniffLen of them), starts a stream of this codec. nil: starting
	// with one of Magics is enough.
	Sniff func(b []byte) bool
	// Weak marks a codec whose streams have no magic of their own
	// (LZMA-alone): it is sniffed only after every codec that has one.
	Weak bool
	// Rank orders the codecs where the order matters: the kernel payload
	// search, which caps its candidates, tries the commonest first.
	Rank int
	// Kernel are the signatures of this codec's payloads behind a Linux
	// kernel's decompressor (zImage, bzImage); nil if kernels do not use
	// it.
	Kernel [][]byte
	// UImage is the U-Boot legacy image compression byte (IH_COMP_*)
	// naming this codec, 0 if uImages cannot carry it.
	UImage byte
	// FIT is the value of a FIT image's "compression" property naming
	// this codec, "" if FIT images cannot carry it.
	FIT string
	// Window, when set, reads the declared window or dictionary size of
	// the stream starting at r's offset 0 and, when it is larger than
	// DictLimit, returns the bytes to write at off to declare DictLimit
	// instead (see extract/window.go); declared is what the stream asked
	// for. ok is false when there is nothing to change.
	Window func(r io.ReaderAt, size int64) (off int64, patch []byte, declared uint64, ok bool)
	// Label names the codec in messages ("LZMA"); Name when empty.
	Label string
}

// SniffLen is how many bytes Sniff is given (fewer at the end of data).
const SniffLen = 64

var (
	mu     sync.RWMutex
	codecs = map[string]Codec{}
)

// Register adds a codec. It is called from the init function of the
// codec's file (or of a test); a name registered twice panics.
func Register(c Codec) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := codecs[c.Name]; dup {
		panic("compress: codec registered twice: " + c.Name)
	}
	codecs[c.Name] = c
}

// Get returns the codec of that name: gzip, zlib, deflate, xz, xz-ref,
// lzma, lzma-ref, lzo, lzop, lz4, lz4-frame, zstd, bzip2.
func Get(name string) (Codec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := codecs[name]
	return c, ok
}

// Names lists the codecs, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for n := range codecs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Codecs returns every codec, ordered by Rank, then name.
func Codecs() []Codec {
	mu.RLock()
	out := make([]Codec, 0, len(codecs))
	for _, c := range codecs {
		out = append(out, c)
	}
	mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rank != out[j].Rank {
			return out[i].Rank < out[j].Rank
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// HasMagic reports whether b starts with one of the codec's magics.
func (c Codec) HasMagic(b []byte) bool {
	for _, m := range c.Magics {
		if bytes.HasPrefix(b, m) {
			return true
		}
	}
	return false
}

// Sniffs reports whether b starts a stream of this codec.
func (c Codec) Sniffs(b []byte) bool {
	if len(c.Magics) == 0 && c.Sniff == nil {
		return false
	}
	if c.Sniff != nil {
		return c.Sniff(b)
	}
	return c.HasMagic(b)
}

// Sniff names the stream codec whose signature b starts with, or "": the
// codecs with a magic of their own first (by Rank), then the weak ones.
func Sniff(b []byte) string {
	cs := Codecs()
	for _, weak := range []bool{false, true} {
		for _, c := range cs {
			if c.Weak == weak && c.Sniffs(b) {
				return c.Name
			}
		}
	}
	return ""
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

// streamBlock turns a stream decoder into a block decoder.
func streamBlock(s Stream) Block {
	return func(dst, src []byte, maxOut int) ([]byte, error) {
		zr, err := s(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return readAllLimited(dst, zr, maxOut)
	}
}

// Patched is r with the bytes at off replaced by b: the view of a stream
// whose declared window a codec's Window function lowered.
func Patched(r io.ReaderAt, off int64, b []byte) io.ReaderAt {
	return patchedReaderAt{r, off, b}
}

type patchedReaderAt struct {
	r   io.ReaderAt
	off int64
	b   []byte
}

func (p patchedReaderAt) ReadAt(buf []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(buf, off)
	for i := range p.b {
		if at := p.off + int64(i) - off; at >= 0 && at < int64(n) {
			buf[at] = p.b[i]
		}
	}
	return n, err
}

// ReadHeader reads up to n bytes at off of r, which holds size bytes
// (fewer at the end, none past it).
func ReadHeader(r io.ReaderAt, off, size int64, n int) []byte {
	if size-off < int64(n) {
		n = int(size - off)
	}
	if n <= 0 {
		return nil
	}
	buf := make([]byte, n)
	m, _ := r.ReadAt(buf, off)
	return buf[:m]
}
