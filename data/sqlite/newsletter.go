package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"blog/data"
)

// PublishPosts records visible posts; the newsletter_state row decides once
// whether this is the first look (baseline). The immediate transaction holds
// the file's write lock, so processes sharing the file take turns.
func (s *Store) PublishPosts(ctx context.Context, visible []data.NewsletterPost) ([]string, error) {
	now := micros(s.now())
	var queued []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		queued = nil
		res, err := tx.ExecContext(ctx, `INSERT INTO newsletter_state (id, started_at) VALUES (1, ?) ON CONFLICT DO NOTHING`, now)
		if err != nil {
			return err
		}
		first, err := res.RowsAffected()
		if err != nil {
			return err
		}
		baseline := first == 1
		for _, p := range visible {
			res, err := tx.ExecContext(ctx, `INSERT INTO newsletter_posts (slug, title, body, post_date, published_at, baseline)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, p.Slug, p.Title, p.Body, micros(p.Date), now, baseline)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k != 1 || baseline {
				if err != nil {
					return err
				}
				continue
			}
			if _, err := fanOut(ctx, tx, p.Slug, now); err != nil {
				return err
			}
			queued = append(queued, p.Slug)
		}
		slices.Sort(queued)
		return nil
	})
	return queued, err
}

// fanOut queues slug for every confirmed subscriber who has no delivery of it.
func fanOut(ctx context.Context, tx *sql.Tx, slug string, now int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (post_slug, subscriber_id, state, due_at)
		SELECT ?, id, 'queued', ? FROM subscribers WHERE status = 'confirmed'
		ON CONFLICT DO NOTHING`, slug, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// QueuePost is the operator's send: p as it is now, to every confirmed
// subscriber without it, and again to those whose delivery failed.
func (s *Store) QueuePost(ctx context.Context, p data.NewsletterPost) (int, error) {
	now := micros(s.now())
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO newsletter_posts (slug, title, body, post_date, published_at, baseline)
			VALUES (?, ?, ?, ?, ?, 0)
			ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body,
				post_date = excluded.post_date, baseline = 0`,
			p.Slug, p.Title, p.Body, micros(p.Date), now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', due_at = ?, attempts = 0, last_error = ''
			WHERE post_slug = ? AND state IN ('failed', 'cancelled')
			AND subscriber_id IN (SELECT id FROM subscribers WHERE status = 'confirmed')`, now, p.Slug)
		if err != nil {
			return err
		}
		requeued, err := res.RowsAffected()
		if err != nil {
			return err
		}
		added, err := fanOut(ctx, tx, p.Slug, now)
		n = requeued + added
		return err
	})
	return int(n), err
}

