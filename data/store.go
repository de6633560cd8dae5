// Package data holds the domain types of the blog's conversation (comments,
// subscriptions, identities, bans), the rules that validate them, and the
// Store interface that the storage back ends (data/postgres, data/sqlite)
// implement. It never imports ui or server.
package data

import (
	"context"
	"time"
)

// Limits on what a visitor may write. They sit in the remark42/isso range.
const (
	MaxCommentRunes = 2000
	MaxNameRunes    = 32
	MaxEmailBytes   = 254
	DefaultName     = "Anonymous"
)

// Comment is one stored comment. Body and AuthorName are already sanitised.
type Comment struct {
	ID         int64
	PostSlug   string
	AuthorName string
	// AuthorKey is the SHA256 fingerprint ("SHA256:...") of the SSH key that
	// wrote the comment. It is never shown to other readers in full.
	AuthorKey string
	Body      string
	CreatedAt time.Time
	Hidden    bool
	// ReplyTo is the ID of the comment this one answers; 0 for none.
	ReplyTo int64
	// EditedAt is when the author last edited the text; zero if never.
	EditedAt time.Time
	// Deleted marks a placeholder: the comment was deleted while it had
	// replies, so it stays, without text or author, to keep their context.
	Deleted bool
}

// Placeholder reports whether c stands in for a comment whose text a
// reader may not see: deleted, or (for readers) hidden. A reader's page
// holds such a comment only when it has replies.
func (c Comment) Placeholder() bool { return c.Deleted || c.Hidden && c.Body == "" }

// Author says who is acting: the fingerprint of the key the client
// authenticated with (empty for keyless visitors) and the remote IP.
type Author struct {
	KeyFingerprint string
	IP             string
}

// NewComment is what a visitor submits. The store sanitises and validates it.
type NewComment struct {
	PostSlug string
	Name     string // empty means DefaultName
	Body     string
	Author   Author
	// ReplyTo is the comment this one answers, 0 for none. It must be a
	// comment of the same post that is neither deleted nor hidden.
	ReplyTo int64
}

// CommentEdit is an author's new text for one of their comments.
type CommentEdit struct {
	ID     int64
	Body   string
	Author Author // only the key that wrote the comment may edit it
}

// EventKind tells what changed.
type EventKind int

const (
	// CommentAdded carries the new comment in Event.Comment.
	CommentAdded EventKind = iota + 1
	// CommentChanged: a comment was hidden, unhidden or deleted (Event.Comment
	// holds ID and PostSlug; Hidden tells the new state; Deleted is set when gone).
	CommentChanged
	// Resync: the store may have missed changes (listener reconnect, reset);
	// every viewer should reload what it shows.
	Resync
	// CommentEdited: a comment's text was edited; Event.Comment holds the
	// whole comment as it is now.
	CommentEdited
)

// Event is a live change, delivered to every replica's hub.
type Event struct {
	Kind    EventKind
	Comment Comment
	Deleted bool
}

// Ban is a key fingerprint or an IP barred from writing until Until.
type Ban struct {
	Target    string // "SHA256:..." fingerprint or an IP address
	Until     time.Time
	CreatedBy string
	CreatedAt time.Time
}

// Subscriber is one newsletter address. Only operator commands see these.
type Subscriber struct {
	Email       string
	CreatedAt   time.Time
	Status      string    // StatusPending, StatusConfirmed, ...
	ConfirmedAt time.Time // zero unless confirmed once
}

// ListOptions pages through one post's comments, oldest first. Readers
// (IncludeHidden false) also get a hidden or deleted comment that has a
// visible reply, as a placeholder without text or author (see
// Comment.Placeholder), so the replies keep their context.
type ListOptions struct {
	AfterID       int64 // only comments with ID > AfterID
	Limit         int   // at most this many; 0 means 50
	IncludeHidden bool  // admins see hidden comments
}

// Store is everything the blog keeps, composed of the parts below so that
// each user of storage can name only the part it needs. Implementations are
// safe for concurrent use and share one bounded connection pool among all
// sessions.
type Store interface {
	Comments
	Subscriptions
	Moderation
	Newsletter
	Jobs
	Events
	Visits
	// Ping answers when the database is reachable and migrated.
	Ping(ctx context.Context) error
	Close() error
}

// VisitorStore is the part of the store that a visitor's session and exec
// commands reach: comments, the newsletter sign-up, visits, the moderators'
// actions in the interface, and Ping for readiness. The server's observed store
// counts these calls and the shared threads answer Comments from memory.
type VisitorStore interface {
	Comments
	Subscriptions
	Visits
	SetHidden(ctx context.Context, id int64, hidden bool, by string) error
	DeleteComment(ctx context.Context, id int64, by string) error
	Ban(ctx context.Context, b Ban) error
	Ping(ctx context.Context) error
}

