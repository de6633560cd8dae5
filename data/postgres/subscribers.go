package postgres

import (
	"context"
	"errors"
	"time"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"

	"github.com/jackc/pgx/v5"
)

// Subscribe starts (or restarts) a double opt-in for email. All subscribes
// take turns under the subscribe write lock, so two replicas never both
// decide to mail the same address.
func (s *Store) Subscribe(ctx context.Context, email string, a data.Author) (data.Confirmation, error) {
	email, err := data.NormalizeEmail(email)
	if err != nil {
		return data.Confirmation{}, err
	}
	now := s.now()
	var conf data.Confirmation
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		conf = data.Confirmation{}
		if err := s.lockAndAdmit(ctx, tx, admit.Subscribe, a, now); err != nil {
			return err
		}
		var (
			id       int64
			status   string
			mailedAt *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT id, status, confirm_mailed_at FROM subscribers
			WHERE lower(email) = lower($1) FOR UPDATE`, email).Scan(&id, &status, &mailedAt)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		known := err == nil
		if known && (status == data.StatusConfirmed || mailedAt != nil && now.Before(mailedAt.Add(s.opt.ConfirmMailWindow))) {
			return nil // the same answer, and no mail
		}
		conf = data.Confirmation{Email: email, Code: data.NewCode(), Token: data.NewToken(), Expires: now.Add(s.opt.PendingExpiry)}
		code, _ := data.NormalizeCode(conf.Code)
		if !known {
			_, err = tx.Exec(ctx, `INSERT INTO subscribers (email, subscribed_by_key, created_at, status,
				code_hash, token_hash, confirm_expires_at, confirm_mailed_at)
				VALUES ($1, $2, $3, 'pending', $4, $5, $6, $3)`,
				email, a.KeyFingerprint, now, data.SecretHash(code), data.SecretHash(conf.Token), conf.Expires)
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE subscribers SET status = 'pending', subscribed_by_key = $2,
			code_hash = $3, token_hash = $4, confirm_expires_at = $5, confirm_mailed_at = $6 WHERE id = $1`,
			id, a.KeyFingerprint, data.SecretHash(code), data.SecretHash(conf.Token), conf.Expires, now)
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.lockAndAdmit(ctx, tx, admit.Confirm, a, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE subscribers SET status = 'confirmed', confirmed_at = $2, code_hash = NULL
			WHERE id = (SELECT id FROM subscribers WHERE code_hash = $1 AND status = 'pending'
				AND confirm_expires_at > $2 LIMIT 1)`, data.SecretHash(code), now)
		found = tag.RowsAffected() == 1
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
	now := s.now()
	tag, err := s.pool.Exec(ctx, `UPDATE subscribers SET status = 'confirmed',
			confirmed_at = coalesce(confirmed_at, $2), code_hash = NULL
		WHERE token_hash = $1 AND (status = 'confirmed' OR status = 'pending' AND confirm_expires_at > $2)`,
		data.SecretHash(token), now)
	if err != nil {
		return markUnavailable(err)
	}
	if tag.RowsAffected() == 0 {
		return data.ErrNotFound
	}
	return nil
}

// UnsubscribeToken unsubscribes the recipient of the sent mail whose link
// holds token.
func (s *Store) UnsubscribeToken(ctx context.Context, token string) error {
	if !data.ValidToken(token) {
		return data.ErrNotFound
	}
	found := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT subscriber_id FROM deliveries WHERE unsub_hash = $1`,
			data.SecretHash(token)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
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
func leave(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, `UPDATE subscribers SET status = 'unsubscribed', code_hash = NULL,
		token_hash = NULL, confirm_expires_at = NULL WHERE id = $1`, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'cancelled' WHERE subscriber_id = $1 AND state = 'queued'`, id)
	return err
}

// Unsubscribe unsubscribes email if a's key subscribed it, and answers nil
// whether or not it did.
func (s *Store) Unsubscribe(ctx context.Context, email string, a data.Author) error {
	email, err := input.Unsubscribe(email, a)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM subscribers WHERE lower(email) = lower($1)
			AND subscribed_by_key = $2 AND status <> 'unsubscribed' FOR UPDATE`, email, a.KeyFingerprint).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
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
	now := s.now()
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		n = 0
		for _, e := range emails {
			e, err := data.NormalizeEmail(e)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO subscribers (email, created_at, status, confirmed_at)
				VALUES ($1, $2, 'confirmed', $2)
				ON CONFLICT ((lower(email))) DO UPDATE SET status = 'confirmed', confirmed_at = $2,
					code_hash = NULL, confirm_expires_at = NULL
				WHERE subscribers.status = 'pending'`, e, now)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	return n, err
}

// Subscribers lists every address, oldest first, for the operator's export.
func (s *Store) Subscribers(ctx context.Context) ([]data.Subscriber, error) {
	rows, err := s.pool.Query(ctx, `SELECT email, created_at, status, confirmed_at FROM subscribers ORDER BY created_at, id`)
	if err != nil {
		return nil, markUnavailable(err)
	}
	subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (data.Subscriber, error) {
		var sub data.Subscriber
		var confirmed *time.Time
		err := row.Scan(&sub.Email, &sub.CreatedAt, &sub.Status, &confirmed)
		sub.CreatedAt = sub.CreatedAt.UTC()
		if confirmed != nil {
			sub.ConfirmedAt = confirmed.UTC()
		}
		return sub, err
	})
	return subs, markUnavailable(err)
}

// ForgetExpired deletes expired pending sign-ups. Pending rows from before
// double opt-in (no expiry) stay for the operator to import.
func (s *Store) ForgetExpired(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM subscribers WHERE status = 'pending' AND confirm_expires_at < $1`, s.now())
	return tag.RowsAffected(), markUnavailable(err)
}
