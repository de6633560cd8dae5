package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"blog/data/internal/input"
)

// Name returns the name remembered for key, or "".
func (s *Store) Name(ctx context.Context, key string) (string, error) {
	var name string
	err := s.read.QueryRowContext(ctx, `SELECT name FROM author_names WHERE key = ?`, key).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
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
	return s.inTx(ctx, func(tx *sql.Tx) error { return setName(ctx, tx, key, name, s.now()) })
}

func setName(ctx context.Context, tx *sql.Tx, key, name string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO author_names (key, name, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`,
		key, name, micros(now))
	return err
}
