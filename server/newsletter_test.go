package server_test

import (
	"context"
	"strings"
	"testing"

	"blog/data"
	"blog/internal/termclient"
)

// Finding 11: a keyless visitor may subscribe, and is told how to leave
// (the link in every mail), not that commenting needs a key.
func TestKeylessUnsubscribeWords(t *testing.T) {
	ts := startServer(t, serverOpts{})
	out, _, code, err := termclient.Exec(ts.addr, nil, "subscribe keyless@example.com", nil)
	if err != nil || code != 0 || !strings.Contains(out, "Check your inbox to confirm") {
		t.Fatalf("keyless subscribe: %d %q %v", code, out, err)
	}
	_, errOut, code, _ := termclient.Exec(ts.addr, nil, "unsubscribe keyless@example.com", nil)
	if code != 1 || !strings.Contains(errOut, "every newsletter mail has an unsubscribe link") || strings.Contains(errOut, "comment") {
		t.Fatalf("keyless unsubscribe: %d %q", code, errOut)
	}

	s := ts.open(t, nil, 100, 40)
	waitFor(t, s, "enter read")
	typeKeys(t, s, "s")
	waitFor(t, s, "Subscribe to the newsletter")
	typeKeys(t, s, "keyless@example.com\x18") // ctrl+x
	waitFor(t, s, "unsubscribe by the link in any newsletter mail")
	typeKeys(t, s, "\r")
	waitFor(t, s, "Check your inbox to confirm")
	if strings.Contains(s.Screen(), "ctrl+x, ") || strings.Contains(s.Screen(), "Unsubscribe any time with s") {
		t.Fatalf("a keyless visitor is told to unsubscribe with a key:\n%s", s.Screen())
	}
}

// The code from the mail confirms, over exec and in the form; a wrong one
// says so and changes nothing.
func TestConfirmByCode(t *testing.T) {
	ts := startServer(t, serverOpts{})
	ctx := context.Background()
	c, err := ts.store.Subscribe(ctx, "exec@example.com", data.Author{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code, _ := termclient.Exec(ts.addr, nil, "confirm ZZZZ-ZZZZ", nil); code != 1 || !strings.Contains(errOut, "wrong or has expired") {
		t.Fatalf("wrong code: %d %q", code, errOut)
	}
	if _, errOut, code, _ := termclient.Exec(ts.addr, nil, "confirm \x1b[2J", nil); code != 1 || strings.Contains(errOut, "\x1b") {
		t.Fatalf("hostile code: %d %q", code, errOut)
	}
	out, _, code, _ := termclient.Exec(ts.addr, nil, "confirm "+strings.ToLower(c.Code), nil)
	if code != 0 || !strings.Contains(out, "Confirmed") {
		t.Fatalf("confirm: %d %q", code, out)
	}

	// In the form: subscribe, then the code (here taken from the store, as
	// the mail would carry it).
	s := ts.open(t, newKey(t), 100, 40)
	waitFor(t, s, "enter read")
	typeKeys(t, s, "s")
	waitFor(t, s, "Subscribe to the newsletter")
	c2, err := ts.store.Subscribe(ctx, "form@example.com", data.Author{IP: "192.0.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	typeKeys(t, s, "form@example.com\r")
	waitFor(t, s, "Check your inbox to confirm")
	typeKeys(t, s, "AAAA-AAAA\r")
	waitFor(t, s, "That code is wrong or has expired")
	typeKeys(t, s, strings.Repeat("\x7f", 9)+c2.Code+"\r")
	waitFor(t, s, "Confirmed: new posts will come by email")
	subs, _ := ts.store.Subscribers(ctx)
	for _, sub := range subs {
		if sub.Status != data.StatusConfirmed {
			t.Errorf("%s is %s", sub.Email, sub.Status)
		}
	}
}
