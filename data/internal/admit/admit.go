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
// Running inside it makes the checks and the record one step. Its two
// methods each take every question at once, so a store across a network
// answers them in one round trip each, not one per limit.
type Tx interface {
	// Ask reports whether a's key or IP has a ban in force at now and,
	// for each window, when its subject's Count-th newest action of kind
	// after Since was: the zero time when there are fewer.
	Ask(ctx context.Context, kind string, a data.Author, now time.Time, windows []Window) (banned bool, nth []time.Time, err error)
	// Record forgets each window's subject's actions of kind at or before
	// its Since, and records one at now.
	Record(ctx context.Context, kind string, windows []Window, now time.Time) error
}

// Window is one limit on one subject, as it stands at the time of a check.
type Window struct {
	Subject string    // "key:..." or "ip:..."
	Since   time.Time // the window's start: actions after it count
	Count   int       // how many actions the window allows
}

// Check refuses a banned author (data.ErrBanned) or one over a limit (a
// *data.RateLimitError saying when every limit allows it again), and
// otherwise records the action of kind against each limit.
func Check(ctx context.Context, tx Tx, limits data.Limits, kind string, a data.Author, now time.Time) error {
	applied := limitsFor(limits, kind, a)
	windows := make([]Window, len(applied))
	for i, l := range applied {
		windows[i] = Window{Subject: l.subject, Since: now.Add(-l.limit.Window), Count: l.limit.Count}
	}
	banned, nth, err := tx.Ask(ctx, kind, a, now, windows)
	if err != nil {
		return err
	}
	if banned {
		return data.ErrBanned
	}
	// The Count-th newest action in the window: while it is in the window
	// the limit is reached, and it leaves at at+Window.
	var wait time.Duration
	for i, l := range applied {
		if !nth[i].IsZero() {
			wait = max(wait, nth[i].Add(l.limit.Window).Sub(now))
		}
	}
	if wait > 0 {
		return &data.RateLimitError{RetryAfter: wait}
	}
	// Records older than the window count for nothing any more.
	return tx.Record(ctx, kind, windows, now)
}
