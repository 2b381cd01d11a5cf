package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

type nextFunc = func(pos int64, after *candidate) (candidate, bool)

// walkCands takes candidates from next as processBlob does: reach says how
// far the chunk at a candidate runs (0: rejected, pos stays), and the walk
// stops after stop candidates (a prefetcher stops at its first non-stream).
func walkCands(next nextFunc, reach func(candidate) int64, stop int) []candidate {
	var got []candidate
	pos := int64(0)
	var last *candidate
	for len(got) < stop {
		c, ok := next(pos, last)
		if !ok {
			break
		}
		last = &c
		got = append(got, c)
		if n := reach(c); n > 0 {
			pos = c.off + n
		}
	}
	return got
}

// reachOf is a walk's decisions, a function of the candidate and a seed:
// a third are rejected, the others run one byte, a few KB, to the blob's
// end or past it.
func reachOf(seed uint64, size int64) func(candidate) int64 {
	return func(c candidate) int64 {
		h := fnv.New64a()
		binary.Write(h, binary.LittleEndian, [2]uint64{seed, uint64(c.off)})
		h.Write([]byte(c.f.Name()))
		v := h.Sum64()
		switch v % 6 {
		case 0, 1:
			return 0
		case 2:
			return 1
		case 3:
			return int64(v>>8)%(64<<10) + 1
		case 4:
			return int64(v>>8)%(4<<20) + 1
		default:
			if v&256 != 0 {
				return size - c.off
			}
			return int64(v>>8)%(size+1) + 1
		}
	}
}

func sameCands(t *testing.T, what string, got, want []candidate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d candidates, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: candidate %d is %d %s, want %d %s", what, i,
				got[i].off, got[i].f.Name(), want[i].off, want[i].f.Name())
		}
	}
}

// checkMemo walks blob's candidates through a scanMemo (first as a
// prefetcher with its own decisions, then as the engine) and through the
// whole scan's list, and wants the engine's walks to be the same. It
// returns the positions the memo scanned.
func checkMemo(t *testing.T, e *engine, blob []byte, win, winMax int64, seed, preSeed uint64, preStop int) int64 {
	t.Helper()
	ctx := context.Background()
	r := bytes.NewReader(blob)
	size := int64(len(blob))
	whole := scanPerMagic(e, r, size)
	want := walkCands(listNext(whole), reachOf(seed, size), 1<<30)
	m := newScanMemo(size)
	m.win, m.winMax = win, winMax
	next := func(pos int64, after *candidate) (candidate, bool) { return m.next(ctx, e.magicSet(), r, pos, after) }
	if preStop > 0 {
		pre := walkCands(next, reachOf(preSeed, size), preStop)
		sameCands(t, "the prefetcher's walk against the whole scan's", pre, walkCands(listNext(whole), reachOf(preSeed, size), preStop))
	}
	got := walkCands(next, reachOf(seed, size), 1<<30)
	sameCands(t, "the engine's walk against the whole scan's", got, want)
	var scanned int64
	for _, s := range m.spans {
		scanned += s[1] - s[0]
	}
	return scanned
}

// TestScanMemoSameCandidates: whatever the walk (what unpacks and how far,
// a prefetcher having walked the memo first its own way), the candidates
// taken from a scanMemo are those taken from the whole scan, on the
// fixtures back to back with every magic planted across window bounds.
func TestScanMemoSameCandidates(t *testing.T) {
	e := &engine{formats: Formats()}
	blob := carveCorpus(t, e.formats)
	var scanned, total int64
	for seed := uint64(0); seed < 12; seed++ {
		win, winMax := int64(scanWindowMin), int64(scanWindowMax)
		if seed%3 == 1 {
			win, winMax = 100, 4096 // many small windows and gaps
		}
		scanned += checkMemo(t, e, blob, win, winMax, seed, seed+100, int(seed%4)*3)
		total += int64(len(blob))
	}
	// and the memo scanned less than all of it: chunks reaching the end
	if scanned >= total*9/10 {
		t.Errorf("the memo scanned %d of %d positions: nothing was skipped", scanned, total)
	}
}

// TestScanMemoDenseMagics: every magic planted every few dozen bytes and
// windows of a few bytes, so that window ends fall between a candidate and
// the magic (up to 1,080 bytes past it) of an earlier one.
func TestScanMemoDenseMagics(t *testing.T) {
	e := &engine{formats: Formats()}
	rng := rand.New(rand.NewPCG(5, 8))
	var magics []Magic
	for _, f := range e.formats {
		magics = append(magics, f.Magics()...)
	}
	blob := make([]byte, 96<<10)
	for range 3000 {
		m := magics[rng.IntN(len(magics))]
		if at := rng.IntN(len(blob)); at+len(m.Bytes) <= len(blob) {
			copy(blob[at:], m.Bytes)
		}
	}
	for _, win := range []int64{1, 7, 33, 100, 300} {
		for seed := uint64(0); seed < 16; seed++ {
			checkMemo(t, e, blob, win, win*3, seed, seed+50, int(seed%3))
		}
	}
}

// TestScanMemoEmptyAndTiny: blobs of no, one and a few bytes, magics cut
// at the end.
func TestScanMemoEmptyAndTiny(t *testing.T) {
	e := &engine{formats: Formats()}
	for _, b := range []string{"", "\x1f", "\x1f\x8b", "\x1f\x8b\x08", "hsqs", "xx\xfd7zXZ\x00", "\xfd7zXZ"} {
		for seed := uint64(0); seed < 4; seed++ {
			checkMemo(t, e, []byte(b), 1, 2, seed, seed+7, 1)
		}
	}
}

// TestScanMemoCapReported: a blob of more candidates than a carving scan
// keeps is searched no further, and the layer says so.
func TestScanMemoCapReported(t *testing.T) {
	// "\x55\xaa" is the MBR signature (at 510): a candidate every two bytes
	res := hostileExtract(t, bytes.Repeat([]byte{0x55, 0xaa}, maxCandidates+300_000), DefaultLimits())
	if layerAnomaly(res, "image", AnomalyLimit, "carving candidates") == nil {
		t.Errorf("no anomaly for the candidate bound: %+v", res.Layers[0].Anomalies)
	}
}

// FuzzScanMemo: the scanMemo's walks against the whole scan's on any bytes,
// with tiny windows.
func FuzzScanMemo(f *testing.F) {
	e := &engine{formats: Formats()}
	for _, name := range []string{"data.xz", "data.gz", "cpio-newc.cpio", "squashfs-xz.img"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "firmware", name))
		if err == nil {
			f.Add(b[:min(len(b), 8192)], uint64(1), uint64(2), uint8(3), uint8(7))
		}
	}
	f.Add([]byte("\x1f\x8b\x08\x00hsqs\xfd7zXZ\x00\x00ustar\x00"), uint64(3), uint64(4), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, blob []byte, seed, preSeed uint64, preStop, win uint8) {
		if len(blob) > 1<<20 {
			return
		}
		w := int64(win%64) + 1
		checkMemo(t, e, blob, w, w*int64(win%5+1)*3, seed, preSeed, int(preStop%8))
	})
}
