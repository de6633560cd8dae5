package postgres_test

import (
	"context"
	"errors"
	"fmt"
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
	storetest.Run(t, func(t *testing.T, opt data.Options) data.Store {
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

// unlimited lets benchmarks write as fast as they can.
func unlimited() data.Options {
	lots := data.RateLimit{Count: 1 << 30, Window: 1}
	return data.Options{Limits: data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots}}
}

func BenchmarkAddComment(b *testing.B) {
	s := open(b, pgtest.NewDatabase(b), unlimited())
	nc := data.NewComment{PostSlug: "p", Name: "Bench", Body: "A comment of ordinary length, say a sentence or two.",
		Author: data.Author{KeyFingerprint: "SHA256:bench", IP: "192.0.2.1"}}
	for b.Loop() {
		if _, err := s.AddComment(b.Context(), nc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComments(b *testing.B) {
	s := open(b, pgtest.NewDatabase(b), unlimited())
	var middle int64
	for i := range 1000 {
		nc := data.NewComment{PostSlug: "p", Body: fmt.Sprint("comment ", i),
			Author: data.Author{KeyFingerprint: "SHA256:bench"}}
		c, err := s.AddComment(b.Context(), nc)
		if err != nil {
			b.Fatal(err)
		}
		if i == 500 {
			middle = c.ID
		}
	}
	for b.Loop() {
		cs, err := s.Comments(b.Context(), "p", data.ListOptions{AfterID: middle, Limit: 50})
		if err != nil || len(cs) != 50 {
			b.Fatal(len(cs), err)
		}
	}
}
