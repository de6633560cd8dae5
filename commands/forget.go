package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// forgetCommand forgets what this key has read: which posts it opened, the
// last comment it saw on each and where it stopped reading. The post list
// then marks every post unread again.
func forgetCommand(v *visit) *cobra.Command {
	return &cobra.Command{
		Use:   "forget",
		Short: "forget which posts and comments this key has read",
		Args:  v.exactly(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return v.forget(c.Context())
		},
	}
}

func (v *visit) forget(ctx context.Context) error {
	if v.Author.KeyFingerprint == "" {
		// Nothing is kept for a keyless visitor, so there is nothing to
		// forget; saying so is not a failure.
		fmt.Fprintln(v.Stdout, "Nothing to forget: without an SSH key, nothing of what you read is kept.")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := v.env.Store.ForgetVisits(ctx, v.Author.KeyFingerprint)
	if err != nil {
		return fail("couldn't forget: " + plainError(err))
	}
	if n == 0 {
		fmt.Fprintln(v.Stdout, "Nothing to forget: this key has no reading history here.")
		return nil
	}
	fmt.Fprintf(v.Stdout, "Forgotten: what this key read of %d %s. Every post shows as unread again.\n", n, map[bool]string{true: "post", false: "posts"}[n == 1])
	return nil
}
