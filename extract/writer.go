package extract

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Anomaly kinds recorded by the Writer and by format parsers.
const (
	AnomalyTraversal     = "path-traversal"
	AnomalyAbsolute      = "absolute-path"
	AnomalySymlinkWrite  = "write-through-symlink"
	AnomalyLinkEscape    = "link-escape"
	AnomalyBadName       = "bad-name"
	AnomalyConflict      = "path-conflict"
	AnomalyLimit         = "limit"
	AnomalyLoop          = "directory-loop"
	AnomalyDepth         = "depth-limit"
	AnomalyPanic         = "parser-panic"
	AnomalyMalformed     = "malformed-entry"
	AnomalyDuplicateName = "duplicate-entry"
)

// Anomaly is something hostile or broken that extraction refused or noticed.
type Anomaly struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
}

// Special is a device node, fifo or socket: recorded, never created.
type Special struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"` // char, block, fifo, socket
	Mode  uint32 `json:"mode"`
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
}

// Link records a symbolic or hard link as the archive stated it.
type Link struct {
	Path   string `json:"path"`
	Target string `json:"target"`
	Hard   bool   `json:"hard,omitempty"`
}

// LimitError is returned when a bound from Limits is hit.
type LimitError struct {
	What  string
	Limit int64
	// Entry is set when the bound ended only the one entry being written
	// (a file too large, or one that would have taken the layer past its
	// byte bounds): the parser goes on with the next entry.
	Entry bool
}

func (e *LimitError) Error() string {
	if e.Entry {
		return fmt.Sprintf("limit reached for this entry: %s (%d); the rest of the layer is still extracted", e.What, e.Limit)
	}
	return fmt.Sprintf("limit reached: %s (%d)", e.What, e.Limit)
}

// IsLimit reports whether err is (or wraps) a LimitError that ends the
// layer. A limit that ended only one entry (IsEntryLimit) is not one.
func IsLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le) && !le.Entry
}

// IsEntryLimit reports whether err is (or wraps) a LimitError that ended
// only the entry being written; the parser should go on with the next.
func IsEntryLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le) && le.Entry
}

// maxEntryCuts is how many entries of one layer a byte bound may cut
// before the bound ends the layer: a few oversized files (a sparse file
// hiding the rest of a file system) must not stop extraction, a layer of
// nothing but oversized files must not go on forever.
const maxEntryCuts = 16

// ErrRefused is returned for an entry the Writer refused (traversal,
// symlink write, ...). The refusal has been recorded as an anomaly; parsers
// normally carry on with the next entry.
var ErrRefused = errors.New("entry refused")

// RatioFloor is what a layer may always write, whatever its ratio.
const RatioFloor = 64 << 20

// budget is shared by all writers of one extraction.
type budget struct {
	totalLeft int64 // bytes
	filesLeft int64
	limits    Limits
	total     int64 // the configured total, for messages
}

func newBudget(l Limits, inputSize int64) *budget {
	t := l.TotalFor(inputSize)
	return &budget{totalLeft: t, filesLeft: l.MaxFiles, limits: l, total: t}
}

// Writer is the only way extraction creates files. It is rooted at one
// layer's folder, rejects names that leave it, never follows a symlink while
// writing, records links and special files, and counts every byte against the
// limits. It is safe for concurrent use.
type Writer struct {
	dir    string
	root   *os.Root
	b      *budget
	maxOut int64 // per-layer ratio bound
	maxEnt int64 // per-layer entry bound (0: none)
	cuts   atomic.Int64
	// single is set for a stream or container layer, whose file (or few
	// payloads) is the layer: a byte bound keeps what was written and ends
	// the layer. In a file system a byte bound ends only the one file.
	single  bool
	written atomic.Int64
	entries atomic.Int64
	files   atomic.Int64

	mu        sync.Mutex
	anomalies []Anomaly
	specials  []Special
	links     []Link
	modes     map[string]fs.FileMode
	limitHit  error

	protection *Protection
	identity   *Identity

	// dirs caches folders known to be real directories. A directory is
	// never removed or replaced once created, so the cache stays true.
	dirs sync.Map
	// handles holds open roots on folders of dirs (at most maxDirHandles),
	// so that an entry is created by one call relative to its folder
	// instead of a walk from the root through every component.
	handles  sync.Map // folder -> *os.Root
	nhandles atomic.Int64

	// pre is the layer's stream decoded ahead (prefetch.go), for
	// writeDecoded; preUsed is set when it was written
	pre     *predecoded
	preUsed bool
}

