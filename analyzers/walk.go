package analyzers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fwaudit/fwaudit/internal/glob"
)

// Selector says which files of the Target a Walk visits. Every test that
// is set must hold; the cheap ones (layer, size, glob, Match) run first,
// the content class (which reads the file's first KiB) last.
type Selector struct {
	// FileSystems keeps only files of layers unpacked to a file system
	// (extract.Layer.IsFilesystem): no kernel payloads or partition blobs.
	FileSystems bool
	// MinSize and MaxSize bound the file's size in bytes (MaxSize 0: no
	// upper bound). MinSize 1 skips empty files.
	MinSize, MaxSize int64
	// Globs select by the path inside the image ("etc/**/*.conf"; a glob
	// without "/" matches the base name: "shadow", "*.pem"), with the
	// syntax of rule files (internal/glob). Empty: every path.
	Globs []string
	// Match is any other test on the file (a rule set's path selection,
	// its mode); nil accepts every file.
	Match func(File) bool
	// Classes keeps only files of these content classes (Classify).
	// Empty: any class.
	Classes []Class

	// Analyzer and What, when Analyzer is set, record every file fn
	// returns nil for as examined (Target.Examined): what the analyzer
	// looked into, for the coverage the compliance verdicts rest on. A
	// file fn returns Skip for is not recorded.
	Analyzer, What string
}

// Skip returned by a Walk's fn means the file was not examined (it could
// not be read, or was not what the analyzer looks for after all); the walk
// goes on.
var Skip = errors.New("file skipped")

// matcher is a compiled Selector.
type matcher struct {
	sel   Selector
	globs *glob.Set
}

func (s Selector) compile() (*matcher, error) {
	globs, err := glob.CompileSet(s.Globs)
	if err != nil {
		return nil, fmt.Errorf("walk: %w", err)
	}
	return &matcher{sel: s, globs: globs}, nil
}

// cheap applies every test but the content class.
func (m *matcher) cheap(f File) bool {
	s := &m.sel
	if s.FileSystems && (f.Layer == nil || !f.Layer.IsFilesystem()) {
		return false
	}
	if f.Size < s.MinSize || (s.MaxSize > 0 && f.Size > s.MaxSize) {
		return false
	}
	if m.globs.Len() > 0 && !m.globs.Match(strings.TrimPrefix(f.Path, "/")) {
		return false
	}
	return s.Match == nil || s.Match(f)
}

// class applies the content-class test.
func (m *matcher) class(t *Target, f File) bool {
	if len(m.sel.Classes) == 0 {
		return true
	}
	c := t.Classify(f)
	for _, want := range m.sel.Classes {
		if c == want {
			return true
		}
	}
	return false
}

// visit runs fn on f and records f as examined when fn returns nil.
func (m *matcher) visit(t *Target, f File, fn func(File) error) error {
	err := fn(f)
	if err == nil && m.sel.Analyzer != "" {
		t.Examined(m.sel.Analyzer, m.sel.What, f)
	}
	return err
}

// Walk calls fn for every file sel selects, one at a time, in the order of
// Files (layer order, then path order). It stops at the first error fn
// returns (other than Skip) and returns it, and stops with ctx's error
// when ctx is cancelled.
func (t *Target) Walk(ctx context.Context, sel Selector, fn func(File) error) error {
	m, err := sel.compile()
	if err != nil {
		return err
	}
	for _, f := range t.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !m.cheap(f) || !m.class(t, f) {
			continue
		}
		if err := m.visit(t, f, fn); err != nil && !errors.Is(err, Skip) {
			return err
		}
	}
	return ctx.Err()
}

// Visited is one file a parallel walk visited and what fn made of it.
type Visited[R any] struct {
	File  File
	Value R
}

// WalkParallel is Walk with fn running on up to workers goroutines at
// once (workers < 1: one). The files are handed out in order, and the
// results come back in the order of Files whatever the scheduling, so the
// output stays deterministic; a file fn returns Skip for is left out. The
// first other error fn returns (or a panic in fn) stops the walk and is
// returned with the results so far, as is ctx's error when it is
// cancelled. fn must be safe for concurrent use.
func WalkParallel[R any](ctx context.Context, t *Target, sel Selector, workers int, fn func(File) (R, error)) ([]Visited[R], error) {
	m, err := sel.compile()
	if err != nil {
		return nil, err
	}
	var files []File
	for _, f := range t.files {
		if m.cheap(f) {
			files = append(files, f)
		}
	}
	type slot struct {
		v  R
		ok bool
	}
	res := make([]slot, len(files))
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		stop    atomic.Bool
	)
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) || stop.Load() || ctx.Err() != nil {
					return
				}
				f := files[i]
				if !m.class(t, f) {
					continue
				}
				var v R
				err := m.visit(t, f, func(f File) (err error) {
					// a panic in a worker would end the process, beyond
					// Run's recovery: it becomes the walk's error
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("walk: panic on %s: %v", f.Path, p)
						}
					}()
					v, err = fn(f)
					return err
				})
				switch {
				case err == nil:
					res[i] = slot{v, true}
				case errors.Is(err, Skip):
				default:
					errOnce.Do(func() { first = err })
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	var out []Visited[R]
	for i, r := range res {
		if r.ok {
			out = append(out, Visited[R]{files[i], r.v})
		}
	}
	if first != nil {
		return out, first
	}
	return out, ctx.Err()
}
