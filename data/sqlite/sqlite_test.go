package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"blog/data"
	"blog/data/sqlite"
	"blog/data/storetest"
)

func open(t testing.TB, opt data.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opt data.Options) data.Store { return open(t, opt) })
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blog.db")
	s, err := sqlite.Open(t.Context(), path, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "kept",
		Author: data.Author{KeyFingerprint: "SHA256:k"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(t.Context(), path, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Comments(t.Context(), "p", data.ListOptions{})
	if err != nil || len(got) != 1 || got[0].ID != c.ID {
		t.Fatalf("after reopen: %v, %v", got, err)
	}
}

func TestOpenRefusesBadPath(t *testing.T) {
	for _, path := range []string{"", ":memory:", "x.db?mode=ro", filepath.Join(t.TempDir(), "missing", "dir", "blog.db")} {
		if s, err := sqlite.Open(t.Context(), path, data.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// unlimited lets benchmarks write as fast as they can.
func unlimited() data.Options {
	lots := data.RateLimit{Count: 1 << 30, Window: 1}
	return data.Options{Limits: data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots}}
}

func BenchmarkAddComment(b *testing.B) {
	s := open(b, unlimited())
	nc := data.NewComment{PostSlug: "p", Name: "Bench", Body: "A comment of ordinary length, say a sentence or two.",
		Author: data.Author{KeyFingerprint: "SHA256:bench", IP: "192.0.2.1"}}
	for b.Loop() {
		if _, err := s.AddComment(b.Context(), nc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComments(b *testing.B) {
	s := open(b, unlimited())
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
