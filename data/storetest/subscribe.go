package storetest

import (
	"errors"
	"testing"
	"time"

	"blog/data"
)

func subscribe(t *testing.T, s data.Store, email string, a data.Author) {
	t.Helper()
	if err := s.Subscribe(t.Context(), email, a); err != nil {
		t.Fatalf("Subscribe(%q): %v", email, err)
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

func testSubscribe(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	subscribe(t, s, " private@Example.com ", a)
	// The same answer for a known address, whoever asks and however cased.
	subscribe(t, s, "private@example.com", a)
	subscribe(t, s, "PRIVATE@EXAMPLE.COM", b)
	s.clock.Advance(time.Minute)
	subscribe(t, s, "keyless@example.org", data.Author{IP: "198.51.100.7"})
	subs, err := s.Subscribers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].Email != "private@example.com" || !subs[0].CreatedAt.Equal(start) ||
		subs[1].Email != "keyless@example.org" || !subs[1].CreatedAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("Subscribers = %+v; want the normalised addresses once each, oldest first", subs)
	}
	var inv *data.InvalidError
	if err := s.Subscribe(t.Context(), "not an address", a); !errors.As(err, &inv) || inv.Field != "email" {
		t.Fatalf("Subscribe(invalid) = %v, want *InvalidError for email", err)
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
	if got := emails(t, s); len(got) != 2 {
		t.Fatalf("another key unsubscribed someone: left %v", got)
	}
	if err := s.Unsubscribe(t.Context(), "private@example.com", data.Author{IP: a.IP}); !errors.Is(err, data.ErrKeyRequired) {
		t.Fatalf("keyless Unsubscribe = %v, want ErrKeyRequired", err)
	}
	if err := s.Unsubscribe(t.Context(), "Private@EXAMPLE.com", a); err != nil {
		t.Fatal(err)
	}
	if got := emails(t, s); len(got) != 1 || got[0] != "keyless@example.org" {
		t.Fatalf("after Unsubscribe: %v", got)
	}
	if err := s.Unsubscribe(t.Context(), "private@example.com", a); err != nil {
		t.Fatalf("Unsubscribe of a gone address = %v, want nil", err)
	}
}
