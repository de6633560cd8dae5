package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/data/storetest"
)

func open(t testing.TB, url string, opt data.Options) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	pgtest.AdminURL(t)
	storetest.Run(t, func(t *testing.T, opt data.Options) storetest.Store {
		return open(t, pgtest.NewDatabase(t), opt)
	})
}

func TestReplicas(t *testing.T) {
	pgtest.AdminURL(t)
	storetest.RunReplicated(t, func(t *testing.T, opt data.Options) (data.Store, data.Store) {
		url := pgtest.NewDatabase(t)
		return open(t, url, opt), open(t, url, opt)
	})
}

// Replicas that start together on an empty database must not both migrate.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url, data.Options{})
			if err == nil {
				err = s.Ping(t.Context())
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

// An unreachable server fails Open promptly, as unavailable.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/blog?sslmode=disable", data.Options{})
	if !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("Open = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %v", d)
	}
}

func TestOpenBadURL(t *testing.T) {
	if _, err := postgres.Open(t.Context(), "postgres://[::1", data.Options{}); err == nil || errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("Open(bad URL) = %v, want a plain error", err)
	}
}

func BenchmarkAddComment(b *testing.B) { storetest.BenchAddComment(b, benchOpen) }

func BenchmarkComments(b *testing.B) { storetest.BenchComments(b, benchOpen) }

func BenchmarkVisitsOfNewKey(b *testing.B) { storetest.BenchVisitsOfNewKey(b, benchOpen) }

func benchOpen(b *testing.B, opt data.Options) data.Store { return open(b, pgtest.NewDatabase(b), opt) }

func TestOutboxReplicas(t *testing.T) {
	pgtest.AdminURL(t)
	storetest.RunOutboxReplicated(t, func(t *testing.T, opt data.Options) (data.Store, data.Store) {
		url := pgtest.NewDatabase(t)
		return open(t, url, opt), open(t, url, opt)
	})
}
