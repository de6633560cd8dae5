package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"blog/data"
)

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// banned reports whether a's key or IP has a ban in force at now. A ban
// with no end (NULL until) is permanent.
func banned(ctx context.Context, q rowQuerier, a data.Author, now time.Time) (bool, error) {
	var found bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM bans
		WHERE target IN (?, ?) AND target <> '' AND (until IS NULL OR until > ?))`,
		a.KeyFingerprint, a.IP, micros(now)).Scan(&found)
	return found, err
}

// Banned reports whether a's key or IP is banned now. It is not part of
// data.Store (writes check bans themselves); the conformance suite and
// tools use it.
func (s *Store) Banned(ctx context.Context, a data.Author) (bool, error) {
	found, err := banned(ctx, s.read, a, s.now())
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
	var until sql.NullInt64
	if !b.Until.IsZero() {
		until = sql.NullInt64{Int64: micros(b.Until), Valid: true}
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO bans (target, until, created_by, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (target) DO UPDATE SET until = excluded.until,
				created_by = excluded.created_by, created_at = excluded.created_at
			WHERE bans.until IS NOT NULL AND (excluded.until IS NULL OR excluded.until > bans.until)`,
			b.Target, until, b.CreatedBy, micros(s.now()))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err == nil {
		logBan(s.opt.Logger, b, n > 0)
	}
	return err
}

// logBan records a ban, and when an existing stronger one was kept instead.
func logBan(log *slog.Logger, b data.Ban, set bool) {
	if set {
		log.Info("ban set", "target", b.Target, "until", b.Until, "by", b.CreatedBy)
		return
	}
	log.Info("ban kept: the target already has a longer one", "target", b.Target, "until", b.Until, "by", b.CreatedBy)
}

// Unban lifts the ban on target; ErrNotFound when there was none.
func (s *Store) Unban(ctx context.Context, target string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM bans WHERE target = ? RETURNING target`, target).Scan(&target)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return data.ErrNotFound
	}
	if err == nil {
		s.opt.Logger.Info("ban lifted", "target", target)
	}
	return err
}

// Bans lists the bans in force, oldest first.
func (s *Store) Bans(ctx context.Context) ([]data.Ban, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT target, until, created_by, created_at FROM bans
		WHERE until IS NULL OR until > ? ORDER BY created_at, target`, micros(s.now()))
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	var out []data.Ban
	for rows.Next() {
		var b data.Ban
		var until sql.NullInt64
		var created int64
		if err := rows.Scan(&b.Target, &until, &b.CreatedBy, &created); err != nil {
			return nil, markUnavailable(err)
		}
		if until.Valid {
			b.Until = fromMicros(until.Int64)
		}
		b.CreatedAt = fromMicros(created)
		out = append(out, b)
	}
	return out, markUnavailable(rows.Err())
}
