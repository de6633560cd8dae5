package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"
)

// Subscribe starts (or restarts) a double opt-in for email. SQLite has one
// writer, so the check of the mail window and its update are one step.
func (s *Store) Subscribe(ctx context.Context, email string, a data.Author) (data.Confirmation, error) {
	email, err := data.NormalizeEmail(email)
	if err != nil {
		return data.Confirmation{}, err
	}
	now := s.now()
	var conf data.Confirmation
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		conf = data.Confirmation{}
		if err := admit.Check(ctx, admitTx{tx}, s.opt.Limits, admit.Subscribe, a, now); err != nil {
			return err
		}
		var (
			id       int64
			status   string
			mailedAt sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT id, status, confirm_mailed_at FROM subscribers WHERE email_key = ?`,
			strings.ToLower(email)).Scan(&id, &status, &mailedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		known := err == nil
		if known && (status == data.StatusConfirmed ||
			mailedAt.Valid && now.Before(fromMicros(mailedAt.Int64).Add(s.opt.ConfirmMailWindow))) {
			return nil // the same answer, and no mail
		}
		conf = data.Confirmation{Email: email, Code: data.NewCode(), Token: data.NewToken(), Expires: now.Add(s.opt.PendingExpiry)}
		code, _ := data.NormalizeCode(conf.Code)
		if !known {
			_, err = tx.ExecContext(ctx, `INSERT INTO subscribers (email, email_key, subscribed_by_key, created_at,
				status, code_hash, token_hash, confirm_expires_at, confirm_mailed_at)
				VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
				email, strings.ToLower(email), a.KeyFingerprint, micros(now),
				data.SecretHash(code), data.SecretHash(conf.Token), micros(conf.Expires), micros(now))
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = 'pending', subscribed_by_key = ?,
			code_hash = ?, token_hash = ?, confirm_expires_at = ?, confirm_mailed_at = ? WHERE id = ?`,
			a.KeyFingerprint, data.SecretHash(code), data.SecretHash(conf.Token), micros(conf.Expires), micros(now), id)
		return err
	})
	if err != nil {
		return data.Confirmation{}, err
	}
	return conf, nil
}

// Confirm confirms by the mailed code. A wrong code still counts against
// the rate limit: the transaction commits the attempt either way.
func (s *Store) Confirm(ctx context.Context, code string, a data.Author) error {
	code, ok := data.NormalizeCode(code)
	if !ok {
		return data.ErrNotFound
	}
	now := s.now()
	found := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := admit.Check(ctx, admitTx{tx}, s.opt.Limits, admit.Confirm, a, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'confirmed', confirmed_at = ?, code_hash = NULL
			WHERE id = (SELECT id FROM subscribers WHERE code_hash = ? AND status = 'pending'
				AND confirm_expires_at > ? LIMIT 1)`, micros(now), data.SecretHash(code), micros(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n == 1
		return err
	})
	if err == nil && !found {
		return data.ErrNotFound
	}
	return err
}

// ConfirmToken confirms by the link's token. A link opened again after
// confirming still answers yes.
func (s *Store) ConfirmToken(ctx context.Context, token string) error {
	if !data.ValidToken(token) {
		return data.ErrNotFound
	}
	now := micros(s.now())
	found := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'confirmed',
				confirmed_at = coalesce(confirmed_at, ?), code_hash = NULL
			WHERE token_hash = ? AND (status = 'confirmed' OR status = 'pending' AND confirm_expires_at > ?)`,
			now, data.SecretHash(token), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	if err == nil && !found {
		return data.ErrNotFound
	}
	return err
}

// UnsubscribeToken unsubscribes the recipient of the sent mail whose link
// holds token.
func (s *Store) UnsubscribeToken(ctx context.Context, token string) error {
	if !data.ValidToken(token) {
		return data.ErrNotFound
	}
	found := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT subscriber_id FROM deliveries WHERE unsub_hash = ?`,
			data.SecretHash(token)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return leave(ctx, tx, id)
	})
	if err == nil && !found {
		return data.ErrNotFound
	}
	return err
}

// leave marks subscriber id unsubscribed and cancels what was queued for it.
func leave(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'unsubscribed', code_hash = NULL,
		token_hash = NULL, confirm_expires_at = NULL WHERE id = ?`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'cancelled' WHERE subscriber_id = ? AND state = 'queued'`, id)
	return err
}

// Unsubscribe unsubscribes email if a's key subscribed it, and answers nil
// whether or not it did.
func (s *Store) Unsubscribe(ctx context.Context, email string, a data.Author) error {
	email, err := input.Unsubscribe(email, a)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email_key = ? AND subscribed_by_key = ?
			AND status <> 'unsubscribed'`, strings.ToLower(email), a.KeyFingerprint).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return leave(ctx, tx, id)
	})
}

// ImportSubscribers confirms addresses the operator vouches for. Pending
// ones become confirmed; unsubscribed and bouncing ones are left as they
// are: an import must not bring back someone who left.
func (s *Store) ImportSubscribers(ctx context.Context, emails []string) (int, error) {
	now := micros(s.now())
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, e := range emails {
			e, err := data.NormalizeEmail(e)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO subscribers (email, email_key, created_at, status, confirmed_at)
				VALUES (?, ?, ?, 'confirmed', ?)
				ON CONFLICT (email_key) DO UPDATE SET status = 'confirmed', confirmed_at = excluded.confirmed_at,
					code_hash = NULL, confirm_expires_at = NULL
				WHERE subscribers.status = 'pending'`, e, strings.ToLower(e), now, now)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}

// Subscribers lists every address, oldest first, for the operator's export.
func (s *Store) Subscribers(ctx context.Context) ([]data.Subscriber, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT email, created_at, status, confirmed_at FROM subscribers ORDER BY created_at, id`)
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	var out []data.Subscriber
	for rows.Next() {
		var sub data.Subscriber
		var at int64
		var confirmed sql.NullInt64
		if err := rows.Scan(&sub.Email, &at, &sub.Status, &confirmed); err != nil {
			return nil, markUnavailable(err)
		}
		sub.CreatedAt = fromMicros(at)
		if confirmed.Valid {
			sub.ConfirmedAt = fromMicros(confirmed.Int64)
		}
		out = append(out, sub)
	}
	return out, markUnavailable(rows.Err())
}

// ForgetExpired deletes expired pending sign-ups. Pending rows from before
// double opt-in (no expiry) stay for the operator to import.
func (s *Store) ForgetExpired(ctx context.Context) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE status = 'pending' AND confirm_expires_at < ?`, micros(s.now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