// maxDirHandles bounds the folders a Writer keeps open; entries of other
// folders are created by path from the root, as before.
const maxDirHandles = 512

// at returns a root to create the entry rel in and the name to use there:
// an open handle on rel's folder and rel's last component when the folder
// is a verified real directory (in dirs: never replaced once created, so
// the handle stays true), else the layer's root and rel itself. Either way
// the name is resolved inside the layer's root, and the caller passes
// O_NOFOLLOW or checks with Lstat as before.
func (w *Writer) at(rel string) (*os.Root, string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return w.root, rel
	}
	dir, base := rel[:i], rel[i+1:]
	if h, ok := w.handles.Load(dir); ok {
		return h.(*os.Root), base
	}
	if _, ok := w.dirs.Load(dir); !ok {
		return w.root, rel
	}
	if w.nhandles.Add(1) > maxDirHandles {
		w.nhandles.Add(-1)
		return w.root, rel
	}
	h, err := w.root.OpenRoot(dir)
	if err != nil {
		w.nhandles.Add(-1)
		return w.root, rel
	}
	if prev, loaded := w.handles.LoadOrStore(dir, h); loaded {
		h.Close()
		w.nhandles.Add(-1)
		return prev.(*os.Root), base
	}
	return h, base
}

// NewWriter creates the folder dir and a Writer rooted at it, with its own
// budget. It is meant for tests and for callers that unpack one blob.
func NewWriter(dir string, l Limits, inputSize int64) (*Writer, error) {
	return newWriter(dir, newBudget(l, inputSize), l, inputSize)
}

func newWriter(dir string, b *budget, l Limits, inputSize int64) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	maxOut := int64(float64(inputSize) * l.MaxRatio)
	if maxOut < RatioFloor {
		// tiny inputs (an xz'd file-system image of zeros) may legitimately
		// expand far beyond the ratio; the total bound still applies
		maxOut = RatioFloor
	}
	if l.MaxRatio <= 0 {
		maxOut = 1<<63 - 1
	}
	return &Writer{dir: dir, root: r, b: b, maxOut: maxOut, maxEnt: l.MaxEntries, modes: map[string]fs.FileMode{}}, nil
}

// Dir is the folder the Writer writes into.
func (w *Writer) Dir() string { return w.dir }

// Close releases the root handle and the folder handles.
func (w *Writer) Close() error {
	w.handles.Range(func(k, v any) bool {
		v.(*os.Root).Close()
		w.handles.Delete(k)
		return true
	})
	w.nhandles.Store(0)
	return w.root.Close()
}

// Written is the number of bytes of file content written so far.
func (w *Writer) Written() int64 { return w.written.Load() }

// Files is the number of regular files created.
func (w *Writer) Files() int64 { return w.files.Load() }

// Entries is the number of entries (files, dirs, links, specials) handled.
func (w *Writer) Entries() int64 { return w.entries.Load() }

// Anomalies returns the anomalies recorded so far, sorted.
func (w *Writer) Anomalies() []Anomaly {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]Anomaly(nil), w.anomalies...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// Specials returns the recorded device nodes, fifos and sockets, sorted.
func (w *Writer) Specials() []Special {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]Special(nil), w.specials...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Links returns the recorded links, sorted.
func (w *Writer) Links() []Link {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]Link(nil), w.links...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Mode returns the mode an archive gave to an entry (setuid bits included),
// which the files on disk do not carry.
func (w *Writer) Mode(name string) (fs.FileMode, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m, ok := w.modes[name]
	return m, ok
}

// Modes returns a copy of all recorded modes keyed by cleaned path.
func (w *Writer) Modes() map[string]fs.FileMode {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]fs.FileMode, len(w.modes))
	for k, v := range w.modes {
		out[k] = v
	}
	return out
}

// EntryCap is the most entries this layer may yield (0: no bound).
// Parsers that index a container before writing it stop indexing there.
func (w *Writer) EntryCap() int64 { return w.maxEnt }

