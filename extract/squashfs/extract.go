package squashfs

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Sink receives the extracted tree. *extract.Writer satisfies it.
type Sink interface {
	Mkdir(name string, mode fs.FileMode) error
	Create(name string, mode fs.FileMode) (io.WriteCloser, error)
	Symlink(name, target string) error
	Link(name, target string) error
	Special(name, kind string, mode uint32, major, minor uint32) error
	Anomaly(kind, name, detail string)
}

// Anomaly kinds this package reports (the same strings as extract's).
const (
	AnomalyBadName   = "bad-name"
	AnomalyLoop      = "directory-loop"
	AnomalyDepth     = "depth-limit"
	AnomalyMalformed = "malformed-entry"
)

// maxDepth bounds directory nesting.
const maxDepth = 1024

// maxPath bounds the length of an entry's path.
const maxPath = 4096

// Options tune Extract.
type Options struct {
	// Workers is the number of block decoders; 0 means GOMAXPROCS.
	Workers int
	// Fatal reports whether an error returned by the Sink must stop the
	// extraction (limits). Nil means none does.
	Fatal func(error) bool
	// Refused reports whether a Sink error is a refusal the Sink has
	// already recorded as an anomaly (extraction goes on silently).
	Refused func(error) bool
}

// Extract writes the whole tree of the image through sink. On a corrupt or
// truncated image it writes every entry it can and returns an error
// describing the first failure. A fatal Sink error (Options.Fatal) stops
// the extraction and is returned.
func (img *Image) Extract(ctx context.Context, sink Sink, opt Options) error {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Fatal == nil {
		opt.Fatal = func(error) bool { return false }
	}
	if opt.Refused == nil {
		opt.Refused = func(error) bool { return false }
	}
	w := &walker{
		img:       img,
		m:         newMetaReader(img),
		sink:      sink,
		opt:       opt,
		dirs:      map[uint64]bool{},
		listings:  map[uint64]bool{},
		files:     map[uint64]string{},
		frags:     map[uint32]*fragBlock{},
		zero:      make([]byte, img.sb.BlockSize),
		blockSize: int(img.sb.BlockSize),
	}
	defer w.m.dec.close()
	root, err := img.readInode(w.m, img.sb.RootInode)
	if err != nil {
		return fmt.Errorf("root inode: %w", err)
	}
	if root.Type != typeDir {
		return corruptf("root inode %#x is not a directory (type %d)", root.Ref, root.Type)
	}
	w.start(ctx)
	w.dirs[root.Ref] = true
	w.walkDir(ctx, root, "", 0)
	w.finish()
	if f := w.fatal.Load(); f != nil {
		return *f
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.errs.first == nil && img.Truncated() {
		return fmt.Errorf("%w: image truncated: input has %d of %d bytes", io.ErrUnexpectedEOF, img.size, img.sb.BytesUsed)
	}
	return w.errs.err()
}

// walker walks the directory tree (one goroutine) and feeds the pipeline.
type walker struct {
	img  *Image
	m    *metaReader
	sink Sink
	opt  Options

	dirs     map[uint64]bool   // directory inodes visited
	listings map[uint64]bool   // non-empty listings read
	files    map[uint64]string // file inode -> first path (hard links)
	frags    map[uint32]*fragBlock
	fragFIFO []uint32
	zero     []byte

	blockSize int
	pool      sync.Pool

	work  chan *task
	outs  []chan *task   // one ordered queue per writer goroutine
	next  int            // round-robin writer choice
	owner map[uint64]int // file inode -> writer that writes it
	wg    sync.WaitGroup // workers
	wwg   sync.WaitGroup // writers

	stopped atomic.Bool
	fatal   atomic.Pointer[error] // the first fatal Sink error

	errMu sync.Mutex
	errs  errList
}

// task is one step of the ordered output: an operation on the Sink, or one
// block of a regular file (decoded by a worker, written by the writer).
type task struct {
	op   func() error // a Sink operation; nil for file blocks
	path string

	file *fileOut
	last bool

	// decoding (workers)
	pos     int64
	csize   int
	raw     bool
	want    int
	frag    *fragBlock
	fragOff int

	data   []byte
	pooled *[]byte
	err    error
	done   chan struct{} // nil when nothing is to be decoded
	// decodeFrag: the task decodes this fragment block (for the workers
	// only; the file tails in it wait for its done in their writers)
	decodeFrag *fragBlock
}

// fileOut is a regular file being written.
type fileOut struct {
	path   string
	mode   fs.FileMode
	w      io.WriteCloser
	opened bool
	failed bool
}

// fragBlock is a fragment block, decoded by a worker as soon as the walk
// meets it. The files whose tails it holds do not go to the workers (one
// would decode it while the others waited for it): their writers wait for
// done and cut the tails out of data.
type fragBlock struct {
	done chan struct{}
	pos  int64
	size uint32
	data []byte
	err  error
}

func (w *walker) addErr(path string, err error) {
	w.sink.Anomaly(AnomalyMalformed, path, err.Error())
	w.errMu.Lock()
	w.errs.add(fmt.Errorf("%s: %w", path, err))
	w.errMu.Unlock()
}

// Files are written by several writer goroutines (creating a file costs
// a dozen system calls); each file is written by one of them, its blocks in
// order.
func (w *walker) start(ctx context.Context) {
	q := 4*w.opt.Workers + 8
	w.work = make(chan *task, q)
	w.owner = map[uint64]int{}
	for i := 0; i < w.opt.Workers; i++ {
		w.wg.Add(1)
		go w.worker()
	}
	nw := max(2, w.opt.Workers)
	for i := 0; i < nw; i++ {
		c := make(chan *task, q)
		w.outs = append(w.outs, c)
		w.wwg.Add(1)
		go w.writer(c)
	}
}

func (w *walker) finish() {
	close(w.work)
	for _, c := range w.outs {
		close(c)
	}
	w.wg.Wait()
	w.wwg.Wait()
}

// pick chooses the writer of the next file or operation.
func (w *walker) pick() int {
	w.next = (w.next + 1) % len(w.outs)
	return w.next
}

// emit queues a task in the output order of writer k and, when it needs
// decoding, for the workers (a file tail waits for its fragment block,
// which was queued for them when the walk met it).
func (w *walker) emit(k int, t *task) {
	w.outs[k] <- t
	if t.done != nil && t.frag == nil {
		w.work <- t
	}
}

// stop reports whether the walk must end.
func (w *walker) stop(ctx context.Context) bool {
	return w.stopped.Load() || ctx.Err() != nil
}

func (w *walker) handle(path string, err error) {
	switch {
	case err == nil:
	case w.opt.Fatal(err):
		w.fatal.CompareAndSwap(nil, &err)
		w.stopped.Store(true)
	case w.opt.Refused(err):
	default:
		w.errMu.Lock()
		w.errs.add(fmt.Errorf("%s: %w", path, err))
		w.errMu.Unlock()
	}
}

// writer performs the tasks of one queue in order.
func (w *walker) writer(queue chan *task) {
	defer w.wwg.Done()
	for t := range queue {
		if t.done != nil {
			<-t.done
		}
		if t.frag != nil {
			w.tail(t)
		}
		if w.stopped.Load() {
			w.release(t)
			if t.file != nil && t.last && t.file.w != nil {
				t.file.w.Close()
				t.file.w = nil
			}
			continue
		}
		if t.op != nil {
			w.handle(t.path, t.op())
			continue
		}
		f := t.file
		if !f.opened {
			f.opened = true
			fw, err := w.sink.Create(f.path, f.mode)
			if err != nil {
				f.failed = true
				w.handle(f.path, err)
			}
			f.w = fw
		}
		if !f.failed && t.err != nil {
			f.failed = true
			w.addErr(f.path, t.err)
		}
		if !f.failed && len(t.data) > 0 {
			if _, err := f.w.Write(t.data); err != nil {
				f.failed = true
				w.handle(f.path, err)
			}
		}
		w.release(t)
		if t.last && f.w != nil {
			if err := f.w.Close(); err != nil && !f.failed {
				w.handle(f.path, err)
			}
			f.w = nil
		}
	}
}

func (w *walker) release(t *task) {
	if t.pooled != nil {
		w.pool.Put(t.pooled)
		t.pooled = nil
	}
	t.data = nil
}

func (w *walker) getBuf() *[]byte {
	if b, ok := w.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, w.blockSize+4096)
	return &b
}

