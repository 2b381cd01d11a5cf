package extract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an extraction.
type Options struct {
	Limits Limits
	// Formats to use; nil means every registered format.
	Formats []Format
	// Progress, if set, is called as layers start and finish.
	Progress func(Event)
	// NoPrefetch does all the work on the engine's goroutine, with no
	// work ahead on the next files (prefetch.go): the same result, slower;
	// the reference the prefetching is tested against.
	NoPrefetch bool
}

// Event reports progress.
type Event struct {
	Layer *Layer
	Done  bool
	Bytes int64 // total bytes written so far
}

// Result is the outcome of extracting one image.
type Result struct {
	Image    string        `json:"image"`
	Size     int64         `json:"size"`
	SHA256   string        `json:"sha256"`
	WorkDir  string        `json:"-"`
	Layers   []*Layer      `json:"layers"`
	Bytes    int64         `json:"bytes"`
	Files    int64         `json:"files"`
	Duration time.Duration `json:"-"`
}

// Layer returns the layer with that ID.
func (r *Result) Layer(id string) *Layer {
	for _, l := range r.Layers {
		if l.ID == id {
			return l
		}
	}
	return nil
}

type candidate struct {
	off int64
	f   Format
}

type engine struct {
	opt     Options
	workDir string
	b       *budget
	formats []Format
	layers  []*Layer
	seq     int
	written int64
	carve   *carveBudget // carving inside file-system members (carve.go)
	// magics finds every format's magics in one pass (multimagic.go).
	magics     *magicSet
	magicsOnce sync.Once
	// capped is set once MaxLayers was reached.
	capped bool
	// blobs maps the SHA-256 of every blob carved out of a container or
	// stream layer to where it was first seen.
	blobs map[[32]byte]string

	// prefetching (prefetch.go)
	preOnce    sync.Once
	preSem     chan struct{}
	preBytes   atomic.Int64
	noPrefetch bool
}

// Anomaly kinds of the time and work bounds.
const (
	// AnomalyTime is a per-layer or per-image deadline that was reached.
	AnomalyTime = "time-limit"
	// AnomalyLayers is the bound on the number of layers of one image.
	AnomalyLayers = "layer-limit"
	// AnomalyDuplicateBlob is a partition or payload with the bytes of one
	// already carved (A/B slots, or partitions nesting the disk again): it
	// is not unpacked twice.
	AnomalyDuplicateBlob = "duplicate-blob"
)

// Extract unpacks the image at imagePath into workDir (which it creates) and
// returns the layer tree. An error means the image could not be read at all;
// layers that fail to unpack are recorded in the result instead.
func Extract(ctx context.Context, imagePath, workDir string, opt Options) (*Result, error) {
	start := time.Now()
	f, err := os.Open(imagePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", imagePath)
	}
	// the image's digest is computed beside the unpacking, not before it
	// (the unpacking does not keep every core busy all the time)
	var (
		sum     []byte
		hashErr error
		hashing sync.WaitGroup
	)
	hashing.Add(1)
	go func() {
		defer hashing.Done()
		h := sha256.New()
		_, hashErr = io.CopyBuffer(h, io.NewSectionReader(f, 0, fi.Size()), make([]byte, 1<<20))
		sum = h.Sum(nil)
	}()
	defer hashing.Wait() // before f is closed
	if opt.Limits == (Limits{}) {
		opt.Limits = DefaultLimits()
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, err
	}
	e := &engine{opt: opt, workDir: workDir, b: newBudget(opt.Limits, fi.Size()), formats: opt.Formats, noPrefetch: opt.NoPrefetch}
	if e.formats == nil {
		e.formats = Formats()
	}
	root := &Layer{Path: "image", Format: "image", Kind: "image", Size: fi.Size(), Status: StatusOK, seq: 0}
	e.layers = append(e.layers, root)
	ictx := ctx
	if opt.Limits.ImageTimeout > 0 {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, opt.Limits.ImageTimeout)
		defer cancel()
	}
	e.processBlob(ictx, root, f, fi.Size(), "", 1, false, nil)
	e.bootRegion(ictx, root, "", f, fi.Size(), 1)
	if ictx.Err() != nil && ctx.Err() == nil {
		// the image's deadline, not the caller's cancellation: what was
		// unpacked is kept and analysed, and the report says what was not
		root.Anomalies = append(root.Anomalies, Anomaly{Kind: AnomalyTime,
			Detail: fmt.Sprintf("unpacking the image took longer than %s; layers not reached by then were not unpacked", opt.Limits.ImageTimeout)})
		if root.Status == StatusOK || root.Status == StatusUnsupported {
			root.Status = StatusPartial
			root.Error = fmt.Sprintf("image time limit %s reached", opt.Limits.ImageTimeout)
		}
	}
	hashing.Wait()
	if hashErr != nil {
		return nil, fmt.Errorf("reading %s: %w", imagePath, hashErr)
	}
	res := &Result{Image: imagePath, Size: fi.Size(), SHA256: hex.EncodeToString(sum), WorkDir: workDir}
	for i, l := range e.layers {
		l.ID = fmt.Sprintf("L%d", i)
	}
	for _, l := range e.layers {
		res.Bytes += l.Bytes
		res.Files += l.Files
	}
	// parents are recorded by pointer during extraction; turn them into IDs.
	res.Layers = e.layers
	res.Duration = time.Since(start)
	return res, ctx.Err()
}

