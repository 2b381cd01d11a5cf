package fleet

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// ScanArgs is one River job: scan one image. Jobs are unique by their
// arguments, so enqueueing an image twice for the same scanner makes one
// job.
type ScanArgs struct {
	SHA256 string `json:"sha256"`
	Path   string `json:"path"`
	// Scanner is the fwaudit version and rules digest that enqueued it.
	Scanner string `json:"scanner"`
}

// Kind is River's job kind.
func (ScanArgs) Kind() string { return "fwaudit_scan_image" }

// MaxAttempts is how often a failing job is tried before it is shown as
// failed.
const MaxAttempts = 3

// InsertOpts: unique by arguments, a few attempts.
func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: MaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}

// Tuning of the River client. The environment variables are for tests
// and benchmarks (a worker killed mid-image is rescued after RescueAfter).
type Tuning struct {
	// JobTimeout: an image still scanning after this long is cancelled
	// (and retried like any failure). River's rescuer never touches a job
	// younger than this.
	JobTimeout time.Duration
	// RescueAfter: a job running this long (and past JobTimeout) is taken
	// to be abandoned by a dead worker and retried (River's
	// RescueStuckJobsAfter).
	RescueAfter time.Duration
	// RetryBase: the first retry waits this long, each next one twice as
	// long.
	RetryBase time.Duration
	// Poll is how often idle workers look for jobs.
	Poll time.Duration
}

// DefaultTuning: an image may scan for up to an hour; a job still running
// five minutes after that belonged to a dead worker. Tests shorten these
// with FWAUDIT_FLEET_JOB_TIMEOUT, FWAUDIT_FLEET_RESCUE_AFTER and
// FWAUDIT_FLEET_RETRY_BASE (Go durations).
func DefaultTuning() Tuning {
	t := Tuning{JobTimeout: time.Hour, RetryBase: 10 * time.Second, Poll: time.Second}
	env := func(name string, d *time.Duration) {
		if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
			*d = v
		}
	}
	env("FWAUDIT_FLEET_JOB_TIMEOUT", &t.JobTimeout)
	t.RescueAfter = t.JobTimeout + 5*time.Minute
	env("FWAUDIT_FLEET_RESCUE_AFTER", &t.RescueAfter)
	env("FWAUDIT_FLEET_RETRY_BASE", &t.RetryBase)
	if t.RescueAfter < t.JobTimeout {
		t.RescueAfter = t.JobTimeout
	}
	return t
}

// retryPolicy: exponential backoff from RetryBase.
type retryPolicy struct{ base time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(len(job.Errors), 1) - 1
	d := time.Duration(float64(p.base) * math.Pow(2, float64(min(n, 16))))
	return time.Now().Add(d)
}

// queue hides River's transaction type (pgx.Tx or *sql.Tx).
type queue interface {
	insert(ctx context.Context, args ScanArgs) (bool, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	// discarded lists jobs that exhausted their attempts, with their last
	// error.
	discarded(ctx context.Context) (map[string]string, error)
	// pending counts jobs not yet finished (available, running,
	// retryable, scheduled, pending).
	pending(ctx context.Context) (int, error)
}

type riverQueue[TTx any] struct{ c *river.Client[TTx] }

func (q riverQueue[TTx]) insert(ctx context.Context, args ScanArgs) (bool, error) {
	r, err := q.c.Insert(ctx, args, nil)
	if err != nil {
		return false, err
	}
	return !r.UniqueSkippedAsDuplicate, nil
}

func (q riverQueue[TTx]) start(ctx context.Context) error { return q.c.Start(ctx) }
func (q riverQueue[TTx]) stop(ctx context.Context) error  { return q.c.Stop(ctx) }

func (q riverQueue[TTx]) list(ctx context.Context, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	var out []*rivertype.JobRow
	p := river.NewJobListParams().Kinds(ScanArgs{}.Kind()).States(states...).First(1000)
	for {
		res, err := q.c.JobList(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return out, nil
		}
		p = p.After(res.LastCursor)
	}
}

func (q riverQueue[TTx]) discarded(ctx context.Context) (map[string]string, error) {
	jobs, err := q.list(ctx, rivertype.JobStateDiscarded)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, j := range jobs {
		var a struct {
			SHA256 string `json:"sha256"`
		}
		if err := jsonUnmarshal(j.EncodedArgs, &a); err != nil {
			continue
		}
		msg := "job discarded"
		if n := len(j.Errors); n > 0 {
			msg = j.Errors[n-1].Error
		}
		out[a.SHA256] = msg
	}
	return out, nil
}

func (q riverQueue[TTx]) pending(ctx context.Context) (int, error) {
	jobs, err := q.list(ctx, rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
		rivertype.JobStateScheduled, rivertype.JobStatePending)
	return len(jobs), err
}

// newQueue makes a River client on the store. With workers nil it only
// inserts and lists; otherwise it works up to n jobs at once.
func (s *Store) newQueue(ctx context.Context, w *Worker) (queue, error) {
	t := DefaultTuning()
	cfg := &river.Config{
		Logger:               slog.New(slog.NewTextHandler(io.Discard, nil)),
		JobTimeout:           t.JobTimeout,
		RescueStuckJobsAfter: t.RescueAfter,
		RetryPolicy:          retryPolicy{base: t.RetryBase},
		FetchPollInterval:    t.Poll,
		MaxAttempts:          MaxAttempts,
	}
	if w != nil {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, w); err != nil {
			return nil, err
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(w.Concurrency, 1)}}
		if w.Logger != nil {
			cfg.Logger = w.Logger
		}
	}
	if s.dialect == "postgres" {
		c, err := river.NewClient[pgx.Tx](riverpgxv5.New(s.pool), cfg)
		if err != nil {
			return nil, err
		}
		return riverQueue[pgx.Tx]{c}, nil
	}
	if w != nil {
		// SQLite has no LISTEN/NOTIFY: poll
		cfg.PollOnly = true
	}
	c, err := river.NewClient[*sql.Tx](riversqlite.New(s.db), cfg)
	if err != nil {
		return nil, err
	}
	return riverQueue[*sql.Tx]{c}, nil
}
