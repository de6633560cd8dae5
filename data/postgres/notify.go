package postgres

import (
	"context"
	"encoding/json"

	"blog/data"

	"github.com/jackc/pgx/v5"
)

// channel is the NOTIFY channel every replica listens on.
const channel = "blog_events"

// Notification kinds.
const (
	notifyAdded   = "added"   // a comment was added: catch up by ID
	notifyChanged = "changed" // a comment was hidden, shown or deleted
	notifyEdited  = "edited"  // a comment's text was edited: read it back by ID
	notifyResync  = "resync"  // many things changed: reload
)

// notice is a NOTIFY payload. It never carries text a visitor wrote: new
// comments are read back by ID, which keeps payloads far below Postgres's
// 8000-byte limit (data/internal/input bounds slugs).
type notice struct {
	Kind    string `json:"k"`
	ID      int64  `json:"id,omitempty"`
	Slug    string `json:"s,omitempty"`
	Hidden  bool   `json:"h,omitempty"`
	Deleted bool   `json:"d,omitempty"`
}

// notify sends n when tx commits, and not at all if it rolls back.
func notify(ctx context.Context, tx pgx.Tx, n notice) error {
	payload, err := json.Marshal(n)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(payload))
	return err
}

// event is the CommentChanged event n announces.
func (n notice) event() data.Event {
	return data.Event{
		Kind:    data.CommentChanged,
		Comment: data.Comment{ID: n.ID, PostSlug: n.Slug, Hidden: n.Hidden},
		Deleted: n.Deleted,
	}
}
