package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// Helpers shared by the container formats (uImage, FIT, TRX, TP-Link,
// kernel images) and the xz/lzma stream formats.

// probeSize is how much output a decoder must produce (or how far it must
// get before a clean end) before a file is created for it.
const probeSize = 64 << 10

// probeMinCorrupt is how much output an LZMA payload that then turns out
// corrupt must have produced to be kept (as a partial file).
const probeMinCorrupt = 16 << 10

// errNoOutput wraps ErrNotFormat: the payload did not decode at all.
var errNoOutput = fmt.Errorf("%w: payload does not decode", ErrNotFormat)

// openDecoder opens the named stream codec over r. "lzop" is the lzop file
// format (LZO1X blocks), which the kernel and U-Boot use for LZO.
func openDecoder(codec string, r io.Reader) (io.ReadCloser, error) {
	if codec == "lzop" {
		return newLzopReader(r)
	}
	if codec == "gzip-members" {
		return newGzipMembers(r)
	}
	c, ok := compress.Get(codec)
	if !ok || c.Stream == nil {
		return nil, fmt.Errorf("no stream decoder for %s", codec)
	}
	return c.Stream(r)
}

// writeDecoded decompresses src with codec into a new file name. It decodes
// the first probeSize bytes before creating the file, so a payload that
// does not decode at all creates nothing and returns an error wrapping
// ErrNotFormat. consumed is what the decoder read from src (an upper bound
// for decoders that read ahead).
func writeDecoded(ctx context.Context, codec string, src io.Reader, w *Writer, name string) (written, consumed int64, err error) {
	cr := newCountingReader(src)
	dr, err := openDecoder(codec, cr)
	if err != nil {
		return 0, cr.n, fmt.Errorf("%w: %s: %v", errNoOutput, codec, err)
	}
	defer dr.Close()
	probe := make([]byte, probeSize)
	pn, perr, sticky := readProbe(ctxReader{ctx, dr}, probe)
	// no output, or (LZMA, which has neither magic nor checksum) corrupt
	// data early on, as random data after a plausible header decodes to a
	// few bytes of garbage: not this payload. Truncation is not
	// corruption: what decoded is kept.
	corrupt := codec == "lzma" && perr != nil && perr != io.EOF && !errors.Is(perr, io.ErrUnexpectedEOF)
	if pn == 0 || (corrupt && pn < probeMinCorrupt) {
		if perr == nil || perr == io.EOF {
			perr = errors.New("empty output")
		}
		return 0, cr.n, fmt.Errorf("%w: %s: %v", errNoOutput, codec, perr)
	}
	f, err := w.Create(name, 0o644)
	if err != nil {
		return 0, cr.n, err
	}
	n, err := f.Write(probe[:pn])
	written = int64(n)
	if err == nil {
		if perr == nil {
			var m int64
			m, err = io.CopyBuffer(f, ctxReader{ctx, dr}, make([]byte, 256<<10))
			written += m
		} else if perr != io.EOF {
			err = perr
		}
	}
	if err == nil {
		err = sticky
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: truncated stream after %d bytes of output: %w", codec, written, err)
	} else if err != nil && !IsLimit(err) && !IsEntryLimit(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%s: corrupt data after %d bytes of output: %w", codec, written, err)
	}
	return written, cr.n, err
}

// readProbe fills p from r. It returns how much it read and the error that
// ended it (nil if p is full, io.EOF at a clean end). Some decoders
// (ulikunitz/xz/lzma) report a truncated input before handing out the
// output they decoded; such an error at the very start is kept as sticky
// and reading goes on once.
func readProbe(r io.Reader, p []byte) (n int, err, sticky error) {
	retried := false
	for n < len(p) {
		m, e := r.Read(p[n:])
		n += m
		if e == nil {
			continue
		}
		if e != io.EOF && n == 0 && !retried {
			retried, sticky = true, e
			continue
		}
		if e == io.EOF && sticky != nil {
			e = sticky
		}
		return n, e, sticky
	}
	return n, nil, sticky
}