// ClaimDeliveries claims due rows inside one immediate transaction: it holds
// the write lock, so no other connection or process can claim the same rows
// in between (the SQLite form of FOR UPDATE SKIP LOCKED).
func (s *Store) ClaimDeliveries(ctx context.Context, n int, lease time.Duration, rate float64) ([]data.Delivery, time.Time, error) {
	now := s.now()
	var out []data.Delivery
	start := now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out, start = nil, now
		rows, err := tx.QueryContext(ctx, `SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
			WHERE d.state IN ('queued', 'sending') AND d.due_at <= ? AND s.status = 'confirmed'
			ORDER BY d.due_at, d.id LIMIT ?`, micros(now), n)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		span := data.RateSpan(len(ids), rate)
		if rate > 0 {
			var next int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO mail_rate (id, next_at) VALUES (1, ? + ?)
				ON CONFLICT (id) DO UPDATE SET next_at = max(mail_rate.next_at, ?) + ?
				RETURNING next_at`, micros(now), span.Microseconds(), micros(now), span.Microseconds()).Scan(&next); err != nil {
				return err
			}
			start = fromMicros(next).Add(-span.Truncate(time.Microsecond))
		}
		until := start.Add(span + lease)
		in := "?" + strings.Repeat(",?", len(ids)-1)
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'sending', attempts = attempts + 1, due_at = ?
			WHERE id IN (`+in+`)`, append([]any{micros(until)}, ids...)...); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT d.id, d.attempts, s.email, p.slug, p.title, p.body, p.post_date
			FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id JOIN newsletter_posts p ON p.slug = d.post_slug
			WHERE d.id IN (`+in+`) ORDER BY d.id`, ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d := data.Delivery{Until: until}
			var date int64
			if err := rows.Scan(&d.ID, &d.Attempts, &d.Email, &d.Post.Slug, &d.Post.Title, &d.Post.Body, &date); err != nil {
				return err
			}
			d.Post.Date = fromMicros(date)
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, now, err
	}
	return out, start, nil
}

// FinishDelivery records an attempt's end; see data.Newsletter.
func (s *Store) FinishDelivery(ctx context.Context, r data.DeliveryResult) error {
	now := micros(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var sub int64
		switch {
		case r.Sent:
			// A delivery already marked sent (a duplicate after a lapsed
			// claim) keeps its first token.
			err := tx.QueryRowContext(ctx, `UPDATE deliveries SET state = 'sent', sent_at = ?, unsub_hash = ?, last_error = ''
				WHERE id = ? AND state <> 'sent' RETURNING subscriber_id`, now, data.SecretHash(r.UnsubscribeToken), r.ID).Scan(&sub)
			if err != nil {
				return ignoreNoRows(err)
			}
			_, err = tx.ExecContext(ctx, `UPDATE subscribers SET bounces = 0 WHERE id = ? AND bounces <> 0`, sub)
			return err
		case r.Permanent:
			err := tx.QueryRowContext(ctx, `UPDATE deliveries SET state = 'failed', last_error = ?
				WHERE id = ? AND state = 'sending' RETURNING subscriber_id`, r.Reason, r.ID).Scan(&sub)
			if err != nil {
				return ignoreNoRows(err)
			}
			var status string
			if err := tx.QueryRowContext(ctx, `UPDATE subscribers SET bounces = bounces + 1,
					status = CASE WHEN bounces + 1 >= ? AND status = 'confirmed' THEN 'bouncing' ELSE status END
				WHERE id = ? RETURNING status`, data.BounceAfter, sub).Scan(&status); err != nil {
				return err
			}
			if status == data.StatusBouncing {
				_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'cancelled' WHERE subscriber_id = ? AND state = 'queued'`, sub)
				return err
			}
			return nil
		case r.RetryAt.IsZero():
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', last_error = ? WHERE id = ? AND state = 'sending'`, r.Reason, r.ID)
			return err
		default:
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', due_at = ?, last_error = ?
				WHERE id = ? AND state = 'sending'`, micros(r.RetryAt), r.Reason, r.ID)
			return err
		}
	})
}

func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// NewsletterStatus counts each published post's deliveries by state.
func (s *Store) NewsletterStatus(ctx context.Context) ([]data.PostStatus, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT p.slug, p.title, p.published_at, p.baseline,
			count(*) FILTER (WHERE d.state IN ('queued', 'sending')),
			count(*) FILTER (WHERE d.state = 'sent'),
			count(*) FILTER (WHERE d.state = 'failed'),
			count(*) FILTER (WHERE d.state = 'cancelled')
		FROM newsletter_posts p LEFT JOIN deliveries d ON d.post_slug = p.slug
		GROUP BY p.slug ORDER BY p.published_at DESC, p.slug`)
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	var out []data.PostStatus
	for rows.Next() {
		var st data.PostStatus
		var at int64
		if err := rows.Scan(&st.Slug, &st.Title, &at, &st.Baseline, &st.Queued, &st.Sent, &st.Failed, &st.Cancelled); err != nil {
			return nil, markUnavailable(err)
		}
		st.PublishedAt = fromMicros(at)
		out = append(out, st)
	}
	return out, markUnavailable(rows.Err())
}
