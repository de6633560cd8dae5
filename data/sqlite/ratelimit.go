package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"blog/data"
)

// Kinds of rate-limited actions.
const (
	kindComment   = "comment"
	kindSubscribe = "subscribe"
)

// limited is one rate limit that applies to one action.
type limited struct {
	subject string // "key:..." or "ip:..."
	limit   data.RateLimit
}

// limitsFor lists the limits on a's action of kind: per key and per IP,
// each only when a has one.
func limitsFor(l data.Limits, kind string, a data.Author) []limited {
	perKey, perIP := l.CommentPerKey, l.CommentPerIP
	if kind == kindSubscribe {
		perKey, perIP = l.SubscribePerKey, l.SubscribePerIP
	}
	var out []limited
	if a.KeyFingerprint != "" && perKey.Count > 0 {
		out = append(out, limited{"key:" + a.KeyFingerprint, perKey})
	}
	if a.IP != "" && perIP.Count > 0 {
		out = append(out, limited{"ip:" + a.IP, perIP})
	}
	return out
}

// admit refuses a banned or too busy author and otherwise records the
// action. It runs inside the write transaction, so checks and record cannot
// interleave with another writer's.
func (s *Store) admit(ctx context.Context, tx *sql.Tx, kind string, a data.Author, now time.Time) error {
	if banned, err := banned(ctx, tx, a, now); err != nil || banned {
		if banned {
			return data.ErrBanned
		}
		return err
	}
	limits := limitsFor(s.opt.Limits, kind, a)
	var wait time.Duration
	for _, l := range limits {
		// The Count-th newest action in the window: while it is in the
		// window the limit is reached, and it leaves at at+Window.
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT at FROM rate_events
			WHERE subject = ? AND kind = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
			l.subject, kind, micros(now.Add(-l.limit.Window)), l.limit.Count-1).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		wait = max(wait, fromMicros(at).Add(l.limit.Window).Sub(now))
	}
	if wait > 0 {
		return &data.RateLimitError{RetryAfter: wait}
	}
	for _, l := range limits {
		// Records older than the window count for nothing any more.
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_events WHERE subject = ? AND kind = ? AND at <= ?`,
			l.subject, kind, micros(now.Add(-l.limit.Window))); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES (?, ?, ?)`,
			kind, l.subject, micros(now)); err != nil {
			return err
		}
	}
	return nil
}
