package extract

import (
	"context"
	"io"
	"sort"
	"sync"
)

// A carving scan done only as far as it is needed.
//
// processBlob takes a blob's candidates in order and skips every candidate
// inside a chunk it unpacked. Most blobs are chunks from end to end: an
// image that is one SquashFS, a decoded data.tar, a Debian package whose
// xz members follow each other. Finding every magic inside them first (the
// whole carving scan) was work thrown away: on a Debian image it was about
// a sixth of extraction's CPU time.
//
// scanMemo gives the candidates in the order sortCandidates puts them, and
// scans only the positions the next one needs. A candidate at off comes
// from a magic at off+m.Offset (m.Offset at most maxOff), so once every
// position from pos to c.off+maxOff is scanned, no candidate at or after
// pos that sorts before c can turn up any more: c is the next one. Positions
// before pos are never needed (their candidates are before pos, and pos
// only grows), so a chunk that runs to the blob's end leaves its interior
// unscanned.
//
// The memo keeps every candidate it found and which positions it scanned,
// so it does not depend on who asked before: a prefetcher walks it one way
// (where its decoded streams end), the engine then another (where the
// chunks it unpacked end), and each gets exactly the candidates the whole
// scan would have given it. It is used by one goroutine at a time.
type scanMemo struct {
	size   int64
	spans  [][2]int64  // scanned positions: sorted, disjoint, not touching
	cands  []candidate // every candidate found, in sortCandidates' order
	win    int64       // the next window's length (grows to winMax)
	winMax int64
	// capped: maxCandidates were found; cappedAt is the first position
	// not searched (the rest of the blob is treated as scanned)
	capped   bool
	cappedAt int64
	// hint is the index of the candidate returned last (while cands did
	// not change around it, next starts there)
	hint int
}

// scanWhole makes carving scan every blob whole first, as it did before
// scanMemo (tests compare the two).
var scanWhole = false

// Windows start small (most blobs are one chunk from offset 0) and grow
// to the whole scan's window.
const (
	scanWindowMin = 64 << 10
	scanWindowMax = 8 << 20
)

func newScanMemo(size int64) *scanMemo {
	return &scanMemo{size: size, win: scanWindowMin, winMax: scanWindowMax}
}

// candLess is sortCandidates' order: offset, then containers before file
// systems before streams, then format name (unique per format).
func candLess(a, b candidate) bool {
	if a.off != b.off {
		return a.off < b.off
	}
	if ka, kb := kindRank(a.f.Kind()), kindRank(b.f.Kind()); ka != kb {
		return ka < kb
	}
	return a.f.Name() < b.f.Name()
}

// next returns the first candidate, in order, that comes after the
// candidate after (nil: from the start) and starts at pos or later,
// scanning r as far as that needs. ok is false when there is none (or the
// context was cancelled before the answer was sure).
func (m *scanMemo) next(ctx context.Context, s *magicSet, r io.ReaderAt, pos int64, after *candidate) (c candidate, ok bool) {
	var hits [][]int
	for {
		var i int
		if h := m.hint; after != nil && h < len(m.cands) && m.cands[h] == *after {
			// the usual case: after is the one returned last
			i = h + 1
			if i < len(m.cands) && m.cands[i].off < pos {
				i += sort.Search(len(m.cands)-i, func(k int) bool { return m.cands[i+k].off >= pos })
			}
		} else {
			i = sort.Search(len(m.cands), func(i int) bool { return m.cands[i].off >= pos })
			if after != nil {
				if j := sort.Search(len(m.cands), func(i int) bool { return candLess(*after, m.cands[i]) }); j > i {
					i = j
				}
			}
		}
		// positions [pos, need) decide whether cands[i] is the next one
		need := m.size
		if i < len(m.cands) {
			need = min(m.cands[i].off+int64(s.maxOff)+1, m.size)
		}
		g0, g1 := m.gap(pos, need)
		if g0 >= need || m.capped || ctx.Err() != nil {
			if i < len(m.cands) && ctx.Err() == nil {
				m.hint = i
				return m.cands[i], true
			}
			return candidate{}, false
		}
		hits = m.scanWindow(s, r, g0, g1, hits)
	}
}

