package postgres

import (
	"context"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"

	"github.com/jackc/pgx/v5"
)

// Subscribe stores email once per address (case-insensitively), noting the
// key that asked. It answers the same for new and known addresses.
func (s *Store) Subscribe(ctx context.Context, email string, a data.Author) error {
	email, err := data.NormalizeEmail(email)
	if err != nil {
		return err
	}
	now := s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.lockAndAdmit(ctx, tx, admit.Subscribe, a, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO subscribers (email, subscribed_by_key, created_at)
			VALUES ($1, $2, $3) ON CONFLICT ((lower(email))) DO NOTHING`, email, a.KeyFingerprint, now)
		return err
	})
}

// Unsubscribe removes email if a's key subscribed it, and answers nil
// whether or not it did.
func (s *Store) Unsubscribe(ctx context.Context, email string, a data.Author) error {
	email, err := input.Unsubscribe(email, a)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM subscribers WHERE lower(email) = lower($1) AND subscribed_by_key = $2`,
		email, a.KeyFingerprint)
	return wrap(err)
}

// Subscribers lists every address, oldest first, for the operator's export.
func (s *Store) Subscribers(ctx context.Context) ([]data.Subscriber, error) {
	rows, err := s.pool.Query(ctx, `SELECT email, created_at FROM subscribers ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(err)
	}
	subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (data.Subscriber, error) {
		var sub data.Subscriber
		err := row.Scan(&sub.Email, &sub.CreatedAt)
		sub.CreatedAt = sub.CreatedAt.UTC()
		return sub, err
	})
	return subs, wrap(err)
}
