package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"blog/data"
	"blog/data/sqlite"
	"blog/data/storetest"
)

func open(t testing.TB, opt data.Options) *sqlite.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "blog.db"), opt)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opt data.Options) storetest.Store { return open(t, opt) })
}

// Two Stores on one file stand for two processes: a second server, or an
// operator command. Each hears the other's changes within two seconds.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T, opt data.Options) (data.Store, data.Store) {
		path := filepath.Join(t.TempDir(), "blog.db")
		first := openAt(t, path, opt)
		return first, openAt(t, path, opt)
	})
}

func openAt(t testing.TB, path string, opt data.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
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

func BenchmarkAddComment(b *testing.B) { storetest.BenchAddComment(b, benchOpen) }

func BenchmarkComments(b *testing.B) { storetest.BenchComments(b, benchOpen) }

func BenchmarkVisitsOfNewKey(b *testing.B) { storetest.BenchVisitsOfNewKey(b, benchOpen) }

func benchOpen(b *testing.B, opt data.Options) data.Store { return open(b, opt) }

// Two stores on one file stand for two processes sharing it: each has its
// own write connection, and the claims still never overlap.
func TestOutboxTwoProcesses(t *testing.T) {
	storetest.RunOutboxReplicated(t, func(t *testing.T, opt data.Options) (data.Store, data.Store) {
		path := filepath.Join(t.TempDir(), "blog.db")
		first, err := sqlite.Open(t.Context(), path, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { first.Close() })
		second, err := sqlite.Open(t.Context(), path, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { second.Close() })
		return first, second
	})
}
