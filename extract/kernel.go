package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Linux kernel images that carry a compressed kernel behind a small
// decompressor: ARM zImage and x86 bzImage. Unpacking writes the
// decompressed kernel as "vmlinux". (A raw, already decompressed kernel is
// recognised by its "Linux version" banner by the components analyzer; it
// is not a format here.)

// kernelMaxImage bounds how much of a zImage is read into memory.
const kernelMaxImage = 64 << 20

// kernelMaxTries bounds how many payload candidates are tried.
const kernelMaxTries = 32

// --- ARM zImage -------------------------------------------------------------

// zimageFormat is an ARM zImage (arch/arm/boot/compressed/head.S): the
// magic 0x016F2818 at 0x24, start and end addresses at 0x28/0x2C (end -
// start is the image's length), in the kernel's byte order. A big-endian
// magic is either a BE32 kernel or a little-endian one stored with every
// 32-bit word swapped; both are handled.
type zimageFormat struct{}

func init() { Register(zimageFormat{}) }

var (
	zimageMagicLE = []byte{0x18, 0x28, 0x6f, 0x01}
	zimageMagicBE = []byte{0x01, 0x6f, 0x28, 0x18}
)

func (zimageFormat) Name() string { return "zimage" }
func (zimageFormat) Kind() Kind   { return Container }
func (zimageFormat) Magics() []Magic {
	return []Magic{{0x24, zimageMagicLE}, {0x24, zimageMagicBE}}
}

// parseZImage returns the byte order of the header and the image length
// (end - start).
func parseZImage(h []byte) (binary.ByteOrder, int64, bool) {
	if len(h) < 0x30 {
		return nil, 0, false
	}
	var bo binary.ByteOrder
	switch {
	case bytes.Equal(h[0x24:0x28], zimageMagicLE):
		bo = binary.LittleEndian
	case bytes.Equal(h[0x24:0x28], zimageMagicBE):
		bo = binary.BigEndian
	default:
		return nil, 0, false
	}
	// the word before the magic is an ARM branch over it (in either byte
	// order: BE8 kernels keep instructions little-endian).
	if h[0x23] != 0xea && h[0x20] != 0xea {
		return nil, 0, false
	}
	start, end := bo.Uint32(h[0x28:]), bo.Uint32(h[0x2c:])
	n := int64(end) - int64(start)
	if n < 0x200 || n > 256<<20 {
		return nil, 0, false
	}
	return bo, n, true
}

func (zimageFormat) Identify(h []byte) bool {
	_, _, ok := parseZImage(h)
	return ok
}

func (zimageFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	_, n, ok := parseZImage(readAtMost(r, 0, size, 0x30))
	if !ok {
		return 0, ErrNotFormat
	}
	return n, nil
}

func (zimageFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	bo, n, ok := parseZImage(readAtMost(r, 0, size, 0x30))
	if !ok {
		return 0, fmt.Errorf("%w: bad zImage header", ErrNotFormat)
	}
	var truncErr error
	if n > size {
		truncErr = fmt.Errorf("truncated zImage: header says %d bytes, %d present", n, size)
		w.Anomaly(AnomalyMalformed, "", truncErr.Error())
		n = size
	}
	if n > kernelMaxImage {
		return n, fmt.Errorf("zImage of %d bytes is larger than the %d bytes handled", n, kernelMaxImage)
	}
	img := readAtMost(r, 0, size, n)
	err := kernelPayload(ctx, img, 0x30, w)
	if errors.Is(err, errNoPayload) && bo == binary.BigEndian {
		// a little-endian zImage stored as 32-bit big-endian words
		sw := make([]byte, len(img)&^3)
		for i := 0; i+4 <= len(sw); i += 4 {
			sw[i], sw[i+1], sw[i+2], sw[i+3] = img[i+3], img[i+2], img[i+1], img[i]
		}
		err = kernelPayload(ctx, sw, 0x30, w)
	}
	if err == nil {
		err = truncErr
	}
	return n, err
}

var errNoPayload = errors.New("no compressed kernel found after the decompressor")

