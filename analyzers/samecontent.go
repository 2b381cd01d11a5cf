package analyzers

import (
	"hash/maphash"
	"sync"
)

// SameContent remembers what an analyzer computed from a file's bytes, so
// that a file with the very same bytes elsewhere in the image (a package's
// copy of an installed file, a man page in two layers) is not analysed
// again. It is for results that depend on the bytes alone (offsets, lines,
// secrets), never on the path: the caller still reports each file under
// its own path.
//
// Files are told apart by their length and two independent 64-bit keyed
// hashes (hash/maphash, seeded at random for each scan, so content cannot
// be crafted to collide). Safe for concurrent use; a file whose twin is
// being analysed at that moment is analysed too.
type SameContent[T any] struct {
	s1, s2 maphash.Seed
	mu     sync.Mutex
	m      map[contentKey]T
	hits   int
}

type contentKey struct {
	n      int
	h1, h2 uint64
	kind   uint8
}

// NewSameContent returns an empty cache.
func NewSameContent[T any]() *SameContent[T] {
	return &SameContent[T]{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), m: map[contentKey]T{}}
}

// Get returns compute's result for data read as kind (a caller's own
// distinction, such as text or binary), computing it only for bytes not
// seen before.
func (c *SameContent[T]) Get(data []byte, kind uint8, compute func() T) T {
	k := contentKey{n: len(data), h1: maphash.Bytes(c.s1, data), h2: maphash.Bytes(c.s2, data), kind: kind}
	c.mu.Lock()
	v, ok := c.m[k]
	if ok {
		c.hits++
	}
	c.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
	return v
}

// Hits is how many files were answered from the cache.
func (c *SameContent[T]) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}
