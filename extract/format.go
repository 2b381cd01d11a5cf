package extract

import (
	"context"
	"errors"
	"io"
	"sort"
	"sync"
)

// Kind says what unpacking a format yields.
type Kind int

const (
	// Stream formats (compressors) yield one blob, which is carved again.
	Stream Kind = iota
	// Container formats (vendor headers, uImage, TRX, FIT, kernels) yield a few
	// blobs (partitions, payloads), which are carved again.
	Container
	// Filesystem formats (SquashFS, cpio, tar, zip, ...) yield a tree with
	// paths inside the image; its files are checked for nested formats at
	// offset 0, and carved when they are unknown blobs (carve.go).
	Filesystem
)

func (k Kind) String() string {
	switch k {
	case Stream:
		return "stream"
	case Container:
		return "container"
	default:
		return "filesystem"
	}
}

// Magic is a signature a format's chunk carries at Offset from its start.
type Magic struct {
	Offset int
	Bytes  []byte
}

// ErrNotFormat means a candidate turned out not to be this format after all
// (the magic was a coincidence). The engine drops such candidates silently.
var ErrNotFormat = errors.New("not this format")

// ErrUnsupported is returned by Unpack for a format that is recognised
// but cannot be unpacked (yet). The layer is kept with status unsupported
// and the reason, and carving goes on after its header.
var ErrUnsupported = errors.New("recognised but not supported")

// HeaderSize is how many bytes Identify is given (fewer at the end of a blob).
const HeaderSize = 4096

// Format is one file format extraction understands. One file per format in
// this package implements it; the registry lists them.
type Format interface {
	// Name is a short lower-case identifier ("squashfs", "gzip", "uimage").
	Name() string
	Kind() Kind
	// Magics are the signatures carving looks for.
	Magics() []Magic
	// Identify checks the header at a candidate position cheaply.
	Identify(hdr []byte) bool
	// Bound returns how long the chunk starting at r's offset 0 is, from its
	// own header, or -1 when only unpacking can tell. r holds size bytes.
	Bound(r io.ReaderAt, size int64) (int64, error)
	// Unpack writes the chunk's content through w and returns how many bytes
	// of r the chunk occupied (0 if unknown).
	Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error)
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Format{}
)

// Register adds a format to the registry. It is called from init functions.
func Register(f Format) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[f.Name()]; dup {
		panic("extract: format registered twice: " + f.Name())
	}
	registry[f.Name()] = f
}

// Formats returns every registered format, sorted by name.
func Formats() []Format {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Format, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Lookup returns the registered format of that name.
func Lookup(name string) (Format, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}
