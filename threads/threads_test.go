package threads_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/threads"
)

// countingStore counts the queries that reach the real store.
type countingStore struct {
	data.Store
	queries atomic.Int32
}

func (c *countingStore) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	c.queries.Add(1)
	return c.Store.Comments(ctx, slug, opt)
}

func sqliteWith(t *testing.T, n int) data.Store {
	t.Helper()
	lots := data.RateLimit{Count: 1 << 30, Window: time.Second}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), data.Options{
		Limits: data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i := range n {
		add(t, st, fmt.Sprint("comment ", i))
	}
	return st
}

func add(t *testing.T, st data.Store, body string) data.Comment {
	t.Helper()
	c, err := st.AddComment(context.Background(), data.NewComment{PostSlug: "p", Name: "N", Body: body, Author: data.Author{KeyFingerprint: "SHA256:k", IP: "192.0.2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readAll pages through a post as a reader does and returns what it saw.
func readAll(t *testing.T, s interface {
	Comments(context.Context, string, data.ListOptions) ([]data.Comment, error)
}) []data.Comment {
	t.Helper()
	var all []data.Comment
	var after int64
	for {
		page, err := s.Comments(context.Background(), "p", data.ListOptions{AfterID: after})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < data.DefaultPageSize {
			return all
		}
		after = page[len(page)-1].ID
	}
}

func TestSharedThreadsAnswerEveryPageFromOneQuery(t *testing.T) {
	st := &countingStore{Store: sqliteWith(t, 120)}
	th := threads.New(st, 0)
	want := readAll(t, st.Store)
	for range 3 { // three readers scrolling to the end
		if got := readAll(t, th); !slices.Equal(got, want) {
			t.Fatalf("pages from memory differ from the store's: %d vs %d comments", len(got), len(want))
		}
	}
	if n := st.queries.Load(); n != 1 {
		t.Errorf("%d queries for three readers of every page, want 1", n)
	}
	if page, ok := th.CachedComments("p", data.ListOptions{AfterID: want[49].ID}); !ok || len(page) != 50 || page[0].ID != want[50].ID {
		t.Errorf("cached second page: %d comments, %v", len(page), ok)
	}
	if _, ok := th.CachedComments("other", data.ListOptions{}); ok {
		t.Error("a post never read is reported cached")
	}
	if _, ok := th.CachedComments("p", data.ListOptions{IncludeHidden: true}); ok {
		t.Error("an admin's page (hidden comments too) came from the shared cache")
	}
}

func TestSharedThreadsFollowEvents(t *testing.T) {
	st := &countingStore{Store: sqliteWith(t, 10)}
	th := threads.New(st, 0)
	held, err := th.Comments(context.Background(), "p", data.ListOptions{}) // a reader holds the page
	if err != nil {
		t.Fatal(err)
	}
	heldCopy := slices.Clone(held)

	c := add(t, st, "new one")
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: c})
	got := readAll(t, th)
	if len(got) != 11 || got[10].Body != "new one" {
		t.Fatalf("after an added comment: %d comments", len(got))
	}
	if !slices.Equal(held, heldCopy) || cap(held) != len(held) {
		t.Error("the hub's append changed a page a reader holds")
	}
	if n := st.queries.Load(); n != 1 {
		t.Errorf("%d queries, want 1: an added comment needs no query", n)
	}

	if err := st.SetHidden(context.Background(), c.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	c.Hidden = true
	th.Apply(data.Event{Kind: data.CommentChanged, Comment: c})
	if got := readAll(t, th); len(got) != 10 {
		t.Errorf("after hiding: %d comments, want 10", len(got))
	}
	if n := st.queries.Load(); n != 2 {
		t.Errorf("%d queries, want 2: a hidden comment is read afresh", n)
	}
}

// A post with more comments than are kept: pages past them go to the store.
func TestSharedThreadsPastTheCap(t *testing.T) {
	st := &countingStore{Store: sqliteWith(t, data.MaxPageSize+30)}
	th := threads.New(st, 0)
	want := readAll(t, st.Store)
	if got := readAll(t, th); !slices.Equal(got, want) {
		t.Fatalf("got %d comments, want %d", len(got), len(want))
	}
	c := add(t, st, "after the cap")
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: c})
	if got := readAll(t, th); len(got) != len(want)+1 || got[len(got)-1].ID != c.ID {
		t.Errorf("after a new comment: %d comments", len(got))
	}
}

// Writers storing comments at once can have them announced out of order:
// the later-announced one goes in its place, with no query, and a page a
// reader holds is not touched.
func TestSharedThreadsTakeCommentsOutOfOrder(t *testing.T) {
	st := &countingStore{Store: sqliteWith(t, 5)}
	th := threads.New(st, 0)
	held, err := th.Comments(context.Background(), "p", data.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	heldCopy := slices.Clone(held)
	first, second := add(t, st, "stored first"), add(t, st, "stored second")
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: second})
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: first})
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: first}) // announced twice
	got := readAll(t, th)
	if len(got) != 7 || got[5].ID != first.ID || got[6].ID != second.ID {
		t.Fatalf("after comments announced out of order: %v", got)
	}
	if n := st.queries.Load(); n != 1 {
		t.Errorf("%d queries, want 1", n)
	}
	if !slices.Equal(held, heldCopy) {
		t.Error("a page a reader holds was changed")
	}
}

