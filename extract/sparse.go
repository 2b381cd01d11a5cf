package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// sparseFormat is the Android sparse image (img2simg, fastboot): a list of
// chunks that are raw data, a repeated 4-byte fill value, "don't care"
// (skipped) or a CRC32 of the output so far. It is expanded to image.raw,
// which the engine carves again (ext4, ...). Don't-care blocks become zeros.
type sparseFormat struct{}

func init() { Register(sparseFormat{}) }

func (sparseFormat) Name() string    { return "android-sparse" }
func (sparseFormat) Kind() Kind      { return Container }
func (sparseFormat) Magics() []Magic { return []Magic{{0, []byte{0x3a, 0xff, 0x26, 0xed}}} }

const (
	sparseMagic    = 0xed26ff3a
	sparseRaw      = 0xcac1
	sparseFill     = 0xcac2
	sparseDontCare = 0xcac3
	sparseCRC      = 0xcac4
	sparseMaxBlk   = 64 << 20
)

type sparseHeader struct {
	fileHdr, chunkHdr int64
	blkSz             int64
	totalBlks         int64
	totalChunks       int64
	checksum          uint32
}

func sparseParse(h []byte) (sparseHeader, bool) {
	var s sparseHeader
	if len(h) < 28 {
		return s, false
	}
	le := binary.LittleEndian
	if le.Uint32(h) != sparseMagic || le.Uint16(h[4:]) != 1 {
		return s, false
	}
	s.fileHdr, s.chunkHdr = int64(le.Uint16(h[8:])), int64(le.Uint16(h[10:]))
	s.blkSz = int64(le.Uint32(h[12:]))
	s.totalBlks, s.totalChunks = int64(le.Uint32(h[16:])), int64(le.Uint32(h[20:]))
	s.checksum = le.Uint32(h[24:])
	if s.fileHdr < 28 || s.fileHdr > 1024 || s.chunkHdr < 12 || s.chunkHdr > 1024 {
		return s, false
	}
	if s.blkSz == 0 || s.blkSz%4 != 0 || s.blkSz > sparseMaxBlk {
		return s, false
	}
	if s.totalChunks == 0 || s.totalBlks == 0 {
		return s, false
	}
	return s, true
}

func (sparseFormat) Identify(h []byte) bool {
	s, ok := sparseParse(h)
	if !ok {
		return false
	}
	// the first chunk header, when the buffer holds it, has a known type
	if int64(len(h)) >= s.fileHdr+4 {
		switch binary.LittleEndian.Uint16(h[s.fileHdr:]) {
		case sparseRaw, sparseFill, sparseDontCare, sparseCRC:
		default:
			return false
		}
	}
	return true
}

func (sparseFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (sparseFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	s, ok := sparseParse(readHeader(r, 0, size, 28))
	if !ok {
		return 0, fmt.Errorf("%w: bad sparse header", ErrNotFormat)
	}
	f, err := w.Create("image.raw", 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	le := binary.LittleEndian
	off := s.fileHdr
	blocks := int64(0)
	crc := crc32.NewIEEE()
	out := io.MultiWriter(f, crc)
	buf := make([]byte, 256<<10)
	zero := make([]byte, 256<<10)
	ch := make([]byte, 12)
	var chunkErr error
	chunks := int64(0)
	for ; chunks < s.totalChunks; chunks++ {
		if chunks%64 == 0 && ctx.Err() != nil {
			return off, ctx.Err()
		}
		if n, _ := r.ReadAt(ch, off); n < 12 {
			chunkErr = fmt.Errorf("chunk %d header at %d: %w", chunks, off, io.ErrUnexpectedEOF)
			break
		}
		typ := le.Uint16(ch)
		nblk := int64(le.Uint32(ch[4:]))
		total := int64(le.Uint32(ch[8:]))
		dataOff := off + s.chunkHdr
		dlen := total - s.chunkHdr
		if dlen < 0 || dataOff+dlen > size {
			chunkErr = fmt.Errorf("chunk %d at %d: size %d runs past the end: %w", chunks, off, total, io.ErrUnexpectedEOF)
			break
		}
		if blocks+nblk > s.totalBlks {
			chunkErr = fmt.Errorf("chunk %d at %d: %d blocks overflow the image of %d", chunks, off, nblk, s.totalBlks)
			break
		}
		outLen := nblk * s.blkSz
		switch typ {
		case sparseRaw:
			if dlen != outLen {
				chunkErr = fmt.Errorf("raw chunk %d at %d: %d bytes for %d blocks", chunks, off, dlen, nblk)
				break
			}
			_, err = io.CopyBuffer(out, io.NewSectionReader(r, dataOff, dlen), buf)
		case sparseFill:
			if dlen != 4 {
				chunkErr = fmt.Errorf("fill chunk %d at %d: %d bytes of data", chunks, off, dlen)
				break
			}
			var v [4]byte
			if _, err := r.ReadAt(v[:], dataOff); err != nil {
				return off, err
			}
			pat := buf
			for i := 0; i+4 <= len(pat); i += 4 {
				copy(pat[i:], v[:])
			}
			err = sparseRepeat(out, pat, outLen)
		case sparseDontCare:
			if dlen != 0 {
				w.Anomaly(AnomalyMalformed, "image.raw", fmt.Sprintf("don't-care chunk %d carries %d bytes", chunks, dlen))
			}
			err = sparseRepeat(out, zero, outLen)
		case sparseCRC:
			if dlen != 4 || nblk != 0 {
				chunkErr = fmt.Errorf("CRC chunk %d at %d: bad size", chunks, off)
				break
			}
			var v [4]byte
			if _, err := r.ReadAt(v[:], dataOff); err != nil {
				return off, err
			}
			if le.Uint32(v[:]) != crc.Sum32() {
				w.Anomaly(AnomalyMalformed, "image.raw", fmt.Sprintf("CRC chunk %d: %08x, data gives %08x", chunks, le.Uint32(v[:]), crc.Sum32()))
			}
		default:
			chunkErr = fmt.Errorf("chunk %d at %d: unknown type %#x", chunks, off, typ)
		}
		if chunkErr != nil {
			break
		}
		if err != nil {
			if IsLimit(err) {
				return dataOff + dlen, err
			}
			return off, err
		}
		blocks += nblk
		off = dataOff + dlen
	}
	if chunks == 0 {
		return 0, fmt.Errorf("%w: %v", ErrNotFormat, chunkErr)
	}
	if chunkErr != nil {
		return off, chunkErr
	}
	if blocks != s.totalBlks {
		w.Anomaly(AnomalyMalformed, "image.raw", fmt.Sprintf("chunks cover %d of %d blocks", blocks, s.totalBlks))
	}
	if s.checksum != 0 && s.checksum != crc.Sum32() {
		w.Anomaly(AnomalyMalformed, "image.raw", fmt.Sprintf("image checksum %08x, data gives %08x", s.checksum, crc.Sum32()))
	}
	return off, f.Close()
}

// sparseRepeat writes n bytes of pat (its length a multiple of 4) repeated.
func sparseRepeat(w io.Writer, pat []byte, n int64) error {
	for n > 0 {
		m := min(n, int64(len(pat)))
		if _, err := w.Write(pat[:m]); err != nil {
			return err
		}
		n -= m
	}
	return nil
}
