package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"blog/data"
)

// A watcher that finds rows it never read pruned away tells viewers to
// reload rather than miss the changes silently.
func TestWatcherResyncsAfterPrunedRows(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "blog.db"), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := s.Events(t.Context())
	// Three changes, the first two pruned before the watcher looks: what a
	// stalled watcher would find.
	_, err = s.write.ExecContext(t.Context(), `BEGIN;
		INSERT INTO changes (kind) VALUES ('resync'), ('resync');
		INSERT INTO changes (kind, comment_id, post_slug, hidden) VALUES ('changed', 7, 'p', 1);
		DELETE FROM changes WHERE kind = 'resync';
		COMMIT`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []data.EventKind{data.Resync, data.CommentChanged} {
		select {
		case ev := <-ch:
			if ev.Kind != want {
				t.Fatalf("got %+v, want kind %v", ev, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no event of kind %v within 2s", want)
		}
	}
}

// The log keeps at most keepChanges rows.
func TestChangeLogPruned(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "blog.db"), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.write.ExecContext(t.Context(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO changes (kind) SELECT 'resync' FROM n`, keepChanges+50)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM changes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > keepChanges {
		t.Fatalf("%d change rows kept, want at most %d", n, keepChanges)
	}
}
