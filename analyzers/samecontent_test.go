package analyzers

import (
	"sync"
	"testing"
)

func TestSameContent(t *testing.T) {
	c := NewSameContent[string]()
	calls := 0
	get := func(data string, kind uint8) string {
		return c.Get([]byte(data), kind, func() string {
			calls++
			return "result of " + data
		})
	}
	if got := get("abc", 0); got != "result of abc" {
		t.Fatalf("got %q", got)
	}
	if got := get("abc", 0); got != "result of abc" || calls != 1 {
		t.Fatalf("same bytes: %q after %d computations, want 1", got, calls)
	}
	get("abd", 0)
	get("abc", 1) // same bytes read another way
	get("", 0)
	get("", 0)
	if calls != 4 || c.Hits() != 2 {
		t.Fatalf("%d computations and %d hits, want 4 and 2", calls, c.Hits())
	}
	// concurrent use
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				c.Get([]byte{byte(i), byte(j % 10)}, 0, func() string { return "x" })
			}
		}()
	}
	wg.Wait()
}
