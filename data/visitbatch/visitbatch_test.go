package visitbatch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/data/sqlite"
	"blog/internal/syncbuf"

	"github.com/jackc/pgx/v5"
)

// These tests run the batcher against the real stores: SQLite always,
// Postgres when BLOG_TEST_DATABASE_URL names a server.

// counted is a real store that counts the write calls the batcher makes,
// so a test can tell how many transactions its marks took.
type counted struct {
	data.Store
	batches, marks, single atomic.Int64
	mu                     sync.Mutex
	sent                   [][]data.KeyedVisit // each batch, in order
}

func (c *counted) MarkVisits(ctx context.Context, ms []data.KeyedVisit) error {
	c.batches.Add(1)
	c.marks.Add(int64(len(ms)))
	c.mu.Lock()
	c.sent = append(c.sent, slices.Clone(ms))
	c.mu.Unlock()
	return c.Store.MarkVisits(ctx, ms)
}

func (c *counted) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	c.single.Add(1)
	return c.Store.MarkVisit(ctx, key, v)
}

// backend is one real store to run a test on, with ways to make its
// writes fail (outage) or wait (block) until restore is called.
type backend struct {
	name string
	open func(t *testing.T, log *slog.Logger) (st data.Store, outage, block func(t *testing.T) (restore func()))
}

var backends = []backend{
	{"SQLite", openSQLite},
	{"Postgres", openPostgres},
}

// forEach runs fn once per back end, as subtests.
func forEach(t *testing.T, fn func(t *testing.T, be backend)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, be)
		})
	}
}

func openSQLite(t *testing.T, log *slog.Logger) (data.Store, func(*testing.T) func(), func(*testing.T) func()) {
	path := filepath.Join(t.TempDir(), "blog.db")
	st, err := sqlite.Open(context.Background(), path, data.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// An outage on SQLite is another connection holding the write lock:
	// the store's writes wait for it and give up when their time is up,
	// so it also blocks them.
	outage := func(t *testing.T) func() {
		db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		restore := func() {
			once.Do(func() {
				if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
					t.Error(err)
				}
				conn.Close()
				db.Close()
			})
		}
		t.Cleanup(restore)
		return restore
	}
	return st, outage, outage
}

func openPostgres(t *testing.T, log *slog.Logger) (data.Store, func(*testing.T) func(), func(*testing.T) func()) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, url, data.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	outage := func(t *testing.T) func() { return pgtest.Outage(t, url) }
	// Blocking is another session holding a lock on the table.
	block := func(t *testing.T) func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(context.Background(), "LOCK TABLE visits IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		restore := func() {
			once.Do(func() {
				if err := tx.Rollback(context.Background()); err != nil {
					t.Error(err)
				}
				conn.Close(context.Background())
			})
		}
		t.Cleanup(restore)
		return restore
	}
	return st, outage, block
}

// setup opens a store on be and a batcher over it. When the test ends,
// no key may be in the logs.
func setup(t *testing.T, be backend, cfg Config) (*Batcher, *counted, func(*testing.T) func(), *syncbuf.Buffer) {
	b, c, outage, _, l := setupBlocking(t, be, cfg)
	return b, c, outage, l
}

// setupBlocking is setup, with the way to block the store's writes too.
func setupBlocking(t *testing.T, be backend, cfg Config) (*Batcher, *counted, func(*testing.T) func(), func(*testing.T) func(), *syncbuf.Buffer) {
	t.Helper()
	l := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, outage, block := be.open(t, log)
	c := &counted{Store: st}
	cfg.Log = log
	b := New(c, cfg)
	t.Cleanup(func() {
		if s := l.String(); strings.Contains(s, "SHA256:") {
			t.Errorf("the logs name a key:\n%s", s)
		}
	})
	// Closed before the store and the look at the logs (cleanups run
	// last first), so no flusher outlives the test or writes to a closed
	// store.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Close(ctx)
	})
	return b, c, outage, block, l
}

func key(i int) string { return fmt.Sprintf("SHA256:visitor-%d", i) }

// waitUntil polls cond: the tests wait for conditions, never for time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling, not waiting for time to pass
	}
}

