package storetest

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"blog/data"
)

// subscribe starts a sign-up and returns its confirmation (which may not be due).
func subscribe(t *testing.T, s data.Store, email string, a data.Author) data.Confirmation {
	t.Helper()
	c, err := s.Subscribe(t.Context(), email, a)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", email, err)
	}
	return c
}

func subscribeErr(t *testing.T, s data.Store, email string, a data.Author) error {
	_, err := s.Subscribe(t.Context(), email, a)
	return err
}

// subscribed signs email up and confirms it by its code.
func subscribed(t *testing.T, s data.Store, email string) {
	t.Helper()
	c := subscribe(t, s, email, author("9"))
	if !c.Due() {
		t.Fatalf("Subscribe(%q): no confirmation due", email)
	}
	if err := s.Confirm(t.Context(), c.Code, author("9")); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
}

func emails(t *testing.T, s data.Store) []string {
	t.Helper()
	subs, err := s.Subscribers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(subs))
	for i, sub := range subs {
		out[i] = sub.Email
	}
	return out
}

// statuses maps each address to its status.
func statuses(t *testing.T, s data.Store) map[string]string {
	t.Helper()
	subs, err := s.Subscribers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, sub := range subs {
		out[sub.Email] = sub.Status
	}
	return out
}

var codeShape = regexp.MustCompile(`^[A-Z2-9]{4}-[A-Z2-9]{4}$`)

func testSubscribe(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	c := subscribe(t, s, " private@Example.com ", a)
	if !c.Due() || c.Email != "private@example.com" || !codeShape.MatchString(c.Code) ||
		!data.ValidToken(c.Token) || len(c.Token) < 40 || !c.Expires.Equal(start.Add(data.DefaultPendingExpiry)) {
		t.Fatalf("first Subscribe = %+v; want a due confirmation with a code, a token, 48 h", c)
	}
	// The same answer for a known address, whoever asks and however cased,
	// but no second mail within the window.
	for _, who := range []data.Author{a, b} {
		if again := subscribe(t, s, "PRIVATE@EXAMPLE.COM", who); again.Due() {
			t.Fatalf("second Subscribe within the window is due: a second mail to the same address")
		}
	}
	s.clock.Advance(time.Minute)
	subscribe(t, s, "keyless@example.org", data.Author{IP: "198.51.100.7"})
	subs, err := s.Subscribers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].Email != "private@example.com" || !subs[0].CreatedAt.Equal(start) ||
		subs[0].Status != data.StatusPending ||
		subs[1].Email != "keyless@example.org" || !subs[1].CreatedAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("Subscribers = %+v; want the normalised addresses once each, pending, oldest first", subs)
	}
	// After the window a new code goes out, and the old one no longer works.
	s.clock.Advance(data.DefaultConfirmMailWindow)
	fresh := subscribe(t, s, "private@example.com", b)
	if !fresh.Due() || fresh.Code == c.Code || fresh.Token == c.Token {
		t.Fatalf("Subscribe after the window = %+v; want a new code and token", fresh)
	}
	if err := s.Confirm(t.Context(), c.Code, a); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("Confirm(old code) = %v, want ErrNotFound", err)
	}
	var inv *data.InvalidError
	if err := subscribeErr(t, s, "not an address", a); !errors.As(err, &inv) || inv.Field != "email" {
		t.Fatalf("Subscribe(invalid) = %v, want *InvalidError for email", err)
	}
}

func testConfirm(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	keyless := data.Author{IP: "198.51.100.7"}
	c := subscribe(t, s, "private@example.com", keyless)
	for _, wrong := range []string{"", "AAAA-AAAA", "nonsense", c.Code + "X", "\x1b[2J"} {
		if err := s.Confirm(t.Context(), wrong, keyless); !errors.Is(err, data.ErrNotFound) {
			t.Fatalf("Confirm(%q) = %v, want ErrNotFound", wrong, err)
		}
	}
	if got := statuses(t, s)["private@example.com"]; got != data.StatusPending {
		t.Fatalf("status after wrong codes = %q", got)
	}
	// Typed in lower case, without the dash: still the code.
	typed := " " + c.Code[:4] + " " + c.Code[5:] + " "
	if err := s.Confirm(t.Context(), typed, keyless); err != nil {
		t.Fatalf("Confirm(%q) = %v", typed, err)
	}
	subs, _ := s.Subscribers(t.Context())
	if len(subs) != 1 || subs[0].Status != data.StatusConfirmed || !subs[0].ConfirmedAt.Equal(start) {
		t.Fatalf("after Confirm: %+v", subs)
	}
	if err := s.Confirm(t.Context(), c.Code, keyless); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("a code works twice: %v", err)
	}
	// The link still answers yes; a confirmed address gets no new mail.
	if err := s.ConfirmToken(t.Context(), c.Token); err != nil {
		t.Fatalf("ConfirmToken after confirming = %v", err)
	}
	s.clock.Advance(time.Hour)
	if again := subscribe(t, s, "private@example.com", keyless); again.Due() {
		t.Fatal("Subscribe of a confirmed address sends a mail")
	}

	// Confirming by the link.
	c2 := subscribe(t, s, "private2@example.com", keyless)
	for _, bad := range []string{"", "short", c2.Token[:40] + "zzz", "a/b", string(make([]byte, 100))} {
		if err := s.ConfirmToken(t.Context(), bad); !errors.Is(err, data.ErrNotFound) {
			t.Fatalf("ConfirmToken(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	if err := s.ConfirmToken(t.Context(), c2.Token); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, s)["private2@example.com"]; got != data.StatusConfirmed {
		t.Fatalf("status after ConfirmToken = %q", got)
	}
}

func testConfirmExpires(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a := author("1")
	c := subscribe(t, s, "private@example.com", a)
	s.clock.Advance(data.DefaultPendingExpiry + time.Second)
	if err := s.Confirm(t.Context(), c.Code, a); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("Confirm after expiry = %v, want ErrNotFound", err)
	}
	if err := s.ConfirmToken(t.Context(), c.Token); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("ConfirmToken after expiry = %v, want ErrNotFound", err)
	}
	subscribe(t, s, "fresh@example.com", a)
	if n, err := s.ForgetExpired(t.Context()); err != nil || n != 1 {
		t.Fatalf("ForgetExpired = %d, %v; want the expired one only", n, err)
	}
	if got := statuses(t, s); len(got) != 1 || got["fresh@example.com"] != data.StatusPending {
		t.Fatalf("after ForgetExpired: %v", got)
	}
	if again := subscribe(t, s, "private@example.com", a); !again.Due() {
		t.Fatal("Subscribe after expiry is not due")
	} else if err := s.ConfirmToken(t.Context(), again.Token); err != nil {
		t.Fatal(err)
	}
}