// parentOf links children to parents after IDs are known.
func (e *engine) newLayer(parent *Layer, f Format, source string, off int64) *Layer {
	e.seq++
	seg := fmt.Sprintf("%s@0x%x", f.Name(), off)
	p := seg
	if parent.Format != "image" {
		p = parent.Path
		if source != "" {
			p += " > " + source
		}
		p += " > " + seg
	}
	l := &Layer{
		Path:   p,
		Format: f.Name(),
		Kind:   f.Kind().String(),
		Source: source,
		Offset: off,
		Depth:  parent.Depth + 1,
		seq:    e.seq,
	}
	l.Parent = fmt.Sprintf("L%d", parent.seq)
	l.Dir = filepath.Join("layers", fmt.Sprintf("%04d-%s", e.seq, f.Name()))
	l.Root = filepath.Join(e.workDir, l.Dir)
	e.layers = append(e.layers, l)
	return l
}

// maxCandidates bounds the candidates of one carving scan.
const maxCandidates = 1_000_000

// magicSet returns the one-pass matcher of the engine's formats' magics.
func (e *engine) magicSet() *magicSet {
	e.magicsOnce.Do(func() { e.magics = newMagicSet(e.formats) })
	return e.magics
}

// scan finds every candidate chunk start in r by the formats' magics: at
// offset 0 only when anchored, else in the whole blob (processBlob scans
// only as far as it needs, scanmemo.go).
func (e *engine) scan(ctx context.Context, r io.ReaderAt, size int64, anchored bool) []candidate {
	set := e.magicSet()
	if !anchored {
		return newScanMemo(size).all(ctx, set, r)
	}
	var out []candidate
	hdr := readHeader(r, 0, size, set.maxOff+set.maxLen)
	for _, p := range set.pats {
		m := p.m
		if size > 0 && len(hdr) >= m.Offset+len(m.Bytes) && bytes.Equal(hdr[m.Offset:m.Offset+len(m.Bytes)], m.Bytes) {
			if n := len(out); n == 0 || out[n-1].f != p.f {
				out = append(out, candidate{0, p.f})
			}
		}
	}
	sortCandidates(out)
	return out
}

// sortCandidates orders carving candidates by offset, then containers
// before file systems before streams, then by format name.
func sortCandidates(out []candidate) {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].off != out[j].off {
			return out[i].off < out[j].off
		}
		ki, kj := kindRank(out[i].f.Kind()), kindRank(out[j].f.Kind())
		if ki != kj {
			return ki < kj
		}
		return out[i].f.Name() < out[j].f.Name()
	})
}

func kindRank(k Kind) int {
	switch k {
	case Container:
		return 0
	case Filesystem:
		return 1
	default:
		return 2
	}
}

// maxRejects bounds how many candidates of one format a blob may reject
// before carving stops trying that format there.
const maxRejects = 256

// maxBlobChunks bounds the chunks carved out of one blob: a flash dump
// holds tens, while two million concatenated LZ4 frames of five bytes would
// otherwise become as many layers (until MaxLayers). The rest of the blob
// is reported, not carved.
const maxBlobChunks = 1024

