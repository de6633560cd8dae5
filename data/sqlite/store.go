// Package sqlite is the single-box data.Store: one SQLite file in WAL mode,
// written through one connection and read through a small pool. Changes
// made by any process on the file (another server, an operator command)
// reach this one's Events within watchEvery: see changes.go.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"blog/data"
	"blog/data/internal/feed"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store implements data.Store on one SQLite file.
type Store struct {
	write *sql.DB // one connection: SQLite has one writer at a time anyway
	read  *sql.DB
	// visits is the visits query, prepared once: every session runs it as
	// it starts, and parsing it took more than half of its time.
	visits *sql.Stmt
	opt    data.Options
	feed   *feed.Feed
	watch  *watcher
	locks  jobLocks

	stopWatch context.CancelFunc
	watchDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ data.Store = (*Store)(nil)

// pragmas every connection gets. busy_timeout lets readers and the writer
// wait for each other instead of failing at once; immediate transactions
// take the write lock up front so a read-then-write never deadlocks.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// Open opens (creating it if needed) the database file at path and applies
// the embedded migrations. path is a plain file name; it may not contain '?'.
func Open(ctx context.Context, path string, opt data.Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: %q is not a usable database file name", path)
	}
	opt = opt.WithDefaults()
	if err := createPrivate(path); err != nil {
		return nil, markUnavailable(fmt.Errorf("sqlite: %w", err))
	}
	write, err := sql.Open("sqlite", path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	s := &Store{write: write, opt: opt, feed: feed.New()}
	if err := migrate(ctx, write, opt); err != nil {
		write.Close()
		return nil, markUnavailable(fmt.Errorf("sqlite: migrate %s: %w", path, err))
	}
	s.read, err = sql.Open("sqlite", path+"?"+pragmas+"&_query_only=1")
	if err != nil {
		write.Close()
		return nil, err
	}
	s.read.SetMaxOpenConns(int(opt.MaxConns))
	// Keep every reader open: database/sql keeps two by default, and under
	// many sessions opening at once each reader past the second was
	// opened, set up (pragmas, the schema, the prepared visits query) and
	// closed again per query.
	s.read.SetMaxIdleConns(int(opt.MaxConns))
	if err := s.read.PingContext(ctx); err != nil {
		s.read.Close()
		write.Close()
		return nil, markUnavailable(err)
	}
	if s.visits, err = s.read.PrepareContext(ctx, visitsSQL); err != nil {
		s.read.Close()
		write.Close()
		return nil, markUnavailable(err)
	}
	if err := s.startWatch(ctx, path); err != nil {
		s.read.Close()
		write.Close()
		return nil, markUnavailable(fmt.Errorf("sqlite: watch %s: %w", path, err))
	}
	return s, nil
}

// createPrivate creates the database file, empty and readable by its owner
// only, if it does not exist yet: it holds subscribers' addresses. SQLite
// gives the -wal and -shm files it makes the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// startWatch opens the watcher's own connection and starts it.
func (s *Store) startWatch(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path+"?"+pragmas+"&_query_only=1")
	if err != nil {
		return err
	}
	// One connection kept for good: data_version compares commits seen by
	// that one connection.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	w, err := newWatcher(ctx, db, s.feed, s.opt.Logger)
	if err != nil {
		db.Close()
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.watch, s.stopWatch, s.watchDone = w, cancel, make(chan struct{})
	go func() {
		defer close(s.watchDone)
		defer db.Close()
		w.run(runCtx)
	}()
	return nil
}

// Ping answers when both pools reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return markUnavailable(err)
	}
	return markUnavailable(s.read.PingContext(ctx))
}

// Close ends every Events channel and closes the database. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopWatch()
		<-s.watchDone
		s.feed.Close()
		s.closeErr = errors.Join(s.visits.Close(), s.read.Close(), s.write.Close())
	})
	return s.closeErr
}

// Events delivers the changes made by every process on the file until ctx
// ends or the store closes. A consumer that falls too far behind gets one
// Resync in place of what it missed (see feed).
func (s *Store) Events(ctx context.Context) <-chan data.Event {
	return s.feed.Subscribe(ctx)
}

// now is the store's clock, at the microsecond precision both back ends keep.
func (s *Store) now() time.Time {
	return s.opt.Now().UTC().Truncate(time.Microsecond)
}

// micros and fromMicros convert times to and from the stored form.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// changeTx is inTx for a transaction that logs a change (logChange): once
// it commits, this process's watcher looks at once, so the change is live
// without waiting for the next tick.
func (s *Store) changeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	err := s.inTx(ctx, fn)
	if err == nil {
		s.watch.nudge()
	}
	return err
}

// inTx runs fn in one immediate (write-locked) transaction.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return markUnavailable(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return markUnavailable(err)
	}
	return markUnavailable(tx.Commit())
}