// stored reads key's visits from the store itself, past the batcher.
func stored(t *testing.T, st data.Visits, key string) map[string]data.Visit {
	t.Helper()
	vs, err := st.Visits(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]data.Visit{}
	for _, v := range vs {
		out[v.PostSlug] = v
	}
	return out
}

func mark(t *testing.T, b *Batcher, key, slug string, seen int64, pos int) {
	t.Helper()
	if err := b.MarkVisit(t.Context(), key, data.Visit{PostSlug: slug, SeenID: seen, Position: pos}); err != nil {
		t.Fatalf("MarkVisit: %v", err)
	}
}

// idle reports whether the flusher has ended.
func (b *Batcher) idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.running
}

// A mark reaches the store after the pause, folded with the other marks of
// its key and post, and then the flusher ends until the next mark.
func TestMarksReachTheStore(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, _ := setup(t, be, Config{Every: 20 * time.Millisecond})
		if !b.idle() {
			t.Fatal("a new batcher runs a flusher")
		}
		mark(t, b, key(1), "p", 3, 100)
		mark(t, b, key(1), "p", 2, 200) // a lower seen ID keeps the higher
		mark(t, b, key(2), "p", 1, 5)
		waitUntil(t, "the marks in the store", func() bool {
			return len(stored(t, st, key(1))) == 1 && len(stored(t, st, key(2))) == 1
		})
		if v := stored(t, st, key(1))["p"]; v.SeenID != 3 || v.Position != 200 {
			t.Errorf("stored %+v, want seen 3 and the last position, 200", v)
		}
		waitUntil(t, "the flusher to end", b.idle)
		// The first two marks fold unless a flush (Every is short, the
		// machine may be slow) takes the first before the second comes.
		if s := b.Stats(); s.Queued != 3 || s.Flushed != uint64(st.marks.Load()) || s.Flushed < 2 || s.Flushed > 3 || s.Pending != 0 || s.WrittenThrough != 0 {
			t.Errorf("stats = %+v with %d marks sent, want 3 queued, 2 or 3 flushed as sent, none pending or written through", s, st.marks.Load())
		}
		// The next mark starts a flusher again.
		mark(t, b, key(1), "q", 0, 0)
		waitUntil(t, "the next mark in the store", func() bool { return len(stored(t, st, key(1))) == 2 })
	})
}

