package storetest

import (
	"context"
	"testing"
	"time"

	"blog/data"
)

// eventWait is how long a live change may take to arrive.
const eventWait = 2 * time.Second

func next(t *testing.T, ch <-chan data.Event) data.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(eventWait):
		t.Fatalf("no event within %v", eventWait)
	}
	panic("unreachable")
}

func wantAdded(t *testing.T, ch <-chan data.Event, c data.Comment) {
	t.Helper()
	if ev := next(t, ch); ev.Kind != data.CommentAdded || !sameComment(ev.Comment, c) {
		t.Fatalf("got %+v, want CommentAdded with %+v", ev, c)
	}
}

// wantAddedAfterResyncs is wantAdded that lets Resync events come first.
func wantAddedAfterResyncs(t *testing.T, ch <-chan data.Event, c data.Comment) {
	t.Helper()
	ev := next(t, ch)
	for ev.Kind == data.Resync {
		ev = next(t, ch)
	}
	if ev.Kind != data.CommentAdded || !sameComment(ev.Comment, c) {
		t.Fatalf("got %+v, want CommentAdded with %+v", ev, c)
	}
}

func wantChanged(t *testing.T, ch <-chan data.Event, c data.Comment, hidden, deleted bool) {
	t.Helper()
	ev := next(t, ch)
	if ev.Kind != data.CommentChanged || ev.Comment.ID != c.ID || ev.Comment.PostSlug != c.PostSlug ||
		ev.Comment.Hidden != hidden || ev.Deleted != deleted {
		t.Fatalf("got %+v, want CommentChanged of %d/%s hidden=%v deleted=%v", ev, c.ID, c.PostSlug, hidden, deleted)
	}
}

// skipToResync reads ch up to and including its first Resync.
func skipToResync(t *testing.T, ch <-chan data.Event) {
	t.Helper()
	for {
		if next(t, ch).Kind == data.Resync {
			return
		}
	}
}

func wantResync(t *testing.T, ch <-chan data.Event) {
	t.Helper()
	if ev := next(t, ch); ev.Kind != data.Resync {
		t.Fatalf("got %+v, want Resync", ev)
	}
}

func wantQuiet(t *testing.T, ch <-chan data.Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func testEvents(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	ch := s.Events(t.Context())
	a := author("1")
	c := add(t, s, "p", "secret-body", a)
	wantAdded(t, ch, c)
	if err := s.SetHidden(t.Context(), c.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, true, false)
	if err := s.SetHidden(t.Context(), c.ID, false, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, false, false)
	if err := s.DeleteOwnComment(t.Context(), c.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, false, true)

	c2 := add(t, s, "q", "two", a)
	wantAdded(t, ch, c2)
	if err := s.DeleteComment(t.Context(), c2.ID, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c2, false, true)

	// Refused writes announce nothing.
	if _, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "x", Author: data.Author{}}); err == nil {
		t.Fatal("keyless comment accepted")
	}
	if err := s.SetHidden(t.Context(), c2.ID, true, admin); err == nil {
		t.Fatal("hid a deleted comment")
	}
	wantQuiet(t, ch)

	wantAdded(t, ch, add(t, s, "p", "three", a))
	if _, err := s.DeleteCommentsBefore(t.Context(), start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantResync(t, ch)
	if err := s.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantResync(t, ch)
}

func testEventsEnd(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	ctx, cancel := context.WithCancel(t.Context())
	ch := s.Events(ctx)
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(eventWait):
		t.Fatal("Events channel not closed after its context ended")
	}
}

func testCrossEvents(t *testing.T, open PairOpener) {
	e, opt := prepare(t, noLimits())
	first, second := open(t, opt)
	ch := second.Events(t.Context())
	// probe hears the first store's own events, to know below when its
	// listener has heard the reset.
	probe := first.Events(t.Context())
	c := add(t, first, "p", "secret-body", author("1"))
	wantAdded(t, ch, c)
	if err := first.SetHidden(t.Context(), c.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, true, false)
	e.clock.Advance(time.Second)
	c2 := add(t, first, "p", "two", author("1"))
	c3 := add(t, second, "q", "three", author("2"))
	wantAdded(t, ch, c2)
	wantAdded(t, ch, c3)
	if err := first.SetHidden(t.Context(), c.ID, false, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c, false, false)
	if err := first.DeleteComment(t.Context(), c2.ID, admin); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, ch, c2, false, true)
	if err := first.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantResync(t, ch)
	// The store that made the changes hears them too, once each. Its
	// listener may lag behind on a loaded machine: a subscriber that came
	// before it had heard the reset would still get the older notices
	// (the hide of the first comment), and a catch-up that ran late reads
	// comments as they are now. So wait until it has heard the reset.
	skipToResync(t, probe)
	own := first.Events(t.Context())
	c4 := add(t, first, "p", "four", author("1"))
	// Either may still hear the reset (a Resync only asks viewers to
	// reload, so a late or second one is harmless); c4 must follow.
	wantAddedAfterResyncs(t, own, c4)
	wantAddedAfterResyncs(t, ch, c4)
	wantQuiet(t, own)
	wantQuiet(t, ch)
}
