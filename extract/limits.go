package extract

import "time"

// Limits bounds what extraction may produce. Every bound is settable by a flag
// and every hit is recorded as an anomaly in the report.
type Limits struct {
	// MaxDepth is how many layers deep a blob may be nested.
	MaxDepth int
	// MaxTotalBytes bounds the bytes written for one image. Zero means
	// max(8x the input size, 4 GiB).
	MaxTotalBytes int64
	// MaxFileBytes bounds one extracted file.
	MaxFileBytes int64
	// MaxRatio bounds the bytes one layer may write per byte of its input.
	MaxRatio float64
	// MaxFiles bounds the number of entries (files, dirs, links) for one image.
	MaxFiles int64
	// Carving inside files of file-system layers (see carve.go); zero
	// means the default. CarveMinSize: smaller files are identified at
	// offset 0 only; CarveFileBytes, CarveImageBytes: the carving budget
	// per file and per image.
	CarveMinSize, CarveFileBytes, CarveImageBytes int64
	// MaxEntries bounds the entries (files, dirs, links, nodes, partitions)
	// one container or file system may yield; the layer is then partial.
	MaxEntries int64
	// MaxLayers bounds the number of layers of one image (a self-referencing
	// partition table would otherwise create layers without end). Every
	// gzipped man page or changelog of a Linux root file system is a layer:
	// a Debian minbase has about 2,800, with the packages of a small
	// gateway 6,600, so the default leaves room for ten times that. One blob
	// carved into very many chunks is bounded separately (maxBlobChunks).
	MaxLayers int
	// LayerTimeout bounds the time spent unpacking one layer; the layer is
	// then partial and the rest of the image is still unpacked. Zero means
	// no bound.
	LayerTimeout time.Duration
	// ImageTimeout bounds the time spent unpacking one image; what is
	// unpacked by then is analysed. Zero means no bound.
	ImageTimeout time.Duration
	// MaxHashWork bounds the password-cracking work of one image (the
	// accounts analyzer), in units of one sha-crypt round (about a
	// microsecond; see analyzers/accounts/hashes.Work). Negative: no bound.
	MaxHashWork int64
	// AnalyzerTimeout bounds the time one analyzer spends on an image; an
	// analyzer that reaches it is stopped and reported as failed (its
	// guidelines are then not assessed). Zero means no bound.
	AnalyzerTimeout time.Duration
}

// DefaultLimits are the limits used when none are given.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:      8,
		MaxTotalBytes: 0,
		MaxFileBytes:  1 << 30,
		MaxRatio:      250,
		MaxFiles:      500000,
		MaxEntries:    100000,
		MaxLayers:     20000,
		LayerTimeout:  60 * time.Second,
		ImageTimeout:  10 * time.Minute,
		MaxHashWork:   20_000_000,
		// whole Debian images take each analyzer seconds
		AnalyzerTimeout: 10 * time.Minute,
	}
}

// TotalFor returns the total-output bound for an input of the given size.
func (l Limits) TotalFor(inputSize int64) int64 {
	if l.MaxTotalBytes > 0 {
		return l.MaxTotalBytes
	}
	t := 8 * inputSize
	if t < 4<<30 {
		t = 4 << 30
	}
	return t
}
