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
	now := micros(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO visits (key, post_slug, seen_id, position, at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key, post_slug) DO UPDATE SET seen_id = max(visits.seen_id, excluded.seen_id),
				position = excluded.position, at = excluded.at`,
			key, v.PostSlug, v.SeenID, v.Position, now); err != nil {
			return err
		}
		// Past the bound, the least recently marked visits go.
		_, err := tx.ExecContext(ctx, `DELETE FROM visits WHERE key = ? AND at < (
			SELECT at FROM visits WHERE key = ? ORDER BY at DESC LIMIT 1 OFFSET ?)`,
			key, key, data.MaxVisitsPerKey-1)
		return err
	})
}

// Visits lists key's visits, most recent first, each with the number of
// visible comments after the last one seen.
func (s *Store) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT v.post_slug, v.seen_id, v.position, v.at,
			(SELECT count(*) FROM comments c WHERE c.post_slug = v.post_slug AND c.id > v.seen_id AND NOT c.hidden AND NOT c.deleted)
		FROM visits v WHERE v.key = ? ORDER BY v.at DESC LIMIT ?`, key, data.MaxVisitsPerKey)
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
