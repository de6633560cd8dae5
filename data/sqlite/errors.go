package sqlite

import (
	"context"
	"errors"
	"fmt"

	"blog/data"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// markUnavailable marks errors that mean "the database cannot be used right
// now" (a lock held too long, a missing or broken file, a full disk, a
// timeout) with data.ErrUnavailable, so callers can tell them from bad input.
func markUnavailable(err error) error {
	if err == nil || !unavailable(err) {
		return err
	}
	// Both are wrapped, so errors.As still reaches the driver's error.
	return fmt.Errorf("%w: %w", data.ErrUnavailable, err)
}

func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code of an extended result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
		return true
	}
	return false
}
