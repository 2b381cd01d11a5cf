package extract

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/fwaudit/fwaudit/extract/compress"
)

// Prefetching: the work on the files of a layer that does not depend on
// the engine's state is done ahead of the engine, on the other cores.
//
// The engine walks the files of a layer one after the other, and must:
// layer numbers, folder names, the duplicate-blob map and every budget
// (bytes, files, layers, carving) follow that order, so that two runs give
// the same report. But most of the time of a nested layer goes into work
// that is a pure function of a file's bytes: finding the formats' magics
// in it (carving) and decompressing the gzip and xz streams it starts with
// (a Debian package's data.tar.xz, a gzipped man page). A prefetcher does
// that work for the next files while the engine writes the current one,
// and the engine takes the results when it gets there:
//
//   - a carving scan is carried on (a scanMemo gives anyone the candidates
//     the whole scan would, whoever scanned which part of the file);
//   - a decoded stream is written by writeDecoded instead of decoding
//     again, only when decoding ended cleanly and the whole output fits the
//     Writer's bounds at that moment (then the normal path would have
//     written the very same bytes in the same single file); anything else
//     (a truncated or corrupt stream, a bound that would be hit, a window
//     the codec must patch) takes the normal path.
//
// So prefetching changes how fast, never what: the engine still decides
// everything in order. Memory is bounded: prefetchAhead files ahead of the
// engine at most, prefetchStreamMax bytes per decoded stream and
// prefetchMaxBytes of decoded output held by all prefetchers together;
// past that a stream is simply not decoded ahead.

const (
	prefetchAhead     = 16
	prefetchStreamMax = 32 << 20
	prefetchMaxBytes  = 64 << 20
)

// prefetchReplays counts the streams written from a prefetched decoding
// (for tests: prefetching must be used, not only harmless).
var prefetchReplays atomic.Int64

// predecoded is one stream decoded ahead, with the carving scan of its
// output (which becomes the only file of the stream's layer) begun.
type predecoded struct {
	codec    string
	data     []byte
	consumed int64
	memo     *scanMemo
}

// memberWork is what was prefetched for one file.
type memberWork struct {
	state atomic.Int32 // workPending, workClaimed, workSkipped
	done  chan struct{}

	size    int64
	memo    *scanMemo // the file's carving scan as far as the prefetcher took it (nil when the file would not be carved)
	streams map[int64]*predecoded
	bytes   int64 // decoded bytes held
}

const (
	workPending int32 = iota
	workClaimed
	workSkipped
)

// prefetcher works ahead on the files of one layer.
type prefetcher struct {
	e      *engine
	files  []string
	fsys   bool // the files are members of a file-system layer
	decode bool // the chunks found in the files are unpacked (depth bound)
	work   []*memberWork
	at     atomic.Int64 // the engine's position in files
	next   atomic.Int64 // the next file a worker takes
	quit   chan struct{}
	// moved is signalled when the engine moves on (or quits)
	mu       sync.Mutex
	moved    *sync.Cond
	quitting bool
	wg       sync.WaitGroup
	minSz    int64
	fileSz   int64
}

// prefetchTokens bounds the prefetch work running at once (all layers).
func (e *engine) prefetchTokens() chan struct{} {
	e.preOnce.Do(func() {
		// the engine mostly waits for the prefetched results: as many
		// workers as cores
		e.preSem = make(chan struct{}, runtime.GOMAXPROCS(0))
	})
	return e.preSem
}

// startPrefetch starts working ahead on files (sorted, as the engine will
// walk them), which the engine processes at depth; nil when there is
// nothing to gain (one file).
func (e *engine) startPrefetch(ctx context.Context, l *Layer, files []string, depth int) *prefetcher {
	if len(files) < 2 || e.noPrefetch {
		return nil
	}
	cb := newCarveBudget(e.opt.Limits)
	p := &prefetcher{e: e, files: files, fsys: l.IsFilesystem(), quit: make(chan struct{}),
		decode: depth <= e.opt.Limits.MaxDepth,
		minSz:  cb.minSize, fileSz: cb.fileBytes}
	p.moved = sync.NewCond(&p.mu)
	p.work = make([]*memberWork, len(files))
	for i := range p.work {
		p.work[i] = &memberWork{done: make(chan struct{})}
	}
	n := cap(e.prefetchTokens())
	p.wg.Add(n)
	for range n {
		go p.run(ctx)
	}
	return p
}

