// Package admit decides whether a write may go ahead: not from a banned key
// or IP, and within every rate limit. The decision is the same for both
// stores; each answers the questions it asks in its own SQL (Tx).
package admit

import (
	"context"
	"time"

	"blog/data"
)

// Kinds of rate-limited actions, as stored in rate_events.kind.
const (
	Comment   = "comment"
	Subscribe = "subscribe"
	Confirm   = "confirm"
)

// Tx is a store's write transaction, seen through what admission needs.
// Running inside it makes the checks and the record one step.
type Tx interface {
	// Banned reports whether a's key or IP has a ban in force at now.
	Banned(ctx context.Context, a data.Author, now time.Time) (bool, error)
	// NthNewest returns the time of subject's n-th newest action of kind
	// after since; ok is false when there are fewer than n.
	NthNewest(ctx context.Context, kind, subject string, since time.Time, n int) (at time.Time, ok bool, err error)
	// Record forgets subject's actions of kind at or before since and
	// records one at now.
	Record(ctx context.Context, kind, subject string, since, now time.Time) error
}

// Check refuses a banned author (data.ErrBanned) or one over a limit (a
// *data.RateLimitError saying when every limit allows it again), and
// otherwise records the action of kind against each limit.
func Check(ctx context.Context, tx Tx, limits data.Limits, kind string, a data.Author, now time.Time) error {
	if banned, err := tx.Banned(ctx, a, now); err != nil || banned {
		if banned {
			return data.ErrBanned
		}
		return err
	}
	applied := limitsFor(limits, kind, a)
	var wait time.Duration
	for _, l := range applied {
		// The Count-th newest action in the window: while it is in the
		// window the limit is reached, and it leaves at at+Window.
		at, ok, err := tx.NthNewest(ctx, kind, l.subject, now.Add(-l.limit.Window), l.limit.Count)
		if err != nil {
			return err
		}
		if ok {
			wait = max(wait, at.Add(l.limit.Window).Sub(now))
		}
	}
	if wait > 0 {
		return &data.RateLimitError{RetryAfter: wait}
	}
	for _, l := range applied {
		// Records older than the window count for nothing any more.
		if err := tx.Record(ctx, kind, l.subject, now.Add(-l.limit.Window), now); err != nil {
			return err
		}
	}
	return nil
}
