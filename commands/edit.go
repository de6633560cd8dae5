package commands

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// editCommand replaces the text of one of the visitor's own comments with
// the text on stdin, while the store still allows it (data.Options.EditWindow).
func editCommand(v *visit) *cobra.Command {
	return &cobra.Command{
		Use:         "edit ID",
		Annotations: map[string]string{usageAnnotation: "edit ID < text"},
		Short:       "edit your own comment, new text on stdin (for 10 minutes after posting)",
		Args:        v.exactly(1),
		RunE: func(c *cobra.Command, args []string) error {
			return v.edit(c.Context(), args[0])
		},
	}
}

func (v *visit) edit(ctx context.Context, arg string) error {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return fail(fmt.Sprintf("%q is not a comment ID. Comment IDs are in: ssh %s comments SLUG", printableArg(arg), v.env.Host))
	}
	a := v.Author
	if a.KeyFingerprint == "" {
		return fail("editing needs the SSH key that wrote the comment")
	}
	body, err := v.readComment(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := v.env.Store.EditComment(ctx, data.CommentEdit{ID: id, Body: string(body), Author: a})
	if err != nil {
		if data.Explain(err).Kind == data.NotFound {
			return fail(fmt.Sprintf("couldn't edit: you have no comment %d to edit (only your own, not deleted or hidden)", id))
		}
		return fail("couldn't edit: " + plainError(err))
	}
	fmt.Fprintf(v.Stdout, "Edited comment %d.\n", c.ID)
	return nil
}
