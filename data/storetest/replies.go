package storetest

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"blog/data"
)

func reply(t *testing.T, s data.Store, slug, body string, a data.Author, to int64) data.Comment {
	t.Helper()
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: slug, Name: "Replier", Body: body, Author: a, ReplyTo: to})
	if err != nil {
		t.Fatalf("AddComment(%q, reply to %d): %v", body, to, err)
	}
	return c
}

func counts(t *testing.T, s data.Store) map[string]int {
	t.Helper()
	n, err := s.CommentCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testReplies(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	parent := add(t, s, "p", "the parent", author("1"))
	r1 := reply(t, s, "p", "a reply", author("2"), parent.ID)
	r2 := reply(t, s, "p", "a reply to the reply", author("1"), r1.ID)
	if r1.ReplyTo != parent.ID || r2.ReplyTo != r1.ID {
		t.Fatalf("ReplyTo = %d, %d; want %d, %d", r1.ReplyTo, r2.ReplyTo, parent.ID, r1.ID)
	}
	got := list(t, s, "p", data.ListOptions{})
	if len(got) != 3 || !sameComment(got[0], parent) || !sameComment(got[1], r1) || !sameComment(got[2], r2) {
		t.Fatalf("Comments = %+v, want the parent and both replies with ReplyTo", got)
	}
	if n := counts(t, s)["p"]; n != 3 {
		t.Fatalf("CommentCounts = %d, want replies counted: 3", n)
	}
}

func testReplyToRefused(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a := author("1")
	other := add(t, s, "other", "on another post", a)
	gone := add(t, s, "p", "deleted", a)
	if err := s.DeleteComment(t.Context(), gone.ID, admin); err != nil {
		t.Fatal(err)
	}
	hidden := add(t, s, "p", "hidden", a)
	if err := s.SetHidden(t.Context(), hidden.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		to   int64
	}{
		{"nonexistent", gone.ID + 1000},
		{"huge", math.MaxInt64},
		{"negative", -1},
		{"other post", other.ID},
		{"deleted", gone.ID},
		{"hidden", hidden.ID},
	} {
		_, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "reply", Author: a, ReplyTo: tc.to})
		var inv *data.InvalidError
		if !errors.As(err, &inv) || inv.Field != "reply" {
			t.Errorf("reply to %s comment (%d) = %v, want *InvalidError on field reply", tc.name, tc.to, err)
		}
	}
	if got := list(t, s, "p", data.ListOptions{IncludeHidden: true}); len(got) != 1 {
		t.Fatalf("refused replies were stored: %+v", got)
	}
}

func testDeleteWithReplies(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	parent := add(t, s, "p", "secret-parent", a)
	r := reply(t, s, "p", "the reply", b, parent.ID)
	if err := s.DeleteOwnComment(t.Context(), parent.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	for _, admin := range []bool{false, true} {
		got := list(t, s, "p", data.ListOptions{IncludeHidden: admin})
		if len(got) != 2 || got[0].ID != parent.ID || !got[0].Deleted || got[0].Body != "" ||
			got[0].AuthorName != "" || got[0].AuthorKey != "" || !got[0].Placeholder() || !sameComment(got[1], r) {
			t.Fatalf("Comments (admin %v) after deleting a comment with a reply = %+v, want a placeholder and the reply", admin, got)
		}
	}
	if n := counts(t, s)["p"]; n != 1 {
		t.Fatalf("CommentCounts = %d, want 1: a placeholder is not counted", n)
	}
	// Nor is it new to a visitor who read the post before both were written.
	reader := author("3").KeyFingerprint
	mark(t, s, reader, data.Visit{PostSlug: "p", SeenID: parent.ID - 1})
	if v := visitsOf(t, s, reader)["p"]; v.New != 1 {
		t.Fatalf("New = %d, want 1: the reply, not the placeholder", v.New)
	}
	all, err := s.AllComments(t.Context(), data.ListOptions{})
	if err != nil || len(all) != 1 || all[0].ID != r.ID {
		t.Fatalf("AllComments = %+v, %v; want only the reply", all, err)
	}
	if err := s.DeleteOwnComment(t.Context(), parent.ID, a.KeyFingerprint); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("deleting the placeholder again = %v, want ErrNotFound", err)
	}
	if err := s.DeleteComment(t.Context(), parent.ID, admin); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("a moderator deleting the placeholder = %v, want ErrNotFound", err)
	}
	// The last reply gone, the placeholder goes with it.
	if err := s.DeleteOwnComment(t.Context(), r.ID, b.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, "p", data.ListOptions{IncludeHidden: true}); len(got) != 0 {
		t.Fatalf("Comments after the last reply went = %+v, want none", got)
	}

	// A moderator's deletion leaves a placeholder too.
	p2 := add(t, s, "q", "second parent", a)
	r2 := reply(t, s, "q", "second reply", b, p2.ID)
	if err := s.DeleteComment(t.Context(), p2.ID, admin); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, "q", data.ListOptions{}); len(got) != 2 || !got[0].Deleted || got[1].ID != r2.ID {
		t.Fatalf("Comments after a moderator's delete = %+v, want a placeholder and the reply", got)
	}
	// Without replies a comment is deleted outright, as before.
	lone := add(t, s, "q", "lonely", a)
	if err := s.DeleteOwnComment(t.Context(), lone.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, "q", data.ListOptions{IncludeHidden: true}); len(got) != 2 {
		t.Fatalf("a comment without replies left %+v", got)
	}
}

