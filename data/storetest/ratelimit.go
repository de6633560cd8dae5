package storetest

import (
	"errors"
	"testing"
	"time"

	"blog/data"
)

// wantRateLimit fails unless err is a *RateLimitError asking to wait retry.
func wantRateLimit(t *testing.T, err error, retry time.Duration) {
	t.Helper()
	var rl *data.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("got %v, want *RateLimitError", err)
	}
	if rl.RetryAfter != retry {
		t.Fatalf("RetryAfter = %v, want %v (when the oldest action in the window expires)", rl.RetryAfter, retry)
	}
}

func comment(s data.Store, t *testing.T, a data.Author) error {
	_, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "secret-body", Author: a})
	return err
}

func testCommentRateLimit(t *testing.T, open Opener) {
	limits := noLimits()
	limits.CommentPerKey = data.RateLimit{Count: 2, Window: time.Minute}
	limits.CommentPerIP = data.RateLimit{Count: 3, Window: time.Minute}
	s := newEnv(t, open, limits)
	a := author("1")
	sameIP := func(n string) data.Author { return data.Author{KeyFingerprint: "SHA256:other-" + n, IP: a.IP} }

	add(t, s, "p", "1", a)
	s.clock.Advance(10 * time.Second)
	add(t, s, "p", "2", a)
	wantRateLimit(t, comment(s, t, a), 50*time.Second)
	add(t, s, "p", "3", sameIP("1")) // the refused comment did not count for the IP
	wantRateLimit(t, comment(s, t, sameIP("2")), 50*time.Second)
	add(t, s, "p", "4", author("2")) // other visitors are not affected

	s.clock.Advance(20 * time.Second)
	wantRateLimit(t, comment(s, t, a), 30*time.Second)
	s.clock.Advance(30 * time.Second) // the first comment leaves the window
	add(t, s, "p", "5", a)
	wantRateLimit(t, comment(s, t, a), 10*time.Second)
}

func testSubscribeRateLimit(t *testing.T, open Opener) {
	limits := noLimits()
	limits.SubscribePerKey = data.RateLimit{Count: 2, Window: time.Hour}
	limits.SubscribePerIP = data.RateLimit{Count: 3, Window: time.Hour}
	s := newEnv(t, open, limits)
	a := author("1")
	keyless := data.Author{IP: a.IP}

	subscribe(t, s, "private1@example.com", a)
	s.clock.Advance(time.Minute)
	subscribe(t, s, "private1@example.com", a) // repeats count too
	wantRateLimit(t, subscribeErr(t, s, "private2@example.com", a), 59*time.Minute)
	subscribe(t, s, "private3@example.com", keyless)
	wantRateLimit(t, subscribeErr(t, s, "private4@example.com", keyless), 59*time.Minute)
	subscribe(t, s, "private5@example.com", author("2"))
	s.clock.Advance(time.Hour)
	subscribe(t, s, "private6@example.com", a)
}

func testCrossRateLimit(t *testing.T, open PairOpener) {
	limits := noLimits()
	limits.CommentPerKey = data.RateLimit{Count: 2, Window: time.Minute}
	_, opt := prepare(t, limits)
	first, second := open(t, opt)
	a := author("1")
	add(t, first, "p", "1", a)
	add(t, second, "p", "2", a)
	wantRateLimit(t, comment(first, t, a), time.Minute)
	wantRateLimit(t, comment(second, t, a), time.Minute)
}
