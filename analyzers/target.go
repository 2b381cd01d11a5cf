package analyzers

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/fwaudit/fwaudit/extract"
)

// File is one regular file of an unpacked layer.
type File struct {
	Layer *extract.Layer
	// Path is the path inside the image ("/etc/shadow"); for blobs (kernel
	// payloads, partitions) it is "/" plus the blob's name.
	Path string
	// HostPath is where the file sits in the work directory.
	HostPath string
	Size     int64
	// Mode as the archive recorded it (setuid bits included), if known.
	Mode fs.FileMode
}

// Class is a cheap classification of a file's content.
type Class int

const (
	ClassEmpty Class = iota
	ClassText
	ClassELF
	ClassBinary
)

// Target is what analyzers read: the layers, a walk over every regular file
// with its path inside the image, cheap classification and bounded reads.
type Target struct {
	Layers []*extract.Layer
	files  []File

	mu      sync.Mutex
	classes map[string]Class
	cache   map[string]any
	once    map[string]*sync.Once
	cov     coverage
}

// NewTarget indexes the regular files of every unpacked layer.
func NewTarget(layers []*extract.Layer) *Target {
	t := &Target{Layers: layers, classes: map[string]Class{}, cache: map[string]any{}, once: map[string]*sync.Once{}}
	for _, l := range layers {
		if l.Root == "" {
			continue
		}
		var fsList []File
		var deep []string // folders whose host path is too long to open by name
		filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if d != nil && d.IsDir() && errors.Is(err, syscall.ENAMETOOLONG) {
					if rel, rerr := filepath.Rel(l.Root, p); rerr == nil {
						deep = append(deep, filepath.ToSlash(rel))
					}
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(l.Root, p)
			if err != nil {
				return nil
			}
			rel = filepath.ToSlash(rel)
			info, err := d.Info()
			if err != nil {
				return nil
			}
			mode := info.Mode()
			if m, ok := l.Modes[rel]; ok {
				mode = m
			}
			fsList = append(fsList, File{Layer: l, Path: "/" + rel, HostPath: p, Size: info.Size(), Mode: mode})
			return nil
		})
		// a path deeper than the host allows by name (a shadow file under a
		// thousand folders) is still walked, through the layer's root
		fsList = append(fsList, walkDeep(l, deep)...)
		sort.Slice(fsList, func(i, j int) bool { return fsList[i].Path < fsList[j].Path })
		t.files = append(t.files, fsList...)
	}
	return t
}

// AddImage adds the image file itself as a file of its root layer. The
// scan does this when nothing could be unpacked (a bare binary, an unknown
// container), so analyzers that read binaries still see its content.
func (t *Target) AddImage(root *extract.Layer, hostPath string) {
	st, err := os.Stat(hostPath)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	t.files = append(t.files, File{Layer: root, Path: "/" + filepath.Base(hostPath), HostPath: hostPath, Size: st.Size(), Mode: st.Mode()})
}

// Files returns every regular file, in layer order then path order.
func (t *Target) Files() []File { return t.files }

// FilesNamed returns files whose base name is one of names.
func (t *Target) FilesNamed(names ...string) []File {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []File
	for _, f := range t.files {
		if want[path.Base(f.Path)] {
			out = append(out, f)
		}
	}
	return out
}

func (t *Target) layerID(p string) string {
	for _, l := range t.Layers {
		if l.Path == p {
			return l.ID
		}
	}
	return ""
}

// ErrTooBig is returned by ReadFile when the file exceeds the bound.
var ErrTooBig = errors.New("file larger than the read bound")

// Open opens a file for reading without following symlinks. A file whose
// host path is too long to open by name is opened through its layer's root.
func (t *Target) Open(f File) (*os.File, error) {
	fh, err := os.OpenFile(f.HostPath, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ENAMETOOLONG) && f.Layer != nil && f.Layer.Root != "" {
		r, rerr := os.OpenRoot(f.Layer.Root)
		if rerr != nil {
			return nil, err
		}
		defer r.Close()
		return r.OpenFile(strings.TrimPrefix(f.Path, "/"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	}
	return fh, err
}

// walkDeep lists the regular files under the given folders of layer l
// (slash paths relative to its root), reading them through an os.Root, which
// resolves one component at a time and so has no bound on path length.
func walkDeep(l *extract.Layer, dirs []string) []File {
	if len(dirs) == 0 {
		return nil
	}
	r, err := os.OpenRoot(l.Root)
	if err != nil {
		return nil
	}
	defer r.Close()
	var out []File
	fsys := r.FS()
	for _, dir := range dirs {
		fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			mode := info.Mode()
			if m, ok := l.Modes[p]; ok {
				mode = m
			}
			out = append(out, File{Layer: l, Path: "/" + p, HostPath: filepath.Join(l.Root, filepath.FromSlash(p)), Size: info.Size(), Mode: mode})
			return nil
		})
	}
	return out
}

// ReadFile reads at most max bytes of f; a larger file returns the first max
// bytes and ErrTooBig.
func (t *Target) ReadFile(f File, max int64) ([]byte, error) {
	fh, err := t.Open(f)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := readUpTo(fh, min(f.Size, max)+1, max+1)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return b[:max], ErrTooBig
	}
	return b, nil
}

