package extract

import "bytes"

// magicSet finds the magics of every format in one pass over a window, in
// place of one bytes.Index pass per magic: a table on a magic's first two
// bytes says at which positions any magic may start, and only there are the
// magics of that pair compared. The positions are kept per magic, so the
// engine adds candidates in the same order (and with the same bound) as the
// pass per magic did.
type magicSet struct {
	pats []magicPat
	// pair[b0<<8|b1] is 1 + the index in buckets of the magics starting
	// with b0 b1 (0: none); a one-byte magic is in the buckets of all 256
	// pairs starting with its byte.
	pair    [1 << 16]uint16
	buckets [][]int
	// first[b]: some magic starts with byte b (a small table, read for
	// every byte before the pair table)
	first [256]bool
	// next[k] are the third and fourth bytes the magics of bucket k allow
	// (bitsets; a magic too short to have one allows any): most bucket
	// hits of real data (zero runs of a tar, text) fail there, before
	// any magic is compared
	next [][2][4]uint64
	// one lists the one-byte magics, checked alone at a window's last byte.
	one []int
	// maxOff is the largest offset of a magic in its chunk, maxLen the
	// longest magic: a candidate at off comes from a position in
	// [off, off+maxOff]
	maxOff, maxLen int
}

type magicPat struct {
	f     Format
	m     Magic
	fi    int // index of the format in engine.formats
	order int // position in the formats' magics, in order
}

func newMagicSet(formats []Format) *magicSet {
	s := &magicSet{}
	bucketOf := map[uint16]int{}
	addTo := func(key uint16, p int) {
		b, ok := bucketOf[key]
		if !ok {
			b = len(s.buckets)
			bucketOf[key] = b
			s.buckets = append(s.buckets, nil)
			s.next = append(s.next, [2][4]uint64{})
			s.pair[key] = uint16(b + 1)
		}
		s.buckets[b] = append(s.buckets[b], p)
		s.first[key>>8] = true
		mb := s.pats[p].m.Bytes
		for j := range 2 {
			if len(mb) > 2+j {
				c := mb[2+j]
				s.next[b][j][c>>6] |= 1 << (c & 63)
			} else {
				s.next[b][j] = [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
			}
		}
	}
	for fi, f := range formats {
		for _, m := range f.Magics() {
			s.maxOff, s.maxLen = max(s.maxOff, m.Offset), max(s.maxLen, len(m.Bytes))
			if len(m.Bytes) == 0 {
				continue // bytes.Index of nothing matched everywhere; no format has one
			}
			p := len(s.pats)
			s.pats = append(s.pats, magicPat{f: f, m: m, fi: fi, order: p})
			if len(m.Bytes) == 1 {
				for b1 := range 256 {
					addTo(uint16(m.Bytes[0])<<8|uint16(b1), p)
				}
				s.one = append(s.one, p)
				continue
			}
			addTo(uint16(m.Bytes[0])<<8|uint16(m.Bytes[1]), p)
		}
	}
	return s
}

// find returns, for each magic (indexed as s.pats), the positions in win
// where it starts, in increasing order, at most max+1 per magic.
func (s *magicSet) find(win []byte, max int, hits [][]int) [][]int {
	if cap(hits) < len(s.pats) {
		hits = make([][]int, len(s.pats))
	}
	hits = hits[:len(s.pats)]
	for i := range hits {
		hits[i] = hits[i][:0]
	}
	n := len(win)
	if n == 0 {
		return hits
	}
	for i := 0; i+1 < n; i++ {
		if !s.first[win[i]] {
			continue
		}
		b := s.pair[uint16(win[i])<<8|uint16(win[i+1])]
		if b == 0 {
			continue
		}
		// the third and fourth bytes, where the window has them (a magic
		// cut by the window's end is compared below, and fails there)
		if nx := &s.next[b-1]; i+3 < n {
			c2, c3 := win[i+2], win[i+3]
			if nx[0][c2>>6]&(1<<(c2&63)) == 0 || nx[1][c3>>6]&(1<<(c3&63)) == 0 {
				continue
			}
		}
		rest := win[i:]
		for _, p := range s.buckets[b-1] {
			mb := s.pats[p].m.Bytes
			if len(mb) <= len(rest) && bytes.Equal(rest[:len(mb)], mb) && len(hits[p]) <= max {
				hits[p] = append(hits[p], i)
			}
		}
	}
	for _, p := range s.one {
		if win[n-1] == s.pats[p].m.Bytes[0] && len(hits[p]) <= max {
			hits[p] = append(hits[p], n-1)
		}
	}
	return hits
}
