package extract

import (
	"context"
	"errors"
	"fmt"
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

// openDecoder opens the named stream codec (extract/compress) over r;
// "gzip-members" is gzip that goes on over concatenated members.
func openDecoder(codec string, r io.Reader) (io.ReadCloser, error) {
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
	if d := w.pre; d != nil && d.codec == codec && !w.preUsed && ctx.Err() == nil && w.fits(int64(len(d.data))) {
		// decoded ahead, cleanly, and the whole output fits: what the
		// decoding below would write (prefetch.go)
		w.preUsed = true
		prefetchReplays.Add(1)
		return writeWhole(w, name, d)
	}
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

// writeWhole writes a stream decoded whole, cleanly, into a new file name
// (the caller checked that it fits): what writeDecoded would write.
func writeWhole(w *Writer, name string, d *predecoded) (written, consumed int64, err error) {
	f, err := w.Create(name, 0o644)
	if err != nil {
		return 0, d.consumed, err
	}
	n, err := f.Write(d.data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return int64(n), d.consumed, err
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

// sniffCodec names the stream codec whose signature b starts with, or ""
// (compress.Sniff: every registered codec's magic and check).
func sniffCodec(b []byte) string { return compress.Sniff(b) }

// crc32Range computes the IEEE CRC-32 of n bytes at off of r, honouring ctx.
func crc32Range(ctx context.Context, r io.ReaderAt, off, n int64) (uint32, error) {
	h := crc32.NewIEEE()
	if _, err := io.CopyBuffer(h, ctxReader{ctx, io.NewSectionReader(r, off, n)}, make([]byte, 256<<10)); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}
