package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres/pgtest"

	"github.com/jackc/pgx/v5"
)

// One author's comment held up in its rate-limit check does not hold up
// another author's: authors are admitted side by side, and only the insert
// and its commit take turns. Before, every comment took the one lock of all
// comments at its first check; under a burst on busy cores each of those
// checks' round trips waited for CPU, and the queue outgrew the writers'
// 10 s timeout.
func TestAStalledCheckHoldsUpNoOtherAuthor(t *testing.T) {
	url := pgtest.NewDatabase(t)
	limits := data.Limits{CommentPerKey: data.RateLimit{Count: 5, Window: time.Minute}}
	s := open(t, url, data.Options{Limits: limits})
	ctx := t.Context()
	alice := data.Author{KeyFingerprint: "SHA256:alice"}
	bob := data.Author{KeyFingerprint: "SHA256:bob"}

	side, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer side.Close(context.Background())
	// An old action of alice's, out of the window: her next check deletes
	// it. The test holds its row, so her check waits there.
	if _, err := side.Exec(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES ('comment', $1, $2)`,
		"key:"+alice.KeyFingerprint, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	hold, err := side.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(context.Background())
	if _, err := hold.Exec(ctx, `SELECT 1 FROM rate_events WHERE subject = $1 FOR UPDATE`, "key:"+alice.KeyFingerprint); err != nil {
		t.Fatal(err)
	}

	type result struct {
		c   data.Comment
		err error
	}
	aliceDone := make(chan result, 1)
	go func() {
		c, err := s.AddComment(ctx, data.NewComment{PostSlug: "p", Name: "alice", Body: "held up", Author: alice})
		aliceDone <- result{c, err}
	}()
	watch, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	awaitBlocked(t, watch, "DELETE FROM rate_events%")

	bobCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := s.AddComment(bobCtx, data.NewComment{PostSlug: "p", Name: "bob", Body: "goes ahead", Author: bob})
	if err != nil {
		t.Fatalf("bob's comment waited for alice's check: %v", err)
	}

	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	a := <-aliceDone
	if a.err != nil {
		t.Fatalf("alice's comment after the hold: %v", a.err)
	}
	// Alice's ID is drawn only once she is admitted, after bob's.
	if a.c.ID <= b.ID {
		t.Fatalf("alice's comment %d drew its ID before bob's %d, while her check was held up", a.c.ID, b.ID)
	}
}

// awaitBlocked waits until a statement like pattern waits on a lock.
func awaitBlocked(t *testing.T, conn *pgx.Conn, pattern string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`, pattern).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no statement like %q waited on a lock within 10 s", pattern)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Comments posted at once by many authors through two replicas are heard
// in increasing ID order, every one: IDs commit in the order they are
// drawn, which is what lets a listener catch up by ID.
func TestConcurrentCommentsCommitInIDOrder(t *testing.T) {
	url := pgtest.NewDatabase(t)
	// Limits high enough for all, so the authors' checks run too.
	opt := data.Options{Limits: data.Limits{
		CommentPerKey: data.RateLimit{Count: 1000, Window: time.Minute},
		CommentPerIP:  data.RateLimit{Count: 1000, Window: time.Minute},
	}}
	first, second := open(t, url, opt), open(t, url, opt)
	ctx := t.Context()
	events := first.Events(ctx)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		store := first
		if w%2 == 1 {
			store = second
		}
		wg.Go(func() {
			author := data.Author{KeyFingerprint: fmt.Sprintf("SHA256:writer%d", w), IP: fmt.Sprintf("192.0.2.%d", w+1)}
			for i := range each {
				_, err := store.AddComment(ctx, data.NewComment{PostSlug: "p", Name: "w", Body: fmt.Sprintf("%d-%d", w, i), Author: author})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var last int64
	for range writers * each {
		select {
		case ev := <-events:
			if ev.Kind != data.CommentAdded {
				continue
			}
			if ev.Comment.ID <= last {
				t.Fatalf("comment %d heard after %d", ev.Comment.ID, last)
			}
			last = ev.Comment.ID
		case <-time.After(10 * time.Second):
			t.Fatalf("heard up to comment %d, then nothing for 10 s", last)
		}
	}
	all, err := first.Comments(ctx, "p", data.ListOptions{Limit: writers * each})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each || all[len(all)-1].ID != last {
		t.Fatalf("stored %d comments, the last heard %d", len(all), last)
	}
}