// writeRaw copies n bytes at off of r into a new file name.
func writeRaw(w *Writer, name string, r io.ReaderAt, off, n int64) error {
	_, err := w.WriteFile(name, 0o644, io.NewSectionReader(r, off, n))
	return err
}

// writePayload writes the n bytes at off of r as name, decompressed with
// codec ("" or "none": stored). A payload that does not decode is written
// raw as name+"."+codec with an anomaly, so carving can still look at it.
func writePayload(ctx context.Context, w *Writer, name, codec string, r io.ReaderAt, off, n int64) error {
	if codec == "" || codec == "none" {
		return writeRaw(w, name, r, off, n)
	}
	_, _, err := writeDecoded(ctx, codec, io.NewSectionReader(r, off, n), w, name)
	if errors.Is(err, ErrNotFormat) {
		w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("payload marked %s does not decompress (%v); written raw", codec, err))
		return writeRaw(w, name+"."+codec, r, off, n)
	}
	return err
}

// sniffCodec names the stream codec whose signature b starts with, or "".
func sniffCodec(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8:
		return "gzip"
	case len(b) >= 6 && bytes.Equal(b[:6], xzMagic):
		return "xz"
	case len(b) >= 10 && string(b[:3]) == "BZh" && b[3] >= '1' && b[3] <= '9' && string(b[4:10]) == "1AY&SY":
		return "bzip2"
	case len(b) >= 4 && bytes.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case len(b) >= 4 && (bytes.Equal(b[:4], []byte{0x02, 0x21, 0x4c, 0x18}) || bytes.Equal(b[:4], []byte{0x04, 0x22, 0x4d, 0x18})):
		return "lz4-frame"
	case len(b) >= 9 && bytes.Equal(b[:9], lzopMagic):
		return "lzop"
	case len(b) >= 14 && lzmaHeaderOK(b):
		return "lzma"
	}
	return ""
}

// readAtMost reads up to n bytes at off (fewer at the end of r).
func readAtMost(r io.ReaderAt, off, size, n int64) []byte {
	if off < 0 || off >= size || n <= 0 {
		return nil
	}
	if size-off < n {
		n = size - off
	}
	buf := make([]byte, n)
	m, _ := r.ReadAt(buf, off)
	return buf[:m]
}

