package fleet

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
)

// WorkerID names this process in the store.
func WorkerID() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}

// Work runs w on the store's queue in this process. With untilEmpty it
// returns once no job is left (queued, running anywhere, or waiting for a
// retry); otherwise it works until ctx ends. Fingerprints use the store's
// key.
func (s *Store) Work(ctx context.Context, w *Worker, untilEmpty bool) error {
	if err := analyzers.SetFingerprintKey(s.key); err != nil {
		return err
	}
	w.Store = s
	if w.ID == "" {
		w.ID = WorkerID()
	}
	q, err := s.newQueue(ctx, w)
	if err != nil {
		return err
	}
	if err := q.start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return q.stop(sctx)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-tick.C:
		}
		if !untilEmpty {
			continue
		}
		n, err := q.pending(ctx)
		if err != nil {
			stop()
			return err
		}
		if n == 0 {
			if err := stop(); err != nil {
				return err
			}
			return s.Reconcile(context.WithoutCancel(ctx))
		}
	}
}
