package analyzers

import (
	"context"

	"strings"
	"testing"
	"time"
)

// stalls finds one thing, then works until it is cancelled.
type stalls struct{}

func (stalls) Name() string { return "stalls" }
func (stalls) Analyze(ctx context.Context, _ *Target) ([]Finding, error) {
	<-ctx.Done()
	return []Finding{{Rule: "half-done", Path: "/x"}}, ctx.Err()
}

// quick finds one thing at once.
type quick struct{}

func (quick) Name() string { return "quick" }
func (quick) Analyze(context.Context, *Target) ([]Finding, error) {
	return []Finding{{Rule: "done", Path: "/y"}}, nil
}

// An analyzer still running at its time bound is stopped and reported as
// failed with ErrTimeBound, without what it found so far (which is not
// all it would find); the others run as before. Without a bound, nothing
// stops it but the caller's context.
func TestRunWithinStopsAnalyzerAtBound(t *testing.T) {
	tg := NewTarget(nil)
	out := RunWithin(context.Background(), tg, []Analyzer{stalls{}, quick{}}, 2, 50*time.Millisecond)
	if len(out.Failures) != 1 || out.Failures[0].Analyzer != "stalls" || !strings.Contains(out.Failures[0].Error, ErrTimeBound.Error()) {
		t.Fatalf("failures: %+v", out.Failures)
	}
	if len(out.Ran) != 1 || out.Ran[0] != "quick" {
		t.Errorf("ran: %v", out.Ran)
	}
	if len(out.Findings) != 1 || out.Findings[0].Rule != "done" {
		t.Errorf("findings: %+v", out.Findings)
	}
	// the caller's cancellation is not a time bound
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	out = RunWithin(ctx, tg, []Analyzer{stalls{}}, 1, 0)
	if len(out.Failures) != 1 || strings.Contains(out.Failures[0].Error, ErrTimeBound.Error()) ||
		!strings.Contains(out.Failures[0].Error, context.DeadlineExceeded.Error()) {
		t.Errorf("cancelled by the caller: %+v", out.Failures)
	}
}
