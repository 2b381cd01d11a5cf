package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// The boot loader region of a raw flash dump.
//
// A flash dump usually starts with the boot loader, raw (not in a uImage):
// code with no header of its own, then the kernel and the root file system,
// which carving finds. The bytes before the first chunk are kept as a layer
// "bootloader@0x0" holding one file, bootloader.bin, when they carry a boot
// loader's banner ("U-Boot 2013.07 (Oct 21 2014 - 14:35:02)", "CFE version
// ...", "RedBoot", ...), so the analyzers see it: the components analyzer
// lists the boot loader and its version from the banner, like a boot loader
// found in a TP-Link header or a uImage.

// bootRegionMax bounds the boot loader region kept (boot loaders are well
// under 1 MiB); the banner is searched in that much.
const bootRegionMax = 4 << 20

// bootRegionMin: a smaller gap before the first chunk is a header.
const bootRegionMin = 4 << 10

// bootBanners are the literal prefixes of boot loader version banners.
var bootBanners = [][]byte{
	[]byte("U-Boot 1."), []byte("U-Boot 2"), []byte("CFE version "), []byte("RedBoot(tm)"),
	[]byte("Breed "), []byte("PMON2000"), []byte("Das U-Boot"),
}

type bootRegionFormat struct{}

func (bootRegionFormat) Name() string                            { return "bootloader" }
func (bootRegionFormat) Kind() Kind                              { return Container }
func (bootRegionFormat) Magics() []Magic                         { return nil }
func (bootRegionFormat) Identify([]byte) bool                    { return false }
func (bootRegionFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (bootRegionFormat) Unpack(_ context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	n := min(size, bootRegionMax)
	if _, err := w.WriteFile("bootloader.bin", 0o644, io.NewSectionReader(r, 0, n)); err != nil {
		return size, err
	}
	if n < size {
		w.Anomaly(AnomalyLimit, "bootloader.bin", fmt.Sprintf("boot loader region of %d bytes: only the first %d kept", size, n))
	}
	return size, nil
}

// bootRegion adds the boot loader layer of parent's blob r (source in
// parent: "" for the image itself, or a carved file-system member) when the
// bytes before the first chunk carved from it (layers from index from on)
// hold a boot loader banner.
func (e *engine) bootRegion(ctx context.Context, parent *Layer, source string, r io.ReaderAt, size int64, from int) {
	first := int64(-1)
	pid := fmt.Sprintf("L%d", parent.seq)
	for _, l := range e.layers[from:] {
		if l.Parent == pid && l.Source == source && (first < 0 || l.Offset < first) {
			first = l.Offset
		}
	}
	if first < bootRegionMin || ctx.Err() != nil {
		return
	}
	head := readHeader(r, 0, size, int(min(first, bootRegionMax)))
	for _, b := range bootBanners {
		if bytes.Contains(head, b) {
			if l, _, _ := e.unpackChunk(ctx, parent, bootRegionFormat{}, io.NewSectionReader(r, 0, first), first, source, 0, nil); l != nil {
				l.Size = first
			}
			return
		}
	}
}
