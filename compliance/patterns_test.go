package compliance

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestPatternSetIsContains compares the one-pass search with bytes.Contains
// per pattern on random texts over a small alphabet, with patterns that
// overlap, repeat, nest and are empty.
func TestPatternSetIsContains(t *testing.T) {
	pats := [][]byte{[]byte("ab"), []byte("abc"), []byte("bca"), []byte("ab"), []byte("c"), nil, []byte("aaaa"), []byte("cab"), []byte("bb")}
	set := newPatternSet(pats)
	rng := rand.New(rand.NewPCG(3, 4))
	var found []bool
	hits := 0
	for range 20000 {
		text := make([]byte, rng.IntN(12))
		for i := range text {
			text[i] = "abc"[rng.IntN(3)]
		}
		found = set.present(text, found)
		for i, p := range pats {
			want := bytes.Contains(text, p)
			if found[i] != want {
				t.Fatalf("pattern %q in %q: %v, bytes.Contains %v", p, text, found[i], want)
			}
			if want {
				hits++
			}
		}
	}
	if hits < 20000 {
		t.Fatalf("only %d pattern hits: the texts hardly test anything", hits)
	}
}
