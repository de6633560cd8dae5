package postgres

import (
	"context"
	"errors"
	"time"

	"blog/data"
	"blog/data/internal/admit"

	"github.com/jackc/pgx/v5"
)

// writeLockSpace is the first key of the write advisory locks (ASCII "blgw");
// the second is writeLockIDs[kind]. Each kind of rate-limited action has a
// transaction-level lock that serialises those writes across replicas, so a
// rate check and its record cannot interleave with another's (and comment
// IDs commit in order, see AddComment).
const writeLockSpace = 0x626c6777

var writeLockIDs = map[string]int32{admit.Comment: 1, admit.Subscribe: 2, admit.Confirm: 3}

// lockAndAdmit takes the write lock of kind, then refuses a banned or too
// busy author and otherwise records the action, all within tx.
func (s *Store) lockAndAdmit(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, writeLockSpace, writeLockIDs[kind]); err != nil {
		return err
	}
	return admit.Check(ctx, admitTx{tx}, s.opt.Limits, kind, a, now)
}

// admitTx answers admit.Check within one transaction.
type admitTx struct{ tx pgx.Tx }

func (t admitTx) Banned(ctx context.Context, a data.Author, now time.Time) (bool, error) {
	return banned(ctx, t.tx, a, now)
}

func (t admitTx) NthNewest(ctx context.Context, kind, subject string, since time.Time, n int) (time.Time, bool, error) {
	var at time.Time
	err := t.tx.QueryRow(ctx, `SELECT at FROM rate_events
		WHERE subject = $1 AND kind = $2 AND at > $3 ORDER BY at DESC LIMIT 1 OFFSET $4`,
		subject, kind, since, n-1).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return at, err == nil, err
}

func (t admitTx) Record(ctx context.Context, kind, subject string, since, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM rate_events WHERE subject = $1 AND kind = $2 AND at <= $3`,
		subject, kind, since); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES ($1, $2, $3)`, kind, subject, now)
	return err
}
