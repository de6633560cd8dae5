package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"blog/data"
)

// admitTx answers admit.Check within one write transaction. SQLite has one
// writer, so checks and record cannot interleave with another writer's.
type admitTx struct{ tx *sql.Tx }

func (t admitTx) Banned(ctx context.Context, a data.Author, now time.Time) (bool, error) {
	return banned(ctx, t.tx, a, now)
}

func (t admitTx) NthNewest(ctx context.Context, kind, subject string, since time.Time, n int) (time.Time, bool, error) {
	var at int64
	err := t.tx.QueryRowContext(ctx, `SELECT at FROM rate_events
		WHERE subject = ? AND kind = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
		subject, kind, micros(since), n-1).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return fromMicros(at), err == nil, err
}

func (t admitTx) Record(ctx context.Context, kind, subject string, since, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM rate_events WHERE subject = ? AND kind = ? AND at <= ?`,
		subject, kind, micros(since)); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES (?, ?, ?)`,
		kind, subject, micros(now))
	return err
}
