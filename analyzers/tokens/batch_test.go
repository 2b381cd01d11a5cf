package tokens

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// withJoinBounds sets the batch bounds for one test.
func withJoinBounds(t *testing.T, lines, bytes int) {
	t.Helper()
	l, b := joinMaxLines, joinMaxBytes
	joinMaxLines, joinMaxBytes = lines, bytes
	t.Cleanup(func() { joinMaxLines, joinMaxBytes = l, b })
}

// A file whose candidates are passed to gitleaks in batches gets the
// findings it gets in one call, matches running over newlines at batch
// edges included, and no call is larger than the bounds (plus the
// overlap).
func TestJoinBatchesChangeNothing(t *testing.T) {
	e, err := loadEngine()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	batched, findings := 0, 0
	for i := range 60 {
		data := []byte(genericLines(rng, 300+rng.IntN(300)))
		for _, text := range []bool{true, false} {
			var scratch []byte
			withJoinBounds(t, 1<<30, 1<<30)
			whole := e.scan(context.Background(), data, &scratch, text)
			withJoinBounds(t, 16+rng.IntN(40), 600+rng.IntN(3000))
			maxLines, maxBytes, calls := 0, 0, 0
			onDetect = func(l, b int) { maxLines, maxBytes, calls = max(maxLines, l), max(maxBytes, b), calls+1 }
			parts := e.scan(context.Background(), data, &scratch, text)
			onDetect = nil
			if !reflect.DeepEqual(whole, parts) {
				t.Fatalf("file %d (text %v, batches of %d lines, %d bytes): findings differ\n--- one call\n%v\n--- batches\n%v", i, text, joinMaxLines, joinMaxBytes, whole, parts)
			}
			// a batch holds its own lines (at least one) and the overlap
			if maxLines > joinMaxLines+2*joinOverlap {
				t.Fatalf("a call of %d lines, bound %d", maxLines, joinMaxLines)
			}
			if maxBytes > joinMaxBytes+2*joinOverlap*(MaxString+1)+MaxString {
				t.Fatalf("a call of %d bytes, bound %d", maxBytes, joinMaxBytes)
			}
			batched += calls
			findings += len(whole)
		}
	}
	if batched < 500 || findings < 500 {
		t.Errorf("%d gitleaks calls, %d findings: the test does not test batching", batched, findings)
	}
}

// A crafted text of many thousand matching lines is passed to gitleaks in
// bounded calls (it was one call whose cost grew with the square of its
// matches) and still gives the file's findings.
func TestJoinBatchesBoundHostileText(t *testing.T) {
	e, err := loadEngine()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "api_key=Zx8Kq2Lm9Pw4Rt7N%06d\n", 100000+i) // no "000000": a gitleaks stopword
	}
	maxLines, calls := 0, 0
	onDetect = func(l, _ int) { maxLines, calls = max(maxLines, l), calls+1 }
	defer func() { onDetect = nil }()
	var scratch []byte
	hits := e.scan(context.Background(), []byte(b.String()), &scratch, true)
	if maxLines > joinMaxLines+2*joinOverlap || calls < 20000/joinMaxLines {
		t.Errorf("%d calls of at most %d lines; want batches of at most %d", calls, maxLines, joinMaxLines)
	}
	if len(hits) != maxFindingsPerFile || hits[0].rule != "generic-api-key" || hits[0].line != 1 {
		t.Errorf("%d hits, first %+v", len(hits), hits[0])
	}
	// a cancelled scan stops between calls and reports nothing
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	onDetect = func(int, int) {
		if calls++; calls == 2 {
			cancel()
		}
	}
	if hits := e.scan(ctx, []byte(b.String()), &scratch, true); hits != nil || calls != 2 {
		t.Errorf("cancelled: %d hits after %d calls", len(hits), calls)
	}
}
