package postgres

import (
	"context"

	"blog/data"

	"github.com/jackc/pgx/v5"
)

// MarkVisit records what key saw of one post in one statement. The seen
// ID never goes down, so a replica with an older page cannot make comments
// new again; the position is the latest.
func (s *Store) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	v, err := data.CheckVisit(key, v)
	if err != nil {
		return err
	}
	// The upsert and the trim past the bound run as one statement, so a
	// mark costs one round trip.
	_, err = s.pool.Exec(ctx, `WITH up AS (
			INSERT INTO visits (key, post_slug, seen_id, position, at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key, post_slug) DO UPDATE SET seen_id = greatest(visits.seen_id, excluded.seen_id),
				position = excluded.position, at = excluded.at
			RETURNING 1)
		DELETE FROM visits WHERE key = $1 AND post_slug <> $2 AND at < (
			SELECT at FROM visits WHERE key = $1 ORDER BY at DESC LIMIT 1 OFFSET $6)`,
		key, v.PostSlug, v.SeenID, v.Position, s.now(), data.MaxVisitsPerKey-2)
	return markUnavailable(err)
}

// Visits lists key's visits, most recent first, each with the number of
// visible comments after the last one seen.
func (s *Store) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT v.post_slug, v.seen_id, v.position, v.at,
			(SELECT count(*) FROM comments c WHERE c.post_slug = v.post_slug AND c.id > v.seen_id AND NOT c.hidden AND NOT c.deleted)
		FROM visits v WHERE v.key = $1 ORDER BY v.at DESC LIMIT $2`, key, data.MaxVisitsPerKey)
	if err != nil {
		return nil, markUnavailable(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (data.Visit, error) {
		var v data.Visit
		err := r.Scan(&v.PostSlug, &v.SeenID, &v.Position, &v.At, &v.New)
		v.At = v.At.UTC()
		return v, err
	})
	return out, markUnavailable(err)
}

// ForgetVisits deletes all of key's visits.
func (s *Store) ForgetVisits(ctx context.Context, key string) (int64, error) {
	if key == "" {
		return 0, data.ErrKeyRequired
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM visits WHERE key = $1`, key)
	return tag.RowsAffected(), markUnavailable(err)
}
