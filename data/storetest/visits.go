package storetest

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"blog/data"
)

// visitsOf reads key's visits by slug.
func visitsOf(t *testing.T, s data.Visits, key string) map[string]data.Visit {
	t.Helper()
	vs, err := s.Visits(t.Context(), key)
	if err != nil {
		t.Fatalf("Visits: %v", err)
	}
	out := make(map[string]data.Visit, len(vs))
	for _, v := range vs {
		if _, dup := out[v.PostSlug]; dup {
			t.Fatalf("Visits lists %q twice", v.PostSlug)
		}
		out[v.PostSlug] = v
	}
	return out
}

func mark(t *testing.T, s data.Visits, key string, v data.Visit) {
	t.Helper()
	if err := s.MarkVisit(t.Context(), key, v); err != nil {
		t.Fatalf("MarkVisit(%+v): %v", v, err)
	}
}

// testVisits: a visit keeps the highest comment seen and the latest
// position, and counts the visible comments that came after it.
func testVisits(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	key := a.KeyFingerprint
	if got := visitsOf(t, s, key); len(got) != 0 {
		t.Fatalf("a new key has visits: %v", got)
	}
	c1 := add(t, s, "p", "one", b)
	c2 := add(t, s, "p", "two", b)
	mark(t, s, key, data.Visit{PostSlug: "p", SeenID: c1.ID, Position: 1234})
	v := visitsOf(t, s, key)["p"]
	if v.SeenID != c1.ID || v.Position != 1234 || v.New != 1 || !v.At.Equal(start) || v.At.Location() != time.UTC {
		t.Fatalf("visit = %+v, want seen %d, position 1234, 1 new, at %v UTC", v, c1.ID, start)
	}
	// Comments after the mark are new, hidden ones are not, and another
	// post's are not.
	c3 := add(t, s, "p", "three", b)
	add(t, s, "q", "elsewhere", b)
	if err := s.SetHidden(t.Context(), c3.ID, true, admin); err != nil {
		t.Fatal(err)
	}
	add(t, s, "p", "four", b)
	if v := visitsOf(t, s, key)["p"]; v.New != 2 {
		t.Fatalf("New = %d, want 2 (two and four; three is hidden)", v.New)
	}
	// A lower seen ID (an older page on another replica) keeps the
	// higher; the position is always the latest, clamped to the scale.
	s.clock.Advance(time.Minute)
	mark(t, s, key, data.Visit{PostSlug: "p", SeenID: c2.ID + 100, Position: data.VisitPositionScale + 5})
	mark(t, s, key, data.Visit{PostSlug: "p", SeenID: c1.ID, Position: -3})
	v = visitsOf(t, s, key)["p"]
	if v.SeenID != c2.ID+100 || v.Position != 0 || v.New != 0 || !v.At.Equal(start.Add(time.Minute)) {
		t.Fatalf("after marks = %+v, want seen %d kept, position 0, none new, at the later time", v, c2.ID+100)
	}
	mark(t, s, key, data.Visit{PostSlug: "p", SeenID: c2.ID + 100, Position: data.VisitPositionScale + 5})
	if v := visitsOf(t, s, key)["p"]; v.Position != data.VisitPositionScale {
		t.Fatalf("position = %d, want it clamped to %d", v.Position, data.VisitPositionScale)
	}
	// Visits are per key.
	if got := visitsOf(t, s, b.KeyFingerprint); len(got) != 0 {
		t.Fatalf("another key sees visits: %v", got)
	}
}

// testVisitsKeyless: a keyless visitor has no visits and no error
// reading them; marking and forgetting need a key.
func testVisitsKeyless(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	if err := s.MarkVisit(t.Context(), "", data.Visit{PostSlug: "p"}); !errors.Is(err, data.ErrKeyRequired) {
		t.Fatalf("keyless MarkVisit = %v, want ErrKeyRequired", err)
	}
	if vs, err := s.Visits(t.Context(), ""); err != nil || len(vs) != 0 {
		t.Fatalf("keyless Visits = %v, %v; want none and no error", vs, err)
	}
	if _, err := s.ForgetVisits(t.Context(), ""); !errors.Is(err, data.ErrKeyRequired) {
		t.Fatalf("keyless ForgetVisits = %v, want ErrKeyRequired", err)
	}
}

