package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"blog/data"
	"blog/data/internal/admit"
)

// admitTx answers admit.Check within one write transaction. SQLite has one
// writer, so checks and record cannot interleave with another writer's.
type admitTx struct{ tx *sql.Tx }

func (t admitTx) Ask(ctx context.Context, kind string, a data.Author, now time.Time, windows []admit.Window) (bool, []time.Time, error) {
	if found, err := banned(ctx, t.tx, a, now); err != nil || found {
		return found, nil, err
	}
	nth := make([]time.Time, len(windows))
	for i, w := range windows {
		var at int64
		err := t.tx.QueryRowContext(ctx, `SELECT at FROM rate_events
			WHERE subject = ? AND kind = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
			w.Subject, kind, micros(w.Since), w.Count-1).Scan(&at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return false, nil, err
		default:
			nth[i] = fromMicros(at)
		}
	}
	return false, nth, nil
}

func (t admitTx) Record(ctx context.Context, kind string, windows []admit.Window, now time.Time) error {
	for _, w := range windows {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM rate_events WHERE subject = ? AND kind = ? AND at <= ?`,
			w.Subject, kind, micros(w.Since)); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES (?, ?, ?)`,
			kind, w.Subject, micros(now)); err != nil {
			return err
		}
	}
	return nil
}