// processBlob carves the blob r (size bytes) found in parent (as source)
// and unpacks every chunk it finds.
//
// pre, if not nil, is what a prefetcher did for this blob ahead of the
// engine: its carving scan and the streams it decoded.
func (e *engine) processBlob(ctx context.Context, parent *Layer, r io.ReaderAt, size int64, source string, depth int, anchored bool, pre *memberWork) int {
	next, memo := e.candidates(ctx, r, size, anchored, pre)
	pos := int64(0)
	found := 0
	var covered [][2]int64
	// A format's Bound or Unpack may read far to reject a candidate (zip
	// looks for its end record); a hostile blob full of plausible headers
	// must not make carving quadratic, so each format gets a bounded number
	// of rejections per blob.
	rejected := map[string]int{}
	reject := func(f Format) {
		rejected[f.Name()]++
		if rejected[f.Name()] == maxRejects {
			parent.Anomalies = append(parent.Anomalies, Anomaly{Kind: AnomalyLimit, Path: source,
				Detail: fmt.Sprintf("%d %s candidates were not %s data; stopped trying that format in this blob", maxRejects, f.Name(), f.Name())})
		}
	}
	var last *candidate
	for {
		c, ok := next(pos, last)
		if !ok || ctx.Err() != nil || e.layerCap() {
			break
		}
		last = &c
		if rejected[c.f.Name()] >= maxRejects {
			continue
		}
		if found == maxBlobChunks {
			parent.Anomalies = append(parent.Anomalies, Anomaly{Kind: AnomalyLimit, Path: source,
				Detail: fmt.Sprintf("%d chunks carved from this blob; the rest of it (from offset %d, %d bytes) is not carved", maxBlobChunks, pos, size-pos)})
			break
		}
		hdr := readHeader(r, c.off, size, HeaderSize)
		if !safeIdentify(c.f, hdr) {
			continue
		}
		sec := io.NewSectionReader(r, c.off, size-c.off)
		bound, err := safeBound(c.f, sec, size-c.off)
		if err != nil {
			reject(c.f)
			continue
		}
		if depth > e.opt.Limits.MaxDepth {
			l := e.newLayer(parent, c.f, source, c.off)
			l.Status = StatusFailed
			l.Error = fmt.Sprintf("not unpacked: nesting depth limit %d reached", e.opt.Limits.MaxDepth)
			l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyDepth, Path: source, Detail: l.Error})
			l.Dir, l.Root = "", ""
			found++
			if bound > 0 {
				pos = c.off + bound
			} else {
				break
			}
			continue
		}
		avail := size - c.off
		if bound > 0 && bound < avail {
			avail = bound
		}
		var dec *predecoded
		if pre != nil && pre.size == size && avail == size-c.off {
			dec = pre.streams[c.off]
		}
		l, consumed, ok := e.unpackChunk(ctx, parent, c.f, io.NewSectionReader(r, c.off, avail), avail, source, c.off, dec)
		if !ok {
			reject(c.f)
			continue
		}
		found++
		end := c.off + consumed
		if consumed <= 0 {
			if bound > 0 {
				end = c.off + bound
			} else {
				end = c.off + 1
			}
		}
		if l.stopped && bound <= 0 && end < size && c.f.Kind() == Filesystem {
			// an archive stopped by a bound (600,000 cpio entries, a
			// deadline) must not be carved again from where it stopped:
			// that would unpack it piecewise, a bound's worth per layer
			l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyLimit, Path: source,
				Detail: fmt.Sprintf("a bound stopped this archive; the rest of its blob (%d bytes) is not carved again", size-end)})
			end = size
		}
		l.Size = end - c.off
		covered = append(covered, [2]int64{c.off, end})
		pos = end
		e.descend(ctx, l, depth, io.NewSectionReader(r, c.off, l.Size))
	}
	if memo != nil && memo.capped {
		parent.Anomalies = append(parent.Anomalies, Anomaly{Kind: AnomalyLimit, Path: source,
			Detail: fmt.Sprintf("more than %d carving candidates in this blob; from offset %d on it was not searched for more", maxCandidates, memo.cappedAt)})
	}
	if parent.Format == "image" && found == 0 {
		ent := sampleEntropy(r, 0, size)
		if ent > 7.5 {
			parent.Status = StatusOpaque
			parent.Entropy = round2(ent)
			parent.Error = "no known format found; high entropy suggests encrypted or compressed data of an unknown format"
		} else {
			parent.Status = StatusUnsupported
			parent.Entropy = round2(ent)
			parent.Error = "no known format found in the image"
		}
	} else if !anchored {
		e.opaqueGaps(parent, r, size, covered, source)
	}
	return found
}

