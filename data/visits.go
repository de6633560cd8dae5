package data

import (
	"context"
	"time"
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
	// Visits lists key's visits with their New counts.
	Visits(ctx context.Context, key string) ([]Visit, error)
	// ForgetVisits deletes all of key's visits and returns how many there
	// were.
	ForgetVisits(ctx context.Context, key string) (int64, error)
}

// CheckVisit validates a visit before it is stored and clamps its position.
func CheckVisit(key string, v Visit) (Visit, error) {
	if key == "" {
		return v, ErrKeyRequired
	}
	if v.PostSlug == "" || len(v.PostSlug) > MaxVisitSlugBytes {
		return v, &InvalidError{Field: "post", Reason: "no such post"}
	}
	v.SeenID = max(v.SeenID, 0)
	v.Position = max(0, min(v.Position, VisitPositionScale))
	return v, nil
}
