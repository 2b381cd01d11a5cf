package accounts

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
)

// crackJob is one distinct hash and the candidates to try against it.
type crackJob struct {
	hash  string
	v     hashes.Verifier
	cands []string
	chunk int
	// found is the lowest index of a matching candidate, or len(cands).
	found atomic.Int64
}

func newCrackJob(hash string, v hashes.Verifier, cands []string, slow bool) *crackJob {
	j := &crackJob{hash: hash, v: v, cands: cands, chunk: 16}
	switch {
	case slow:
		j.chunk = 1
	case v.Kind() == hashes.DES:
		j.chunk = 64
	}
	j.found.Store(int64(len(cands)))
	return j
}

// hit returns the matching candidate, if one was found.
func (j *crackJob) hit() (string, bool) {
	i := j.found.Load()
	if i < int64(len(j.cands)) {
		return j.cands[i], true
	}
	return "", false
}

// lower records a match at index i, keeping the lowest.
func (j *crackJob) lower(i int64) {
	for {
		cur := j.found.Load()
		if i >= cur || j.found.CompareAndSwap(cur, i) {
			return
		}
	}
}

type span struct {
	j      *crackJob
	lo, hi int
}

// crack tries every job's candidates in a pool of workers. Work is handed out
// in spans, round-robin over the jobs, so the likeliest candidates of every
// hash are tried first. A job stops at its first hit: spans past a known
// match are skipped, while spans before it still run, so the reported
// candidate is always the lowest-ranked match (deterministic). It returns
// ctx.Err() if ctx is cancelled.
func crack(ctx context.Context, jobs []*crackJob, workers int) error {
	if workers < 1 {
		workers = 1
	}
	work := make(chan span, workers*2)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				for i := s.lo; i < s.hi; i++ {
					if ctx.Err() != nil || int64(i) >= s.j.found.Load() {
						break
					}
					if s.j.v.Verify(s.j.cands[i]) {
						s.j.lower(int64(i))
						break
					}
				}
			}
		}()
	}
	produce(ctx, jobs, work)
	close(work)
	wg.Wait()
	return ctx.Err()
}

// produce hands out spans until every job is done or ctx is cancelled.
func produce(ctx context.Context, jobs []*crackJob, work chan<- span) {
	for round := 0; ; round++ {
		more := false
		for _, j := range jobs {
			lo := round * j.chunk
			if lo >= len(j.cands) {
				continue
			}
			more = true
			if int64(lo) >= j.found.Load() {
				continue
			}
			select {
			case work <- span{j, lo, min(lo+j.chunk, len(j.cands))}:
			case <-ctx.Done():
				return
			}
		}
		if !more {
			return
		}
	}
}

// budgetJobs bounds the total work of jobs to max units (hashes.Work per
// guess). Words are granted round by round, one more word to every job
// that still has some, so each hash gets its likeliest words first and a
// few costly hashes cannot starve the others. It truncates the jobs'
// candidate lists and returns how many jobs were cut.
func budgetJobs(jobs []*crackJob, max int64) int {
	if max < 0 || len(jobs) == 0 {
		return 0
	}
	cost := make([]int64, len(jobs))
	var total int64
	for i, j := range jobs {
		cost[i] = hashes.Work(j.hash)
		total += cost[i] * int64(len(j.cands))
		if total > max {
			total = max + 1 // enough to know the budget binds
		}
	}
	if total <= max {
		return 0
	}
	grant := make([]int, len(jobs))
	left := max
	for more := true; more; {
		more = false
		for i, j := range jobs {
			if grant[i] >= len(j.cands) || cost[i] > left {
				continue
			}
			grant[i]++
			left -= cost[i]
			more = true
		}
	}
	cut := 0
	for i, j := range jobs {
		if grant[i] < len(j.cands) {
			j.cands = j.cands[:grant[i]]
			j.found.Store(int64(len(j.cands)))
			cut++
		}
	}
	return cut
}