// candidates returns the iterator processBlob takes r's carving candidates
// from: next(pos, after) is the first candidate after after (nil: the
// first) at pos or later, in sortCandidates' order. Anchored, they are
// those at offset 0; else a scanMemo finds them as far as asked (the
// prefetcher's, when it began one for this blob).
func (e *engine) candidates(ctx context.Context, r io.ReaderAt, size int64, anchored bool, pre *memberWork) (func(pos int64, after *candidate) (candidate, bool), *scanMemo) {
	if anchored || scanWhole {
		return listNext(e.scan(ctx, r, size, anchored)), nil
	}
	m := newScanMemo(size)
	if pre != nil && pre.memo != nil && pre.size == size {
		m = pre.memo
	}
	set := e.magicSet()
	return func(pos int64, after *candidate) (candidate, bool) {
		return m.next(ctx, set, r, pos, after)
	}, m
}

// listNext is candidates' iterator over a list in sortCandidates' order.
func listNext(cands []candidate) func(pos int64, after *candidate) (candidate, bool) {
	i := 0
	return func(pos int64, after *candidate) (candidate, bool) {
		for ; i < len(cands); i++ {
			if c := cands[i]; c.off >= pos && (after == nil || candLess(*after, c)) {
				i++
				return c, true
			}
		}
		return candidate{}, false
	}
}

// layerCap reports whether the image has as many layers as MaxLayers
// allows, recording the bound on the image's layer the first time.
func (e *engine) layerCap() bool {
	max := e.opt.Limits.MaxLayers
	if max <= 0 || len(e.layers) < max {
		return false
	}
	if !e.capped {
		e.capped = true
		root := e.layers[0]
		root.Anomalies = append(root.Anomalies, Anomaly{Kind: AnomalyLayers,
			Detail: fmt.Sprintf("limit reached: layers per image (%d); nothing further was unpacked", max)})
		if root.Status == StatusOK {
			root.Status = StatusPartial
			root.Error = fmt.Sprintf("layer limit %d reached", max)
		}
	}
	return true
}

// opaqueGaps reports large high-entropy ranges between chunks.
func (e *engine) opaqueGaps(parent *Layer, r io.ReaderAt, size int64, covered [][2]int64, source string) {
	const minGap = 64 << 10
	prev := int64(0)
	check := func(a, b int64) {
		if b-a < minGap {
			return
		}
		ent := sampleEntropy(r, a, b)
		if ent > 7.5 {
			e.seq++
			l := &Layer{Format: "opaque", Kind: "opaque", Source: source, Offset: a, Size: b - a, Depth: parent.Depth + 1,
				Status: StatusOpaque, Entropy: round2(ent), seq: e.seq, Parent: fmt.Sprintf("L%d", parent.seq),
				Error: "unidentified high-entropy data (encrypted, or compressed in an unknown format)"}
			seg := fmt.Sprintf("opaque@0x%x", a)
			if parent.Format == "image" {
				l.Path = seg
			} else {
				l.Path = parent.Path
				if source != "" {
					l.Path += " > " + source
				}
				l.Path += " > " + seg
			}
			e.layers = append(e.layers, l)
		}
	}
	for _, c := range covered {
		check(prev, c[0])
		prev = c[1]
	}
	check(prev, size)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// sampleEntropy returns the Shannon entropy (bits/byte) of up to 1 MiB
// sampled evenly from [a, b).
func sampleEntropy(r io.ReaderAt, a, b int64) float64 {
	var counts [256]int64
	total := int64(0)
	const chunk = 16 << 10
	n := (b - a) / chunk
	if n < 1 {
		n = 1
	}
	step := int64(1)
	if n > 64 {
		step = n / 64
	}
	buf := make([]byte, chunk)
	for i := int64(0); i < n; i += step {
		m, _ := r.ReadAt(buf, a+i*chunk)
		if a+i*chunk+int64(m) > b {
			m = int(b - (a + i*chunk))
		}
		for _, c := range buf[:max(m, 0)] {
			counts[c]++
		}
		total += int64(max(m, 0))
	}
	if total == 0 {
		return 0
	}
	ent := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(total)
			ent -= p * math.Log2(p)
		}
	}
	return ent
}

