package ui

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/data/sqlite"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/jackc/pgx/v5"
	"github.com/muesli/termenv"
)

// postingOn opens the composer on the Go post for a session that ends with
// ctx, types a comment, and returns the command that posts it: the store
// call, not yet run.
func postingOn(t *testing.T, ctx context.Context, store Backend) (*Model, tea.Cmd) {
	t.Helper()
	cfg, _ := testConfig(t, 0)
	cfg.Store = store
	m := New(cfg, Session{Context: ctx, Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30,
		Author: data.Author{KeyFingerprint: "SHA256:leaver", IP: "192.0.2.7"}})
	drain(m, m.Init())
	press(m, "c")
	if m.composer == nil {
		t.Fatal("composer did not open")
	}
	typeRunes(m, "Written, then the line dropped")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlS})
	if cmd == nil || m.composer == nil || !m.composer.sending {
		t.Fatal("ctrl+s started no post")
	}
	return m, cmd
}

// await gives back the answer of a post running in the background; the
// minute is only there so a broken build fails instead of hanging.
func await(t *testing.T, done <-chan tea.Msg) postedMsg {
	t.Helper()
	select {
	case msg := <-done:
		posted, ok := msg.(postedMsg)
		if !ok {
			t.Fatalf("post answered %T", msg)
		}
		return posted
	case <-time.After(time.Minute):
		t.Fatal("the post did not end after the session did")
	}
	return postedMsg{}
}

// A visitor who disconnects while their comment waits behind another
// process's write lock ends the wait: the call answers context.Canceled
// instead of waiting out SQLite's busy timeout (or the five-second
// operation bound) for nobody, and nothing is stored.
func TestDisconnectCancelsAPostWaitingOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blog.db")
	st, err := sqlite.Open(t.Context(), path, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, disconnect := context.WithCancel(t.Context())
	m, post := postingOn(t, ctx, st)

	// Another process takes the write lock, as an operator command would.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- post() }()
	disconnect()
	msg := await(t, done)
	if !errors.Is(msg.err, context.Canceled) {
		t.Fatalf("post after the disconnect = %v, want context.Canceled", msg.err)
	}
	conn.Close() // releases the lock
	if cs, err := st.Comments(t.Context(), benchPost, data.ListOptions{}); err != nil || len(cs) != 0 {
		t.Fatalf("stored %d comments (%v), want none", len(cs), err)
	}
	m.Update(msg)
	if m.composer == nil || m.composer.text.Value() == "" {
		t.Fatal("the draft was lost")
	}
}

// The same on Postgres, where the call is seen waiting on the lock before
// the visitor leaves: the disconnect cancels a query already in flight.
func TestDisconnectCancelsAPostInFlightOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	st, err := postgres.Open(t.Context(), url, data.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, disconnect := context.WithCancel(t.Context())
	_, post := postingOn(t, ctx, st)

	locker, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(context.Background())
	tx, err := locker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE comments IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- post() }()

	// Wait until the post's query is blocked on a lock in this database.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := tx.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case msg := <-done:
			t.Fatalf("the post ended before waiting on the lock: %+v", msg)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the post never waited on the lock")
		}
		time.Sleep(10 * time.Millisecond) // a polling interval, not a wait for an outcome
	}
	disconnect()
	msg := await(t, done)
	if !errors.Is(msg.err, context.Canceled) {
		t.Fatalf("post after the disconnect = %v, want context.Canceled", msg.err)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if cs, err := st.Comments(t.Context(), benchPost, data.ListOptions{}); err != nil || len(cs) != 0 {
		t.Fatalf("stored %d comments (%v), want none", len(cs), err)
	}
}
