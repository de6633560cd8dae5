// Package input holds the checks both stores make on what a visitor submits
// before any SQL runs, so that they refuse and clean it alike.
package input

import (
	"strings"
	"time"

	"blog/data"
)

// maxSlugBytes bounds post slugs; it also keeps event payloads small.
const maxSlugBytes = 200

// Comment refuses keyless, empty or overlong comments and sanitises what it
// accepts into the comment to store, created at now. remember says whether
// a name was given, so that it is remembered for the key.
func Comment(nc data.NewComment, now time.Time) (c data.Comment, remember bool, err error) {
	if nc.Author.KeyFingerprint == "" {
		return data.Comment{}, false, data.ErrKeyRequired
	}
	if nc.PostSlug == "" || len(nc.PostSlug) > maxSlugBytes {
		return data.Comment{}, false, &data.InvalidError{Field: "post", Reason: "is not a post"}
	}
	if nc.ReplyTo < 0 {
		return data.Comment{}, false, NoParent()
	}
	body, err := data.SanitizeComment(nc.Body)
	if err != nil {
		return data.Comment{}, false, err
	}
	name, err := data.SanitizeName(nc.Name)
	if err != nil {
		return data.Comment{}, false, err
	}
	c = data.Comment{
		PostSlug: nc.PostSlug, AuthorName: name, AuthorKey: nc.Author.KeyFingerprint,
		Body: body, CreatedAt: now, ReplyTo: nc.ReplyTo,
	}
	return c, strings.TrimSpace(nc.Name) != "", nil
}

// NoParent is the refusal of a reply to a comment that is not there: none
// with that ID, on another post, deleted or hidden. All four answer alike,
// so a reply cannot probe for hidden comments.
func NoParent() error {
	return &data.InvalidError{Field: "reply", Reason: "is to a comment that isn't there"}
}

// Edit refuses a keyless edit or one of no comment, and sanitises the new
// text as a new comment's.
func Edit(e data.CommentEdit) (string, error) {
	if e.Author.KeyFingerprint == "" {
		return "", data.ErrKeyRequired
	}
	if e.ID <= 0 {
		return "", data.ErrNotFound
	}
	return data.SanitizeComment(e.Body)
}

// Name refuses a name without a key to remember it for and sanitises it.
func Name(key, name string) (string, error) {
	if key == "" {
		return "", data.ErrKeyRequired
	}
	return data.SanitizeName(name)
}

// Unsubscribe refuses a keyless unsubscription, since only the key that
// subscribed an address may remove it, and normalises email.
func Unsubscribe(email string, a data.Author) (string, error) {
	if a.KeyFingerprint == "" {
		return "", data.ErrKeyRequired
	}
	return data.NormalizeEmail(email)
}
