package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres/pgtest"

	"github.com/jackc/pgx/v5"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// killListener ends the store's LISTEN connection as a failover would.
func killListener(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	var n int
	err := conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'blog-listener'`).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminated %d listeners, %v; want 1", n, err)
	}
}

// collect reads events until it has one of each wanted kind, or fails.
func collect(t *testing.T, ch <-chan data.Event, want ...data.EventKind) []data.Event {
	t.Helper()
	var got []data.Event
	deadline := time.After(3 * time.Second)
	for len(want) > 0 {
		select {
		case ev := <-ch:
			got = append(got, ev)
			for i, k := range want {
				if k == ev.Kind {
					want = append(want[:i], want[i+1:]...)
					break
				}
			}
		case <-deadline:
			t.Fatalf("still waiting for %v; got %+v", want, got)
		}
	}
	return got
}

func TestListenerCatchesUpAfterReconnect(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, data.Options{})
	ch := s.Events(t.Context())
	admin := connect(t, url)

	// A comment that announced nothing: only catching up by ID finds it.
	var missed int64
	err := admin.QueryRow(t.Context(), `INSERT INTO comments (post_slug, author_name, author_key, body, created_at)
		VALUES ('p', 'Ann', 'SHA256:a', 'while down', now()) RETURNING id`).Scan(&missed)
	if err != nil {
		t.Fatal(err)
	}
	killListener(t, admin)
	got := collect(t, ch, data.CommentAdded, data.Resync)
	if got[0].Kind != data.CommentAdded || got[0].Comment.ID != missed || got[0].Comment.Body != "while down" {
		t.Fatalf("after reconnect got %+v; want the missed comment, then Resync", got)
	}

	// Listening again: a comment added right as the connection dies arrives
	// either by its notification or by the catch-up.
	killListener(t, admin)
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "racing", Author: data.Author{KeyFingerprint: "SHA256:b"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range collect(t, ch, data.CommentAdded, data.Resync) {
		if ev.Kind == data.CommentAdded && ev.Comment.ID != c.ID {
			t.Fatalf("unexpected %+v", ev)
		}
	}
}

// While the database refuses connections, calls fail as unavailable; when
// it is back, the store recovers on its own.
func TestUnavailableAndBack(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, data.Options{})
	ch := s.Events(t.Context())
	admin := connect(t, pgtest.AdminURL(t))
	var name string
	if err := connect(t, url).QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
	t.Cleanup(func() { admin.Exec(context.Background(), `ALTER DATABASE `+name+` ALLOW_CONNECTIONS true`) })
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `'`)

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("Ping while down = %v, want ErrUnavailable", err)
	}
	_, err := s.AddComment(ctx, data.NewComment{PostSlug: "p", Body: "x", Author: data.Author{KeyFingerprint: "SHA256:a"}})
	if !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("AddComment while down = %v, want ErrUnavailable", err)
	}

	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after recovery: %v", err)
	}
	collect(t, ch, data.Resync) // the listener is back, and says it may have missed things
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "back", Author: data.Author{KeyFingerprint: "SHA256:a"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, ch, data.CommentAdded); got[len(got)-1].Comment.ID != c.ID {
		t.Fatalf("after recovery got %+v", got)
	}
}
