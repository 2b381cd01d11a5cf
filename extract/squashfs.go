package extract

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fwaudit/fwaudit/extract/squashfs"
)

// squashfsFormat is SquashFS 4.0 (little-endian, and AVM's big-endian
// variant). SquashFS 1.x-3.x superblocks are recognised, bounded and
// reported as unsupported.
type squashfsFormat struct{}

func init() { Register(squashfsFormat{}) }

func (squashfsFormat) Name() string { return "squashfs" }
func (squashfsFormat) Kind() Kind   { return Filesystem }
func (squashfsFormat) Magics() []Magic {
	return []Magic{{0, squashfs.Magic}, {0, squashfs.MagicBE}}
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
	sb, err := squashfs.ParseSuperblock(readHeader(r, 0, size, squashfs.SuperblockSize))
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
	return min(used, size), err
}