// Marks of many sessions at once take few transactions: one per FlushAt
// marks, however many goroutines make them.
func TestManyMarksFewTransactions(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		const sessions, posts, flushAt = 50, 20, 250
		b, st, _, _ := setup(t, be, Config{Every: time.Hour, FlushAt: flushAt})
		var wg sync.WaitGroup
		for i := range sessions {
			wg.Go(func() {
				for p := range posts {
					// Each post opened, then left further down.
					for _, pos := range []int{0, 10 * (p + 1)} {
						if err := b.MarkVisit(context.Background(), key(i), data.Visit{PostSlug: fmt.Sprint("post-", p), SeenID: int64(p), Position: pos}); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		wg.Wait()
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		made := int64(sessions * posts * 2)
		batches := st.batches.Load()
		if max := made/2/flushAt + 1; batches > max || batches < 1 {
			t.Errorf("%d marks took %d transactions, want at most %d", made, batches, max)
		}
		// A post left while its opening was being written is written twice.
		if s := b.Stats(); s.Flushes != uint64(batches) || s.Queued != uint64(made) || s.Flushed < uint64(made/2) || s.Flushed != uint64(st.marks.Load()) || st.single.Load() != 0 {
			t.Errorf("stats = %+v after %d transactions, %d single writes", s, batches, st.single.Load())
		}
		for i := range sessions {
			got := stored(t, st, key(i))
			if len(got) != posts || got["post-3"].Position != 40 || got["post-3"].SeenID != 3 {
				t.Fatalf("session %d: stored %d visits, post-3 = %+v", i, len(got), got["post-3"])
			}
		}
		t.Logf("%d marks, %d transactions", made, batches)
	})
}

// A flush writes at most FlushAt marks, the oldest first, and the rest
// follow in the next flushes at once, without waiting out Every; a read
// of a key whose marks were left for a later flush waits for them.
func TestFlushesTakeAtMostFlushAt(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, block, _ := setupBlocking(t, be, Config{Every: time.Hour, FlushAt: 3, Timeout: 30 * time.Second})
		// The first flush starts at the third mark and its write waits
		// until the seven are queued.
		restore := block(t)
		for i := range 7 {
			mark(t, b, key(i), "p", 0, i)
		}
		restore()
		waitUntil(t, "the queue written", func() bool { s := b.Stats(); return s.Pending == 0 && s.Writing == 0 })
		st.mu.Lock()
		var order []int
		for _, batch := range st.sent {
			if len(batch) > 3 {
				t.Errorf("a flush wrote %d marks, past FlushAt", len(batch))
			}
			for _, m := range batch {
				order = append(order, m.Position)
			}
		}
		if !slices.Equal(order, []int{0, 1, 2, 3, 4, 5, 6}) || len(st.sent) != 3 {
			t.Errorf("flushes wrote positions %v in %d batches, want 0 to 6 in 3, oldest first", order, len(st.sent))
		}
		st.mu.Unlock()

		// A read of the newest mark's key waits past the flushes that
		// leave it behind.
		restore = block(t)
		for i := range 7 {
			mark(t, b, key(10+i), "p", 0, i)
		}
		read := make(chan error, 1)
		go func() {
			vs, err := b.Visits(context.Background(), key(16))
			if err == nil && (len(vs) != 1 || vs[0].Position != 6) {
				err = fmt.Errorf("read %+v, want the queued mark", vs)
			}
			read <- err
		}()
		waitUntil(t, "the read to wait", func() bool { return b.waits.Load() == 1 })
		restore()
		if err := <-read; err != nil {
			t.Fatal(err)
		}
	})
}

// A key's reads see its queued marks, with the new-comment counts the
// store computes, and forgetting takes them too.
func TestReadYourWrites(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, _ := setup(t, be, Config{Every: time.Hour})
		writer := data.Author{KeyFingerprint: "SHA256:writer", IP: "192.0.2.1"}
		var ids []int64
		for _, body := range []string{"one", "two", "three"} {
			c, err := st.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: body, Author: writer})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		mark(t, b, key(1), "p", ids[0], 4321)
		mark(t, b, key(2), "p", ids[2], 0)
		if got := stored(t, st, key(1)); len(got) != 0 {
			t.Fatalf("written before any flush: %+v", got)
		}
		vs, err := b.Visits(t.Context(), key(1))
		if err != nil || len(vs) != 1 {
			t.Fatalf("Visits = %+v, %v", vs, err)
		}
		if v := vs[0]; v.SeenID != ids[0] || v.Position != 4321 || v.New != 2 {
			t.Errorf("read back %+v, want seen %d, position 4321, 2 new", v, ids[0])
		}
		// A key with nothing queued is read without a flush.
		flushes := b.Stats().Flushes
		if vs, err := b.Visits(t.Context(), key(3)); err != nil || len(vs) != 0 {
			t.Fatalf("Visits of a key without visits = %+v, %v", vs, err)
		}
		if b.Stats().Flushes != flushes {
			t.Error("reading a key with nothing queued flushed")
		}
		// Forget counts and takes the queued marks too: nothing comes back.
		mark(t, b, key(1), "q", 0, 0)
		if n, err := b.ForgetVisits(t.Context(), key(1)); err != nil || n != 2 {
			t.Fatalf("ForgetVisits = %d, %v; want 2", n, err)
		}
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := stored(t, st, key(1)); len(got) != 0 {
			t.Fatalf("visits back after forget: %+v", got)
		}
		if got := stored(t, st, key(2)); len(got) != 1 {
			t.Fatalf("another key's mark: %+v", got)
		}
	})
}

