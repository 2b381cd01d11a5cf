package extract

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
}

// DefaultLimits are the limits used when none are given.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:      8,
		MaxTotalBytes: 0,
		MaxFileBytes:  1 << 30,
		MaxRatio:      250,
		MaxFiles:      500000,
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
