package postgres

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"blog/data"
	"blog/data/internal/feed"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// listenerName is the listener connection's application_name, so operators
// (and tests) can find it in pg_stat_activity.
const listenerName = "blog-listener"

const (
	// keepAlive: after this long without a notification the listener checks
	// that its connection still works, so a silently dead one is noticed.
	keepAlive = 30 * time.Second
	// queryTimeout bounds the listener's own queries and health checks.
	queryTimeout = 10 * time.Second
	// Reconnect attempts start minBackoff apart and back off to maxBackoff.
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// listener owns one connection outside the pool that LISTENs on channel and
// turns notifications into events. It remembers lastSeen, the highest comment
// ID it delivered: a notification of a new comment, or a reconnect, makes it
// read every comment after lastSeen. So payloads stay tiny and a comment
// added while the connection was down is still delivered; after a reconnect
// it also sends one Resync, since hide and delete notices may have been lost.
type listener struct {
	cfg      *pgx.ConnConfig
	feed     *feed.Feed
	log      *slog.Logger
	conn     *pgx.Conn
	lastSeen int64
}

// newListener connects and starts listening before it reads the current
// highest ID, so no comment can fall between the two.
func newListener(ctx context.Context, cfg *pgx.ConnConfig, f *feed.Feed, log *slog.Logger) (*listener, error) {
	cfg = cfg.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	l := &listener{cfg: cfg, feed: f, log: log}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM comments`).Scan(&l.lastSeen); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	l.conn = conn
	return l, nil
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// run delivers events until ctx ends, reconnecting whenever the connection
// fails.
func (l *listener) run(ctx context.Context) {
	defer func() {
		if l.conn != nil {
			l.conn.Close(context.Background())
		}
	}()
	for {
		err := l.serve(ctx)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("event listener lost its connection, reconnecting", "err", err)
		l.conn.Close(context.Background())
		l.conn = nil
		if !l.reconnect(ctx) {
			return
		}
		l.log.Info("event listener reconnected", "last_seen", l.lastSeen)
	}
}

// serve handles notifications until the connection fails or ctx ends.
func (l *listener) serve(ctx context.Context) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, keepAlive)
		n, err := l.conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			if err := l.handle(ctx, n.Payload); err != nil {
				return err
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !l.conn.IsClosed():
			pingCtx, cancel := context.WithTimeout(ctx, queryTimeout)
			err := l.conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// reconnect retries with backoff until it is listening again and has caught
// up, or ctx ends (then it reports false).
func (l *listener) reconnect(ctx context.Context) bool {
	delay := minBackoff
	for {
		conn, err := l.connect(ctx)
		if err == nil {
			l.conn = conn
			if err = l.catchUp(ctx); err == nil {
				l.feed.Publish(data.Event{Kind: data.Resync})
				return true
			}
			conn.Close(context.Background())
			l.conn = nil
		}
		l.log.Debug("event listener reconnect failed", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, maxBackoff)
	}
}

// handle turns one notification into events. Only a failed query is an error.
func (l *listener) handle(ctx context.Context, payload string) error {
	var n notice
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		l.log.Warn("unreadable notification, resyncing", "err", err)
		n.Kind = notifyResync
	}
	switch n.Kind {
	case notifyAdded:
		if n.ID > l.lastSeen {
			return l.catchUp(ctx)
		}
	case notifyChanged:
		l.feed.Publish(n.event())
	case notifyEdited:
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		cs, err := commentByID(qctx, l.conn, n.ID)
		cancel()
		if err != nil {
			return err
		}
		for _, c := range cs { // none when deleted since
			l.feed.Publish(data.Event{Kind: data.CommentEdited, Comment: c})
		}
	default:
		l.feed.Publish(data.Event{Kind: data.Resync})
	}
	return nil
}

// catchUp delivers every comment after lastSeen, oldest first.
func (l *listener) catchUp(ctx context.Context) error {
	for {
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		cs, err := commentsSince(qctx, l.conn, l.lastSeen, data.MaxPageSize)
		cancel()
		if err != nil {
			return err
		}
		for _, c := range cs {
			l.feed.Publish(data.Event{Kind: data.CommentAdded, Comment: c})
			l.lastSeen = c.ID
		}
		if len(cs) < data.MaxPageSize {
			return nil
		}
	}
}