func (p *prefetcher) run(ctx context.Context) {
	defer p.wg.Done()
	sem := p.e.prefetchTokens()
	for {
		i := int(p.next.Add(1)) - 1
		if i >= len(p.work) {
			return
		}
		w := p.work[i]
		p.mu.Lock()
		for int64(i) >= p.at.Load()+prefetchAhead && !p.quitting {
			p.moved.Wait()
		}
		quitting := p.quitting
		p.mu.Unlock()
		if quitting {
			return
		}
		select {
		case sem <- struct{}{}:
		case <-p.quit:
			return
		case <-ctx.Done():
			return
		}
		if w.state.CompareAndSwap(workPending, workClaimed) {
			p.member(ctx, p.files[i], w)
			close(w.done)
		}
		<-sem
	}
}

// take returns what was prefetched for file i, or nil: the engine then
// does the work itself. Files before i are given up.
func (p *prefetcher) take(i int) *memberWork {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	p.at.Store(int64(i))
	p.mu.Unlock()
	p.moved.Broadcast()
	w := p.work[i]
	if w.state.CompareAndSwap(workPending, workSkipped) {
		return nil // not started: faster to do it here than to wait
	}
	<-w.done
	return w
}

// release frees what the engine did not use of file i's work.
func (p *prefetcher) release(w *memberWork) {
	if p == nil || w == nil {
		return
	}
	p.e.preBytes.Add(-w.bytes)
	w.bytes, w.streams, w.memo = 0, nil, nil
}

// stop ends the prefetcher and frees what it holds.
func (p *prefetcher) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.quitting = true
	p.mu.Unlock()
	p.moved.Broadcast()
	close(p.quit)
	p.wg.Wait()
	for _, w := range p.work {
		if w.state.Load() == workClaimed {
			p.release(w)
		}
	}
}

// member does the state-free work for one file.
func (p *prefetcher) member(ctx context.Context, path string, w *memberWork) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return
	}
	size := fi.Size()
	w.size = size
	if p.fsys {
		// what planMember decides, but for the carving budget (charged in
		// order by the engine): a file it would not carve is not scanned
		hdr, tail := readHeader(f, 0, size, 512), readHeader(f, max(size-512, 0), size, 512)
		if size < p.minSz || finalType(hdr, tail) != "" || size > p.fileSz {
			// identified at offset 0 only: a gzipped man page
			p.decodeStreams(ctx, f, size, w, listNext(p.e.scan(ctx, f, size, true)))
			return
		}
	}
	if scanWhole {
		p.decodeStreams(ctx, f, size, w, listNext(p.e.scan(ctx, f, size, false)))
		return
	}
	w.memo = newScanMemo(size)
	set := p.e.magicSet()
	p.decodeStreams(ctx, f, size, w, func(pos int64, after *candidate) (candidate, bool) {
		return w.memo.next(ctx, set, f, pos, after)
	})
}

