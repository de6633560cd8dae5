package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"blog/data"
)

func TestSubscribersExport(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		if out := ok(t, append([]string{"subscribers", "export"}, b.flags...)...); out != "email,status,subscribed_at,confirmed_at\n" {
			t.Errorf("export of nobody = %q, want the header alone", out)
		}
		for _, email := range []string{"ada@example.com", "Grace@Example.ORG"} {
			if _, err := b.store.Subscribe(context.Background(), email, data.Author{KeyFingerprint: fingerprint(email), IP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
		}
		r := blog(t, append([]string{"subscribers", "export"}, b.flags...)...)
		rows, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
		if err != nil || r.code != 0 {
			t.Fatalf("export: exit %d, %v\n%s", r.code, err, r.out)
		}
		if len(rows) != 3 || strings.Join(rows[0], ",") != "email,status,subscribed_at,confirmed_at" ||
			rows[1][0] != "ada@example.com" || rows[2][0] != "Grace@example.org" || rows[1][1] != "pending" || rows[1][3] != "" {
			t.Fatalf("export rows = %q", rows)
		}
		if at, err := time.Parse(time.RFC3339, rows[1][2]); err != nil || time.Since(at) > time.Minute {
			t.Errorf("subscribed_at %q: %v", rows[1][2], err)
		}
		if strings.Contains(r.errOut, "@") {
			t.Errorf("export wrote an address to stderr: %q", r.errOut)
		}
	})
}

func TestCommentsModeration(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		cmd := func(args ...string) []string { return append(args, b.flags...) }
		key := fingerprint("ada")
		first := addComment(t, b.store, "welcome", key, "First line\nsecond line")
		other := addComment(t, b.store, "go-backend", key, "On another \x1b[31mpost\x1b[0m")

		out := ok(t, cmd("comments", "list")...)
		for _, want := range []string{"ID", strconv.FormatInt(first.ID, 10), "welcome", "go-backend", "Ada", key, "First line…"} {
			if !strings.Contains(out, want) {
				t.Errorf("list lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "second line") || strings.Contains(out, "\x1b") {
			t.Errorf("list shows more than a clean first line:\n%q", out)
		}

		if got := listJSON(t, cmd("comments", "list", "--json", "--post", "go-backend")...); len(got) != 1 || got[0].ID != other.ID || got[0].Body != "On another post" {
			t.Errorf("--post go-backend --json = %+v", got)
		}
		if got := listJSON(t, cmd("comments", "list", "--hidden", "--json")...); len(got) != 0 {
			t.Errorf("hidden before hiding: %+v", got)
		}

		id := strconv.FormatInt(first.ID, 10)
		if out := ok(t, cmd("comments", "hide", id)...); !strings.Contains(out, "hidden") {
			t.Errorf("hide said %q", out)
		}
		if got := listJSON(t, cmd("comments", "list", "--hidden", "--json")...); len(got) != 1 || got[0].ID != first.ID || !got[0].Hidden {
			t.Errorf("hidden after hiding: %+v", got)
		}
		visible, err := b.store.Comments(context.Background(), "welcome", data.ListOptions{})
		if err != nil || len(visible) != 0 {
			t.Errorf("readers still see %d comments (%v)", len(visible), err)
		}
		ok(t, cmd("comments", "unhide", id)...)
		if got := listJSON(t, cmd("comments", "list", "--hidden", "--json")...); len(got) != 0 {
			t.Errorf("hidden after unhiding: %+v", got)
		}

		r := blog(t, cmd("comments", "delete", id, "999999")...)
		if r.code != 1 || !strings.Contains(r.errOut, "999999: not found") || !strings.Contains(r.out, id+": deleted") {
			t.Errorf("delete of one known and one unknown ID: exit %d, stdout %q, stderr %q; want 1", r.code, r.out, r.errOut)
		}
		if got := listJSON(t, cmd("comments", "list", "--json")...); len(got) != 1 || got[0].ID != other.ID {
			t.Errorf("after delete: %+v", got)
		}
	})
}