func testHiddenWithReplies(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a := author("1")
	parent := add(t, s, "p", "secret-hidden-parent", a)
	r := reply(t, s, "p", "the reply", author("2"), parent.ID)
	if err := s.SetHidden(t.Context(), parent.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	got := list(t, s, "p", data.ListOptions{})
	if len(got) != 2 || got[0].ID != parent.ID || !got[0].Hidden || got[0].Body != "" || got[0].AuthorName != "" ||
		got[0].AuthorKey != "" || !got[0].Placeholder() || !sameComment(got[1], r) {
		t.Fatalf("a reader's Comments = %+v, want a placeholder without text or author, and the reply", got)
	}
	got = list(t, s, "p", data.ListOptions{IncludeHidden: true})
	if len(got) != 2 || got[0].Body != "secret-hidden-parent" || got[0].Placeholder() {
		t.Fatalf("an admin's Comments = %+v, want the hidden text", got)
	}
	if n := counts(t, s)["p"]; n != 1 {
		t.Fatalf("CommentCounts = %d, want 1", n)
	}
	// A hidden reply keeps no placeholder for readers.
	if err := s.SetHidden(t.Context(), r.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, "p", data.ListOptions{}); len(got) != 0 {
		t.Fatalf("Comments with the parent and its only reply hidden = %+v, want none", got)
	}
}

func testEditComment(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a := author("1")
	c := add(t, s, "p", "frist", a)
	s.clock.Advance(9 * time.Minute)
	e, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "first\x1b[31m, fixed \x1b]8;;x\x07", Author: a})
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Body, want.EditedAt = "first, fixed", start.Add(9*time.Minute)
	if !sameComment(e, want) {
		t.Fatalf("EditComment = %+v, want %+v (sanitised, EditedAt the clock's time)", e, want)
	}
	if got := list(t, s, "p", data.ListOptions{}); len(got) != 1 || !sameComment(got[0], want) {
		t.Fatalf("Comments after an edit = %+v, want %+v", got, want)
	}
	for _, body := range []string{" \n ", strings.Repeat("x", data.MaxCommentRunes+1)} {
		var inv *data.InvalidError
		if _, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: body, Author: a}); !errors.As(err, &inv) {
			t.Errorf("edit to %d bytes = %v, want *InvalidError", len(body), err)
		}
	}
	// The window runs from posting, not from the last edit.
	s.clock.Advance(time.Minute + time.Second)
	_, err = s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "too late", Author: a})
	var closed *data.EditClosedError
	if !errors.As(err, &closed) || closed.Window != data.DefaultEditWindow {
		t.Fatalf("edit after %v = %v, want *EditClosedError", data.DefaultEditWindow, err)
	}
	if got := list(t, s, "p", data.ListOptions{}); got[0].Body != "first, fixed" {
		t.Fatalf("a refused edit changed the text: %q", got[0].Body)
	}
}

