package extract

import (
	"context"
	"errors"
	"fmt"
	"syscall"
)

// What the archive and file-system parsers share when they write entries
// through the Writer: deciding what a failed entry means for the rest
// (entryErrors). Unix modes and file types are in modes.go; the inode-tree
// writer of the flash file systems in inodetree.go.

// entryErrors decides what an archive parser does after a Writer call
// failed: a refusal was recorded and the next entry follows; limits,
// cancellation and a full disk stop; other errors are recorded and the
// next entry follows, up to a point.
type entryErrors struct {
	w *Writer
	n int
}

const maxEntryErrors = 1000

func (e *entryErrors) check(name string, err error) (stop bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, ErrRefused), IsEntryLimit(err):
		// a refusal or an entry cut at a bound was recorded as an anomaly
		return false, nil
	case IsLimit(err), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return true, err
	}
	e.n++
	e.w.Anomaly(AnomalyMalformed, name, err.Error())
	if e.n >= maxEntryErrors {
		return true, fmt.Errorf("too many failing entries, last: %w", err)
	}
	return false, nil
}

// skipped counts the nodes or chunks a flash file-system scan skipped for
// one reason, and where the first was, so the reason is reported once
// (JFFS2, YAFFS2).
type skipped struct {
	n     int
	first int64
}

func (b *skipped) add(off int64) {
	if b.n == 0 {
		b.first = off
	}
	b.n++
}
