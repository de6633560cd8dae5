package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"blog/data"

	"github.com/jackc/pgx/v5"
)

// PublishPosts records visible posts. The newsletter_state row decides, once
// for all replicas, whether this is the first look (baseline). Posts are
// inserted in slug order so that two replicas publishing together lock the
// same rows in the same order and never deadlock.
func (s *Store) PublishPosts(ctx context.Context, visible []data.NewsletterPost) ([]string, error) {
	now := s.now()
	posts := slices.Clone(visible)
	slices.SortFunc(posts, func(a, b data.NewsletterPost) int { return strings.Compare(a.Slug, b.Slug) })
	var queued []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		queued = nil
		tag, err := tx.Exec(ctx, `INSERT INTO newsletter_state (id, started_at) VALUES (1, $1) ON CONFLICT DO NOTHING`, now)
		if err != nil {
			return err
		}
		baseline := tag.RowsAffected() == 1
		for _, p := range posts {
			tag, err := tx.Exec(ctx, `INSERT INTO newsletter_posts (slug, title, body, post_date, published_at, baseline)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, p.Slug, p.Title, p.Body, p.Date, now, baseline)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 && !baseline {
				if _, err := fanOut(ctx, tx, p.Slug, now); err != nil {
					return err
				}
				queued = append(queued, p.Slug)
			}
		}
		return nil
	})
	return queued, err
}

// fanOut queues slug for every confirmed subscriber who has no delivery of it.
func fanOut(ctx context.Context, tx pgx.Tx, slug string, now time.Time) (int64, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO deliveries (post_slug, subscriber_id, state, due_at)
		SELECT $1, id, 'queued', $2 FROM subscribers WHERE status = 'confirmed'
		ON CONFLICT DO NOTHING`, slug, now)
	return tag.RowsAffected(), err
}

// QueuePost is the operator's send: p as it is now, to every confirmed
// subscriber without it, and again to those whose delivery failed.
func (s *Store) QueuePost(ctx context.Context, p data.NewsletterPost) (int, error) {
	now := s.now()
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO newsletter_posts (slug, title, body, post_date, published_at, baseline)
			VALUES ($1, $2, $3, $4, $5, false)
			ON CONFLICT (slug) DO UPDATE SET title = $2, body = $3, post_date = $4, baseline = false`,
			p.Slug, p.Title, p.Body, p.Date, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE deliveries d SET state = 'queued', due_at = $2, attempts = 0, last_error = ''
			FROM subscribers s WHERE d.post_slug = $1 AND s.id = d.subscriber_id
			AND s.status = 'confirmed' AND d.state IN ('failed', 'cancelled')`, p.Slug, now)
		if err != nil {
			return err
		}
		added, err := fanOut(ctx, tx, p.Slug, now)
		n = tag.RowsAffected() + added
		return err
	})
	return int(n), err
}

// ClaimDeliveries takes due rows with FOR UPDATE SKIP LOCKED, so replicas
// claiming at once get different rows, and reserves their slots in the
// shared rate in the same transaction.
func (s *Store) ClaimDeliveries(ctx context.Context, n int, lease time.Duration, rate float64) ([]data.Delivery, time.Time, error) {
	now := s.now()
	var out []data.Delivery
	start := now
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out, start = nil, now
		rows, err := tx.Query(ctx, `SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
			WHERE d.state IN ('queued', 'sending') AND d.due_at <= $1 AND s.status = 'confirmed'
			ORDER BY d.due_at, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED`, now, n)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		span := data.RateSpan(len(ids), rate)
		if rate > 0 {
			var next time.Time
			if err := tx.QueryRow(ctx, `INSERT INTO mail_rate (id, next_at) VALUES (1, $1::timestamptz + $2 * interval '1 microsecond')
				ON CONFLICT (id) DO UPDATE SET next_at = greatest(mail_rate.next_at, $1) + $2 * interval '1 microsecond'
				RETURNING next_at`, now, span.Microseconds()).Scan(&next); err != nil {
				return err
			}
			start = next.UTC().Add(-span)
		}
		until := start.Add(span + lease)
		rows, err = tx.Query(ctx, `UPDATE deliveries d SET state = 'sending', attempts = d.attempts + 1, due_at = $2
			FROM subscribers s, newsletter_posts p
			WHERE d.id = ANY($1) AND s.id = d.subscriber_id AND p.slug = d.post_slug
			RETURNING d.id, d.attempts, s.email, p.slug, p.title, p.body, p.post_date`, ids, until)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (data.Delivery, error) {
			d := data.Delivery{Until: until}
			err := row.Scan(&d.ID, &d.Attempts, &d.Email, &d.Post.Slug, &d.Post.Title, &d.Post.Body, &d.Post.Date)
			d.Post.Date = d.Post.Date.UTC()
			return d, err
		})
		return err
	})
	if err != nil {
		return nil, now, err
	}
	slices.SortFunc(out, func(a, b data.Delivery) int { return int(a.ID - b.ID) })
	return out, start, nil
}