// Close writes what is queued, and marks after it are written at once.
func TestCloseFlushes(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, _ := setup(t, be, Config{Every: time.Hour})
		for i := range 5 {
			mark(t, b, key(i), "p", 1, 10)
		}
		if got := stored(t, st, key(0)); len(got) != 0 {
			t.Fatalf("written before Close: %+v", got)
		}
		if err := b.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if got := stored(t, st, key(i)); got["p"].Position != 10 {
				t.Fatalf("key %d after Close: %+v", i, got)
			}
		}
		mark(t, b, key(9), "p", 1, 20)
		if got := stored(t, st, key(9)); got["p"].Position != 20 {
			t.Fatalf("a mark after Close is not written at once: %+v", got)
		}
		if s := b.Stats(); s.Flushes != 1 || s.WrittenThrough != 1 || s.Dropped != 0 {
			t.Errorf("stats = %+v, want one flush, one written through", s)
		}
	})
}

// Past MaxPending marks held, a mark of a new key and post is written by
// its caller; one of a queued post still folds into the queue.
func TestCountBound(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, _ := setup(t, be, Config{Every: time.Hour, MaxPending: 3})
		for i := range 3 {
			mark(t, b, key(i), "p", 0, 1)
		}
		mark(t, b, key(1), "p", 0, 2) // folds
		if s := b.Stats(); s.Pending != 3 || s.WrittenThrough != 0 {
			t.Fatalf("stats = %+v, want 3 pending", s)
		}
		mark(t, b, key(3), "p", 0, 3) // the queue is full
		if got := stored(t, st, key(3)); got["p"].Position != 3 {
			t.Fatalf("the mark past the bound is not in the store: %+v", got)
		}
		if s := b.Stats(); s.Pending != 3 || s.WrittenThrough != 1 || st.single.Load() != 1 {
			t.Fatalf("stats = %+v, want 3 pending, 1 written through", s)
		}
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := stored(t, st, key(1)); got["p"].Position != 2 {
			t.Fatalf("folded mark: %+v", got)
		}
		mark(t, b, key(4), "p", 0, 1) // room again
		if s := b.Stats(); s.Pending != 1 || s.WrittenThrough != 1 {
			t.Fatalf("stats after the flush = %+v", s)
		}
	})
}

// With the queue full, a mark of a post whose last mark is being written
// waits for that write instead of overtaking it with an older position
// landing after.
func TestFullWaitsForThePostBeingWritten(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, block, _ := setupBlocking(t, be, Config{Every: time.Hour, MaxPending: 2, Timeout: time.Minute})
		mark(t, b, key(1), "p", 0, 1)
		mark(t, b, key(2), "p", 0, 1)
		restore := block(t)
		flushed := make(chan error, 1)
		go func() { flushed <- b.Flush(context.Background()) }()
		waitUntil(t, "the flush to take the queue", func() bool { return b.Stats().Writing == 2 })
		marked := make(chan error, 1)
		go func() {
			marked <- b.MarkVisit(context.Background(), key(1), data.Visit{PostSlug: "p", Position: 2})
		}()
		waitUntil(t, "the mark to wait for the flush", func() bool { return b.waits.Load() == 1 })
		restore()
		if err := <-flushed; err != nil {
			t.Fatalf("Flush = %v", err)
		}
		if err := <-marked; err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the waiting mark to land", func() bool {
			if err := b.Flush(t.Context()); err != nil {
				return false
			}
			return stored(t, st, key(1))["p"].Position == 2
		})
	})
}

// A flush that fails is tried again, with the marks made meanwhile, and
// nothing of it names a key in the logs.
func TestFailedFlushIsRetried(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, outage, l := setup(t, be, Config{Every: 10 * time.Millisecond, Timeout: 300 * time.Millisecond})
		restore := outage(t)
		mark(t, b, key(1), "p", 5, 100)
		waitUntil(t, "a failed flush", func() bool { return b.Stats().Failures >= 1 })
		mark(t, b, key(1), "p", 4, 200)
		mark(t, b, key(2), "p", 1, 1)
		restore()
		waitUntil(t, "the marks in the store", func() bool {
			v := stored(t, st, key(1))["p"]
			return v.SeenID == 5 && v.Position == 200 && len(stored(t, st, key(2))) == 1
		})
		if s := b.Stats(); s.Dropped != 0 {
			t.Errorf("stats = %+v, want nothing dropped", s)
		}
		if !strings.Contains(l.String(), "visit marks not written") {
			t.Errorf("the failure was not logged:\n%s", l.String())
		}
	})
}