// kernelPayload finds the compressed kernel in img (from offset from on)
// and writes it decompressed as "vmlinux": candidates are tried in order
// of their offset until one decodes.
func kernelPayload(ctx context.Context, img []byte, from int, w *Writer) error {
	var cands []int
	for _, m := range kernelCodecMagics() {
		for i := from; i < len(img); {
			j := bytes.Index(img[i:], m)
			if j < 0 {
				break
			}
			cands = append(cands, i+j)
			i += j + 1
			if len(cands) > 4096 {
				break
			}
		}
	}
	sort.Ints(cands)
	tries := 0
	for _, off := range cands {
		codec := sniffCodec(img[off:min(len(img), off+64)])
		if codec == "" {
			continue
		}
		if tries++; tries > kernelMaxTries || ctx.Err() != nil {
			break
		}
		_, _, err := writeDecoded(ctx, codec, bytes.NewReader(img[off:]), w, "vmlinux")
		if errors.Is(err, ErrNotFormat) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s kernel at 0x%x: %w", codec, off, err)
		}
		return nil
	}
	return errNoPayload
}

// --- x86 bzImage ------------------------------------------------------------

// bzimageFormat is an x86 bzImage (Documentation/arch/x86/boot.rst): boot
// sector signature 0xAA55 at 510, "HdrS" at 0x202, setup_sects at 0x1F1;
// the protected-mode code starts at (setup_sects+1)*512 and, from boot
// protocol 2.08, payload_offset (0x248) and payload_length (0x24C) locate
// the compressed kernel relative to it.
type bzimageFormat struct{}

func init() { Register(bzimageFormat{}) }

func (bzimageFormat) Name() string    { return "bzimage" }
func (bzimageFormat) Kind() Kind      { return Container }
func (bzimageFormat) Magics() []Magic { return []Magic{{0x202, []byte("HdrS")}} }

type bzimageHeader struct {
	Version       uint16
	SetupSects    int
	SysSize       int64 // bytes of protected-mode code (0 if unknown)
	PayloadOffset int64
	PayloadLength int64
}

func (b bzimageHeader) pmStart() int64 { return int64(b.SetupSects+1) * 512 }

func parseBzImage(h []byte) (bzimageHeader, bool) {
	if len(h) < 0x250 || h[0x1fe] != 0x55 || h[0x1ff] != 0xaa || string(h[0x202:0x206]) != "HdrS" {
		return bzimageHeader{}, false
	}
	le := binary.LittleEndian
	b := bzimageHeader{Version: le.Uint16(h[0x206:]), SetupSects: int(h[0x1f1])}
	if b.Version < 0x0200 || b.Version > 0x02ff {
		return bzimageHeader{}, false
	}
	if b.SetupSects == 0 {
		b.SetupSects = 4
	}
	if b.Version >= 0x0204 {
		b.SysSize = int64(le.Uint32(h[0x1f4:])) * 16
	}
	if b.Version >= 0x0208 {
		b.PayloadOffset, b.PayloadLength = int64(le.Uint32(h[0x248:])), int64(le.Uint32(h[0x24c:]))
	}
	return b, true
}

func (bzimageFormat) Identify(h []byte) bool {
	_, ok := parseBzImage(h)
	return ok
}

func (bzimageFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	b, ok := parseBzImage(readAtMost(r, 0, size, 0x250))
	if !ok {
		return 0, ErrNotFormat
	}
	if b.SysSize == 0 {
		return -1, nil
	}
	return b.pmStart() + b.SysSize, nil
}

func (bzimageFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	b, ok := parseBzImage(readAtMost(r, 0, size, 0x250))
	if !ok {
		return 0, fmt.Errorf("%w: bad bzImage header", ErrNotFormat)
	}
	end := size
	if b.SysSize > 0 && b.pmStart()+b.SysSize <= size {
		end = b.pmStart() + b.SysSize
	}
	if b.PayloadLength > 0 {
		off := b.pmStart() + b.PayloadOffset
		n := b.PayloadLength
		if off >= size {
			return end, fmt.Errorf("bzImage payload at 0x%x is past the end (0x%x)", off, size)
		}
		if off+n > size {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("bzImage payload truncated: %d of %d bytes present", size-off, n))
			n = size - off
		}
		codec := sniffCodec(readAtMost(r, off, size, 64))
		if codec == "" {
			return end, fmt.Errorf("bzImage payload at 0x%x has an unknown compression", off)
		}
		_, _, err := writeDecoded(ctx, codec, io.NewSectionReader(r, off, n), w, "vmlinux")
		if err != nil {
			return end, fmt.Errorf("%s kernel at 0x%x: %w", codec, off, err)
		}
		return end, nil
	}
	// before boot protocol 2.08: search the protected-mode code.
	if end-b.pmStart() > kernelMaxImage || b.pmStart() >= end {
		return end, errNoPayload
	}
	img := readAtMost(r, b.pmStart(), end, end-b.pmStart())
	return end, kernelPayload(ctx, img, 0, w)
}