func safeIdentify(f Format, hdr []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f.Identify(hdr)
}

func safeBound(f Format, r io.ReaderAt, size int64) (n int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %s bound: %v", f.Name(), p)
		}
	}()
	return f.Bound(r, size)
}

// unpackChunk unpacks one chunk into a new layer. ok is false when the
// candidate proved not to be the format at all.
//
// dec, if not nil, is the chunk's stream decoded ahead (prefetch.go).
func (e *engine) unpackChunk(ctx context.Context, parent *Layer, f Format, r io.ReaderAt, size int64, source string, off int64, dec *predecoded) (*Layer, int64, bool) {
	l := e.newLayer(parent, f, source, off)
	if e.opt.Progress != nil {
		e.opt.Progress(Event{Layer: l, Bytes: e.written})
	}
	w, err := newWriter(l.Root, e.b, e.opt.Limits, size)
	if err != nil {
		l.Status, l.Error = StatusFailed, err.Error()
		return l, 0, true
	}
	w.single = f.Kind() != Filesystem
	w.pre = dec
	lctx := ctx
	if d := e.opt.Limits.LayerTimeout; d > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	consumed, uerr := safeUnpack(lctx, f, r, size, w)
	if w.preUsed {
		// the layer's one file is dec's output: its scan is done too
		l.pre = dec
	}
	w.pre = nil
	w.Close()
	timedOut := lctx.Err() != nil && ctx.Err() == nil
	l.Files, l.Bytes = w.Files(), w.Written()
	e.written += l.Bytes
	l.Anomalies = append(l.Anomalies, w.Anomalies()...)
	l.Specials = w.Specials()
	l.Links = w.Links()
	l.Modes = w.Modes()
	l.Protection, l.Identity = w.header()
	l.stopped = timedOut || IsLimit(w.LimitHit())
	if timedOut {
		l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyTime,
			Detail: fmt.Sprintf("unpacking this layer took longer than %s; it was stopped and what it yielded so far is kept", e.opt.Limits.LayerTimeout)})
	}
	switch {
	case timedOut:
		l.Status = StatusPartial
		uerr = fmt.Errorf("layer time limit %s reached", e.opt.Limits.LayerTimeout)
	case uerr == nil && w.LimitHit() == nil:
		l.Status = StatusOK
	case errors.Is(uerr, ErrUnsupported):
		l.Status = StatusUnsupported
	case errors.Is(uerr, ErrNotFormat) && w.Entries() == 0:
		// a coincidental magic: drop the layer
		e.layers = e.layers[:len(e.layers)-1]
		e.seq--
		os.RemoveAll(l.Root)
		return nil, 0, false
	case w.Entries() > 0 || w.Written() > 0:
		l.Status = StatusPartial
	default:
		l.Status = StatusFailed
	}
	noteEncrypted(l, uerr)
	if uerr != nil {
		l.Error = fmt.Sprintf("%s: %v", f.Name(), uerr)
	} else if le := w.LimitHit(); le != nil {
		l.Error = le.Error()
	}
	if l.Files == 0 && w.Entries() == 0 && l.Status != StatusOK {
		os.RemoveAll(l.Root)
		l.Dir, l.Root = "", ""
	}
	if e.opt.Progress != nil {
		e.opt.Progress(Event{Layer: l, Done: true, Bytes: e.written})
	}
	return l, consumed, true
}

func safeUnpack(ctx context.Context, f Format, r io.ReaderAt, size int64, w *Writer) (n int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			w.Anomaly(AnomalyPanic, "", fmt.Sprintf("%s parser panicked: %v", f.Name(), p))
			err = fmt.Errorf("parser panic: %v\n%s", p, firstLines(string(debug.Stack()), 12))
		}
	}()
	return f.Unpack(ctx, r, size, w)
}

