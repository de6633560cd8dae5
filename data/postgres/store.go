// Package postgres is the data.Store for one or more replicas sharing a
// Postgres database. Writes that change what readers see send a small
// NOTIFY in the same transaction; each Store keeps one LISTEN connection of
// its own and turns those into events (see listener.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"blog/data"
	"blog/data/internal/feed"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// connectTimeout bounds each connection attempt when the URL sets none, so
// an unreachable server fails Open instead of hanging it.
const connectTimeout = 5 * time.Second

// Store implements data.Store on Postgres.
type Store struct {
	pool    *pgxpool.Pool
	opt     data.Options
	feed    *feed.Feed
	version int64 // schema version this binary migrated to

	stopListener context.CancelFunc
	listenerDone chan struct{}
	closeOnce    sync.Once
}

var _ data.Store = (*Store)(nil)

// Open connects with a pool of at most opt.MaxConns connections, applies the
// migrations and starts listening for other replicas' changes. It fails,
// without hanging past ctx, when the database cannot be reached.
func Open(ctx context.Context, url string, opt data.Options) (*Store, error) {
	opt = opt.WithDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = opt.MaxConns
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, opt: opt, feed: feed.New(), listenerDone: make(chan struct{})}
	if err := s.start(ctx, cfg.ConnConfig); err != nil {
		pool.Close()
		return nil, markUnavailable(fmt.Errorf("postgres: open: %w", err))
	}
	return s, nil
}

func (s *Store) start(ctx context.Context, cfg *pgx.ConnConfig) error {
	if err := s.pool.Ping(ctx); err != nil {
		return err
	}
	var err error
	if s.version, err = migrate(ctx, s.pool, s.opt); err != nil {
		return err
	}
	l, err := newListener(ctx, cfg, s.feed, s.opt.Logger)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.stopListener = cancel
	go func() {
		defer close(s.listenerDone)
		l.run(runCtx)
	}()
	return nil
}

// Ping answers when the database is reachable and migrated to this
// binary's schema version.
func (s *Store) Ping(ctx context.Context) error {
	var version int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&version)
	if err != nil {
		return markUnavailable(err)
	}
	if version < s.version {
		return fmt.Errorf("%w: schema version %d, want %d", data.ErrUnavailable, version, s.version)
	}
	return nil
}

// Close stops the listener, ends every Events channel and closes the pool.
// It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopListener()
		<-s.listenerDone
		s.feed.Close()
		s.pool.Close()
	})
	return nil
}

// Events delivers every replica's changes until ctx ends or the store
// closes. A consumer that falls too far behind gets one Resync in place of
// what it missed (see feed).
func (s *Store) Events(ctx context.Context) <-chan data.Event {
	return s.feed.Subscribe(ctx)
}

// now is the store's clock, at the microsecond precision Postgres keeps.
func (s *Store) now() time.Time {
	return s.opt.Now().UTC().Truncate(time.Microsecond)
}

// inTx runs fn in one transaction and marks connection failures.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return markUnavailable(pgx.BeginFunc(ctx, s.pool, fn))
}

// notFound turns "no row" into data.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return data.ErrNotFound
	}
	return err
}