// worker decodes file blocks.
func (w *walker) worker() {
	defer w.wg.Done()
	src := make([]byte, w.blockSize)
	dec := w.img.newDecoder()
	defer dec.close()
	for t := range w.work {
		if !w.stopped.Load() {
			w.decodeTask(t, src, dec)
		}
		close(t.done)
	}
}

// tail cuts a file's tail out of its decoded fragment block.
func (w *walker) tail(t *task) {
	fb := t.frag
	switch {
	case fb.err != nil:
		t.err = fb.err
	case t.fragOff+t.want > len(fb.data):
		t.err = corruptf("file tail at fragment offset %d+%d beyond the fragment block (%d bytes)", t.fragOff, t.want, len(fb.data))
	default:
		t.data = fb.data[t.fragOff : t.fragOff+t.want]
	}
}

func (w *walker) decodeTask(t *task, src []byte, dec decoder) {
	img := w.img
	if fb := t.decodeFrag; fb != nil {
		n := int(fb.size & 0xffffff)
		buf := make([]byte, n, max(n, w.blockSize))
		if err := img.readAt(buf, fb.pos); err != nil {
			fb.err = err
			return
		}
		if fb.size&(1<<24) != 0 {
			fb.data = buf
			return
		}
		out, err := safeDecode(dec, make([]byte, 0, w.blockSize+4096), buf, w.blockSize, -1)
		if err != nil {
			fb.err = corruptf("fragment block at %d: %s: %v", fb.pos, img.sb.CompressorName(), err)
			return
		}
		fb.data = out
		return
	}
	bp := w.getBuf()
	if t.raw {
		buf := (*bp)[:t.csize]
		if err := img.readAt(buf, t.pos); err != nil {
			t.err = err
			w.pool.Put(bp)
			return
		}
		t.data, t.pooled = buf, bp
	} else {
		s := src[:t.csize]
		if err := img.readAt(s, t.pos); err != nil {
			t.err = err
			w.pool.Put(bp)
			return
		}
		out, err := safeDecode(dec, (*bp)[:0], s, w.blockSize, t.want)
		if err != nil {
			t.err = corruptf("data block at %d: %s: %v", t.pos, img.sb.CompressorName(), err)
			w.pool.Put(bp)
			return
		}
		if cap(out) >= w.blockSize && cap(out) <= w.blockSize+65536 {
			*bp = out[:0]
		}
		t.data, t.pooled = out, bp
	}
	if len(t.data) != t.want {
		t.err = corruptf("data block at %d decodes to %d bytes, want %d", t.pos, len(t.data), t.want)
	}
}

