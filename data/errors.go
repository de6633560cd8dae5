package data

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors the stores return. Test for them with errors.Is and errors.As, and
// turn them into words with Explain.
var (
	ErrNotFound    = errors.New("not found")
	ErrBanned      = errors.New("you are not allowed to post here")
	ErrKeyRequired = errors.New("commenting needs an SSH key")
	ErrUnavailable = errors.New("the database is unavailable")
)

// InvalidError says why an input was refused, in words for the visitor.
type InvalidError struct {
	Field  string // "comment", "name", "email"
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// RateLimitError says when the visitor may try again.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("slow down: try again in %s", e.RetryAfter.Round(time.Second))
}

// EditClosedError says a comment is too old to edit: authors may edit for
// Window after posting.
type EditClosedError struct {
	Window time.Duration
}

func (e *EditClosedError) Error() string {
	return "comments can be edited only in the first " + spell(e.Window) + " after posting"
}

// spell writes a duration as a visitor reads it: "10 minutes", else "90s".
func spell(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "minute"
	case d > time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.Round(time.Second).String()
}

// ErrorKind sorts errors by what they mean to the person who met them.
type ErrorKind int

const (
	// NoError: the call succeeded.
	NoError ErrorKind = iota
	// NotFound: what was asked for is not there (ErrNotFound).
	NotFound
	// Invalid: an input was refused (*InvalidError).
	Invalid
	// RateLimited: too many writes too fast (*RateLimitError).
	RateLimited
	// Banned: the key or the address may not write (ErrBanned).
	Banned
	// KeyRequired: the action needs an SSH key (ErrKeyRequired).
	KeyRequired
	// EditClosed: the comment is too old to edit (*EditClosedError).
	EditClosed
	// Canceled: the caller went away before the answer (context.Canceled),
	// as when a visitor disconnects.
	Canceled
	// Unavailable: the database is not answering (ErrUnavailable or a
	// deadline that passed). Trying again later may work.
	Unavailable
	// Internal: anything else, a fault on the server's side.
	Internal
)

// Meaning is what an error means to a visitor, in the two forms the blog
// speaks in, and how metrics count it.
type Meaning struct {
	Kind ErrorKind
	// Sentence is for the interface: lower case, ending in a full stop,
	// to follow words like "Couldn't post: ".
	Sentence string
	// Clause is for a script's error output: lower case, without a full
	// stop, to follow words like "blog: couldn't post: ".
	Clause string
	// Field is the refused input of an Invalid error.
	Field string
}

// Explain says what err, returned by a store, means. It is the one place
// that decides how an error is worded for visitors and counted by metrics.
func Explain(err error) Meaning {
	var inv *InvalidError
	var rl *RateLimitError
	var closed *EditClosedError
	switch {
	case err == nil:
		return Meaning{Kind: NoError}
	case errors.As(err, &inv):
		return Meaning{Kind: Invalid, Field: inv.Field,
			Sentence: "the " + inv.Field + " " + inv.Reason + ".",
			Clause:   inv.Field + " " + inv.Reason}
	case errors.As(err, &rl):
		wait := rl.RetryAfter.Round(time.Second).String()
		return Meaning{Kind: RateLimited,
			Sentence: "you're going a bit fast. Try again in " + wait + ".",
			Clause:   "too many requests; try again in " + wait}
	case errors.As(err, &closed):
		return Meaning{Kind: EditClosed,
			Sentence: closed.Error() + "; this one is older.",
			Clause:   closed.Error() + "; this one is older"}
	case errors.Is(err, ErrBanned):
		return Meaning{Kind: Banned,
			Sentence: "this key or address may not post here for now.",
			Clause:   ErrBanned.Error()}
	case errors.Is(err, ErrKeyRequired):
		return Meaning{Kind: KeyRequired,
			Sentence: "this needs an SSH key: run ssh-keygen -t ed25519, then ssh again.",
			Clause:   ErrKeyRequired.Error()}
	case errors.Is(err, ErrNotFound):
		return Meaning{Kind: NotFound,
			Sentence: "it isn't there any more.",
			Clause:   "it isn't there any more"}
	case errors.Is(err, context.Canceled):
		// Before Unavailable: a store may also mark a query it had to
		// abandon as unavailable, but the visitor leaving is what happened.
		return Meaning{Kind: Canceled,
			Sentence: "it was cancelled before it finished.",
			Clause:   "it was cancelled before it finished"}
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return Meaning{Kind: Unavailable,
			Sentence: "the database isn't answering right now.",
			Clause:   "the database isn't answering; nothing was saved, please try again shortly"}
	}
	return Meaning{Kind: Internal,
		Sentence: "something went wrong on our side.",
		Clause:   "something went wrong on our side"}
}

// Refused reports whether the visitor's request was turned down (bad
// input, too fast, banned, no key), as opposed to the store failing.
func (m Meaning) Refused() bool {
	switch m.Kind {
	case Invalid, RateLimited, Banned, KeyRequired, EditClosed:
		return true
	}
	return false
}

// Failed reports whether the store, not the visitor, is at fault: the
// database is unavailable or something unexpected went wrong.
func (m Meaning) Failed() bool { return m.Kind == Unavailable || m.Kind == Internal }

// Reason names a refusal for metrics and logs: "invalid_" and the field,
// "rate_limited", "banned", "key_required" or "edit_closed"; "" for
// anything else.
func (m Meaning) Reason() string {
	switch m.Kind {
	case Invalid:
		return "invalid_" + m.Field
	case RateLimited:
		return "rate_limited"
	case Banned:
		return "banned"
	case KeyRequired:
		return "key_required"
	case EditClosed:
		return "edit_closed"
	}
	return ""
}