// FinishDelivery records an attempt's end; see data.Newsletter. It commits
// without waiting for the WAL flush: the mark survives a replica's crash
// (the server has it), and only a crash of Postgres itself within a fraction
// of a second could lose it, to send that mail again with its same
// Message-ID. That makes one mark per mail cheap, so the window for
// duplicates stays one mail, not one batch.
func (s *Store) FinishDelivery(ctx context.Context, r data.DeliveryResult) error {
	now := s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		var sub int64
		switch {
		case r.Sent:
			// A delivery already marked sent (a duplicate after a lapsed
			// claim) keeps its first token.
			err := tx.QueryRow(ctx, `UPDATE deliveries SET state = 'sent', sent_at = $2, unsub_hash = $3, last_error = ''
				WHERE id = $1 AND state <> 'sent' RETURNING subscriber_id`, r.ID, now, data.SecretHash(r.UnsubscribeToken)).Scan(&sub)
			if err != nil {
				return ignoreNoRows(err)
			}
			_, err = tx.Exec(ctx, `UPDATE subscribers SET bounces = 0 WHERE id = $1 AND bounces <> 0`, sub)
			return err
		case r.Permanent:
			err := tx.QueryRow(ctx, `UPDATE deliveries SET state = 'failed', last_error = $2
				WHERE id = $1 AND state = 'sending' RETURNING subscriber_id`, r.ID, r.Reason).Scan(&sub)
			if err != nil {
				return ignoreNoRows(err)
			}
			var status string
			if err := tx.QueryRow(ctx, `UPDATE subscribers SET bounces = bounces + 1,
					status = CASE WHEN bounces + 1 >= $2 AND status = 'confirmed' THEN 'bouncing' ELSE status END
				WHERE id = $1 RETURNING status`, sub, data.BounceAfter).Scan(&status); err != nil {
				return err
			}
			if status == data.StatusBouncing {
				_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'cancelled' WHERE subscriber_id = $1 AND state = 'queued'`, sub)
				return err
			}
			return nil
		case r.RetryAt.IsZero():
			_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'failed', last_error = $2 WHERE id = $1 AND state = 'sending'`, r.ID, r.Reason)
			return err
		default:
			_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'queued', due_at = $2, last_error = $3
				WHERE id = $1 AND state = 'sending'`, r.ID, r.RetryAt.UTC(), r.Reason)
			return err
		}
	})
}

func ignoreNoRows(err error) error {
	if err == pgx.ErrNoRows {
		return nil
	}
	return err
}

// NewsletterStatus counts each published post's deliveries by state.
func (s *Store) NewsletterStatus(ctx context.Context) ([]data.PostStatus, error) {
	rows, err := s.pool.Query(ctx, `SELECT p.slug, p.title, p.published_at, p.baseline,
			count(*) FILTER (WHERE d.state IN ('queued', 'sending')),
			count(*) FILTER (WHERE d.state = 'sent'),
			count(*) FILTER (WHERE d.state = 'failed'),
			count(*) FILTER (WHERE d.state = 'cancelled')
		FROM newsletter_posts p LEFT JOIN deliveries d ON d.post_slug = p.slug
		GROUP BY p.slug ORDER BY p.published_at DESC, p.slug`)
	if err != nil {
		return nil, markUnavailable(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (data.PostStatus, error) {
		var st data.PostStatus
		err := row.Scan(&st.Slug, &st.Title, &st.PublishedAt, &st.Baseline, &st.Queued, &st.Sent, &st.Failed, &st.Cancelled)
		st.PublishedAt = st.PublishedAt.UTC()
		return st, err
	})
	return out, markUnavailable(err)
}
