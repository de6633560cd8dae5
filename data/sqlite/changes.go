package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"blog/data"
	"blog/data/internal/feed"
)

// How changes reach open sessions. SQLite has no LISTEN/NOTIFY, and a
// change may come from any process on the file: another server, or an
// operator running "blog comments hide". So, as Postgres does with NOTIFY
// and catch-up by ID, every change is logged in the changes table in the
// transaction that makes it, and each Store runs one watcher (one per
// process, not per session) that reads the log after the last row it
// delivered. It looks only when "PRAGMA data_version" on its own connection
// moves, which SQLite bumps when another connection commits: a read of the
// shared WAL index, no query and no disk I/O, every watchEvery. Writes made
// through this Store wake it at once, so they are live without waiting.
// The alternatives were worse: an fsnotify watch on the -wal file misses
// changes across checkpoints and on some file systems, and polling the
// tables themselves costs a query per tick.
const (
	// watchEvery bounds how late another process's change arrives: well
	// inside the two seconds promised, at two cheap wake-ups a second for
	// the whole process however many sessions are open.
	watchEvery = 500 * time.Millisecond
	// keepChanges is how many log rows are kept; a watcher that falls
	// further behind (it cannot, unless stalled) gets a Resync.
	keepChanges = 10000
	// watchQueryTimeout bounds each of the watcher's queries.
	watchQueryTimeout = 10 * time.Second
)

// Kinds of change rows.
const (
	changeAdded   = "added"
	changeChanged = "changed"
	changeEdited  = "edited"
	changeResync  = "resync"
)

// change is one row of the log.
type change struct {
	kind      string
	commentID int64
	slug      string
	hidden    bool
	deleted   bool
}

// logChange records c in tx and prunes the oldest rows.
func logChange(ctx context.Context, tx *sql.Tx, c change) error {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO changes (kind, comment_id, post_slug, hidden, deleted)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, c.kind, c.commentID, c.slug, c.hidden, c.deleted).Scan(&id)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM changes WHERE id <= ?`, id-keepChanges)
	return err
}

// watcher turns the change log into events on feed.
type watcher struct {
	db   *sql.DB // one query-only connection of its own: data_version is per connection
	feed *feed.Feed
	log  *slog.Logger
	wake chan struct{}

	last    int64 // the highest change ID delivered
	version int64 // data_version when the log was last read
}

// newWatcher starts from the newest change: a Store reports what happens
// after it opens.
func newWatcher(ctx context.Context, db *sql.DB, f *feed.Feed, log *slog.Logger) (*watcher, error) {
	w := &watcher{db: db, feed: f, log: log, wake: make(chan struct{}, 1)}
	if err := db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&w.version); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM changes`).Scan(&w.last); err != nil {
		return nil, err
	}
	return w, nil
}

// nudge asks for a look now: this process just committed a change.
func (w *watcher) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run delivers changes until ctx ends.
func (w *watcher) run(ctx context.Context) {
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.wake:
			force = true
		}
		if err := w.check(ctx, force); err != nil && ctx.Err() == nil {
			// Nothing is lost: the next look starts after the last row delivered.
			w.log.Warn("reading the change log failed; retrying", "err", err)
		}
	}
}

// check reads the log if another connection committed since the last look
// (or force), and publishes what it finds.
func (w *watcher) check(ctx context.Context, force bool) error {
	ctx, cancel := context.WithTimeout(ctx, watchQueryTimeout)
	defer cancel()
	var v int64
	if err := w.db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	if v == w.version && !force {
		return nil
	}
	for {
		n, err := w.readPage(ctx)
		if err != nil {
			return err
		}
		if n < data.MaxPageSize {
			break
		}
	}
	w.version = v // only once everything up to v was read
	return nil
}

// readPage publishes up to one page of changes after w.last and says how
// many rows it read. New comments come with their current text, from the
// same snapshot as the log.
func (w *watcher) readPage(ctx context.Context) (int, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT ch.id, ch.kind, ch.comment_id, ch.post_slug, ch.hidden, ch.deleted,
			c.post_slug, c.author_name, c.author_key, c.body, c.created_at, c.hidden, c.reply_to, c.edited_at, c.deleted
		FROM changes ch LEFT JOIN comments c ON ch.kind IN ('added', 'edited') AND c.id = ch.comment_id
		WHERE ch.id > ? ORDER BY ch.id LIMIT ?`, w.last, data.MaxPageSize)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var ch change
		var slug, name, key, body sql.NullString
		var at, replyTo, edited sql.NullInt64
		var hidden, deleted sql.NullBool
		if err := rows.Scan(&id, &ch.kind, &ch.commentID, &ch.slug, &ch.hidden, &ch.deleted,
			&slug, &name, &key, &body, &at, &hidden, &replyTo, &edited, &deleted); err != nil {
			return n, err
		}
		n++
		// Committed IDs are consecutive (only pruning deletes rows, and
		// AUTOINCREMENT's counter rolls back with a failed transaction), so
		// a jump means pruned rows this watcher never read: reload all.
		if id != w.last+1 {
			w.log.Warn("change log rows missed; resyncing", "last", w.last, "next", id)
			w.feed.Publish(data.Event{Kind: data.Resync})
		}
		w.last = id
		switch ch.kind {
		case changeAdded, changeEdited:
			if !slug.Valid {
				continue // deleted since; its deletion follows in the log
			}
			c := data.Comment{
				ID: ch.commentID, PostSlug: slug.String, AuthorName: name.String, AuthorKey: key.String,
				Body: body.String, CreatedAt: fromMicros(at.Int64), Hidden: hidden.Bool,
				ReplyTo: replyTo.Int64, Deleted: deleted.Bool,
			}
			if edited.Int64 != 0 {
				c.EditedAt = fromMicros(edited.Int64)
			}
			kind := data.CommentAdded
			if ch.kind == changeEdited {
				kind = data.CommentEdited
			}
			w.feed.Publish(data.Event{Kind: kind, Comment: c})
		case changeChanged:
			w.feed.Publish(data.Event{
				Kind:    data.CommentChanged,
				Comment: data.Comment{ID: ch.commentID, PostSlug: ch.slug, Hidden: ch.hidden},
				Deleted: ch.deleted,
			})
		default:
			w.feed.Publish(data.Event{Kind: data.Resync})
		}
	}
	return n, rows.Err()
}