// testVisitsBounded: a hostile slug is refused, and one key keeps at most
// MaxVisitsPerKey visits, the most recent.
func testVisitsBounded(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	key := author("1").KeyFingerprint
	for _, slug := range []string{"", strings.Repeat("s", data.MaxVisitSlugBytes+1), "p\x00q", "p\xffq"} {
		var inv *data.InvalidError
		if err := s.MarkVisit(t.Context(), key, data.Visit{PostSlug: slug}); !errors.As(err, &inv) {
			t.Fatalf("MarkVisit(slug %q) = %v, want *InvalidError", slug, err)
		}
	}
	for _, bad := range []string{key + "\x00", key + "\xc3"} {
		var inv *data.InvalidError
		if err := s.MarkVisit(t.Context(), bad, data.Visit{PostSlug: "p"}); !errors.As(err, &inv) {
			t.Fatalf("MarkVisit(key with a NUL or bad UTF-8) = %v, want *InvalidError", err)
		}
	}
	n := data.MaxVisitsPerKey + 3
	for i := range n {
		s.clock.Advance(time.Second)
		mark(t, s, key, data.Visit{PostSlug: "post-" + itoa(i)})
	}
	got := visitsOf(t, s, key)
	if len(got) != data.MaxVisitsPerKey {
		t.Fatalf("kept %d visits, want at most %d", len(got), data.MaxVisitsPerKey)
	}
	if _, ok := got["post-"+itoa(n-1)]; !ok {
		t.Fatal("the newest visit was dropped")
	}
	if _, ok := got["post-0"]; ok {
		t.Fatal("the oldest visit was kept past the bound")
	}
}

// testForgetVisits forgets one key's visits and no other's.
func testForgetVisits(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1").KeyFingerprint, author("2").KeyFingerprint
	mark(t, s, a, data.Visit{PostSlug: "p"})
	mark(t, s, a, data.Visit{PostSlug: "q"})
	mark(t, s, b, data.Visit{PostSlug: "p"})
	if n, err := s.ForgetVisits(t.Context(), a); err != nil || n != 2 {
		t.Fatalf("ForgetVisits = %d, %v; want 2", n, err)
	}
	if got := visitsOf(t, s, a); len(got) != 0 {
		t.Fatalf("visits survived ForgetVisits: %v", got)
	}
	if got := visitsOf(t, s, b); len(got) != 1 {
		t.Fatalf("ForgetVisits took another key's visits: %v", got)
	}
	if n, err := s.ForgetVisits(t.Context(), a); err != nil || n != 0 {
		t.Fatalf("second ForgetVisits = %d, %v; want 0", n, err)
	}
}

// testCrossVisits: a visit marked on one replica is read on the other,
// with the comments written there counted as new.
func testCrossVisits(t *testing.T, open PairOpener) {
	_, opt := prepare(t, noLimits())
	first, second := open(t, opt)
	key := author("1").KeyFingerprint
	c := add(t, first, "p", "one", author("2"))
	mark(t, first, key, data.Visit{PostSlug: "p", SeenID: c.ID, Position: 500})
	add(t, second, "p", "two", author("2"))
	v, ok := visitsOf(t, second, key)["p"]
	if !ok || v.SeenID != c.ID || v.Position != 500 || v.New != 1 {
		t.Fatalf("other replica reads %+v (found %v), want seen %d, position 500, 1 new", v, ok, c.ID)
	}
	if n, err := second.ForgetVisits(t.Context(), key); err != nil || n != 1 {
		t.Fatalf("ForgetVisits on the other replica = %d, %v", n, err)
	}
	if got := visitsOf(t, first, key); len(got) != 0 {
		t.Fatalf("first replica still has %v", got)
	}
}

