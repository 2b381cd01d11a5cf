// Package squashfs reads SquashFS images in pure Go and extracts them
// through a Sink (in fwaudit, *extract.Writer).
//
// It reads the image through an io.ReaderAt and never holds it in memory:
// metadata blocks are read on demand and cached (bounded), file data blocks
// are decompressed by a bounded pool of workers and written in order.
//
// Hostile input is expected. Every table position is checked against
// bytes_used, directory walks track visited directories, names, counts and
// sizes are bounded, and a corrupt image yields an error together with
// whatever entries could be recovered, never a panic or a hang.
//
// Versions and byte order are kept behind small abstractions (the byte
// order of the image and a per-version layout): SquashFS 4.0 is read in
// both byte orders (big-endian as AVM writes it), and SquashFS 1.x, 2.x and
// 3.x in both byte orders, with the vendor magics and the vendor
// compression variants (LZMA in its several framings, raw deflate, ...)
// found in router firmware (see variant.go).
package squashfs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic is the SquashFS magic as it appears in a little-endian image
// ("hsqs"); MagicBE is the big-endian form ("sqsh").
var (
	Magic   = []byte("hsqs")
	MagicBE = []byte("sqsh")
)

// VendorMagics are the magics vendor tools write instead of hsqs/sqsh:
// the sqlzma LZMA magic in both byte orders ("shsq", "qshs"), DD-WRT's
// "sqlz", and "hsqt"/"tqsh" (Broadcom/TP-Link builds). The byte order of
// such an image is told by its version field.
var VendorMagics = [][]byte{[]byte("shsq"), []byte("qshs"), []byte("sqlz"), []byte("zlqs"), []byte("hsqt"), []byte("tqsh")}

// SuperblockSize is the size of the SquashFS 4.0 superblock.
const SuperblockSize = 96

// MaxSuperblockSize is the largest superblock of any version (3.x: 119
// bytes); Open and Bound read this much.
const MaxSuperblockSize = 128

// ErrNotSquashfs is returned (wrapped) when the bytes are not a SquashFS
// superblock of a supported kind.
var ErrNotSquashfs = errors.New("not a squashfs superblock")

// ErrUnsupported is returned (wrapped) for a valid superblock of a version
// or compressor this package does not read yet.
var ErrUnsupported = errors.New("unsupported squashfs variant")

// Superblock flags (SquashFS 4.0).
const (
	flagUncompressedInodes    = 0x0001
	flagUncompressedData      = 0x0002
	flagUncompressedFragments = 0x0008
	flagNoFragments           = 0x0010
	flagCompressorOptions     = 0x0400
)

// noTable marks an absent optional table.
const noTable = ^uint64(0)

// Compressor ids of SquashFS 4.0.
const (
	CompGzip = 1
	CompLZMA = 2
	CompLZO  = 3
	CompXZ   = 4
	CompLZ4  = 5
	CompZstd = 6
)

var compNames = map[uint16]string{
	CompGzip: "gzip", CompLZMA: "lzma", CompLZO: "lzo", CompXZ: "xz", CompLZ4: "lz4", CompZstd: "zstd",
}

// codecNames maps compressor ids to extract/compress codec names.
var codecNames = map[uint16]string{
	CompGzip: "zlib", CompLZMA: "lzma", CompLZO: "lzo", CompXZ: "xz", CompLZ4: "lz4", CompZstd: "zstd",
}

// Superblock is the decoded superblock, in a version-neutral form.
type Superblock struct {
	Order        binary.ByteOrder
	Major, Minor uint16
	InodeCount   uint32
	ModTime      uint32
	BlockSize    uint32
	BlockLog     uint16
	FragCount    uint32
	Compressor   uint16
	Flags        uint16
	IDCount      uint16
	RootInode    uint64
	BytesUsed    uint64
	IDTable      uint64
	XattrTable   uint64
	InodeTable   uint64
	DirTable     uint64
	FragTable    uint64
	ExportTable  uint64

	// Size is the on-disk size of the superblock (96 for 4.0; 51, 63 and
	// 119 for 1.x, 2.x and 3.x).
	Size int
	// Magic is the magic the image carries.
	Magic string
}

// CompressorName is the name of the compressor ("gzip", "xz", ...).
func (s *Superblock) CompressorName() string {
	if n, ok := compNames[s.Compressor]; ok {
		return n
	}
	return fmt.Sprintf("unknown(%d)", s.Compressor)
}

