package main

import (
	"fmt"

	"blog/data"

	"github.com/spf13/cobra"
)

const resetHelp = `blog reset --yes: delete every comment, subscription and remembered name,
and the rate-limit records; bans are kept. Readers' screens reload. Without
--yes it only says what it would delete.`

func (c *cli) resetCmd() *cobra.Command {
	var yes bool
	cmd := c.storeCommand("reset", resetHelp, func(cmd *cobra.Command, store data.Store) error {
		return c.reset(cmd, store, yes)
	})
	cmd.Flags().BoolVar(&yes, "yes", false, "really delete")
	return cmd
}

// reset says what it would delete and, with yes, deletes it.
func (c *cli) reset(cmd *cobra.Command, store data.Store, yes bool) error {
	ctx := cmd.Context()
	comments, err := allComments(ctx, store)
	if err != nil {
		return err
	}
	subs, err := store.Subscribers(ctx)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d comments, %d subscriptions, every remembered name and the rate-limit records (bans are kept)",
		len(comments), len(subs))
	if !yes {
		return c.usageError(cmd, "this would delete %s; run \"blog reset --yes\" to do it", what)
	}
	if err := store.Reset(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "deleted %s\n", what)
	return nil
}
