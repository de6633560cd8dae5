package postgres

import (
	"errors"
	"fmt"
	"testing"

	"blog/data"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestMarkUnavailable(t *testing.T) {
	tests := []struct {
		code        string
		unavailable bool
	}{
		{"57P01", true},  // admin shutdown: the connection was terminated
		{"57P03", true},  // the server is starting
		{"53300", true},  // too many connections
		{"08006", true},  // connection failure
		{"23505", false}, // a unique violation is the query's, not an outage
		{"42601", false}, // a syntax error likewise
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			driver := &pgconn.PgError{Code: tc.code}
			err := markUnavailable(fmt.Errorf("query: %w", driver))
			if got := errors.Is(err, data.ErrUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.unavailable)
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr != driver {
				t.Errorf("errors.As(%v) does not reach the driver's *pgconn.PgError", err)
			}
		})
	}
	if markUnavailable(nil) != nil {
		t.Error("markUnavailable(nil) is not nil")
	}
	once := markUnavailable(&pgconn.PgError{Code: "57P01"})
	if twice := markUnavailable(once); twice != once {
		t.Errorf("marked twice: %v", twice)
	}
}