func testConfirmRateLimit(t *testing.T, open Opener) {
	limits := noLimits()
	limits.ConfirmPerIP = data.RateLimit{Count: 3, Window: time.Hour}
	s := newEnv(t, open, limits)
	guesser := data.Author{IP: "198.51.100.9"}
	c := subscribe(t, s, "private@example.com", author("1"))
	for range 3 {
		if err := s.Confirm(t.Context(), "AAAA-AAAA", guesser); !errors.Is(err, data.ErrNotFound) {
			t.Fatalf("wrong code = %v", err)
		}
	}
	// Wrong guesses were recorded: even the right code waits now.
	wantRateLimit(t, s.Confirm(t.Context(), c.Code, guesser), time.Hour)
	if err := s.Confirm(t.Context(), c.Code, author("1")); err != nil {
		t.Fatalf("Confirm from another IP: %v", err)
	}
}

func testUnsubscribe(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	subscribe(t, s, "private@example.com", a)
	subscribe(t, s, "keyless@example.org", data.Author{IP: "198.51.100.7"})
	if err := s.Unsubscribe(t.Context(), "private@example.com", b); err != nil {
		t.Fatalf("Unsubscribe by another key = %v, want nil (no enumeration)", err)
	}
	if err := s.Unsubscribe(t.Context(), "keyless@example.org", a); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, s); got["private@example.com"] != data.StatusPending || got["keyless@example.org"] != data.StatusPending {
		t.Fatalf("another key unsubscribed someone: %v", got)
	}
	if err := s.Unsubscribe(t.Context(), "private@example.com", data.Author{IP: a.IP}); !errors.Is(err, data.ErrKeyRequired) {
		t.Fatalf("keyless Unsubscribe = %v, want ErrKeyRequired", err)
	}
	if err := s.Unsubscribe(t.Context(), "Private@EXAMPLE.com", a); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, s); got["private@example.com"] != data.StatusUnsubscribed || got["keyless@example.org"] != data.StatusPending {
		t.Fatalf("after Unsubscribe: %v", got)
	}
	if err := s.Unsubscribe(t.Context(), "private@example.com", a); err != nil {
		t.Fatalf("Unsubscribe of a gone address = %v, want nil", err)
	}
	// Coming back takes a new confirmation.
	s.clock.Advance(data.DefaultConfirmMailWindow)
	if c := subscribe(t, s, "private@example.com", a); !c.Due() {
		t.Fatal("Subscribe after unsubscribing is not due")
	}
}

func testImportSubscribers(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	subscribe(t, s, "private@example.com", author("1"))
	subscribed(t, s, "confirmed@example.com")
	subscribe(t, s, "left@example.com", author("1"))
	if err := s.Unsubscribe(t.Context(), "left@example.com", author("1")); err != nil {
		t.Fatal(err)
	}
	subscribed(t, s, "left2@example.com")
	if err := s.Unsubscribe(t.Context(), "left2@example.com", author("9")); err != nil {
		t.Fatal(err)
	}
	n, err := s.ImportSubscribers(t.Context(), []string{"Private@example.com", "new@example.net", "confirmed@example.com", "left2@example.com"})
	if err != nil || n != 2 {
		t.Fatalf("ImportSubscribers = %d, %v; want 2 changed", n, err)
	}
	got := statuses(t, s)
	if got["private@example.com"] != data.StatusConfirmed || got["new@example.net"] != data.StatusConfirmed ||
		got["confirmed@example.com"] != data.StatusConfirmed || got["left2@example.com"] != data.StatusUnsubscribed {
		t.Fatalf("after import: %v (an unsubscribed address must stay unsubscribed)", got)
	}
	var inv *data.InvalidError
	if _, err := s.ImportSubscribers(t.Context(), []string{"ok@example.com", "broken"}); !errors.As(err, &inv) {
		t.Fatalf("import with a bad address = %v, want *InvalidError", err)
	}
	if _, ok := statuses(t, s)["ok@example.com"]; ok {
		t.Fatal("a failed import stored part of its addresses")
	}
}
