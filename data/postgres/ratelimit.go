package postgres

import (
	"context"
	"errors"
	"time"

	"blog/data"

	"github.com/jackc/pgx/v5"
)

// Kinds of rate-limited actions. Each also names a transaction-level
// advisory lock that serialises those writes across replicas, so a rate
// check and its record cannot interleave with another's (and comment IDs
// commit in order, see AddComment).
const (
	kindComment   = "comment"
	kindSubscribe = "subscribe"
)

// writeLockSpace is the first key of the write advisory locks (ASCII "blgw");
// the second is writeLockIDs[kind].
const writeLockSpace = 0x626c6777

var writeLockIDs = map[string]int32{kindComment: 1, kindSubscribe: 2}

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

// admit takes the write lock of kind, refuses a banned or too busy author
// and otherwise records the action, all within tx.
func (s *Store) admit(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, writeLockSpace, writeLockIDs[kind]); err != nil {
		return err
	}
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
		var at time.Time
		err := tx.QueryRow(ctx, `SELECT at FROM rate_events
			WHERE subject = $1 AND kind = $2 AND at > $3 ORDER BY at DESC LIMIT 1 OFFSET $4`,
			l.subject, kind, now.Add(-l.limit.Window), l.limit.Count-1).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		wait = max(wait, at.Add(l.limit.Window).Sub(now))
	}
	if wait > 0 {
		return &data.RateLimitError{RetryAfter: wait}
	}
	for _, l := range limits {
		// Records older than the window count for nothing any more.
		if _, err := tx.Exec(ctx, `DELETE FROM rate_events WHERE subject = $1 AND kind = $2 AND at <= $3`,
			l.subject, kind, now.Add(-l.limit.Window)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES ($1, $2, $3)`,
			kind, l.subject, now); err != nil {
			return err
		}
	}
	return nil
}