func testEditRefused(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	c := add(t, s, "p", "mine", a)
	hidden := add(t, s, "p", "hidden", a)
	if err := s.SetHidden(t.Context(), hidden.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	parent := add(t, s, "p", "deleted", a)
	reply(t, s, "p", "keeps it as a placeholder", b, parent.ID)
	if err := s.DeleteOwnComment(t.Context(), parent.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		e    data.CommentEdit
		want error
	}{
		{"someone else's", data.CommentEdit{ID: c.ID, Body: "x", Author: b}, data.ErrNotFound},
		{"keyless", data.CommentEdit{ID: c.ID, Body: "x", Author: data.Author{IP: "192.0.2.9"}}, data.ErrKeyRequired},
		{"nonexistent", data.CommentEdit{ID: c.ID + 1000, Body: "x", Author: a}, data.ErrNotFound},
		{"huge id", data.CommentEdit{ID: math.MaxInt64, Body: "x", Author: a}, data.ErrNotFound},
		{"zero id", data.CommentEdit{ID: 0, Body: "x", Author: a}, data.ErrNotFound},
		{"hidden", data.CommentEdit{ID: hidden.ID, Body: "x", Author: a}, data.ErrNotFound},
		{"deleted placeholder", data.CommentEdit{ID: parent.ID, Body: "x", Author: a}, data.ErrNotFound},
		{"placeholder by a keyless", data.CommentEdit{ID: parent.ID, Body: "x", Author: data.Author{KeyFingerprint: ""}}, data.ErrKeyRequired},
	} {
		if _, err := s.EditComment(t.Context(), tc.e); !errors.Is(err, tc.want) {
			t.Errorf("edit of %s comment = %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := list(t, s, "p", data.ListOptions{}); got[0].Body != "mine" || !got[0].EditedAt.IsZero() {
		t.Fatalf("a refused edit changed %+v", got[0])
	}
}

func testEditRateLimit(t *testing.T, open Opener) {
	limits := noLimits()
	limits.CommentPerKey = data.RateLimit{Count: 3, Window: time.Minute}
	s := newEnv(t, open, limits)
	a := author("1")
	c := add(t, s, "p", "one", a)
	for i := range 2 {
		if _, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "edit " + itoa(i), Author: a}); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	_, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "flood", Author: a})
	var rl *data.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("third write in a minute (an edit) = %v, want *RateLimitError", err)
	}
	// Edits and new comments share the limit.
	if _, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "new", Author: a}); !errors.As(err, &rl) {
		t.Fatalf("a comment after edits used the limit = %v, want *RateLimitError", err)
	}
	// A ban stops edits too.
	s.clock.Advance(time.Minute)
	if err := s.Ban(t.Context(), data.Ban{Target: a.KeyFingerprint, CreatedBy: admin, CreatedAt: s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "banned", Author: a}); !errors.Is(err, data.ErrBanned) {
		t.Fatalf("edit by a banned key = %v, want ErrBanned", err)
	}
}

func testEditEvents(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	ch := s.Events(t.Context())
	a := author("1")
	c := add(t, s, "p", "before", a)
	wantAdded(t, ch, c)
	r := reply(t, s, "p", "a reply", author("2"), c.ID)
	wantAdded(t, ch, r)
	e, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "after", Author: a})
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Kind != data.CommentEdited || !sameComment(ev.Comment, e) {
		t.Fatalf("got %+v, want CommentEdited with %+v", ev, e)
	}
	// A refused edit announces nothing.
	if _, err := s.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "x", Author: author("2")}); err == nil {
		t.Fatal("someone else's edit accepted")
	}
	// Deleting a comment with a reply, then the reply: each announced,
	// the placeholder's going too.
	if err := s.DeleteOwnComment(t.Context(), c.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, false, true)
	if err := s.DeleteComment(t.Context(), r.ID, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, false, true)
	wantChanged(t, ch, r, false, true)
	wantQuiet(t, ch)
}

// testCrossReplies: a reply and an edit made on one replica reach the
// other's feed, and a reply there may answer a comment made on the first.
func testCrossReplies(t *testing.T, open PairOpener) {
	_, opt := prepare(t, noLimits())
	first, second := open(t, opt)
	ch := second.Events(t.Context())
	a := author("1")
	c := add(t, first, "p", "on the first", a)
	wantAdded(t, ch, c)
	r := reply(t, second, "p", "answered on the second", author("2"), c.ID)
	wantAdded(t, ch, r)
	e, err := first.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: "edited on the first", Author: a})
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Kind != data.CommentEdited || !sameComment(ev.Comment, e) {
		t.Fatalf("got %+v, want CommentEdited with %+v", ev, e)
	}
	if err := first.DeleteOwnComment(t.Context(), c.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, false, true)
	if got := list(t, second, "p", data.ListOptions{}); len(got) != 2 || !got[0].Deleted || got[1].ID != r.ID {
		t.Fatalf("the second replica lists %+v, want a placeholder and the reply", got)
	}
}
