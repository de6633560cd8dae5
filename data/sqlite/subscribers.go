package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"
)

// Subscribe stores email once per address (case-insensitively), noting the
// key that asked. It answers the same for new and known addresses.
func (s *Store) Subscribe(ctx context.Context, email string, a data.Author) error {
	email, err := data.NormalizeEmail(email)
	if err != nil {
		return err
	}
	now := s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := admit.Check(ctx, admitTx{tx}, s.opt.Limits, admit.Subscribe, a, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO subscribers (email, email_key, subscribed_by_key, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (email_key) DO NOTHING`,
			email, strings.ToLower(email), a.KeyFingerprint, micros(now))
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE email_key = ? AND subscribed_by_key = ?`,
			strings.ToLower(email), a.KeyFingerprint)
		return err
	})
}

// Subscribers lists every address, oldest first, for the operator's export.
func (s *Store) Subscribers(ctx context.Context) ([]data.Subscriber, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT email, created_at FROM subscribers ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []data.Subscriber
	for rows.Next() {
		var sub data.Subscriber
		var at int64
		if err := rows.Scan(&sub.Email, &at); err != nil {
			return nil, wrap(err)
		}
		sub.CreatedAt = fromMicros(at)
		out = append(out, sub)
	}
	return out, wrap(rows.Err())
}
