package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/data/sqlite"
	"blog/jobs"
)

// jobsBackends open n stores on one database: the replicas of a deployment.
// SQLite has a single process by design, so its replicas share one store.
var jobsBackends = []struct {
	name string
	open func(t *testing.T, n int, opt data.Options) []data.Store
}{
	{"sqlite", func(t *testing.T, n int, opt data.Options) []data.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out := make([]data.Store, n)
		for i := range out {
			out[i] = st
		}
		return out
	}},
	{"postgres", func(t *testing.T, n int, opt data.Options) []data.Store {
		url := pgtest.NewDatabase(t)
		out := make([]data.Store, n)
		for i := range out {
			st, err := postgres.Open(context.Background(), url, opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			out[i] = st
		}
		return out
	}},
}

// countingStore counts reset attempts and resets, and when each reset ran.
type countingStore struct {
	data.Store
	attempts atomic.Int32
	mu       sync.Mutex
	resets   []time.Time
}

func (s *countingStore) TryLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	if name == "reset" {
		s.attempts.Add(1)
	}
	return s.Store.TryLock(ctx, name, fn)
}

func (s *countingStore) Reset(ctx context.Context) error {
	s.mu.Lock()
	s.resets = append(s.resets, time.Now())
	s.mu.Unlock()
	return s.Store.Reset(ctx)
}

func jobsOptions() data.Options {
	return data.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func jobsComment(t *testing.T, st data.Store, key string) data.Comment {
	t.Helper()
	c, err := st.AddComment(context.Background(), data.NewComment{
		PostSlug: "welcome", Body: "hello from " + key, Author: data.Author{KeyFingerprint: key, IP: "192.0.2.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jobsAll(t *testing.T, st data.Store) []data.Comment {
	t.Helper()
	cs, err := st.AllComments(context.Background(), data.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestJobsResetOncePerTick runs the reset job on two replicas for two
// one-second ticks: each tick both try, exactly one resets, on the second.
// It waits for the attempts rather than for a fixed time.
func TestJobsResetOncePerTick(t *testing.T) {
	for _, b := range jobsBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			stores := b.open(t, 2, jobsOptions())
			jobsComment(t, stores[0], "SHA256:before")

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			replicas := make([]*countingStore, len(stores))
			for i, st := range stores {
				replicas[i] = &countingStore{Store: st}
				wg.Go(func() {
					jobs.Run(ctx, replicas[i], jobs.Config{ResetEvery: time.Second}, slog.New(slog.NewTextHandler(t.Output(), nil)))
				})
			}
			attempts := func() (n int32) {
				for _, r := range replicas {
					n += r.attempts.Load()
				}
				return n
			}
			resetsDone := func() (n int) {
				for _, r := range replicas {
					r.mu.Lock()
					n += len(r.resets)
					r.mu.Unlock()
				}
				return n
			}
			// Two ticks: both replicas try at each, one resets. Awaited, not
			// timed, so a loaded machine only makes it slower.
			for deadline := time.Now().Add(15 * time.Second); attempts() < 4 || resetsDone() < 2; {
				if time.Now().After(deadline) {
					t.Fatalf("%d lock attempts and %d resets in 15s, want 4 and 2 (two replicas, two ticks)", attempts(), resetsDone())
				}
				time.Sleep(5 * time.Millisecond) // polling interval
			}
			cancel()
			wg.Wait()

			var resets []time.Time
			for _, r := range replicas {
				resets = append(resets, r.resets...)
			}
			slices.SortFunc(resets, time.Time.Compare)
			ticks := map[time.Time]int{}
			for _, at := range resets {
				ticks[at.Truncate(time.Second)]++
			}
			if n := attempts(); len(resets) < 2 || len(ticks) != len(resets) || int32(len(resets)) > (n+1)/2 {
				t.Fatalf("%d lock attempts, resets at %v; want one reset a tick, for at least two ticks", n, resets)
			}
			for _, at := range resets {
				if off := at.Sub(at.Truncate(time.Second)); off > 500*time.Millisecond {
					t.Errorf("reset at %s: %s after the whole second, want aligned", at.Format(time.StampMilli), off)
				}
			}
			if cs := jobsAll(t, stores[1]); len(cs) != 0 {
				t.Errorf("after the reset, %d comments are left", len(cs))
			}
		})
	}
}

// TestJobsRetain deletes comments older than Retain and keeps the rest.
func TestJobsRetain(t *testing.T) {
	for _, b := range jobsBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var offset atomic.Int64 // the store's clock, relative to now
			opt := jobsOptions()
			opt.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			st := b.open(t, 1, opt)[0]
			offset.Store(int64(-2 * time.Hour))
			jobsComment(t, st, "SHA256:old")
			offset.Store(0)
			fresh := jobsComment(t, st, "SHA256:fresh")

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				jobs.Run(ctx, st, jobs.Config{Retain: time.Hour}, slog.New(slog.NewTextHandler(t.Output(), nil)))
			}()
			defer func() { cancel(); <-done }()

			deadline := time.Now().Add(10 * time.Second)
			for {
				cs := jobsAll(t, st)
				if len(cs) == 1 && cs[0].ID == fresh.ID {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("comments left: %+v; want only the fresh one (%d)", cs, fresh.ID)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