// testVisitsBatch: a batch stores each key's marks in one call, folding
// the marks of one key and post into one: the highest seen ID and the last
// position win, and a stored seen ID is never lowered.
func testVisitsBatch(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1").KeyFingerprint, author("2").KeyFingerprint
	if err := s.MarkVisits(t.Context(), nil); err != nil {
		t.Fatalf("MarkVisits(nothing) = %v", err)
	}
	mark(t, s, a, data.Visit{PostSlug: "kept", SeenID: 50, Position: 10})
	s.clock.Advance(time.Minute)
	marks := []data.KeyedVisit{
		{Key: a, Visit: data.Visit{PostSlug: "p", SeenID: 5, Position: 100}},
		{Key: b, Visit: data.Visit{PostSlug: "p", SeenID: 1, Position: 7}},
		{Key: a, Visit: data.Visit{PostSlug: "p", SeenID: 9, Position: 200}},
		{Key: a, Visit: data.Visit{PostSlug: "kept", SeenID: 20, Position: 30}},
		{Key: a, Visit: data.Visit{PostSlug: "q", SeenID: 3, Position: data.VisitPositionScale + 9}},
		{Key: a, Visit: data.Visit{PostSlug: "p", SeenID: 7, Position: 300}},
	}
	if err := s.MarkVisits(t.Context(), marks); err != nil {
		t.Fatalf("MarkVisits: %v", err)
	}
	now := start.Add(time.Minute)
	got := visitsOf(t, s, a)
	want := map[string]data.Visit{
		"p":    {PostSlug: "p", SeenID: 9, Position: 300, At: now},
		"kept": {PostSlug: "kept", SeenID: 50, Position: 30, At: now},
		"q":    {PostSlug: "q", SeenID: 3, Position: data.VisitPositionScale, At: now},
	}
	if len(got) != len(want) {
		t.Fatalf("visits = %+v, want %+v", got, want)
	}
	for slug, w := range want {
		g := got[slug]
		if g.SeenID != w.SeenID || g.Position != w.Position || !g.At.Equal(w.At) || g.At.Location() != time.UTC {
			t.Errorf("visit %q = %+v, want seen %d, position %d, at %v UTC", slug, g, w.SeenID, w.Position, w.At)
		}
	}
	if v := visitsOf(t, s, b)["p"]; v.SeenID != 1 || v.Position != 7 {
		t.Errorf("the other key's visit = %+v, want seen 1, position 7", v)
	}
}

// testVisitsBatchSkips: a batch stores its valid marks and reports the
// ones CheckVisit refuses, by their place in the batch.
func testVisitsBatchSkips(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	key := author("1").KeyFingerprint
	marks := []data.KeyedVisit{
		{Key: key, Visit: data.Visit{PostSlug: "p", SeenID: 4}},
		{Key: "", Visit: data.Visit{PostSlug: "p"}},
		{Key: key, Visit: data.Visit{PostSlug: ""}},
		{Key: key, Visit: data.Visit{PostSlug: "q", Position: 5}},
		{Key: key, Visit: data.Visit{PostSlug: strings.Repeat("s", data.MaxVisitSlugBytes+1)}},
		// Postgres text takes neither a NUL nor invalid UTF-8: such a
		// mark must be skipped, not fail the batch.
		{Key: key, Visit: data.Visit{PostSlug: "p\x00"}},
		{Key: key + "\xff", Visit: data.Visit{PostSlug: "p"}},
	}
	err := s.MarkVisits(t.Context(), marks)
	var skipped *data.SkippedVisitsError
	if !errors.As(err, &skipped) || !data.IsSkippedVisits(err) {
		t.Fatalf("MarkVisits = %v, want a *SkippedVisitsError", err)
	}
	var idx []int
	for _, sk := range skipped.Skipped {
		idx = append(idx, sk.Index)
	}
	if !slices.Equal(idx, []int{1, 2, 4, 5, 6}) {
		t.Errorf("skipped %v, want [1 2 4 5 6]", idx)
	}
	var inv *data.InvalidError
	if !errors.Is(err, data.ErrKeyRequired) || !errors.As(err, &inv) {
		t.Errorf("%v does not unwrap to ErrKeyRequired and *InvalidError", err)
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("the error names the key: %v", err)
	}
	got := visitsOf(t, s, key)
	if len(got) != 2 || got["p"].SeenID != 4 || got["q"].Position != 5 {
		t.Fatalf("valid marks stored = %+v, want p and q", got)
	}
	// A batch of refused marks only stores nothing.
	err = s.MarkVisits(t.Context(), []data.KeyedVisit{{Key: "", Visit: data.Visit{PostSlug: "r"}}})
	if !data.IsSkippedVisits(err) {
		t.Fatalf("MarkVisits(all refused) = %v, want a *SkippedVisitsError", err)
	}
	if got := visitsOf(t, s, key); len(got) != 2 {
		t.Fatalf("visits after a refused batch = %+v", got)
	}
}