// While flushes fail, a key's read waits for the next try rather than
// hurrying one, so sessions opening during an outage do not each send the
// failing database a flush; once the store is back, the read gets its marks.
func TestReadsDoNotHurryFailingFlushes(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, _, outage, _ := setup(t, be, Config{Every: time.Hour, Timeout: 300 * time.Millisecond})
		restore := outage(t)
		mark(t, b, key(1), "p", 1, 7)
		if err := b.Flush(t.Context()); err == nil {
			t.Fatal("Flush during the outage answered no error")
		}
		for range 3 {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			if _, err := b.Visits(ctx, key(1)); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Visits during the outage = %v, want it to wait for the next try", err)
			}
			cancel()
		}
		if s := b.Stats(); s.Failures != 1 || s.Dropped != 0 || s.Pending != 1 {
			t.Fatalf("stats = %+v, want one failure and the mark still queued", s)
		}
		restore()
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		vs, err := b.Visits(t.Context(), key(1))
		if err != nil || len(vs) != 1 || vs[0].Position != 7 {
			t.Fatalf("Visits after the outage = %+v, %v", vs, err)
		}
	})
}

// However many flushes fail, no mark is given up while the process runs:
// once the store is back, it is written.
func TestOutagesLoseNoMark(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, outage, _ := setup(t, be, Config{Every: 5 * time.Millisecond, Timeout: 200 * time.Millisecond})
		restore := outage(t)
		mark(t, b, key(1), "p", 1, 9)
		waitUntil(t, "four failed flushes", func() bool { return b.Stats().Failures >= 4 })
		if s := b.Stats(); s.Dropped != 0 || s.Pending+s.Writing != 1 {
			t.Fatalf("stats = %+v during the outage, want the mark held and nothing dropped", s)
		}
		restore()
		waitUntil(t, "the mark in the store", func() bool { return stored(t, st, key(1))["p"].Position == 9 })
		if s := b.Stats(); s.Dropped != 0 {
			t.Errorf("stats = %+v, want nothing dropped", s)
		}
	})
}

// Close gives up what it cannot write before its context ends, counts it
// as dropped and logs it, by count. The store's writes hang rather than
// fail, so the flusher cannot settle anything before Close does.
func TestCloseCountsAndLogsWhatItGivesUp(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, _, _, block, l := setupBlocking(t, be, Config{Every: 5 * time.Millisecond, Timeout: 200 * time.Millisecond})
		block(t)
		mark(t, b, key(1), "p", 1, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if err := b.Close(ctx); err == nil {
			t.Fatal("Close with the store's writes hanging answered no error")
		}
		waitUntil(t, "the mark counted as dropped", func() bool { return b.Stats().Dropped == 1 })
		if s := b.Stats(); s.Pending != 0 || s.Writing != 0 || s.Flushes != 0 {
			t.Errorf("stats = %+v, want nothing held or written", s)
		}
		waitUntil(t, "the drop logged", func() bool {
			return strings.Contains(l.String(), "not written at shutdown") && strings.Contains(l.String(), "marks=1")
		})
	})
}

// isClosed reports whether Close has ended, marks being written through.
func (b *Batcher) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// When Close's time runs out while a flush is under way, a mark of a post
// in that flush waits for it instead of being written through and then
// overtaken by the older mark, and Close waits for the flush too, so the
// store is not closed under it.
func TestCloseTimeoutDoesNotLetOlderMarksWin(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, block, _ := setupBlocking(t, be, Config{Every: 5 * time.Millisecond, Timeout: 4 * time.Second})
		restore := block(t)
		mark(t, b, key(1), "p", 0, 1)
		waitUntil(t, "the flush to take the mark", func() bool { return b.Stats().Writing == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		closed := make(chan error, 1)
		go func() { closed <- b.Close(ctx) }()
		waitUntil(t, "Close to give up waiting", b.isClosed)
		select {
		case err := <-closed:
			t.Fatalf("Close = %v before the flush under way ended", err)
		default:
		}
		marked := make(chan error, 1)
		go func() {
			marked <- b.MarkVisit(context.Background(), key(1), data.Visit{PostSlug: "p", Position: 2})
		}()
		waitUntil(t, "the mark to wait for the flush", func() bool { return b.waits.Load() == 1 })
		restore()
		if err := <-closed; err != nil {
			t.Errorf("Close = %v, though the flush under way wrote its mark", err)
		}
		if err := <-marked; err != nil {
			t.Fatal(err)
		}
		if v := stored(t, st, key(1))["p"]; v.Position != 2 {
			t.Errorf("stored %+v, want the later mark's position, 2", v)
		}
		if s := b.Stats(); s.Dropped != 0 || s.WrittenThrough != 1 || s.Flushes != 1 {
			t.Errorf("stats = %+v, want one flush, one mark written through, none dropped", s)
		}
	})
}

