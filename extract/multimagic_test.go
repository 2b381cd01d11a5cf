package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// scanPerMagic is the carving scan as it was before the one-pass matcher:
// one bytes.Index pass per magic over each window. The one-pass scan must
// give the same candidates in the same order.
func scanPerMagic(e *engine, r io.ReaderAt, size int64) []candidate {
	maxLen := 0
	for _, f := range e.formats {
		for _, m := range f.Magics() {
			maxLen = max(maxLen, len(m.Bytes))
		}
	}
	seen := map[candidate]bool{}
	var out []candidate
	const window = 8 << 20
	buf := make([]byte, min(int64(window), size)+int64(maxLen))
	for base := int64(0); base < size; base += window {
		n, _ := r.ReadAt(buf, base)
		if n <= 0 {
			break
		}
		win := buf[:n]
		for _, f := range e.formats {
			for _, m := range f.Magics() {
				for i := 0; ; {
					j := bytes.Index(win[i:], m.Bytes)
					if j < 0 {
						break
					}
					pos := i + j
					if int64(pos) < window || base+window >= size {
						c := candidate{base + int64(pos) - int64(m.Offset), f}
						if c.off >= 0 && c.off < size && !seen[c] {
							seen[c] = true
							out = append(out, c)
						}
					}
					i = pos + 1
				}
			}
		}
	}
	sortCandidates(out)
	return out
}

// carveCorpus is every firmware fixture back to back (real images of every
// format; repeated to 20 MB), with every magic of every format also planted at random
// offsets, across and at window boundaries and at the very end.
func carveCorpus(tb testing.TB, formats []Format) []byte {
	tb.Helper()
	dir := filepath.Join("..", "testdata", "firmware")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal(err)
		}
		tb.Skip("fixtures missing:", err)
	}
	var blob []byte
	for _, de := range ents {
		if de.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, de.Name()))
			if err != nil {
				tb.Fatal(err)
			}
			blob = append(blob, b...)
		}
	}
	for len(blob) < 20<<20 {
		blob = append(blob, blob...) // cross at least two window boundaries
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var magics [][]byte
	for _, f := range formats {
		for _, m := range f.Magics() {
			magics = append(magics, m.Bytes)
		}
	}
	plant := func(off int, m []byte) {
		if off >= 0 && off+len(m) <= len(blob) {
			copy(blob[off:], m)
		}
	}
	for i := 0; i < 20000; i++ {
		plant(rng.IntN(len(blob)), magics[rng.IntN(len(magics))])
	}
	for _, m := range magics {
		for _, at := range []int{8<<20 - 1, 8<<20 - len(m) + 1, 8 << 20, 16<<20 - 2, len(blob) - len(m)} {
			plant(at, m)
		}
	}
	return blob
}

func TestCarveScanOnePassSameCandidates(t *testing.T) {
	e := &engine{formats: Formats()}
	blob := carveCorpus(t, e.formats)
	if len(blob) < 16<<20 {
		t.Fatalf("corpus of %d bytes does not cross two windows", len(blob))
	}
	for _, size := range []int{len(blob), 8 << 20, 8<<20 + 3, 12345, 2} {
		r := bytes.NewReader(blob[:size])
		got := e.scan(context.Background(), r, int64(size), false)
		want := scanPerMagic(e, r, int64(size))
		sameCands(t, fmt.Sprintf("size %d, one pass against the per-magic scan", size), got, want)
		if size == len(blob) && len(got) < 20000 {
			t.Errorf("only %d candidates in a corpus with 20,000 planted magics", len(got))
		}
	}
}

// BenchmarkCarveScan compares the one-pass carving scan with one
// bytes.Index pass per magic over the same bytes (the fixtures with planted
// magics: mostly compressed data, as the carved files of an image are).
func BenchmarkCarveScan(b *testing.B) {
	e := &engine{formats: Formats()}
	blob := carveCorpus(b, e.formats)
	r := bytes.NewReader(blob)
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(blob)))
		b.ReportAllocs()
		for b.Loop() {
			e.scan(context.Background(), r, int64(len(blob)), false)
		}
	})
	b.Run("per-magic", func(b *testing.B) {
		b.SetBytes(int64(len(blob)))
		b.ReportAllocs()
		for b.Loop() {
			scanPerMagic(e, r, int64(len(blob)))
		}
	})
}