func listJSON(t *testing.T, args ...string) []commentJSON {
	t.Helper()
	var got []commentJSON
	if err := json.Unmarshal([]byte(ok(t, args...)), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBan(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		cmd := func(args ...string) []string { return append(args, b.flags...) }
		ctx := context.Background()
		key := fingerprint("troll")
		if out := ok(t, cmd("ban", key, "--for", "2h", "--reason", "spam\nlinks")...); !strings.Contains(out, "banned "+key) {
			t.Errorf("ban said %q", out)
		}
		_, err := b.store.AddComment(ctx, data.NewComment{PostSlug: "welcome", Body: "again", Author: data.Author{KeyFingerprint: key, IP: "192.0.2.8"}})
		if !errors.Is(err, data.ErrBanned) {
			t.Fatalf("comment by a banned key: %v, want ErrBanned", err)
		}
		ok(t, cmd("ban", "::ffff:192.0.2.99", "--for", "0")...)
		// A shorter ban later keeps the stronger one and says so.
		if out := ok(t, cmd("ban", "192.0.2.99", "--for", "1h")...); !strings.Contains(out, "stays banned until") {
			t.Errorf("a shorter second ban said %q, want it to name the longer one kept", out)
		}

		bans, err := b.store.Bans(ctx)
		if err != nil || len(bans) != 2 {
			t.Fatalf("bans = %+v, %v", bans, err)
		}
		for _, ban := range bans {
			switch ban.Target {
			case key:
				if d := time.Until(ban.Until); d < 119*time.Minute || d > 2*time.Hour || ban.CreatedBy != "operator: spam links" {
					t.Errorf("key ban = %+v; want 2h by \"operator: spam links\"", ban)
				}
			case "192.0.2.99":
				if time.Until(ban.Until) < 99*365*24*time.Hour || ban.CreatedBy != "operator" {
					t.Errorf("--for 0 ban = %+v; want 100 years by operator", ban)
				}
			default:
				t.Errorf("unexpected ban %+v", ban)
			}
		}
		if out := ok(t, cmd("bans")...); !strings.Contains(out, key) || !strings.Contains(out, "192.0.2.99") {
			t.Errorf("bans lists:\n%s", out)
		}

		ok(t, cmd("unban", key)...)
		if _, err := b.store.AddComment(ctx, data.NewComment{PostSlug: "welcome", Body: "sorry", Author: data.Author{KeyFingerprint: key, IP: "192.0.2.8"}}); err != nil {
			t.Errorf("comment after unban: %v", err)
		}
		if r := blog(t, cmd("unban", key)...); r.code != 1 || !strings.Contains(r.errOut, "not banned") {
			t.Errorf("second unban: exit %d, stderr %q; want 1, not banned", r.code, r.errOut)
		}
	})
}

func TestReset(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		cmd := func(args ...string) []string { return append(args, b.flags...) }
		ctx := context.Background()
		addComment(t, b.store, "welcome", fingerprint("ada"), "hello")
		if _, err := b.store.Subscribe(ctx, "ada@example.com", data.Author{KeyFingerprint: fingerprint("ada")}); err != nil {
			t.Fatal(err)
		}
		ok(t, cmd("ban", "192.0.2.5")...)

		r := blog(t, cmd("reset")...)
		if r.code != 2 || !strings.Contains(r.errOut, "1 comments, 1 subscriptions") || !strings.Contains(r.errOut, "--yes") {
			t.Errorf("reset without --yes: exit %d, stderr %q; want 2 and what it would delete", r.code, r.errOut)
		}
		if subs, _ := b.store.Subscribers(ctx); len(subs) != 1 {
			t.Fatalf("reset without --yes deleted subscribers")
		}

		ok(t, cmd("reset", "--yes")...)
		cs, _ := b.store.AllComments(ctx, data.ListOptions{})
		subs, _ := b.store.Subscribers(ctx)
		bans, _ := b.store.Bans(ctx)
		if len(cs) != 0 || len(subs) != 0 || len(bans) != 1 {
			t.Errorf("after reset: %d comments, %d subscribers, %d bans; want 0, 0, 1", len(cs), len(subs), len(bans))
		}
	})
}

// What an operator command changes reaches a running server's store (here
// b.store, open on the same database) as live events within two seconds,
// on SQLite as on Postgres.
func TestOperatorChangesAreLive(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		cmd := func(args ...string) []string { return append(args, b.flags...) }
		events := b.store.Events(t.Context())
		next := func(what string) data.Event {
			t.Helper()
			select {
			case ev := <-events:
				return ev
			case <-time.After(2 * time.Second):
				t.Fatalf("%s: no event within 2s", what)
			}
			panic("unreachable")
		}
		c := addComment(t, b.store, "welcome", fingerprint("ada"), "to be moderated")
		if ev := next("add"); ev.Kind != data.CommentAdded || ev.Comment.ID != c.ID {
			t.Fatalf("add: got %+v", ev)
		}
		id := strconv.FormatInt(c.ID, 10)
		for _, step := range []struct {
			args            []string
			hidden, deleted bool
		}{
			{[]string{"comments", "hide", id}, true, false},
			{[]string{"comments", "unhide", id}, false, false},
			{[]string{"comments", "delete", id}, false, true},
		} {
			ok(t, cmd(step.args...)...)
			ev := next(step.args[1])
			if ev.Kind != data.CommentChanged || ev.Comment.ID != c.ID || ev.Comment.PostSlug != "welcome" ||
				ev.Comment.Hidden != step.hidden || ev.Deleted != step.deleted {
				t.Fatalf("%s: got %+v", step.args[1], ev)
			}
		}
		ok(t, cmd("reset", "--yes")...)
		if ev := next("reset"); ev.Kind != data.Resync {
			t.Fatalf("reset: got %+v, want Resync", ev)
		}
	})
}