// A read waiting for marks that Close then gives up hears of it, instead
// of waiting until its own context ends or hearing they were written.
func TestReadsHearOfMarksGivenUp(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, _, _, block, _ := setupBlocking(t, be, Config{Every: time.Hour, Timeout: 4 * time.Second})
		restore := block(t)
		mark(t, b, key(1), "p", 0, 1)
		go b.Flush(context.Background())
		waitUntil(t, "the flush to take the mark", func() bool { return b.Stats().Writing == 1 })
		mark(t, b, key(1), "p", 0, 2) // queued behind the flush
		read := make(chan error, 1)
		go func() {
			_, err := b.Visits(context.Background(), key(1))
			read <- err
		}()
		waitUntil(t, "the read to wait for the queued mark", func() bool { return b.waits.Load() == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		closed := make(chan error, 1)
		go func() { closed <- b.Close(ctx) }()
		waitUntil(t, "Close to give up waiting", b.isClosed)
		if err := <-read; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Visits = %v, want Close's give-up", err)
		}
		restore()
		if err := <-closed; err == nil {
			t.Error("Close answered no error, having given a mark up")
		}
		if s := b.Stats(); s.Dropped != 1 {
			t.Errorf("stats = %+v, want the queued mark dropped", s)
		}
	})
}

// Sessions marking, reading and forgetting at once, with flushes running:
// each key ends with its last marks, and the race detector sees no race.
func TestConcurrentUse(t *testing.T) {
	forEach(t, func(t *testing.T, be backend) {
		b, st, _, _ := setup(t, be, Config{Every: time.Millisecond, FlushAt: 7})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ctx := context.Background()
				for n := range 40 {
					if err := b.MarkVisit(ctx, key(i), data.Visit{PostSlug: fmt.Sprint("post-", n%5), SeenID: int64(n), Position: n}); err != nil {
						t.Error(err)
					}
					if n%10 == 0 {
						if _, err := b.Visits(ctx, key(i)); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		wg.Go(func() {
			for range 5 {
				if _, err := b.ForgetVisits(context.Background(), key(99)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
		if err := b.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		for i := range 8 {
			got := stored(t, st, key(i))
			for p := range 5 {
				if v := got[fmt.Sprint("post-", p)]; v.Position != 35+p || v.SeenID != int64(35+p) {
					t.Fatalf("key %d post-%d = %+v, want its last mark, %d", i, p, v, 35+p)
				}
			}
		}
	})
}

// A mark the store would refuse is refused at once, and never queued.
func TestRefusedMarks(t *testing.T) {
	b, _, _, _ := setup(t, backends[0], Config{Every: time.Hour})
	if err := b.MarkVisit(t.Context(), "", data.Visit{PostSlug: "p"}); !errors.Is(err, data.ErrKeyRequired) {
		t.Errorf("keyless MarkVisit = %v", err)
	}
	var inv *data.InvalidError
	if err := b.MarkVisit(t.Context(), key(1), data.Visit{}); !errors.As(err, &inv) {
		t.Errorf("MarkVisit without a post = %v", err)
	}
	if s := b.Stats(); s.Pending != 0 || s.Queued != 0 || !b.idle() {
		t.Errorf("refused marks were queued: %+v", s)
	}
}
