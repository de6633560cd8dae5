package postgres

import (
	"context"
	"time"

	"blog/data"

	"github.com/jackc/pgx/v5"
)

// rowQuerier is the pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// banned reports whether a's key or IP has a ban in force at now. A ban
// with no end (NULL until) is permanent.
// bannedSQL is whether key $1 or IP $2 has a ban in force at $3.
const bannedSQL = `SELECT EXISTS (SELECT 1 FROM bans
	WHERE target IN ($1, $2) AND target <> '' AND (until IS NULL OR until > $3))`

func banned(ctx context.Context, q rowQuerier, a data.Author, now time.Time) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, bannedSQL, a.KeyFingerprint, a.IP, now).Scan(&found)
	return found, err
}

// Banned reports whether a's key or IP is banned now. It is not part of
// data.Store (writes check bans themselves); the conformance suite and
// tools use it.
func (s *Store) Banned(ctx context.Context, a data.Author) (bool, error) {
	found, err := banned(ctx, s.pool, a, s.now())
	return found, markUnavailable(err)
}

// Ban bars b.Target until b.Until (for ever when Until is zero). Of two
// bans of one target the stronger stays, whole: a permanent ban stays
// permanent and otherwise the later end wins, so a moderator's 24-hour ban
// never shortens an operator's longer one or drops its reason (kept in
// CreatedBy). CreatedAt is set by the store.
func (s *Store) Ban(ctx context.Context, b data.Ban) error {
	if b.Target == "" {
		return &data.InvalidError{Field: "target", Reason: "is empty"}
	}
	var until *time.Time
	if !b.Until.IsZero() {
		until = &b.Until
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO bans (target, until, created_by, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (target) DO UPDATE SET until = excluded.until,
			created_by = excluded.created_by, created_at = excluded.created_at
		WHERE bans.until IS NOT NULL AND (excluded.until IS NULL OR excluded.until > bans.until)`,
		b.Target, until, b.CreatedBy, s.now())
	if err != nil {
		return markUnavailable(err)
	}
	if tag.RowsAffected() > 0 {
		s.opt.Logger.Info("ban set", "target", b.Target, "until", b.Until, "by", b.CreatedBy)
	} else {
		s.opt.Logger.Info("ban kept: the target already has a longer one", "target", b.Target, "until", b.Until, "by", b.CreatedBy)
	}
	return nil
}

// Unban lifts the ban on target; ErrNotFound when there was none.
func (s *Store) Unban(ctx context.Context, target string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM bans WHERE target = $1`, target)
	if err != nil {
		return markUnavailable(err)
	}
	if tag.RowsAffected() == 0 {
		return data.ErrNotFound
	}
	s.opt.Logger.Info("ban lifted", "target", target)
	return nil
}

// Bans lists the bans in force, oldest first.
func (s *Store) Bans(ctx context.Context) ([]data.Ban, error) {
	rows, err := s.pool.Query(ctx, `SELECT target, until, created_by, created_at FROM bans
		WHERE until IS NULL OR until > $1 ORDER BY created_at, target`, s.now())
	if err != nil {
		return nil, markUnavailable(err)
	}
	bans, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (data.Ban, error) {
		var b data.Ban
		var until *time.Time
		err := row.Scan(&b.Target, &until, &b.CreatedBy, &b.CreatedAt)
		if until != nil {
			b.Until = until.UTC()
		}
		b.CreatedAt = b.CreatedAt.UTC()
		return b, err
	})
	return bans, markUnavailable(err)
}