// EntryCapHit records that a parser stopped indexing a container at the
// entry bound and returns the LimitError (which ends the layer).
func (w *Writer) EntryCapHit(what string) error {
	return w.hitLimit("", &LimitError{What: "entries in one layer (" + what + ")", Limit: w.maxEnt})
}

// LimitHit returns the first limit error hit by this writer, if any.
func (w *Writer) LimitHit() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limitHit
}

// Anomaly records an anomaly found by a parser.
func (w *Writer) Anomaly(kind, name, detail string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.anomalies) < 10000 {
		w.anomalies = append(w.anomalies, Anomaly{Kind: kind, Path: name, Detail: detail})
	}
}

func (w *Writer) hitLimit(name string, e *LimitError) error {
	w.mu.Lock()
	first := w.limitHit == nil || (w.limitHit.(*LimitError).Entry && !e.Entry)
	if first {
		w.limitHit = e
	}
	w.mu.Unlock()
	if first || e.Entry {
		w.Anomaly(AnomalyLimit, name, e.Error())
	}
	return e
}

// clean validates an archive name and returns it relative to the root
// ("." for the root itself). Refusals are recorded.
func (w *Writer) clean(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		w.Anomaly(AnomalyBadName, name, "name contains a NUL byte")
		return "", ErrRefused
	}
	if strings.HasPrefix(name, "/") {
		w.Anomaly(AnomalyAbsolute, name, "absolute path refused")
		return "", ErrRefused
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			w.Anomaly(AnomalyTraversal, name, "path leaves the extraction folder")
			return "", ErrRefused
		}
	}
	c := path.Clean(name)
	if c == "" {
		c = "."
	}
	return c, nil
}

func (w *Writer) countEntry(name string) error {
	if atomic.AddInt64(&w.b.filesLeft, -1) < 0 {
		return w.hitLimit(name, &LimitError{What: "number of files", Limit: w.b.limits.MaxFiles})
	}
	if n := w.entries.Add(1); w.maxEnt > 0 && n > w.maxEnt {
		return w.hitLimit(name, &LimitError{What: "entries in one layer", Limit: w.maxEnt})
	}
	return nil
}

// ensureParents creates the parent folders of rel, refusing to go through a
// symlink or a non-directory.
func (w *Writer) ensureParents(orig, rel string) error {
	dir := path.Dir(rel)
	if dir == "." {
		return nil
	}
	if _, ok := w.dirs.Load(dir); ok {
		return nil
	}
	cur := ""
	for _, part := range strings.Split(dir, "/") {
		if cur == "" {
			cur = part
		} else {
			cur = cur + "/" + part
		}
		if _, ok := w.dirs.Load(cur); ok {
			continue
		}
		r, name := w.at(cur)
		fi, err := r.Lstat(name)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			w.Anomaly(AnomalySymlinkWrite, orig, "parent "+cur+" is a symlink; refusing to write through it")
			return ErrRefused
		case err == nil && fi.IsDir():
			w.dirs.Store(cur, true)
			continue
		case err == nil:
			w.Anomaly(AnomalyConflict, orig, "parent "+cur+" is not a directory")
			return ErrRefused
		case errors.Is(err, fs.ErrNotExist):
			if err := r.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			// re-check: a concurrent writer may have put something else there
			if fi, err := r.Lstat(name); err != nil || !fi.IsDir() {
				w.Anomaly(AnomalyConflict, orig, "parent "+cur+" is not a directory")
				return ErrRefused
			}
			w.dirs.Store(cur, true)
		default:
			return err
		}
	}
	return nil
}

