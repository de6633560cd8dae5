// Package jobs runs the scheduled jobs against the store: a reset of
// everything at fixed times (for a public demo) and the deletion of comments
// past their retention. It needs nothing but the store, whose job locks let
// replicas share the schedule without doing a run twice.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"blog/data"
)

// Config says which scheduled jobs run. A zero field turns its job off.
type Config struct {
	// ResetEvery runs store.Reset at every multiple of this interval since
	// the Unix epoch (24h: daily at 00:00 UTC), so replicas agree on when.
	ResetEvery time.Duration
	// Retain deletes comments older than this, every Retain/10 (at least a
	// minute, at most an hour) and once at start.
	Retain time.Duration
}

// jobTimeout bounds one run, so a hung database cannot stall the schedule.
const jobTimeout = time.Minute

// Run runs the scheduled jobs until ctx ends. Each run happens under a
// store job lock, so among replicas only one does it.
func Run(ctx context.Context, store data.Jobs, cfg Config, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	var wg sync.WaitGroup
	if cfg.ResetEvery > 0 {
		wg.Go(func() { resetJob(ctx, store, cfg.ResetEvery, log) })
	}
	if cfg.Retain > 0 {
		wg.Go(func() { retainJob(ctx, store, cfg.Retain, log) })
	}
	wg.Wait()
}

// resetJob resets the store at every aligned tick. The replica that wins the
// lock keeps it for a while after resetting (half the interval, at most a
// minute): every replica wakes at the same tick, and one whose timer fires a
// little later (scheduling, clock skew) must find the lock taken rather than
// free again, or it would reset a second time.
func resetJob(ctx context.Context, store data.Jobs, every time.Duration, log *slog.Logger) {
	hold := min(every/2, time.Minute)
	var last time.Time
	for {
		// Never before the last tick: a wall clock stepped back must not
		// repeat it.
		at := nextTick(later(time.Now(), last), every)
		if !sleepUntil(ctx, at) {
			return
		}
		last = at
		ran, err := store.TryLock(ctx, "reset", func(ctx context.Context) error {
			rctx, cancel := context.WithTimeout(ctx, jobTimeout)
			err := store.Reset(rctx)
			cancel()
			if err == nil {
				log.Info("scheduled reset done", "tick", at.UTC())
			}
			sleep(ctx, hold)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("scheduled reset failed", "tick", at.UTC(), "err", err)
		case err == nil && !ran:
			log.Info("scheduled reset skipped: another replica is doing it", "tick", at.UTC())
		}
	}
}

// retainJob deletes comments older than retain, at start and then
// periodically. Running it twice is harmless, so replicas are not aligned.
func retainJob(ctx context.Context, store data.Jobs, retain time.Duration, log *slog.Logger) {
	period := min(max(retain/10, time.Minute), time.Hour)
	for {
		var n int64
		ran, err := store.TryLock(ctx, "retain", func(ctx context.Context) error {
			rctx, cancel := context.WithTimeout(ctx, jobTimeout)
			defer cancel()
			var err error
			n, err = store.DeleteCommentsBefore(rctx, time.Now().Add(-retain))
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("deleting old comments failed", "err", err)
		case ran && n > 0:
			log.Info("deleted old comments", "count", n, "older_than", retain.String())
		case err == nil && !ran:
			log.Debug("deleting old comments skipped: another replica is doing it")
		}
		if !sleep(ctx, period) {
			return
		}
	}
}

// nextTick is the first multiple of every since the Unix epoch after t.
func nextTick(t time.Time, every time.Duration) time.Time {
	n := t.UnixNano()/int64(every) + 1
	return time.Unix(0, n*int64(every))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleepUntil waits for the wall clock to reach t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	return sleep(ctx, time.Until(t))
}

// sleep waits for d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
