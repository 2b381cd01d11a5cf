package extract

import "io/fs"

// Status of one layer.
type Status string

const (
	StatusOK          Status = "ok"
	StatusPartial     Status = "partial"
	StatusFailed      Status = "failed"
	StatusUnsupported Status = "unsupported"
	StatusOpaque      Status = "opaque"
)

// Layer is one node of the image's layer tree: the image itself, a carved
// chunk, or a blob found inside another layer.
type Layer struct {
	// ID is a short id ("L0", "L1", ...) assigned in a deterministic order.
	ID string `json:"id"`
	// Parent is the ID of the layer this one was found in.
	Parent string `json:"parent,omitempty"`
	// Path is the stable chain of formats and offsets that leads here, e.g.
	// "tplink@0x0 > squashfs@0x100000 > /boot/initrd.gz > gzip@0x0"; it does not
	// depend on temporary folders, so finding IDs built from it are stable.
	Path string `json:"path"`
	// Format is the format's name ("image" for the input file itself).
	Format string `json:"format"`
	// Kind is stream, container, filesystem (or image).
	Kind string `json:"kind"`
	// Source is the file, inside the parent layer, the chunk was found in.
	Source string `json:"source,omitempty"`
	// Offset and Size locate the chunk in its source.
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Depth  int    `json:"depth"`
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
	// Files is the number of regular files the layer produced; Bytes their size.
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	// Entropy of an opaque chunk, in bits per byte.
	Entropy float64 `json:"entropy,omitempty"`
	// Encryption names the scheme of an encrypted vendor container
	// ("D-Link SHRS (AES-128-CBC, RSA-signed)"): the layer's content
	// cannot be assessed without the vendor key (encrypted.go). Its status
	// is unsupported.
	Encryption string    `json:"encryption,omitempty"`
	Anomalies  []Anomaly `json:"anomalies,omitempty"`
	Specials   []Special `json:"specials,omitempty"`
	Links      []Link    `json:"links,omitempty"`
	// Protection is how the container protects its content against
	// change, as its header records it (checksum or signature); Identity is
	// what a vendor header says the image is (vendor, model, release).
	Protection *Protection `json:"protection,omitempty"`
	Identity   *Identity   `json:"identity,omitempty"`
	// Dir is the layer's folder relative to the work directory ("" if none).
	Dir string `json:"dir,omitempty"`

	// Root is the absolute path of the folder; not serialised.
	Root string `json:"-"`
	// Modes holds the modes the archive gave to entries (setuid etc.).
	Modes map[string]fs.FileMode `json:"-"`
	seq   int
	// stopped is set when a layer-wide bound (entries, bytes, time) ended
	// the unpacking before the chunk's end.
	stopped bool
	// pre is the stream this layer's one file was written from when it
	// was decoded ahead, with the file's carving scan (prefetch.go)
	pre *predecoded
}

// IsFilesystem reports whether the layer's folder is a file-system tree whose
// paths are paths inside the image.
func (l *Layer) IsFilesystem() bool { return l.Kind == Filesystem.String() }