// gap returns the first run of positions at or after pos that is not
// scanned, [g0, g1), when it starts before need (else g0 >= need).
func (m *scanMemo) gap(pos, need int64) (g0, g1 int64) {
	// the first span ending after pos
	k := sort.Search(len(m.spans), func(k int) bool { return m.spans[k][1] > pos })
	g0 = pos
	if k < len(m.spans) && m.spans[k][0] <= pos {
		g0 = m.spans[k][1]
		k++
	}
	if g0 >= need {
		return g0, g0
	}
	g1 = m.size
	if k < len(m.spans) {
		g1 = m.spans[k][0]
	}
	return g0, g1
}

// scanBufs holds the largest windows' buffers between scans.
var scanBufs = sync.Pool{New: func() any { return new([]byte) }}

// scanWindow scans the positions [g0, g0+len) of the gap [g0, g1), len the
// memo's window, and adds the candidates found there.
func (m *scanMemo) scanWindow(s *magicSet, r io.ReaderAt, g0, g1 int64, hits [][]int) [][]int {
	wlen := min(m.win, g1-g0)
	m.win = min(m.win*4, m.winMax)
	// the window reads maxLen bytes past its last position: a magic that
	// starts inside it is compared whole
	n := min(wlen+int64(s.maxLen), m.size-g0)
	bp := scanBufs.Get().(*[]byte)
	defer scanBufs.Put(bp)
	if int64(cap(*bp)) < n {
		*bp = make([]byte, n)
	}
	buf := (*bp)[:n]
	got, _ := r.ReadAt(buf, g0)
	if int64(got) < n {
		// a short read (a file that shrank, an I/O error): what could not
		// be read is not searched, as the whole scan stopped there
		wlen = min(wlen, int64(max(got, 0)))
		m.addSpan(g0, m.size)
	} else {
		m.addSpan(g0, g0+wlen)
	}
	if got <= 0 {
		return hits
	}
	hits = s.find(buf[:got], 2*maxCandidates, hits)
	var found []candidate
	room := maxCandidates + 1 - len(m.cands)
found:
	for p, pat := range s.pats {
		for _, at := range hits[p] {
			if int64(at) >= wlen {
				break // the next window's (hits are in increasing order)
			}
			if off := g0 + int64(at) - int64(pat.m.Offset); off >= 0 && off < m.size {
				if len(found) == room {
					// more than maxCandidates: only a crafted blob has
					// them, and nothing after this window is searched
					m.capped, m.cappedAt = true, g0
					break found
				}
				found = append(found, candidate{off, pat.f})
			}
		}
	}
	m.merge(found)
	return hits
}

// addSpan marks [a, b) scanned.
func (m *scanMemo) addSpan(a, b int64) {
	if a >= b {
		return
	}
	// spans that touch or overlap [a, b) are merged into it
	lo := sort.Search(len(m.spans), func(k int) bool { return m.spans[k][1] >= a })
	hi := lo
	for hi < len(m.spans) && m.spans[hi][0] <= b {
		a, b = min(a, m.spans[hi][0]), max(b, m.spans[hi][1])
		hi++
	}
	m.spans = append(m.spans[:lo], append([][2]int64{{a, b}}, m.spans[hi:]...)...)
}

// merge adds found to the memo's candidates, in order, once each (two
// magics of one format can name the same offset).
func (m *scanMemo) merge(found []candidate) {
	if len(found) == 0 {
		return
	}
	sort.Slice(found, func(i, j int) bool { return candLess(found[i], found[j]) })
	out := make([]candidate, 0, len(m.cands)+len(found))
	i, j := 0, 0
	for i < len(m.cands) || j < len(found) {
		var c candidate
		if j == len(found) || (i < len(m.cands) && !candLess(found[j], m.cands[i])) {
			c = m.cands[i]
			i++
		} else {
			c = found[j]
			j++
		}
		if len(out) > 0 && out[len(out)-1] == c {
			continue
		}
		out = append(out, c)
	}
	m.cands = out
}

// all scans the whole blob and returns every candidate (the whole scan).
func (m *scanMemo) all(ctx context.Context, s *magicSet, r io.ReaderAt) []candidate {
	var hits [][]int
	for !m.capped && ctx.Err() == nil {
		g0, g1 := m.gap(0, m.size)
		if g0 >= m.size {
			break
		}
		hits = m.scanWindow(s, r, g0, g1, hits)
	}
	return m.cands
}