// Mkdir creates a directory (and its parents).
func (w *Writer) Mkdir(name string, mode fs.FileMode) error {
	rel, err := w.clean(name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	if err := w.countEntry(name); err != nil {
		return err
	}
	if err := w.ensureParents(name, rel); err != nil {
		return err
	}
	r, base := w.at(rel)
	// create first, look only when something is there already
	if err := r.Mkdir(base, 0o755); err == nil {
		w.dirs.Store(rel, true)
	} else if !errors.Is(err, fs.ErrExist) {
		return err
	} else {
		fi, err := r.Lstat(base)
		switch {
		case err == nil && fi.IsDir():
			w.dirs.Store(rel, true)
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			w.Anomaly(AnomalySymlinkWrite, name, "directory name is an existing symlink")
			return ErrRefused
		case err == nil:
			w.Anomaly(AnomalyConflict, name, "a file of that name exists")
			return ErrRefused
		default:
			// removed in between (a duplicate file being replaced): as
			// before, a failed look is not a refusal
		}
	}
	w.mu.Lock()
	w.modes[rel] = mode | fs.ModeDir
	w.mu.Unlock()
	return nil
}

// Create opens a new regular file for writing. Writes are bounded by the
// per-file, per-layer and total limits; hitting one returns a LimitError
// and leaves the file truncated at the limit.
func (w *Writer) Create(name string, mode fs.FileMode) (io.WriteCloser, error) {
	rel, err := w.clean(name)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		w.Anomaly(AnomalyBadName, name, "empty file name")
		return nil, ErrRefused
	}
	if err := w.countEntry(name); err != nil {
		return nil, err
	}
	if err := w.ensureParents(name, rel); err != nil {
		return nil, err
	}
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW
	r, base := w.at(rel)
	// O_EXCL: nothing of that name is opened, a symlink included; only
	// when something is there already is it looked at
	f, err := r.OpenFile(base, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		if fi, lerr := r.Lstat(base); lerr == nil {
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				w.Anomaly(AnomalySymlinkWrite, name, "file name is an existing symlink; refusing to write through it")
				return nil, ErrRefused
			case fi.IsDir():
				w.Anomaly(AnomalyConflict, name, "a directory of that name exists")
				return nil, ErrRefused
			default:
				w.Anomaly(AnomalyDuplicateName, name, "entry appears twice; the later one wins")
				if err := r.Remove(base); err != nil {
					return nil, err
				}
				w.files.Add(-1)
			}
		}
		f, err = r.OpenFile(base, flags, perm)
	}
	if err != nil {
		return nil, err
	}
	w.files.Add(1)
	w.mu.Lock()
	w.modes[rel] = mode
	w.mu.Unlock()
	return &limitedFile{f: f, w: w, name: name}, nil
}

// WriteFile creates name with the content of r.
func (w *Writer) WriteFile(name string, mode fs.FileMode, r io.Reader) (int64, error) {
	f, err := w.Create(name, mode)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	cerr := f.Close()
	if err == nil {
		err = cerr
	}
	return n, err
}

// Symlink records a symbolic link and creates it inside the folder. The
// target is stored as given; it is never followed while writing.
func (w *Writer) Symlink(name, target string) error {
	rel, err := w.clean(name)
	if err != nil {
		return err
	}
	if rel == "." {
		w.Anomaly(AnomalyBadName, name, "empty link name")
		return ErrRefused
	}
	if err := w.countEntry(name); err != nil {
		return err
	}
	if strings.IndexByte(target, 0) >= 0 {
		w.Anomaly(AnomalyBadName, name, "link target contains a NUL byte")
		return ErrRefused
	}
	if err := w.ensureParents(name, rel); err != nil {
		return err
	}
	r, base := w.at(rel)
	// create first, look only when something is there already
	err = r.Symlink(target, base)
	if errors.Is(err, fs.ErrExist) {
		if fi, lerr := r.Lstat(base); lerr == nil {
			if fi.IsDir() {
				w.Anomaly(AnomalyConflict, name, "a directory of that name exists")
				return ErrRefused
			}
			w.Anomaly(AnomalyDuplicateName, name, "entry appears twice; the later one wins")
			if err := r.Remove(base); err != nil {
				return err
			}
		}
		err = r.Symlink(target, base)
	}
	w.mu.Lock()
	w.links = append(w.links, Link{Path: rel, Target: target})
	w.modes[rel] = fs.ModeSymlink | 0o777
	w.mu.Unlock()
	return err
}