// seenBlob returns where a blob with f's bytes was first seen, or "" after
// recording f as seen at where.
func (e *engine) seenBlob(f *os.File, where string) string {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return ""
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if e.blobs == nil {
		e.blobs = map[[32]byte]string{}
	}
	if prev, ok := e.blobs[sum]; ok {
		return prev
	}
	e.blobs[sum] = where
	return ""
}

// sameBytes reports whether a and b hold the same n bytes.
func sameBytes(a, b io.ReaderAt, n int64) bool {
	const chunk = 256 << 10
	ba, bb := make([]byte, min(n, chunk)), make([]byte, min(n, chunk))
	for off := int64(0); off < n; off += chunk {
		m := min(chunk, n-off)
		if _, err := a.ReadAt(ba[:m], off); err != nil && err != io.EOF {
			return false
		}
		if _, err := b.ReadAt(bb[:m], off); err != nil && err != io.EOF {
			return false
		}
		if !bytes.Equal(ba[:m], bb[:m]) {
			return false
		}
	}
	return true
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// descend feeds the files a layer produced back into the engine. chunk is
// the layer's own input: a file with the very same bytes (a partition
// table whose partition is the whole disk again) is not unpacked again.
func (e *engine) descend(ctx context.Context, l *Layer, depth int, chunk *io.SectionReader) {
	if l.Root == "" || l.Files == 0 {
		return
	}
	var files []string
	filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	pf := e.startPrefetch(ctx, l, files, depth+1)
	defer pf.stop()
	// a stream layer's one file decoded ahead comes with its scan
	var own *memberWork
	if d := l.pre; d != nil && len(files) == 1 {
		own = &memberWork{size: int64(len(d.data)), memo: d.memo}
	}
	l.pre = nil
	// hard links of one file (a cpio fanning one FIT image out to
	// thousands of names) are carved once (descendFile)
	seenIno := map[[2]uint64]bool{}
	for i, p := range files {
		if ctx.Err() != nil || e.layerCap() {
			return
		}
		pre := own
		if pf != nil {
			pre = pf.take(i)
		}
		e.descendFile(ctx, l, depth, chunk, p, seenIno, pre)
		pf.release(pre)
	}
}

// descendFile feeds one file of the layer l back into the engine.
func (e *engine) descendFile(ctx context.Context, l *Layer, depth int, chunk *io.SectionReader, p string, seenIno map[[2]uint64]bool, pre *memberWork) {
	if fi, err := os.Lstat(p); err == nil {
		if id, ok := fileID(fi); ok {
			if seenIno[id] {
				return
			}
			seenIno[id] = true
		}
	}
	rel, _ := filepath.Rel(l.Root, p)
	rel = filepath.ToSlash(rel)
	src := rel
	if l.IsFilesystem() {
		src = "/" + rel
	}
	f, err := os.Open(p)
	if err != nil {
		return
	}
	fi, err := f.Stat()
	prev := ""
	if err == nil && fi.Size() > 0 && !l.IsFilesystem() {
		prev = e.seenBlob(f, l.Path+" > "+src)
	}
	if err == nil && fi.Size() > 0 && chunk != nil && fi.Size() == chunk.Size() && sameBytes(f, chunk, fi.Size()) {
		l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyLoop, Path: src,
			Detail: "holds the very bytes of the layer it was found in (a self-reference); not unpacked again"})
	} else if prev != "" {
		// a partition or payload with the bytes of one already carved
		// (partitions that are prefixes of the disk, nested again and
		// again) is not unpacked twice
		if n := len(l.Anomalies); n < 64 {
			l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyDuplicateBlob, Path: src,
				Detail: "same bytes as " + prev + "; not unpacked again"})
		}
	} else if err == nil && fi.Size() > 0 {
		if l.IsFilesystem() {
			e.processMember(ctx, l, f, fi.Size(), src, depth+1, pre)
		} else {
			e.processBlob(ctx, l, f, fi.Size(), src, depth+1, false, pre)
		}
	}
	f.Close()
}
