package storetest

import (
	"testing"
	"time"

	"blog/data"
)

func testReset(t *testing.T, open Opener) {
	limits := noLimits()
	limits.CommentPerKey = data.RateLimit{Count: 1, Window: time.Hour}
	s := newEnv(t, open, limits)
	a := author("1")
	c := add(t, s, "p", "secret-body", a)
	wantRateLimit(t, comment(s, t, a), time.Hour)
	subscribe(t, s, "private@example.com", a)
	if err := s.SetName(t.Context(), a.KeyFingerprint, "Ann"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ban(t.Context(), data.Ban{Target: "203.0.113.1", CreatedBy: admin}); err != nil {
		t.Fatal(err)
	}
	mark(t, s, a.KeyFingerprint, data.Visit{PostSlug: "p", SeenID: c.ID})

	if err := s.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.AllComments(t.Context(), data.ListOptions{}); len(all) != 0 {
		t.Fatalf("comments survived Reset: %v", ids(all))
	}
	if got := emails(t, s); len(got) != 0 {
		t.Fatalf("%d subscribers survived Reset", len(got))
	}
	if n, _ := s.Name(t.Context(), a.KeyFingerprint); n != "" {
		t.Fatalf("name survived Reset: %q", n)
	}
	if got := visitsOf(t, s, a.KeyFingerprint); len(got) != 0 {
		t.Fatalf("visits survived Reset: %v", got)
	}
	if bans, _ := s.Bans(t.Context()); len(bans) != 1 {
		t.Fatalf("Reset must keep bans, have %v", bans)
	}
	// Rate records are gone, and IDs are never reused (live listeners catch
	// up by ID).
	if c2 := add(t, s, "p", "again", a); c2.ID <= c.ID {
		t.Fatalf("ID %d reused after Reset (had %d)", c2.ID, c.ID)
	}
}