// Link records a hard link to an earlier entry of the same archive. The
// target must stay inside the folder; it is created as a hard link on disk.
func (w *Writer) Link(name, target string) error {
	rel, err := w.clean(name)
	if err != nil {
		return err
	}
	if strings.HasPrefix(target, "/") || strings.Contains("/"+target+"/", "/../") {
		w.Anomaly(AnomalyLinkEscape, name, "hard link target "+target+" leaves the extraction folder")
		return ErrRefused
	}
	trel := path.Clean(target)
	if err := w.countEntry(name); err != nil {
		return err
	}
	if err := w.ensureParents(name, rel); err != nil {
		return err
	}
	fi, err := w.root.Lstat(trel)
	if err != nil || !fi.Mode().IsRegular() {
		w.Anomaly(AnomalyMalformed, name, "hard link target "+target+" is not a regular file of this archive")
		return ErrRefused
	}
	if fi, err := w.root.Lstat(rel); err == nil {
		if fi.IsDir() {
			w.Anomaly(AnomalyConflict, name, "a directory of that name exists")
			return ErrRefused
		}
		if err := w.root.Remove(rel); err != nil {
			return err
		}
	}
	w.mu.Lock()
	w.links = append(w.links, Link{Path: rel, Target: trel, Hard: true})
	w.mu.Unlock()
	if err := w.root.Link(trel, rel); err != nil {
		return err
	}
	return nil
}

// Special records a device node, fifo or socket without creating it.
func (w *Writer) Special(name, kind string, mode uint32, major, minor uint32) error {
	rel, err := w.clean(name)
	if err != nil {
		return err
	}
	if err := w.countEntry(name); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.specials) < 100000 {
		w.specials = append(w.specials, Special{Path: rel, Kind: kind, Mode: mode, Major: major, Minor: minor})
	}
	return nil
}

// reserve charges n bytes against the limits. A file past the per-file
// bound is cut there; a file that would take the layer past its ratio or
// the image past its total is dropped (see limitedFile.Close) and only
// ends the layer once maxEntryCuts entries were cut so.
func (w *Writer) reserve(name string, fileSoFar, n int64) (err error, drop bool) {
	if fileSoFar+n > w.b.limits.MaxFileBytes && w.b.limits.MaxFileBytes > 0 {
		return w.hitLimit(name, &LimitError{What: "size of one file", Limit: w.b.limits.MaxFileBytes, Entry: !w.single}), false
	}
	if w.written.Load()+n > w.maxOut {
		return w.cut(name, &LimitError{What: "compression ratio of the layer (bytes out)", Limit: w.maxOut})
	}
	if atomic.AddInt64(&w.b.totalLeft, -n) < 0 {
		atomic.AddInt64(&w.b.totalLeft, n)
		return w.cut(name, &LimitError{What: "total bytes extracted", Limit: w.b.total})
	}
	w.written.Add(n)
	return nil, false
}

// fits reports whether one new file of n bytes would be written whole:
// no byte bound (per file, layer ratio, image total) would be hit.
func (w *Writer) fits(n int64) bool {
	if l := w.b.limits.MaxFileBytes; l > 0 && n > l {
		return false
	}
	return w.written.Load()+n <= w.maxOut && atomic.LoadInt64(&w.b.totalLeft) >= n
}

// cut ends one entry at a byte bound, or the layer once too many were cut.
func (w *Writer) cut(name string, e *LimitError) (error, bool) {
	if !w.single && w.cuts.Add(1) <= maxEntryCuts {
		e.Entry = true
		return w.hitLimit(name, e), true
	}
	return w.hitLimit(name, e), false
}

// refund gives back bytes of a dropped file.
func (w *Writer) refund(n int64) {
	w.written.Add(-n)
	atomic.AddInt64(&w.b.totalLeft, n)
}

type limitedFile struct {
	f    *os.File
	w    *Writer
	name string
	n    int64
	err  error
}

func (l *limitedFile) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if err, drop := l.w.reserve(l.name, l.n, int64(len(p))); err != nil {
		l.err = err
		if drop && l.n > cutKeep {
			// give the bytes back now: other files of the layer may be
			// written concurrently (SquashFS) and must find them
			if terr := l.f.Truncate(cutKeep); terr == nil {
				l.w.refund(l.n - cutKeep)
				l.n = cutKeep
			}
		}
		return 0, err
	}
	n, err := l.f.Write(p)
	l.n += int64(n)
	return n, err
}

// cutKeep is how much of a file cut at a layer or image byte bound is kept
// (its headers stay visible to carving and analyzers); the rest is given
// back so the entries after it still fit.
const cutKeep = 1 << 20

// Close closes the underlying file.
func (l *limitedFile) Close() error { return l.f.Close() }
