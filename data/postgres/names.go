package postgres

import (
	"context"
	"errors"
	"time"

	"blog/data/internal/input"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Name returns the name remembered for key, or "".
func (s *Store) Name(ctx context.Context, key string) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, `SELECT name FROM author_names WHERE key = $1`, key).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, markUnavailable(err)
}

// SetName sanitises name and remembers it for key. It is not part of
// data.Store (AddComment remembers the name a comment is posted under);
// the conformance suite and tests use it.
func (s *Store) SetName(ctx context.Context, key, name string) error {
	name, err := input.Name(key, name)
	if err != nil {
		return err
	}
	return markUnavailable(setName(ctx, s.pool, key, name, s.now()))
}

// execer is the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// setNameSQL remembers name ($2) for key ($1) at $3.
const setNameSQL = `INSERT INTO author_names (key, name, updated_at) VALUES ($1, $2, $3)
	ON CONFLICT (key) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`

func setName(ctx context.Context, db execer, key, name string, now time.Time) error {
	_, err := db.Exec(ctx, setNameSQL, key, name, now)
	return err
}
