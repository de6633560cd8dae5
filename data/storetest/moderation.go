package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"blog/data"
)

const admin = "SHA256:admin"

func testHiddenComments(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	c1 := add(t, s, "a", "1", author("1"))
	c2 := add(t, s, "a", "2", author("1"))
	add(t, s, "b", "3", author("1"))
	if err := s.SetHidden(t.Context(), c1.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	if got := ids(list(t, s, "a", data.ListOptions{})); !slices.Equal(got, []int64{c2.ID}) {
		t.Fatalf("Comments shows %v, want the hidden one left out", got)
	}
	withHidden := list(t, s, "a", data.ListOptions{IncludeHidden: true})
	if !slices.Equal(ids(withHidden), []int64{c1.ID, c2.ID}) || !withHidden[0].Hidden {
		t.Fatalf("IncludeHidden shows %+v", withHidden)
	}
	counts, err := s.CommentCounts(t.Context())
	if err != nil || counts["a"] != 1 || counts["b"] != 1 || len(counts) != 2 {
		t.Fatalf("CommentCounts = %v, %v; want a:1 b:1", counts, err)
	}
	all, err := s.AllComments(t.Context(), data.ListOptions{})
	if err != nil || len(all) != 3 || !all[0].Hidden {
		t.Fatalf("AllComments = %+v, %v; want all 3, the hidden one flagged", all, err)
	}
	if page, _ := s.AllComments(t.Context(), data.ListOptions{AfterID: c1.ID, Limit: 1}); !slices.Equal(ids(page), []int64{c2.ID}) {
		t.Fatalf("AllComments page = %v", ids(page))
	}
	if err := s.SetHidden(t.Context(), c1.ID, false, admin); err != nil {
		t.Fatal(err)
	}
	if got := ids(list(t, s, "a", data.ListOptions{})); !slices.Equal(got, []int64{c1.ID, c2.ID}) {
		t.Fatalf("after unhide Comments shows %v", got)
	}
	if err := s.SetHidden(t.Context(), 999999, true, admin); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("SetHidden(unknown) = %v, want ErrNotFound", err)
	}
}

func testDeleteComment(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	c1 := add(t, s, "a", "1", author("1"))
	c2 := add(t, s, "a", "2", author("1"))
	if err := s.DeleteComment(t.Context(), c1.ID, admin); err != nil {
		t.Fatal(err)
	}
	if got := ids(list(t, s, "a", data.ListOptions{IncludeHidden: true})); !slices.Equal(got, []int64{c2.ID}) {
		t.Fatalf("after delete: %v", got)
	}
	if err := s.DeleteComment(t.Context(), c1.ID, admin); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("DeleteComment twice = %v, want ErrNotFound", err)
	}
}

func testDeleteOwnComment(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	c := add(t, s, "a", "mine", a)
	for _, key := range []string{b.KeyFingerprint, ""} {
		if err := s.DeleteOwnComment(t.Context(), c.ID, key); !errors.Is(err, data.ErrNotFound) {
			t.Fatalf("DeleteOwnComment by %q = %v, want ErrNotFound", key, err)
		}
	}
	if got := list(t, s, "a", data.ListOptions{}); len(got) != 1 {
		t.Fatalf("another key deleted the comment")
	}
	if err := s.DeleteOwnComment(t.Context(), c.ID, a.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, "a", data.ListOptions{}); len(got) != 0 {
		t.Fatalf("own comment still there: %v", got)
	}
	if err := s.DeleteOwnComment(t.Context(), c.ID, a.KeyFingerprint); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("DeleteOwnComment twice = %v, want ErrNotFound", err)
	}
}

func testBans(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a := author("1")
	until := start.Add(time.Hour)
	if err := s.Ban(t.Context(), data.Ban{Target: a.KeyFingerprint, Until: until, CreatedBy: admin}); err != nil {
		t.Fatal(err)
	}
	// Banning again replaces the first ban.
	until = start.Add(2 * time.Hour)
	if err := s.Ban(t.Context(), data.Ban{Target: a.KeyFingerprint, Until: until, CreatedBy: admin}); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Minute) // Bans lists oldest first
	if err := s.Ban(t.Context(), data.Ban{Target: "203.0.113.9", CreatedBy: admin}); err != nil {
		t.Fatal(err)
	}
	bans, err := s.Bans(t.Context())
	if err != nil || len(bans) != 2 {
		t.Fatalf("Bans = %+v, %v; want 2", bans, err)
	}
	b := bans[0]
	if b.Target != a.KeyFingerprint || !b.Until.Equal(until) || b.CreatedBy != admin || !b.CreatedAt.Equal(start) {
		t.Fatalf("ban = %+v", b)
	}
	if !bans[1].Until.IsZero() {
		t.Fatalf("a ban without Until should stay permanent, got %+v", bans[1])
	}
	banned := func(a data.Author) bool {
		t.Helper()
		ok, err := s.Banned(t.Context(), a)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !banned(a) || !banned(data.Author{IP: "203.0.113.9"}) || banned(author("2")) {
		t.Fatal("Banned answers wrong")
	}
	s.clock.Advance(3 * time.Hour)
	if banned(a) {
		t.Fatal("an expired ban still holds")
	}
	if bans, _ := s.Bans(t.Context()); len(bans) != 1 || bans[0].Target != "203.0.113.9" {
		t.Fatalf("Bans lists expired bans: %+v", bans)
	}
	if !banned(data.Author{KeyFingerprint: "SHA256:x", IP: "203.0.113.9"}) {
		t.Fatal("the permanent IP ban expired")
	}
	if err := s.Unban(t.Context(), "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	if banned(data.Author{IP: "203.0.113.9"}) {
		t.Fatal("Unban did not lift the ban")
	}
	if err := s.Unban(t.Context(), "203.0.113.9"); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("Unban(unknown) = %v, want ErrNotFound", err)
	}
}

