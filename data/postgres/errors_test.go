package postgres_test

import (
	"errors"
	"testing"

	"blog/data"
	"blog/data/postgres/pgtest"

	"github.com/jackc/pgx/v5/pgconn"
)

// While the database refuses connections, every call is unavailable, and
// the server's own error (the dropped connection, the refused one) is
// still there to inspect.
func TestOutageIsUnavailableAndKeepsTheDriverError(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, data.Options{MaxConns: 1})
	pgtest.Outage(t, url)
	// The first call may find its pooled connection already closed (an
	// EOF, no server error); the next one dials and is refused by the
	// server. A few calls are enough.
	var pgErr *pgconn.PgError
	for i := 0; i < 5 && pgErr == nil; i++ {
		_, err := s.Comments(t.Context(), "p", data.ListOptions{})
		if !errors.Is(err, data.ErrUnavailable) {
			t.Fatalf("Comments during an outage = %v, want ErrUnavailable", err)
		}
		errors.As(err, &pgErr)
	}
	if pgErr == nil {
		t.Fatal("no call during the outage reached the server's *pgconn.PgError")
	}
	if pgErr.Code != "57P01" && pgErr.Code != "55000" {
		t.Fatalf("server error %s %q, want 57P01 (terminated) or 55000 (not accepting connections)", pgErr.Code, pgErr.Message)
	}
}
