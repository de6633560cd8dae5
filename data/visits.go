package data

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what the visits store keeps. A visit is only ever marked for a
// post the interface showed, so the count per key is the library's size;
// the bounds here hold even against a caller that passes anything.
const (
	// MaxVisitSlugBytes bounds a visited post's slug.
	MaxVisitSlugBytes = 128
	// MaxVisitsPerKey bounds the visits kept for one key: marking one more
	// forgets the least recently marked.
	MaxVisitsPerKey = 1000
	// VisitPositionScale is the end of a post: Position runs from 0 (the
	// top) to VisitPositionScale (the last line), so a place kept at one
	// window width is found again at another.
	VisitPositionScale = 10000
)

// Visit is what one key last saw of one post.
type Visit struct {
	PostSlug string
	// SeenID is the highest comment ID the visitor was shown. Marking a
	// lower one keeps the higher: a replica with an older page never
	// makes comments new again.
	SeenID int64
	// Position is where the visitor stopped reading, from 0 to
	// VisitPositionScale.
	Position int
	// At is when the visit was last marked.
	At time.Time
	// New counts the visible comments with an ID above SeenID. Visits
	// fills it in; MarkVisit ignores it.
	New int
}

// Visits remembers, per SSH key, which posts a visitor opened, the last
// comment they saw there and where they stopped reading, so the post list
// can say what is new on any replica. Keyless visitors have no visits:
// MarkVisit answers ErrKeyRequired and Visits answers none.
type Visits interface {
	// MarkVisit records that key opened or left v.PostSlug: one upsert.
	MarkVisit(ctx context.Context, key string, v Visit) error
	// MarkVisits records many marks, of any keys, in one transaction, each
	// as MarkVisit would: the seen ID never goes down, the position is the
	// latest and each key keeps at most MaxVisitsPerKey visits. Marks of
	// one key and post count as one, as PrepareVisits folds them. A mark
	// that CheckVisit refuses is skipped and the others are still stored:
	// the answer is then a *SkippedVisitsError saying which. Any other
	// error means none was stored.
	MarkVisits(ctx context.Context, marks []KeyedVisit) error
	// Visits lists key's visits with their New counts.
	Visits(ctx context.Context, key string) ([]Visit, error)
	// ForgetVisits deletes all of key's visits and returns how many there
	// were.
	ForgetVisits(ctx context.Context, key string) (int64, error)
}

// CheckVisit validates a visit before it is stored and clamps its position.
// A key or slug that is not valid UTF-8 or holds a NUL is refused: Postgres
// text takes neither, and one such mark would fail the whole batch it is in.
func CheckVisit(key string, v Visit) (Visit, error) {
	if key == "" {
		return v, ErrKeyRequired
	}
	if !storableText(key) {
		return v, &InvalidError{Field: "key", Reason: "not valid text"}
	}
	if v.PostSlug == "" || len(v.PostSlug) > MaxVisitSlugBytes || !storableText(v.PostSlug) {
		return v, &InvalidError{Field: "post", Reason: "no such post"}
	}
	v.SeenID = max(v.SeenID, 0)
	v.Position = max(0, min(v.Position, VisitPositionScale))
	return v, nil
}

// storableText reports whether every store can keep s as text.
func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// KeyedVisit is one mark of a batch: the key that made it and the visit.
type KeyedVisit struct {
	Key string
	Visit
}

// SkippedVisit is one mark of a batch that CheckVisit refused.
type SkippedVisit struct {
	// Index is the mark's place in the batch as given.
	Index int
	Err   error
}

// SkippedVisitsError lists the marks of a batch that were refused while
// the others were stored. Its text and its errors name no key: they say
// which places in the batch were refused and why.
type SkippedVisitsError struct {
	Skipped []SkippedVisit
}

func (e *SkippedVisitsError) Error() string {
	first := e.Skipped[0]
	if len(e.Skipped) == 1 {
		return fmt.Sprintf("visit mark %d refused: %v", first.Index, first.Err)
	}
	return fmt.Sprintf("%d visit marks refused, the first (%d): %v", len(e.Skipped), first.Index, first.Err)
}

// Unwrap gives the refusals, so errors.Is(err, ErrKeyRequired) and
// errors.As(err, &invalid) see them.
func (e *SkippedVisitsError) Unwrap() []error {
	out := make([]error, len(e.Skipped))
	for i, s := range e.Skipped {
		out[i] = s.Err
	}
	return out
}

// PrepareVisits is what a store writes of a batch of marks, in the order
// to write them: each mark checked and clamped by CheckVisit, and the
// marks of one key and post folded into one, with the highest seen ID and
// the position of the last of them, placed where the last one was. Past
// MaxVisitsPerKey posts of one key in the batch, only the last ones are
// kept: the bound would forget the others as soon as they were written.
// The refused marks come back as a *SkippedVisitsError, nil when none
// was.
func PrepareVisits(marks []KeyedVisit) ([]KeyedVisit, error) {
	type pair struct{ key, slug string }
	type folded struct {
		KeyedVisit
		last int // the place of the last mark folded in
	}
	var skipped []SkippedVisit
	at := make(map[pair]int, len(marks))
	out := make([]folded, 0, len(marks))
	for i, m := range marks {
		v, err := CheckVisit(m.Key, m.Visit)
		if err != nil {
			skipped = append(skipped, SkippedVisit{Index: i, Err: err})
			continue
		}
		p := pair{m.Key, v.PostSlug}
		if j, ok := at[p]; ok {
			f := &out[j]
			f.SeenID = max(f.SeenID, v.SeenID)
			f.Position = v.Position
			f.last = i
			continue
		}
		at[p] = len(out)
		out = append(out, folded{KeyedVisit: KeyedVisit{Key: m.Key, Visit: v}, last: i})
	}
	slices.SortFunc(out, func(a, b folded) int { return a.last - b.last })
	// Keep each key's last MaxVisitsPerKey posts, counting from the end.
	perKey := make(map[string]int)
	kept := make([]KeyedVisit, len(out))
	n := len(out)
	for i := len(out) - 1; i >= 0; i-- {
		k := out[i].Key
		if perKey[k] == MaxVisitsPerKey {
			continue
		}
		perKey[k]++
		n--
		kept[n] = out[i].KeyedVisit
	}
	var err error
	if len(skipped) > 0 {
		err = &SkippedVisitsError{Skipped: skipped}
	}
	return kept[n:], err
}

// IsSkippedVisits reports whether err only says that some marks of a batch
// were refused, so the rest were stored.
func IsSkippedVisits(err error) bool {
	var s *SkippedVisitsError
	return errors.As(err, &s)
}