// readUpTo reads r to its end or to limit bytes, into a buffer sized for
// the expected bytes (the walk's size, plus one to see the end): one read
// of the whole file and one that finds its end, where io.ReadAll starts at
// 512 bytes and reads and copies again at every growth. A file that grew
// since the walk is still read to the limit.
func readUpTo(r io.Reader, expect, limit int64) ([]byte, error) {
	b := make([]byte, 0, max(min(expect, limit), 1))
	for int64(len(b)) < limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(int64(cap(b)), limit-int64(len(b)))))
		}
		n, err := r.Read(b[len(b):min(int64(cap(b)), limit)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Classify returns a cheap classification of f from its first bytes, cached.
func (t *Target) Classify(f File) Class {
	t.mu.Lock()
	c, ok := t.classes[f.HostPath]
	t.mu.Unlock()
	if ok {
		return c
	}
	c = ClassEmpty
	if f.Size > 0 {
		fh, err := t.Open(f)
		if err == nil {
			buf := make([]byte, 1024)
			n, _ := io.ReadFull(fh, buf)
			fh.Close()
			c = classify(buf[:n])
		}
	}
	t.mu.Lock()
	t.classes[f.HostPath] = c
	t.mu.Unlock()
	return c
}

func classify(b []byte) Class {
	if len(b) == 0 {
		return ClassEmpty
	}
	if bytes.HasPrefix(b, []byte("\x7fELF")) {
		return ClassELF
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return ClassBinary
	}
	// tolerate a cut multi-byte rune at the end
	if !utf8.Valid(b) && !utf8.Valid(b[:max(0, len(b)-3)]) {
		ctrl := 0
		for _, c := range b {
			if c < 0x09 || (c > 0x0d && c < 0x20) {
				ctrl++
			}
		}
		if ctrl > len(b)/20 {
			return ClassBinary
		}
	}
	return ClassText
}

// Shared computes a value once per key for all analyzers (printable strings
// of a binary, the SBOM, ...) and returns it.
func (t *Target) Shared(key string, compute func() any) any {
	t.mu.Lock()
	o, ok := t.once[key]
	if !ok {
		o = &sync.Once{}
		t.once[key] = o
	}
	t.mu.Unlock()
	o.Do(func() {
		v := compute()
		t.mu.Lock()
		t.cache[key] = v
		t.mu.Unlock()
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cache[key]
}

// MaxLinkHops bounds the symlinks Resolve follows for one path: fewer than
// MaxLinkHops (Linux allows 40), so a link loop ends.
const MaxLinkHops = 40

// Resolve finds the file at an image path inside layer l, following symlinks
// the way the device would, with absolute targets resolved inside the
// layer's root (never outside it). It returns false if there is none, or
// the path leads to something other than a regular file.
func (t *Target) Resolve(l *extract.Layer, p string) (File, bool) {
	resolved, host, fi, ok := resolveLinks(l, p)
	if !ok || !fi.Mode().IsRegular() {
		return File{}, false
	}
	rel := strings.TrimPrefix(resolved, "/")
	mode := fi.Mode()
	if m, ok := l.Modes[rel]; ok {
		mode = m
	}
	return File{Layer: l, Path: resolved, HostPath: host, Size: fi.Size(), Mode: mode}, true
}

// ResolveDir is Resolve for a folder: it returns the folder's path inside
// the image (links followed) and its host path in the work directory.
func (t *Target) ResolveDir(l *extract.Layer, p string) (imagePath, hostPath string, ok bool) {
	resolved, host, fi, ok := resolveLinks(l, p)
	if !ok || !fi.IsDir() {
		return "", "", false
	}
	return resolved, host, true
}

// resolveLinks walks p inside l's root one component at a time, following
// symlinks in every component (a relative target from the link's folder,
// an absolute one from the layer's root; ".." stops at the root), fewer
// than MaxLinkHops of them. It returns the resolved path inside the image, its
// host path and what it is.
func resolveLinks(l *extract.Layer, p string) (resolved, host string, fi fs.FileInfo, ok bool) {
	if l == nil || l.Root == "" {
		return "", "", nil, false
	}
	cur := path.Clean("/" + p)
	for hops := 0; hops < MaxLinkHops; hops++ {
		parts := strings.Split(strings.TrimPrefix(cur, "/"), "/")
		resolved = "/"
		changed := false
		for i, part := range parts {
			if part == "" {
				continue
			}
			next := path.Join(resolved, part)
			h := filepath.Join(l.Root, filepath.FromSlash(next))
			st, err := os.Lstat(h)
			if err != nil {
				return "", "", nil, false
			}
			if st.Mode()&fs.ModeSymlink != 0 {
				target, err := os.Readlink(h)
				if err != nil {
					return "", "", nil, false
				}
				if !strings.HasPrefix(target, "/") {
					target = path.Join(resolved, target)
				}
				cur = path.Clean("/" + path.Join(target, strings.Join(parts[i+1:], "/")))
				changed = true
				break
			}
			if i < len(parts)-1 && !st.IsDir() {
				return "", "", nil, false
			}
			resolved = next
		}
		if !changed {
			host = filepath.Join(l.Root, filepath.FromSlash(resolved))
			st, err := os.Lstat(host)
			if err != nil {
				return "", "", nil, false
			}
			return resolved, host, st, true
		}
	}
	return "", "", nil, false
}
