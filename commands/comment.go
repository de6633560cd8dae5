package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// errStopping: the server began shutting down while a command waited.
var errStopping = errors.New("the server is restarting")

// commentCommand posts the text on stdin as a comment, under --name or the
// name remembered for the visitor's key.
func commentCommand(v *visit) *cobra.Command {
	var name string
	var replyTo int64
	c := &cobra.Command{
		Use:         "comment SLUG [--name NAME] [--reply-to ID]",
		Annotations: map[string]string{usageAnnotation: "comment SLUG [--name NAME] < text"},
		Short:       "post a comment, text on stdin (needs an SSH key)",
		Args:        v.exactly(1),
		RunE: func(c *cobra.Command, args []string) error {
			return v.comment(c.Context(), args[0], name, replyTo)
		},
	}
	c.Flags().StringVar(&name, "name", "", "the name to show (default: the one remembered for your key)")
	c.Flags().Int64Var(&replyTo, "reply-to", 0, "reply to the comment with this ID (see: comments SLUG)")
	return c
}

func (v *visit) comment(ctx context.Context, slug, name string, replyTo int64) error {
	p, err := v.post(slug)
	if err != nil {
		return err
	}
	a := v.Author
	if a.KeyFingerprint == "" {
		return fail("commenting needs an SSH key. Make one with: ssh-keygen -t ed25519")
	}
	if replyTo < 0 {
		return fail("--reply-to takes the ID of a comment on this post (see: comments " + p.Slug + ")")
	}
	body, err := v.readComment(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if name == "" {
		// As in the interface, a key's remembered name is its default.
		if name, err = v.env.Store.Name(ctx, a.KeyFingerprint); err != nil {
			return fail("couldn't post: " + plainError(err))
		}
	}
	c, err := v.env.Store.AddComment(ctx, data.NewComment{PostSlug: p.Slug, Name: name, Body: string(body), Author: a, ReplyTo: replyTo})
	if err != nil {
		return fail("couldn't post: " + plainError(err))
	}
	if c.ReplyTo != 0 {
		fmt.Fprintf(v.Stdout, "Posted comment %d, a reply to comment %d, on %q as %s.\n", c.ID, c.ReplyTo, p.Title, data.Displayable(c.AuthorName))
		return nil
	}
	fmt.Fprintf(v.Stdout, "Posted comment %d on %q as %s.\n", c.ID, p.Title, data.Displayable(c.AuthorName))
	return nil
}

// readComment reads a comment's text from stdin, within Env.MaxStdin.
func (v *visit) readComment(ctx context.Context) ([]byte, error) {
	limit := v.env.MaxStdin
	if limit <= 0 {
		limit = MaxStdinComment
	}
	body, err := v.readStdin(ctx, limit)
	switch {
	case errors.Is(err, errStopping):
		return nil, fail("the server is restarting, so your comment was not posted. Please send it again in a moment.")
	case err != nil:
		return nil, fail("couldn't read the comment from stdin")
	case len(body) > limit:
		return nil, fail(fmt.Sprintf("that comment is too long. Comments are at most %d characters.", data.MaxCommentRunes))
	}
	return body, nil
}

// readStdin reads stdin up to limit+1 bytes (so a caller can tell "too
// long"), giving up with errStopping when the server begins to shut down:
// a script still sending gets a plain answer and an exit status rather
// than a cut connection. The read itself ends with the session, which
// closes stdin.
func (v *visit) readStdin(ctx context.Context, limit int) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(v.Stdin, int64(limit)+1))
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-v.env.Stopping:
		return nil, errStopping
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