// opTask queues a Sink operation for writer k.
func (w *walker) opTask(k int, path string, op func() error) {
	w.emit(k, &task{op: op, path: path})
}

func badName(name string) string {
	switch {
	case name == "":
		return "empty entry name"
	case name == "." || name == "..":
		return "entry name " + name
	case strings.ContainsRune(name, '/'):
		return "entry name contains '/'"
	case strings.IndexByte(name, 0) >= 0:
		return "entry name contains a NUL byte"
	}
	return ""
}

// perm converts SquashFS permission bits to an fs.FileMode.
func perm(p uint16) fs.FileMode {
	m := fs.FileMode(p & 0o777)
	if p&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if p&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if p&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// walkDir emits the entries of directory in (at path) and recurses.
func (w *walker) walkDir(ctx context.Context, in *Inode, dir string, depth int) {
	if in.DirSize > 3 {
		key := uint64(in.DirBlock)<<16 | uint64(in.DirOffset)
		if w.listings[key] {
			w.sink.Anomaly(AnomalyLoop, dir, "directory listing shared with another directory; not read again")
			return
		}
		w.listings[key] = true
	}
	ents, err := w.img.readDir(w.m, in)
	if err != nil {
		w.addErr(dirName(dir), err)
		// go on with the entries read before the error
	}
	for _, e := range ents {
		if w.stop(ctx) {
			return
		}
		if why := badName(e.Name); why != "" {
			w.sink.Anomaly(AnomalyBadName, dir+"/"+e.Name, why+"; entry skipped")
			continue
		}
		p := e.Name
		if dir != "" {
			p = dir + "/" + e.Name
		}
		if len(p) > maxPath {
			w.sink.Anomaly(AnomalyBadName, p[:256]+"...", "path longer than 4096 bytes; entry skipped")
			continue
		}
		child, err := w.img.readInode(w.m, e.Ref)
		if err != nil {
			w.addErr(p, err)
			continue
		}
		if child.Type != e.Type && w.img.sb.Major > 1 { // 1.x listings use other type codes
			w.sink.Anomaly(AnomalyMalformed, p, fmt.Sprintf("directory entry says type %d, inode says %d", e.Type, child.Type))
		}
		w.entry(ctx, child, p, depth)
	}
}

func dirName(d string) string {
	if d == "" {
		return "/"
	}
	return d
}

func (w *walker) entry(ctx context.Context, in *Inode, p string, depth int) {
	sink := w.sink
	switch in.Type {
	case typeDir:
		if w.dirs[in.Ref] {
			sink.Anomaly(AnomalyLoop, p, fmt.Sprintf("directory inode %#x reached twice (loop or directory hard link); not descended", in.Ref))
			return
		}
		w.dirs[in.Ref] = true
		if depth+1 > maxDepth {
			sink.Anomaly(AnomalyDepth, p, fmt.Sprintf("directories nested deeper than %d; not descended", maxDepth))
			return
		}
		mode := perm(in.Perm) | fs.ModeDir
		w.opTask(w.pick(), p, func() error { return sink.Mkdir(p, mode) })
		w.walkDir(ctx, in, p, depth+1)
	case typeFile:
		if first, ok := w.files[in.Ref]; ok {
			// after the first path, by the writer that creates it
			w.opTask(w.owner[in.Ref], p, func() error { return sink.Link(p, first) })
			return
		}
		w.files[in.Ref] = p
		k := w.pick()
		w.owner[in.Ref] = k
		w.emitFile(ctx, k, in, p)
	case typeSymlink:
		target := in.Target
		w.opTask(w.pick(), p, func() error { return sink.Symlink(p, target) })
	default:
		kind := map[int]string{typeBlock: "block", typeChar: "char", typeFifo: "fifo", typeSocket: "socket"}[in.Type]
		mode, major, minor := uint32(in.Perm), in.Major, in.Minor
		w.opTask(w.pick(), p, func() error { return sink.Special(p, kind, mode, major, minor) })
	}
}

// emitFile queues the blocks of a regular file.
func (w *walker) emitFile(ctx context.Context, k int, in *Inode, p string) {
	img := w.img
	f := &fileOut{path: p, mode: perm(in.Perm)}
	bs := uint64(img.sb.BlockSize)
	hasFrag := in.Frag != noFragment
	var fb *fragBlock
	var ferr error
	if hasFrag {
		fb, ferr = w.fragment(in.Frag)
	}
	fail := func(err error) {
		w.emit(k, &task{file: f, last: true, err: err})
	}
	if in.NumBlocks == 0 && !hasFrag {
		w.emit(k, &task{file: f, last: true})
		return
	}
	const chunk = 1024
	sizes := make([]uint32, chunk)
	raw := make([]byte, 4*chunk)
	c := in.blockList
	pos := in.BlocksStart
	for i := uint64(0); i < in.NumBlocks; {
		if w.stop(ctx) {
			fail(ctx.Err())
			return
		}
		n := min(in.NumBlocks-i, chunk)
		if err := img.readBlockSizes(&c, sizes[:n], raw); err != nil {
			fail(fmt.Errorf("block list: %w", err))
			return
		}
		for _, s := range sizes[:n] {
			want := int(min(bs, in.FileSize-i*bs))
			last := i == in.NumBlocks-1 && !hasFrag
			i++
			cs := uint64(s & 0xffffff)
			if s&^(1<<24|0xffffff) != 0 || cs > bs || pos+cs > img.sb.BytesUsed {
				fail(corruptf("block %d: %d bytes at %d (size word %#x) outside the image", i-1, cs, pos, s))
				return
			}
			if cs == 0 { // sparse
				w.emit(k, &task{file: f, last: last, data: w.zero[:want]})
				continue
			}
			w.emit(k, &task{file: f, last: last, pos: int64(pos), csize: int(cs), raw: s&(1<<24) != 0, want: want, done: make(chan struct{})})
			pos += cs
		}
	}
	if hasFrag {
		if ferr != nil {
			fail(ferr)
			return
		}
		tail := int(in.FileSize - in.NumBlocks*bs)
		w.emit(k, &task{file: f, last: true, frag: fb, fragOff: int(in.FragOffset), want: tail, done: fb.done})
	}
}

// fragment returns the (shared) fragment block idx.
func (w *walker) fragment(idx uint32) (*fragBlock, error) {
	if fb, ok := w.frags[idx]; ok {
		return fb, nil
	}
	pos, size, err := w.img.fragEntry(w.m, idx)
	if err != nil {
		return nil, err
	}
	fb := &fragBlock{pos: pos, size: size, done: make(chan struct{})}
	w.work <- &task{decodeFrag: fb, done: fb.done}
	const keep = 8
	if len(w.fragFIFO) >= keep {
		delete(w.frags, w.fragFIFO[0])
		w.fragFIFO = w.fragFIFO[1:]
	}
	w.frags[idx] = fb
	w.fragFIFO = append(w.fragFIFO, idx)
	return fb, nil
}
