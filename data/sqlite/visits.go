package sqlite

import (
	"context"
	"database/sql"

	"blog/data"
)

// MarkVisit records what key saw of one post in one upsert. The seen ID
// never goes down; the position is the latest.
func (s *Store) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	v, err := data.CheckVisit(key, v)
	if err != nil {
		return err
	}
	return s.writeVisits(ctx, []data.KeyedVisit{{Key: key, Visit: v}})
}

// MarkVisits records a batch of marks in one transaction; see data.Visits.
func (s *Store) MarkVisits(ctx context.Context, marks []data.KeyedVisit) error {
	ok, skipped := data.PrepareVisits(marks)
	if len(ok) == 0 {
		return skipped
	}
	if err := s.writeVisits(ctx, ok); err != nil {
		return err
	}
	return skipped
}

// writeVisits upserts checked marks, at most one per key and post, in one
// transaction, then trims each of their keys to the bound.
func (s *Store) writeVisits(ctx context.Context, marks []data.KeyedVisit) error {
	now := micros(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, `INSERT INTO visits (key, post_slug, seen_id, position, at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key, post_slug) DO UPDATE SET seen_id = max(visits.seen_id, excluded.seen_id),
				position = excluded.position, at = excluded.at`)
		if err != nil {
			return err
		}
		defer up.Close()
		keys := make([]string, 0, 1)
		seen := make(map[string]bool, 1)
		for _, m := range marks {
			if _, err := up.ExecContext(ctx, m.Key, m.PostSlug, m.SeenID, m.Position, now); err != nil {
				return err
			}
			if !seen[m.Key] {
				seen[m.Key] = true
				keys = append(keys, m.Key)
			}
		}
		// Past the bound, the least recently marked visits go. Visits
		// marked at the same instant (one batch) are told apart by slug,
		// so the bound is exact even then; the primary key makes the
		// index (key, at, post_slug), so this order is the index's.
		trim, err := tx.PrepareContext(ctx, `DELETE FROM visits WHERE key = ?1 AND (at, post_slug) < (
			SELECT at, post_slug FROM visits WHERE key = ?1 ORDER BY at DESC, post_slug DESC LIMIT 1 OFFSET ?2)`)
		if err != nil {
			return err
		}
		defer trim.Close()
		for _, k := range keys {
			if _, err := trim.ExecContext(ctx, k, data.MaxVisitsPerKey-1); err != nil {
				return err
			}
		}
		return nil
	})
}

// Visits lists key's visits, most recent first, each with the number of
// visible comments after the last one seen.
func (s *Store) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.visits.QueryContext(ctx, key, data.MaxVisitsPerKey)
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	var out []data.Visit
	for rows.Next() {
		var v data.Visit
		var at int64
		if err := rows.Scan(&v.PostSlug, &v.SeenID, &v.Position, &at, &v.New); err != nil {
			return nil, markUnavailable(err)
		}
		v.At = fromMicros(at)
		out = append(out, v)
	}
	return out, markUnavailable(rows.Err())
}

// visitsSQL lists key ($1) visits, at most $2, with their New counts.
const visitsSQL = `SELECT v.post_slug, v.seen_id, v.position, v.at,
		(SELECT count(*) FROM comments c WHERE c.post_slug = v.post_slug AND c.id > v.seen_id AND NOT c.hidden AND NOT c.deleted)
	FROM visits v WHERE v.key = ? ORDER BY v.at DESC, v.post_slug DESC LIMIT ?`

// ForgetVisits deletes all of key's visits.
func (s *Store) ForgetVisits(ctx context.Context, key string) (int64, error) {
	if key == "" {
		return 0, data.ErrKeyRequired
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM visits WHERE key = ?`, key)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