// testVisitsBatchBounded: a batch keeps each key to MaxVisitsPerKey visits,
// the most recent, even when it marks more than that at one instant and
// when the visits it displaces were marked at one instant too.
func testVisitsBatchBounded(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	key, other := author("1").KeyFingerprint, author("2").KeyFingerprint
	n := data.MaxVisitsPerKey + 3
	marks := make([]data.KeyedVisit, 0, n+1)
	for i := range n {
		marks = append(marks, data.KeyedVisit{Key: key, Visit: data.Visit{PostSlug: "old-" + itoa(i)}})
	}
	marks = append(marks, data.KeyedVisit{Key: other, Visit: data.Visit{PostSlug: "p"}})
	if err := s.MarkVisits(t.Context(), marks); err != nil {
		t.Fatal(err)
	}
	got := visitsOf(t, s, key)
	if len(got) != data.MaxVisitsPerKey {
		t.Fatalf("kept %d visits, want %d", len(got), data.MaxVisitsPerKey)
	}
	for i := range 3 {
		if _, ok := got["old-"+itoa(i)]; ok {
			t.Fatalf("old-%d, among the first marks of the batch, was kept past the bound", i)
		}
	}
	if _, ok := got["old-"+itoa(n-1)]; !ok {
		t.Fatal("the batch's last mark was dropped")
	}
	// The next batch marks later: its new posts displace as many of the
	// first batch's, which were all marked at one instant.
	s.clock.Advance(time.Second)
	if err := s.MarkVisits(t.Context(), []data.KeyedVisit{
		{Key: key, Visit: data.Visit{PostSlug: "new-1"}},
		{Key: key, Visit: data.Visit{PostSlug: "new-2"}},
		{Key: key, Visit: data.Visit{PostSlug: "old-" + itoa(n-1), SeenID: 8}},
	}); err != nil {
		t.Fatal(err)
	}
	got = visitsOf(t, s, key)
	if len(got) != data.MaxVisitsPerKey {
		t.Fatalf("kept %d visits after the second batch, want %d", len(got), data.MaxVisitsPerKey)
	}
	for _, slug := range []string{"new-1", "new-2", "old-" + itoa(n-1)} {
		if _, ok := got[slug]; !ok {
			t.Errorf("%s, marked last, was dropped", slug)
		}
	}
	if got := visitsOf(t, s, other); len(got) != 1 {
		t.Fatalf("another key's visits = %+v, want its one", got)
	}
	// A single mark after the batches holds the same bound.
	s.clock.Advance(time.Second)
	mark(t, s, key, data.Visit{PostSlug: "single"})
	if got := visitsOf(t, s, key); len(got) != data.MaxVisitsPerKey {
		t.Fatalf("kept %d visits after a single mark, want %d", len(got), data.MaxVisitsPerKey)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
