package extract

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fwaudit/fwaudit/extract/squashfs"
)

// squashfsFormat is SquashFS 1.x-4.0 in both byte orders (AVM's big-endian
// SquashFS 4 included), with the vendor magics (sqlzma's "shsq"/"qshs",
// "sqlz", "hsqt"/"tqsh") and the vendor compression variants (Broadcom
// LZMA, raw LZMA, LZMA-alone in images that claim gzip, raw deflate, ...).
type squashfsFormat struct{}

func init() { Register(squashfsFormat{}) }

func (squashfsFormat) Name() string { return "squashfs" }
func (squashfsFormat) Kind() Kind   { return Filesystem }
func (squashfsFormat) Magics() []Magic {
	m := []Magic{{0, squashfs.Magic}, {0, squashfs.MagicBE}}
	for _, v := range squashfs.VendorMagics {
		m = append(m, Magic{0, v})
	}
	return m
}

// Identify validates the superblock strictly (version, block size and its
// log, compressor, flags, bytes_used, counts), so a stray "hsqs" in a
// binary is not taken. Table positions are checked by Unpack: a plausible
// superblock with a table outside the image is a corrupt SquashFS, which
// is reported as such.
func (squashfsFormat) Identify(h []byte) bool {
	sb, _ := squashfs.ParseSuperblock(h)
	return sb != nil
}

// Bound is bytes_used: the padding mksquashfs adds (to 4 KiB) is not part of
// the file system.
func (squashfsFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	sb, err := squashfs.ParseSuperblock(readHeader(r, 0, size, squashfs.MaxSuperblockSize))
	if sb == nil {
		return 0, err
	}
	return int64(sb.BytesUsed), nil
}

func (squashfsFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	img, err := squashfs.Open(r, size)
	if err != nil {
		if errors.Is(err, squashfs.ErrNotSquashfs) {
			return 0, fmt.Errorf("%w: %v", ErrNotFormat, err)
		}
		return 0, err
	}
	used := int64(img.Superblock().BytesUsed)
	err = img.Extract(ctx, w, squashfs.Options{
		Fatal:   IsLimit,
		Refused: func(err error) bool { return errors.Is(err, ErrRefused) },
	})
	if err != nil {
		sb := img.Superblock()
		err = fmt.Errorf("squashfs %d.%d (%s): %w", sb.Major, sb.Minor, img.Compression(), err)
	}
	return min(used, size), err
}