func testBanBlocksWrites(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	byKey, byIP := author("1"), author("2")
	for _, target := range []string{byKey.KeyFingerprint, byIP.IP} {
		if err := s.Ban(t.Context(), data.Ban{Target: target, Until: start.Add(time.Hour), CreatedBy: admin}); err != nil {
			t.Fatal(err)
		}
	}
	otherKeySameIP := data.Author{KeyFingerprint: "SHA256:fresh", IP: byIP.IP}
	for _, a := range []data.Author{byKey, otherKeySameIP} {
		if _, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "x", Author: a}); !errors.Is(err, data.ErrBanned) {
			t.Errorf("AddComment by banned %+v = %v, want ErrBanned", a, err)
		}
		if _, err := s.Subscribe(t.Context(), "private@example.com", a); !errors.Is(err, data.ErrBanned) {
			t.Errorf("Subscribe by banned %+v = %v, want ErrBanned", a, err)
		}
	}
	if _, err := s.Subscribe(t.Context(), "private@example.com", data.Author{IP: byIP.IP}); !errors.Is(err, data.ErrBanned) {
		t.Errorf("keyless Subscribe from a banned IP = %v, want ErrBanned", err)
	}
	if subs, _ := s.Subscribers(t.Context()); len(subs) != 0 {
		t.Fatalf("banned subscribe was stored: %v", len(subs))
	}
	s.clock.Advance(2 * time.Hour)
	add(t, s, "p", "after the ban", byKey)
}

func testNames(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	key := author("1").KeyFingerprint
	if n, err := s.Name(t.Context(), key); err != nil || n != "" {
		t.Fatalf("Name before SetName = %q, %v", n, err)
	}
	if err := s.SetName(t.Context(), key, "Zoë\x1b[1m  B"); err != nil {
		t.Fatal(err)
	}
	want, _ := data.SanitizeName("Zoë\x1b[1m  B")
	if n, err := s.Name(t.Context(), key); err != nil || n != want {
		t.Fatalf("Name = %q, %v; want %q", n, err, want)
	}
	if err := s.SetName(t.Context(), key, "Second"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Name(t.Context(), key); n != "Second" {
		t.Fatalf("Name after rename = %q", n)
	}
	var inv *data.InvalidError
	if err := s.SetName(t.Context(), key, strings.Repeat("x", 100)); !errors.As(err, &inv) {
		t.Fatalf("SetName(too long) = %v, want *InvalidError", err)
	}
	if err := s.SetName(t.Context(), "", "Ann"); !errors.Is(err, data.ErrKeyRequired) {
		t.Fatalf("SetName without key = %v, want ErrKeyRequired", err)
	}
}

// A second ban of one target never weakens the first: a permanent ban stays
// permanent, a later end wins, and the ban kept keeps its author and reason.
func testBanKeepsStronger(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	ban := func(target string, until time.Time, by string) {
		t.Helper()
		if err := s.Ban(t.Context(), data.Ban{Target: target, Until: until, CreatedBy: by}); err != nil {
			t.Fatal(err)
		}
	}
	byTarget := func() map[string]data.Ban {
		t.Helper()
		bans, err := s.Bans(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]data.Ban{}
		for _, b := range bans {
			out[b.Target] = b
		}
		return out
	}
	const operator = "operator: spam run"
	forGood, long, day := "SHA256:for-good", "SHA256:long", "SHA256:day"
	ban(forGood, time.Time{}, operator)
	ban(long, start.Add(100*365*24*time.Hour), operator)
	ban(day, start.Add(24*time.Hour), admin)
	s.clock.Advance(time.Minute)
	ban(forGood, start.Add(24*time.Hour), admin) // a moderator's B
	ban(long, start.Add(24*time.Hour), admin)
	ban(day, start.Add(48*time.Hour), operator) // a longer one replaces it
	got := byTarget()
	if b := got[forGood]; !b.Until.IsZero() || b.CreatedBy != operator || !b.CreatedAt.Equal(start) {
		t.Errorf("permanent ban after a 24h one = %+v, want it kept whole", b)
	}
	if b := got[long]; !b.Until.Equal(start.Add(100*365*24*time.Hour)) || b.CreatedBy != operator {
		t.Errorf("long ban after a 24h one = %+v, want it kept whole", b)
	}
	if b := got[day]; !b.Until.Equal(start.Add(48*time.Hour)) || b.CreatedBy != operator || !b.CreatedAt.Equal(start.Add(time.Minute)) {
		t.Errorf("24h ban after a 48h one = %+v, want the 48h one", b)
	}
	ban(day, time.Time{}, operator) // permanent beats any end
	if b := byTarget()[day]; !b.Until.IsZero() {
		t.Errorf("a permanent ban did not replace a timed one: %+v", b)
	}
	// An expired ban is no obstacle to a new, shorter one.
	s.clock.Advance(72 * time.Hour)
	expired := "SHA256:expired"
	ban(expired, s.clock.Now().Add(time.Hour), admin)
	s.clock.Advance(2 * time.Hour)
	ban(expired, s.clock.Now().Add(time.Hour), admin)
	if ok, err := s.Banned(t.Context(), data.Author{KeyFingerprint: expired}); err != nil || !ok {
		t.Errorf("a new ban after an expired one does not hold: %v, %v", ok, err)
	}
}