// crc32Range computes the IEEE CRC-32 of n bytes at off of r, honouring ctx.
func crc32Range(ctx context.Context, r io.ReaderAt, off, n int64) (uint32, error) {
	h := crc32.NewIEEE()
	if _, err := io.CopyBuffer(h, ctxReader{ctx, io.NewSectionReader(r, off, n)}, make([]byte, 256<<10)); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// --- lzop -------------------------------------------------------------------

var lzopMagic = []byte{0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a}

const (
	lzopAdler32D = 0x0001
	lzopAdler32C = 0x0002
	lzopExtra    = 0x0040
	lzopCRC32D   = 0x0100
	lzopCRC32C   = 0x0200
	lzopFilter   = 0x0800
	lzopMaxBlock = 64 << 20
)

// lzopReader decodes the lzop file format (one member).
type lzopReader struct {
	r     io.Reader
	flags uint32
	buf   []byte
	src   []byte
	out   []byte
	dst   []byte // reused decode buffer
	err   error
	lzo   compress.Block
}

func newLzopReader(r io.Reader) (io.ReadCloser, error) {
	c, ok := compress.Get("lzo")
	if !ok || c.Block == nil {
		return nil, errors.New("no lzo decoder")
	}
	z := &lzopReader{r: r, lzo: c.Block}
	if err := z.header(); err != nil {
		return nil, err
	}
	return z, nil
}

func (z *lzopReader) read(n int) ([]byte, error) {
	if cap(z.buf) < n {
		z.buf = make([]byte, n)
	}
	b := z.buf[:n]
	_, err := io.ReadFull(z.r, b)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

func (z *lzopReader) u32() (uint32, error) {
	b, err := z.read(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

func (z *lzopReader) header() error {
	b, err := z.read(9 + 4)
	if err != nil {
		return err
	}
	if !bytes.Equal(b[:9], lzopMagic) {
		return errors.New("lzop: bad magic")
	}
	version := binary.BigEndian.Uint16(b[9:])
	skip := 0
	if version >= 0x0940 {
		skip = 2 // version needed to extract
	}
	if _, err := z.read(skip); err != nil {
		return err
	}
	b, err = z.read(1)
	if err != nil {
		return err
	}
	if m := b[0]; m != 1 && m != 2 && m != 3 {
		return fmt.Errorf("lzop: unsupported method %d", m)
	}
	if version >= 0x0940 {
		if _, err := z.read(1); err != nil { // level
			return err
		}
	}
	if z.flags, err = z.u32(); err != nil {
		return err
	}
	n := 4 + 4 // mode, mtime low
	if z.flags&lzopFilter != 0 {
		n += 4
	}
	if version >= 0x0940 {
		n += 4 // mtime high
	}
	if _, err := z.read(n); err != nil {
		return err
	}
	b, err = z.read(1)
	if err != nil {
		return err
	}
	if _, err := z.read(int(b[0]) + 4); err != nil { // name + header checksum
		return err
	}
	if z.flags&lzopExtra != 0 {
		l, err := z.u32()
		if err != nil {
			return err
		}
		if l > 1<<20 {
			return errors.New("lzop: extra field too large")
		}
		if _, err := z.read(int(l) + 4); err != nil {
			return err
		}
	}
	return nil
}

func (z *lzopReader) Read(p []byte) (int, error) {
	for len(z.out) == 0 {
		if z.err != nil {
			return 0, z.err
		}
		z.err = z.block()
	}
	n := copy(p, z.out)
	z.out = z.out[n:]
	return n, nil
}

func (z *lzopReader) block() error {
	dlen, err := z.u32()
	if err != nil {
		return err
	}
	if dlen == 0 {
		return io.EOF
	}
	slen, err := z.u32()
	if err != nil {
		return err
	}
	if dlen > lzopMaxBlock || slen > dlen || slen == 0 {
		return fmt.Errorf("lzop: bad block sizes %d/%d", slen, dlen)
	}
	var dsum, csum uint32
	hasD := z.flags&(lzopAdler32D|lzopCRC32D) != 0
	hasC := slen < dlen && z.flags&(lzopAdler32C|lzopCRC32C) != 0
	if hasD {
		if dsum, err = z.u32(); err != nil {
			return err
		}
	}
	if hasC {
		if csum, err = z.u32(); err != nil {
			return err
		}
	}
	_ = csum
	if cap(z.src) < int(slen) {
		z.src = make([]byte, slen)
	}
	src := z.src[:slen]
	if _, err := io.ReadFull(z.r, src); err != nil {
		return io.ErrUnexpectedEOF
	}
	var out []byte
	if slen == dlen {
		out = src
	} else {
		out, err = z.lzo(z.dst[:0], src, int(dlen))
		if cap(out) > cap(z.dst) {
			z.dst = out[:0]
		}
		if err != nil {
			return fmt.Errorf("lzop: %v", err)
		}
		if len(out) != int(dlen) {
			return fmt.Errorf("lzop: block decoded to %d bytes, want %d", len(out), dlen)
		}
	}
	if hasD {
		var got uint32
		if z.flags&lzopAdler32D != 0 {
			got = adler32.Checksum(out)
		} else {
			got = crc32.ChecksumIEEE(out)
		}
		if got != dsum {
			return errors.New("lzop: block checksum mismatch")
		}
	}
	z.out = out
	return nil
}

func (z *lzopReader) Close() error { return nil }