// gatedStore holds every comments query until the gate opens.
type gatedStore struct {
	*countingStore
	gate chan struct{}
}

func (g gatedStore) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	<-g.gate
	return g.countingStore.Comments(ctx, slug, opt)
}

// Readers who all miss a post (after a Resync, or while a burst keeps
// every query racing an event) wait for one query instead of each sending
// their own: ten thousand of them once filled the database pool.
func TestSharedThreadsLoadAPostOnceForEveryone(t *testing.T) {
	st := gatedStore{&countingStore{Store: sqliteWith(t, 5)}, make(chan struct{})}
	th := threads.New(st, 0)
	const readers = 20
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			if page, err := th.Comments(context.Background(), "p", data.ListOptions{}); err != nil || len(page) != 5 {
				t.Errorf("a reader got %d comments, %v", len(page), err)
			}
		})
	}
	// Every reader is waiting: one at the gate, the rest on its query.
	waitUntil(t, inComments(readers))
	close(st.gate)
	wg.Wait()
	if n := st.queries.Load(); n != 1 {
		t.Errorf("%d readers sent %d queries, want 1", readers, n)
	}
}

// inComments reports whether n goroutines are inside Shared.Comments
// (waiting at the gate or on another reader's query).
func inComments(n int) func() bool {
	return func() bool {
		buf := make([]byte, 1<<20)
		got := 0
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "threads.(*Shared).Comments") {
				got++
			}
		}
		return got == n
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		runtime.Gosched()
	}
}

// At the cap, a comment announced out of order belongs among the comments
// kept, which have no room: the thread is read afresh, and no reader
// misses it.
func TestSharedThreadsOutOfOrderAtTheCap(t *testing.T) {
	st := &countingStore{Store: sqliteWith(t, data.MaxPageSize-1)}
	th := threads.New(st, 0)
	if _, err := th.Comments(context.Background(), "p", data.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	first, second := add(t, st, "stored first"), add(t, st, "stored second")
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: second})
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: first})
	got := readAll(t, th)
	if len(got) != data.MaxPageSize+1 || got[len(got)-2].ID != first.ID || got[len(got)-1].ID != second.ID {
		t.Fatalf("%d comments, the last two %v", len(got), got[len(got)-2:])
	}
}

// A reader who comes after an event does not share a query that started
// before it: it would get the page as it was (a comment just hidden, or
// one just added missing) and keep it.
func TestSharedThreadsDoNotShareAQueryAcrossAnEvent(t *testing.T) {
	st := gatedStore{&countingStore{Store: sqliteWith(t, 5)}, make(chan struct{})}
	th := threads.New(st, 0)
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = th.Comments(context.Background(), "p", data.ListOptions{}) })
	waitUntil(t, inComments(1))
	c := add(t, st, "posted while the first query runs")
	th.Apply(data.Event{Kind: data.CommentAdded, Comment: c})
	var late []data.Comment
	wg.Go(func() { late, _ = th.Comments(context.Background(), "p", data.ListOptions{}) })
	waitUntil(t, inComments(2))
	close(st.gate)
	wg.Wait()
	if n := st.queries.Load(); n != 2 || len(late) != 6 {
		t.Errorf("%d queries, the late reader got %d comments; want 2 queries and 6", n, len(late))
	}
}
