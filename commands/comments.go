package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// commentsPage is how many comments one storage call loads (a variable so
// that a test can page through a few).
var commentsPage = 500

// commentsCommand prints a post's visible comments, oldest first, as text
// or JSON lines.
func commentsCommand(v *visit) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "comments SLUG [--json]",
		Short: "print a post's comments",
		Args:  v.exactly(1),
		RunE: func(c *cobra.Command, args []string) error {
			return v.comments(c.Context(), args[0], asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return c
}

type commentJSON struct {
	ID        int64      `json:"id"`
	Author    string     `json:"author"`
	KeyTag    string     `json:"key_tag,omitempty"`
	Moderator bool       `json:"moderator,omitempty"`
	Body      string     `json:"body"`
	Created   time.Time  `json:"created"`
	ReplyTo   int64      `json:"reply_to,omitempty"`
	Edited    *time.Time `json:"edited,omitempty"`
	// Deleted and Hidden mark a placeholder without text or author, kept
	// because replies answer it.
	Deleted bool `json:"deleted,omitempty"`
	Hidden  bool `json:"hidden,omitempty"`
}

func toJSON(v *visit, c data.Comment) commentJSON {
	j := commentJSON{ID: c.ID, Author: data.Displayable(c.AuthorName), KeyTag: data.KeyTag(c.AuthorKey),
		Moderator: v.env.moderator(c.AuthorKey), Body: data.Displayable(c.Body), Created: c.CreatedAt,
		ReplyTo: c.ReplyTo, Deleted: c.Deleted, Hidden: c.Hidden}
	if !c.EditedAt.IsZero() {
		j.Edited = &c.EditedAt
	}
	return j
}

func (v *visit) comments(ctx context.Context, slug string, asJSON bool) error {
	p, err := v.post(slug)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	enc := json.NewEncoder(v.Stdout)
	var after int64
	n := 0
	for {
		page, err := v.env.Store.Comments(ctx, p.Slug, data.ListOptions{AfterID: after, Limit: commentsPage})
		if err != nil {
			return fail("couldn't load comments: " + plainError(err))
		}
		for _, c := range page {
			n++
			if asJSON {
				_ = enc.Encode(toJSON(v, c))
				continue
			}
			v.printComment(c)
		}
		if len(page) < commentsPage {
			break
		}
		after = page[len(page)-1].ID
	}
	if !asJSON {
		if n == 0 {
			fmt.Fprintln(v.Stdout, "No comments yet.")
		} else {
			fmt.Fprintln(v.Stdout, "No more comments. Check back later for more!")
		}
	}
	return nil
}

// printComment writes one comment as text: who and when, its ID (which
// comment --reply-to and edit take), whom it answers, and the text; a
// placeholder as "[deleted]" or "[hidden]".
func (v *visit) printComment(c data.Comment) {
	ref := fmt.Sprintf("comment %d", c.ID)
	if c.ReplyTo != 0 {
		ref += fmt.Sprintf(", reply to %d", c.ReplyTo)
	}
	switch {
	case c.Deleted:
		fmt.Fprintf(v.Stdout, "[deleted] · %s\n\n", ref)
		return
	case c.Hidden:
		fmt.Fprintf(v.Stdout, "[hidden] · %s\n\n", ref)
		return
	}
	if !c.EditedAt.IsZero() {
		ref += ", edited"
	}
	fmt.Fprintf(v.Stdout, "%s · %s · %s\n%s\n\n", v.authorLabel(c), v.when(c.CreatedAt), ref, data.Displayable(c.Body))
}

// authorLabel is a comment's author as the interface shows it: the name,
// a moderator's badge and the key tag that tells two "ada"s apart.
func (v *visit) authorLabel(c data.Comment) string {
	label := data.DisplayName(c.AuthorName)
	if v.env.moderator(c.AuthorKey) {
		label += " [mod]"
	}
	if tag := data.KeyTag(c.AuthorKey); tag != "" {
		label += " #" + tag
	}
	return label
}

// when prints an absolute time in the visitor's zone (UTC when the client
// sent no TZ), with the zone's abbreviation.
func (v *visit) when(t time.Time) string {
	loc := v.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}
