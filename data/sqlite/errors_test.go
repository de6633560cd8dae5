package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"blog/data"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A write that waits out the busy timeout behind another process's lock is
// unavailable, and the driver's own error is still there to inspect.
func TestBusyIsUnavailableAndKeepsTheDriverError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blog.db")
	s := openAt(t, path, data.Options{})
	holdWriteLock(t, path)
	_, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "x", Author: data.Author{KeyFingerprint: "SHA256:k"}})
	if !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("AddComment behind a lock = %v, want ErrUnavailable", err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY {
		t.Fatalf("AddComment behind a lock = %v, want it to wrap the driver's SQLITE_BUSY", err)
	}
}

// holdWriteLock takes the database's write lock on a connection of its own,
// as another process writing would, until the test ends.
func holdWriteLock(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close() // rolls the transaction back
		db.Close()
	})
}