// ParseSuperblock decodes and validates a superblock at the start of b. The
// checks are strict enough that a stray "hsqs" in a binary is not taken.
// It returns an error wrapping ErrNotSquashfs for anything that is not a
// plausible superblock and ErrUnsupported for a plausible one of a version
// this package does not read; with a plausible superblock whose tables lie
// outside the image it returns the superblock and an error for which
// IsCorrupt is true.
func ParseSuperblock(b []byte) (*Superblock, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: too short", ErrNotSquashfs)
	}
	var bo binary.ByteOrder
	vendor := false
	switch string(b[:4]) {
	case "hsqs":
		bo = binary.LittleEndian
	case "sqsh":
		bo = binary.BigEndian
	default:
		if !isVendorMagic(b[:4]) {
			return nil, fmt.Errorf("%w: bad magic", ErrNotSquashfs)
		}
		vendor = true
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("%w: too short", ErrNotSquashfs)
	}
	if vendor {
		// The version field tells the byte order.
		bo = binary.LittleEndian
		if v := bo.Uint16(b[28:]); v < 1 || v > 4 {
			bo = binary.BigEndian
		}
	}
	major := bo.Uint16(b[28:])
	if major != 4 {
		// SquashFS 1.x-3.x keep the version at offset 28 too.
		if major >= 1 && major <= 3 {
			return parseOld(b, bo)
		}
		return nil, fmt.Errorf("%w: version %d", ErrNotSquashfs, major)
	}
	if len(b) < SuperblockSize {
		return nil, fmt.Errorf("%w: too short", ErrNotSquashfs)
	}
	s := &Superblock{
		Order:       bo,
		InodeCount:  bo.Uint32(b[4:]),
		ModTime:     bo.Uint32(b[8:]),
		BlockSize:   bo.Uint32(b[12:]),
		FragCount:   bo.Uint32(b[16:]),
		Compressor:  bo.Uint16(b[20:]),
		BlockLog:    bo.Uint16(b[22:]),
		Flags:       bo.Uint16(b[24:]),
		IDCount:     bo.Uint16(b[26:]),
		Major:       major,
		Minor:       bo.Uint16(b[30:]),
		RootInode:   bo.Uint64(b[32:]),
		BytesUsed:   bo.Uint64(b[40:]),
		IDTable:     bo.Uint64(b[48:]),
		XattrTable:  bo.Uint64(b[56:]),
		InodeTable:  bo.Uint64(b[64:]),
		DirTable:    bo.Uint64(b[72:]),
		FragTable:   bo.Uint64(b[80:]),
		ExportTable: bo.Uint64(b[88:]),
		Size:        SuperblockSize,
		Magic:       string(b[:4]),
	}
	if err := s.validateCore(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSquashfs, err)
	}
	if err := s.validateTables(); err != nil {
		return s, corruptf("superblock: %v", err)
	}
	return s, nil
}

func orderName(bo binary.ByteOrder) string {
	if bo == binary.BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

// validateCore checks the fields that make a SquashFS 4 superblock
// (version, block size and log, compressor, flags, sizes): together they
// rule out a stray magic.
func (s *Superblock) validateCore() error {
	if s.Minor != 0 {
		return fmt.Errorf("version 4.%d", s.Minor)
	}
	if s.BlockSize < 4096 || s.BlockSize > 1<<20 || s.BlockSize&(s.BlockSize-1) != 0 {
		return fmt.Errorf("block size %d", s.BlockSize)
	}
	if s.BlockLog > 20 || uint32(1)<<s.BlockLog != s.BlockSize {
		return fmt.Errorf("block log %d does not match block size %d", s.BlockLog, s.BlockSize)
	}
	if _, ok := compNames[s.Compressor]; !ok {
		return fmt.Errorf("compressor id %d", s.Compressor)
	}
	if s.Flags&0xf000 != 0 {
		return fmt.Errorf("unknown flags %#x", s.Flags)
	}
	if s.BytesUsed < SuperblockSize || s.BytesUsed >= 1<<44 {
		return fmt.Errorf("bytes_used %d", s.BytesUsed)
	}
	if s.IDCount == 0 {
		return errors.New("id count 0")
	}
	if s.InodeCount == 0 {
		return errors.New("inode count 0")
	}
	return nil
}

// validateTables checks that every table lies inside bytes_used, in the
// order mksquashfs writes them. A failure here is a corrupt image, not a
// coincidental magic.
func (s *Superblock) validateTables() error {
	end := s.BytesUsed
	if s.InodeTable < SuperblockSize || s.InodeTable >= end {
		return fmt.Errorf("inode table at %d outside the image (%d bytes)", s.InodeTable, end)
	}
	if s.DirTable <= s.InodeTable || s.DirTable >= end {
		return fmt.Errorf("directory table at %d not after the inode table", s.DirTable)
	}
	if s.IDTable <= s.DirTable || s.IDTable+8 > end {
		return fmt.Errorf("id table at %d outside the image", s.IDTable)
	}
	for _, t := range []struct {
		name string
		off  uint64
	}{{"fragment", s.FragTable}, {"export", s.ExportTable}, {"xattr", s.XattrTable}} {
		if t.off != noTable && (t.off <= s.DirTable || t.off+8 > end) {
			return fmt.Errorf("%s table at %d outside the image", t.name, t.off)
		}
	}
	if s.FragCount > 0 && s.FragTable == noTable {
		return errors.New("fragments without a fragment table")
	}
	// The root inode lives in the inode table.
	rootBlock, rootOff := s.RootInode>>16, s.RootInode&0xffff
	if s.RootInode>>48 != 0 || rootOff >= metaSize || s.InodeTable+rootBlock >= s.DirTable {
		return fmt.Errorf("root inode reference %#x outside the inode table", s.RootInode)
	}
	return nil
}

func isVendorMagic(m []byte) bool {
	for _, v := range VendorMagics {
		if string(m) == string(v) {
			return true
		}
	}
	return false
}