// Comments is what visitors do with comments: read them, write them,
// delete their own, and the name remembered for their key.
type Comments interface {
	// AddComment sanitises, validates, checks bans and rate limits, stores
	// the comment and announces it to every replica (CommentAdded). A
	// name given with it is remembered for the author's key.
	AddComment(ctx context.Context, c NewComment) (Comment, error)
	// Comments lists one post's comments oldest first.
	Comments(ctx context.Context, slug string, opt ListOptions) ([]Comment, error)
	// CommentCounts returns visible comment counts per post slug.
	CommentCounts(ctx context.Context) (map[string]int, error)
	// EditComment replaces the text of a comment its author wrote less
	// than Options.EditWindow ago, sanitised and rate limited like a new
	// comment, and announces it (CommentEdited). Another key's, a deleted
	// or a hidden comment is ErrNotFound; an older one is
	// *EditClosedError.
	EditComment(ctx context.Context, e CommentEdit) (Comment, error)
	// DeleteOwnComment deletes a comment if it was written by key;
	// otherwise it answers ErrNotFound. A comment with replies stays as a
	// placeholder (Deleted, without text or author) so they keep their
	// context; so do moderators' deletions.
	DeleteOwnComment(ctx context.Context, id int64, key string) error
	// Name is the name last remembered for key, "" when there is none.
	Name(ctx context.Context, key string) (string, error)
}

// Subscriptions is what visitors do with the newsletter: sign up (double
// opt-in), confirm with the mailed code, and leave.
type Subscriptions interface {
	// Subscribe normalises email and starts a double opt-in: a new,
	// expired or unsubscribed address becomes pending with a fresh code and
	// token (returned once, stored hashed). It answers alike for new,
	// pending and confirmed addresses (no enumeration); the Confirmation is
	// Due only when a mail should go out, at most once per address per
	// Options.ConfirmMailWindow.
	Subscribe(ctx context.Context, email string, a Author) (Confirmation, error)
	// Confirm confirms the pending subscription whose mailed code this is.
	// A wrong or expired code is ErrNotFound. Attempts are rate limited.
	Confirm(ctx context.Context, code string, a Author) error
	// Unsubscribe unsubscribes email if it was subscribed by the same key.
	// It returns nil also when there was nothing to do (no enumeration).
	// Keyless visitors unsubscribe by the link in every mail.
	Unsubscribe(ctx context.Context, email string, a Author) error
}

// Moderation is what moderators (in the interface) and the operator's
// commands do.
type Moderation interface {
	// SetHidden hides a comment from readers, or shows it again, and
	// announces it (CommentChanged); ErrNotFound if there is no such comment.
	SetHidden(ctx context.Context, id int64, hidden bool, by string) error
	// DeleteComment deletes a comment and announces it; ErrNotFound if
	// there is no such comment.
	DeleteComment(ctx context.Context, id int64, by string) error
	// AllComments lists every post's comments with ID > opt.AfterID, oldest
	// first, hidden ones always included.
	AllComments(ctx context.Context, opt ListOptions) ([]Comment, error)
	// Ban bars a key or an IP from writing; of two bans of one target the
	// stronger stays.
	Ban(ctx context.Context, b Ban) error
	// Unban lifts a ban; ErrNotFound if there is none.
	Unban(ctx context.Context, target string) error
	// Bans lists the bans in force.
	Bans(ctx context.Context) ([]Ban, error)
}

// Jobs is what the scheduled jobs do.
type Jobs interface {
	// Reset deletes all comments, subscriptions, names, visits and rate-limit
	// records, and announces Resync.
	Reset(ctx context.Context) error
	// DeleteCommentsBefore deletes the comments written before t and
	// returns how many.
	DeleteCommentsBefore(ctx context.Context, t time.Time) (int64, error)
	// TryLock runs fn only if no other replica holds the named job lock;
	// ran reports whether fn ran.
	TryLock(ctx context.Context, name string, fn func(context.Context) error) (ran bool, err error)
}

// Events is the live feed of changes.
type Events interface {
	// Events delivers live changes from every replica until ctx ends. One
	// consumer per process (the server's hub) is expected.
	Events(ctx context.Context) <-chan Event
}

// RateLimit allows Count actions per Window.
type RateLimit struct {
	Count  int
	Window time.Duration
}

// Limits are the write rate limits. They are kept in the database so they
// hold across replicas.
type Limits struct {
	CommentPerKey   RateLimit
	CommentPerIP    RateLimit
	SubscribePerKey RateLimit
	SubscribePerIP  RateLimit
	// ConfirmPerKey and ConfirmPerIP bound attempts at typing a
	// confirmation code, so codes cannot be guessed.
	ConfirmPerKey RateLimit
	ConfirmPerIP  RateLimit
}

// DefaultLimits suit a small public blog.
func DefaultLimits() Limits {
	return Limits{
		CommentPerKey:   RateLimit{Count: 5, Window: time.Minute},
		CommentPerIP:    RateLimit{Count: 20, Window: time.Minute},
		SubscribePerKey: RateLimit{Count: 5, Window: time.Hour},
		SubscribePerIP:  RateLimit{Count: 20, Window: time.Hour},
		ConfirmPerKey:   RateLimit{Count: 10, Window: time.Hour},
		ConfirmPerIP:    RateLimit{Count: 30, Window: time.Hour},
	}
}

// UnmailedSignup signs readers up in the store alone and mails nobody, for
// a server built without a newsletter (as some tests are). Its Subscribe
// keeps the confirmation to itself; Confirm is the store's.
type UnmailedSignup struct{ Subscriptions }

// Subscribe starts the double opt-in without sending the mail.
func (u UnmailedSignup) Subscribe(ctx context.Context, email string, a Author) error {
	_, err := u.Subscriptions.Subscribe(ctx, email, a)
	return err
}
