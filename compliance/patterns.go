package compliance

import (
	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// patternSet tells which of several byte patterns occur in a text in one
// pass over it (Aho-Corasick), not one search per pattern: the hint search
// reads up to HintMaxTotal bytes of text for some thirty patterns.
type patternSet struct {
	trie *ahocorasick.Trie
	// of[k] are the indexes (in the caller's list) of the k-th distinct
	// pattern
	of    [][]int
	n     int   // patterns in the caller's list
	empty []int // empty patterns: in every text
}

func newPatternSet(pats [][]byte) *patternSet {
	s := &patternSet{n: len(pats)}
	index := map[string]int{}
	var distinct [][]byte
	for i, p := range pats {
		if len(p) == 0 {
			s.empty = append(s.empty, i)
			continue
		}
		k, ok := index[string(p)]
		if !ok {
			k = len(distinct)
			index[string(p)] = k
			distinct = append(distinct, p)
			s.of = append(s.of, nil)
		}
		s.of[k] = append(s.of[k], i)
	}
	s.trie = ahocorasick.NewTrieBuilder().AddPatterns(distinct).Build()
	return s
}

// present sets found[i] for every pattern i that occurs in text (found is
// reused when long enough).
func (s *patternSet) present(text []byte, found []bool) []bool {
	if cap(found) < s.n {
		found = make([]bool, s.n)
	}
	found = found[:s.n]
	clear(found)
	for _, i := range s.empty {
		found[i] = true
	}
	left := len(s.of)
	seen := make([]bool, len(s.of))
	s.trie.Walk(text, func(end, n, k int64) bool {
		if !seen[k] {
			seen[k] = true
			for _, i := range s.of[k] {
				found[i] = true
			}
			left--
		}
		return left > 0
	})
	return found
}
