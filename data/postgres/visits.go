package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"

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
	// mark costs one round trip. The trim sees the table as it was before
	// the statement, so it keeps the key's other MaxVisitsPerKey-1 most
	// recent visits beside this one; visits marked at the same instant (one
	// batch) are told apart by slug, so the bound is exact even then.
	_, err = s.pool.Exec(ctx, `WITH up AS (
			INSERT INTO visits (key, post_slug, seen_id, position, at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key, post_slug) DO UPDATE SET seen_id = greatest(visits.seen_id, excluded.seen_id),
				position = excluded.position, at = excluded.at
			RETURNING 1)
		DELETE FROM visits WHERE key = $1 AND post_slug <> $2 AND (at, post_slug) < (
			SELECT at, post_slug FROM visits WHERE key = $1 AND post_slug <> $2
			ORDER BY at DESC, post_slug DESC LIMIT 1 OFFSET $6)`,
		key, v.PostSlug, v.SeenID, v.Position, s.now(), data.MaxVisitsPerKey-2)
	return markUnavailable(err)
}

// MarkVisits records a batch of marks in one transaction of two
// statements, whatever its size; see data.Visits.
//
// It commits without waiting for the WAL flush, as FinishDelivery does: a
// mark is a reading position, not something a visitor typed, and only a
// crash of Postgres itself within a fraction of a second could lose it,
// which costs a "new" mark shown again or a place to resume a little
// earlier. A burst of opened posts then no longer queues on WALSync.
func (s *Store) MarkVisits(ctx context.Context, marks []data.KeyedVisit) error {
	ok, skipped := data.PrepareVisits(marks)
	if len(ok) == 0 {
		return skipped
	}
	// The upsert takes its rows in key then slug order, so two replicas
	// upserting marks of the same keys mostly wait for each other. The
	// trim below deletes in whatever order its plan visits the rows, so
	// two batches trimming the same key can still deadlock: Postgres then
	// fails one of them, and the caller tries it again (the write-behind
	// queue does). A trim is rare, only past MaxVisitsPerKey.
	slices.SortFunc(ok, func(a, b data.KeyedVisit) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.PostSlug, b.PostSlug))
	})
	keys, slugs := make([]string, len(ok)), make([]string, len(ok))
	seen, pos := make([]int64, len(ok)), make([]int32, len(ok))
	distinct := make([]string, 0, len(ok))
	for i, m := range ok {
		keys[i], slugs[i], seen[i], pos[i] = m.Key, m.PostSlug, m.SeenID, int32(m.Position)
		if i == 0 || m.Key != ok[i-1].Key {
			distinct = append(distinct, m.Key)
		}
	}
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO visits (key, post_slug, seen_id, position, at)
			SELECT k, p, sid, pos, $5 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[]) AS m(k, p, sid, pos)
			ON CONFLICT (key, post_slug) DO UPDATE SET seen_id = greatest(visits.seen_id, excluded.seen_id),
				position = excluded.position, at = excluded.at`,
			keys, slugs, seen, pos, now); err != nil {
			return err
		}
		// Past the bound, each key's least recently marked visits go,
		// ordered as MarkVisit orders them. Its rows are locked in plan
		// order, not key order; see above.
		_, err := tx.Exec(ctx, `DELETE FROM visits v USING (
				SELECT u.k, c.at, c.post_slug FROM unnest($1::text[]) AS u(k)
				CROSS JOIN LATERAL (SELECT at, post_slug FROM visits WHERE key = u.k
					ORDER BY at DESC, post_slug DESC LIMIT 1 OFFSET $2) c) cut
			WHERE v.key = cut.k AND (v.at, v.post_slug) < (cut.at, cut.post_slug)`,
			distinct, data.MaxVisitsPerKey-1)
		return err
	})
	if err != nil {
		return err
	}
	return skipped
}

// Visits lists key's visits, most recent first, each with the number of
// visible comments after the last one seen.
func (s *Store) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT v.post_slug, v.seen_id, v.position, v.at,
			(SELECT count(*) FROM comments c WHERE c.post_slug = v.post_slug AND c.id > v.seen_id AND NOT c.hidden AND NOT c.deleted)
		FROM visits v WHERE v.key = $1 ORDER BY v.at DESC, v.post_slug DESC LIMIT $2`, key, data.MaxVisitsPerKey)
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
