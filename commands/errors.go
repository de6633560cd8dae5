package commands

import (
	"context"
	"errors"
	"time"

	"blog/data"
)

// plainError words a storage error for a script's user.
func plainError(err error) string {
	var inv *data.InvalidError
	var rl *data.RateLimitError
	switch {
	case errors.As(err, &inv):
		return inv.Field + " " + inv.Reason
	case errors.As(err, &rl):
		return "too many requests; try again in " + rl.RetryAfter.Round(time.Second).String()
	case errors.Is(err, data.ErrBanned), errors.Is(err, data.ErrKeyRequired):
		return err.Error()
	case errors.Is(err, data.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "the database isn't answering; nothing was saved, please try again shortly"
	}
	return "something went wrong on our side"
}
