package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestExplain(t *testing.T) {
	tooLong := &InvalidError{Field: "comment", Reason: "is too long"}
	slow := &RateLimitError{RetryAfter: 41*time.Second + 400*time.Millisecond}
	tests := []struct {
		name     string
		err      error
		kind     ErrorKind
		sentence string
		clause   string
		reason   string
		refused  bool
		failed   bool
	}{
		{"nil", nil, NoError, "", "", "", false, false},
		{"invalid", tooLong, Invalid,
			"the comment is too long.", "comment is too long", "invalid_comment", true, false},
		{"invalid, wrapped", fmt.Errorf("add: %w", tooLong), Invalid,
			"the comment is too long.", "comment is too long", "invalid_comment", true, false},
		{"rate limited", slow, RateLimited,
			"you're going a bit fast. Try again in 41s.", "too many requests; try again in 41s", "rate_limited", true, false},
		{"banned", ErrBanned, Banned,
			"this key or address may not post here for now.", "you are not allowed to post here", "banned", true, false},
		{"banned, wrapped", fmt.Errorf("tx: %w", ErrBanned), Banned,
			"this key or address may not post here for now.", "you are not allowed to post here", "banned", true, false},
		{"key required", ErrKeyRequired, KeyRequired,
			"this needs an SSH key: run ssh-keygen -t ed25519, then ssh again.", "commenting needs an SSH key", "key_required", true, false},
		{"edit closed", &EditClosedError{Window: 10 * time.Minute}, EditClosed,
			"comments can be edited only in the first 10 minutes after posting; this one is older.",
			"comments can be edited only in the first 10 minutes after posting; this one is older", "edit_closed", true, false},
		{"not found", ErrNotFound, NotFound,
			"it isn't there any more.", "it isn't there any more", "", false, false},
		{"unavailable", fmt.Errorf("%w: %w", ErrUnavailable, io.ErrUnexpectedEOF), Unavailable,
			"the database isn't answering right now.", "the database isn't answering; nothing was saved, please try again shortly", "", false, true},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), Unavailable,
			"the database isn't answering right now.", "the database isn't answering; nothing was saved, please try again shortly", "", false, true},
		{"cancelled, though marked unavailable", fmt.Errorf("%w: %w", ErrUnavailable, context.Canceled), Canceled,
			"it was cancelled before it finished.", "it was cancelled before it finished", "", false, false},
		{"anything else", errors.New("syntax error at or near SELECT"), Internal,
			"something went wrong on our side.", "something went wrong on our side", "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Explain(tc.err)
			if m.Kind != tc.kind || m.Sentence != tc.sentence || m.Clause != tc.clause {
				t.Errorf("Explain(%v) = %+v, want kind %d, sentence %q, clause %q", tc.err, m, tc.kind, tc.sentence, tc.clause)
			}
			if got := m.Reason(); got != tc.reason {
				t.Errorf("Reason() = %q, want %q", got, tc.reason)
			}
			if m.Refused() != tc.refused || m.Failed() != tc.failed {
				t.Errorf("Refused() = %v, Failed() = %v; want %v, %v", m.Refused(), m.Failed(), tc.refused, tc.failed)
			}
		})
	}
}

// Nothing a store says in its own words reaches a visitor: every kind's
// words are fixed, whatever the error carries.
func TestExplainKeepsDriverWordsOut(t *testing.T) {
	secret := "password authentication failed for user \"blog\" at 10.0.0.7"
	for _, err := range []error{
		errors.New(secret),
		fmt.Errorf("%w: %w", ErrUnavailable, errors.New(secret)),
		fmt.Errorf("%w: %s", ErrBanned, secret),
		fmt.Errorf("%w: %s", ErrKeyRequired, secret),
	} {
		m := Explain(err)
		for _, words := range []string{m.Sentence, m.Clause} {
			if words == "" || strings.Contains(words, "password") || strings.Contains(words, "10.0.0.7") {
				t.Errorf("Explain(%q) words %q", err, words)
			}
		}
	}
}
