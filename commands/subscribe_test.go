package commands_test

import (
	"context"
	"strings"
	"testing"

	"blog/data"
)

func TestSubscribeGivesOneAnswerForEveryAddress(t *testing.T) {
	b := newBlog(t, generousLimits())
	first := b.run(t, keyless, nil, "subscribe", "Reader@Example.COM")
	if first.code != 0 || first.out != "Check your inbox to confirm: the mail to Reader@example.com has a code and a link.\nConfirm with: ssh blog.test confirm CODE\n" {
		t.Fatalf("subscribe: exit %d, %q, %q", first.code, first.out, first.err)
	}
	again := b.run(t, ada, nil, "subscribe", "Reader@example.com")
	if again != first {
		t.Fatalf("a second sign-up answers %+v, the first %+v", again, first)
	}
	subs, err := b.store.Subscribers(context.Background())
	if err != nil || len(subs) != 1 || subs[0].Status != data.StatusPending {
		t.Fatalf("subscribers %+v, %v", subs, err)
	}
}

func TestBadAddressesAreRefusedPlainly(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, addr := range []string{"not-an-email", "Ada <ada@example.com>", "\x1b[2Jada@example.com", "ada@example.com\x07", strings.Repeat("a", 300) + "@example.com", strings.Repeat("a", 3000) + "@example.com", ""} {
		for _, cmd := range []string{"subscribe", "unsubscribe"} {
			r := b.run(t, ada, nil, cmd, addr)
			if r.code != 1 || r.out != "" || !strings.HasPrefix(r.err, "blog: email ") || len(r.err) > 200 {
				t.Errorf("%s %.40q: exit %d, stdout %q, stderr %.200q", cmd, addr, r.code, r.out, r.err)
			}
			noEscapes(t, "stderr", r.err)
		}
	}
	if subs, _ := b.store.Subscribers(context.Background()); len(subs) != 0 {
		t.Fatalf("stored %+v", subs)
	}
}

func TestUnsubscribeNeedsTheSubscribingKey(t *testing.T) {
	b := newBlog(t, generousLimits())
	if r := b.run(t, ada, nil, "subscribe", "ada@example.com"); r.code != 0 {
		t.Fatalf("subscribe: %d %q", r.code, r.err)
	}
	r := b.run(t, keyless, nil, "unsubscribe", "ada@example.com")
	if r.code != 1 || !strings.Contains(r.err, "every newsletter mail has an unsubscribe link") || strings.Contains(r.err, "comment") {
		t.Fatalf("keyless unsubscribe: %d %q", r.code, r.err)
	}
	other := data.Author{KeyFingerprint: modKey, IP: "192.0.2.3"}
	for _, a := range []data.Author{other, ada} {
		r = b.run(t, a, nil, "unsubscribe", "ADA@example.com")
		if r.code != 0 || r.out != "If ADA@example.com was subscribed with this key, it is now unsubscribed.\n" {
			t.Fatalf("unsubscribe: %d %q %q", r.code, r.out, r.err)
		}
		subs, _ := b.store.Subscribers(context.Background())
		if gone := subs[0].Status == data.StatusUnsubscribed; gone != (a == ada) {
			t.Fatalf("after %s's unsubscribe the address is %s", a.KeyFingerprint, subs[0].Status)
		}
	}
}

func TestConfirmByCode(t *testing.T) {
	b := newBlog(t, generousLimits())
	c, err := b.store.Subscribe(context.Background(), "exec@example.com", data.Author{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"ZZZZ-ZZZZ", "\x1b[2J", strings.Repeat("A", 4000), ""} {
		r := b.run(t, keyless, nil, "confirm", code)
		if r.code != 1 || !strings.Contains(r.err, "blog: that code is wrong or has expired; subscribe again for a new one") {
			t.Errorf("code %.20q: exit %d, %q", code, r.code, r.err)
		}
		noEscapes(t, "stderr", r.err)
	}
	r := b.run(t, keyless, nil, "confirm", strings.ToLower(c.Code))
	if r.code != 0 || r.out != "Confirmed: new posts will come by email. Every mail has a link to unsubscribe.\n" {
		t.Fatalf("confirm: exit %d, %q, %q", r.code, r.out, r.err)
	}
	subs, _ := b.store.Subscribers(context.Background())
	if len(subs) != 1 || subs[0].Status != data.StatusConfirmed {
		t.Fatalf("subscribers %+v", subs)
	}
}

func TestSubscribeRateLimitSaysWhenToTryAgain(t *testing.T) {
	limits := generousLimits()
	limits.SubscribePerIP.Count = 1
	b := newBlog(t, limits)
	if r := b.run(t, keyless, nil, "subscribe", "one@example.com"); r.code != 0 {
		t.Fatalf("first: %d %q", r.code, r.err)
	}
	r := b.run(t, keyless, nil, "subscribe", "two@example.com")
	if r.code != 1 || !strings.Contains(r.err, "blog: couldn't subscribe: too many requests; try again in ") {
		t.Fatalf("second: %d %q", r.code, r.err)
	}
}
