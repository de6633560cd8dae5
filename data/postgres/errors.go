package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"blog/data"

	"github.com/jackc/pgx/v5/pgconn"
)

// markUnavailable marks errors that mean "the database cannot be reached
// or is going away" with data.ErrUnavailable, so callers can tell them from
// bad input.
func markUnavailable(err error) error {
	if err == nil || errors.Is(err, data.ErrUnavailable) || !unavailable(err) {
		return err
	}
	// Both are wrapped, so errors.As still reaches the driver's error.
	return fmt.Errorf("%w: %w", data.ErrUnavailable, err)
}

func unavailable(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
		pgErr      *pgconn.PgError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-57P03: the server is shutting
		// down or starting; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	return false
}