// decodeStreams decodes ahead the streams a carving of r would unpack
// first: candidates in order (next, as processBlob takes them), until the
// first one that is not a stream decoded here.
func (p *prefetcher) decodeStreams(ctx context.Context, r io.ReaderAt, size int64, w *memberWork, next func(pos int64, after *candidate) (candidate, bool)) {
	if !p.decode {
		return
	}
	pos := int64(0)
	var last *candidate
	for {
		c, ok := next(pos, last)
		if !ok || ctx.Err() != nil {
			return
		}
		last = &c
		if len(w.streams) == maxBlobChunks {
			return // the engine unpacks no more chunks of one blob
		}
		hdr := readHeader(r, c.off, size, HeaderSize)
		if !safeIdentify(c.f, hdr) {
			continue
		}
		codec := prefetchCodec(c.f, r, c.off, size)
		if codec == "" {
			return // the engine unpacks it; where it ends is its business
		}
		var d *predecoded
		if codec == "xz" {
			d = decodeXZAheadWhole(r, c.off, size, &p.e.preBytes)
		}
		if d == nil {
			d = decodeAhead(ctx, codec, io.NewSectionReader(r, c.off, size-c.off), &p.e.preBytes)
		}
		if d == nil {
			return
		}
		// the first candidates of the output (a data.tar's tar at 0)
		d.memo = newScanMemo(int64(len(d.data)))
		d.memo.next(ctx, p.e.magicSet(), bytes.NewReader(d.data), 0, nil)
		if w.streams == nil {
			w.streams = map[int64]*predecoded{}
		}
		w.streams[c.off] = d
		w.bytes += int64(len(d.data))
		end := d.consumed
		if codec == "xz" {
			// xz decoders read ahead: where the stream ends is where the
			// engine's Unpack finds its footer
			sr := io.NewSectionReader(r, c.off, size-c.off)
			if x := xzStreamEnd(sr, size-c.off, d.consumed-xzLookBack, d.consumed, hdr[6:8]); x > 0 {
				end = x
			}
		}
		pos = c.off + end
	}
}

// decodeXZAheadWhole is decodeAhead for an xz stream by the one-pass path
// (decodeXZWhole), within the same bounds on what is held.
func decodeXZAheadWhole(r io.ReaderAt, off, size int64, held *atomic.Int64) *predecoded {
	return decodeXZWhole(r, off, size, prefetchStreamMax, held, prefetchMaxBytes)
}

// prefetchCodec names the codec a stream format's Unpack decodes the chunk
// at off with through writeDecoded, or "" for formats not decoded ahead
// (and for an xz stream whose window the codec patches: the engine does
// that with its anomaly).
func prefetchCodec(f Format, r io.ReaderAt, off, size int64) string {
	switch f.(type) {
	case gzipFormat:
		return "gzip-members"
	case xzFormat:
		if c, ok := compress.Get("xz"); ok && c.Window != nil {
			if _, _, _, patched := c.Window(io.NewSectionReader(r, off, size-off), size-off); patched {
				return ""
			}
		}
		return "xz"
	}
	return ""
}

// decodeAhead decodes src with codec exactly as writeDecoded reads it (the
// probe, then 256 KiB reads), or returns nil when decoding does not end
// cleanly, the output is larger than prefetchStreamMax, or held (the
// bytes all prefetchers hold, charged as the output grows) would pass
// prefetchMaxBytes.
func decodeAhead(ctx context.Context, codec string, src io.Reader, held *atomic.Int64) *predecoded {
	cr := newCountingReader(src)
	dr, err := openDecoder(codec, cr)
	if err != nil {
		return nil
	}
	defer dr.Close()
	charged := int64(0)
	keep := func(out []byte) bool {
		n := int64(len(out)) - charged
		charged += n
		return len(out) <= prefetchStreamMax && held.Add(n) <= prefetchMaxBytes
	}
	fail := func() *predecoded {
		held.Add(-charged)
		return nil
	}
	probe := make([]byte, probeSize)
	pn, perr, sticky := readProbe(ctxReader{ctx, dr}, probe)
	if pn == 0 || sticky != nil || (perr != nil && perr != io.EOF) {
		return nil
	}
	out := append([]byte(nil), probe[:pn]...)
	if !keep(out) {
		return fail()
	}
	if perr == nil {
		buf := make([]byte, 256<<10)
		rd := ctxReader{ctx, dr}
		for {
			n, err := rd.Read(buf)
			out = append(out, buf[:n]...)
			if !keep(out) {
				return fail()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return fail()
			}
		}
	}
	return &predecoded{codec: codec, data: out, consumed: cr.n}
}
