package main

import (
	"context"
	"fmt"
)

const resetHelp = `blog reset --yes: delete every comment, subscription and remembered name,
and the rate-limit records; bans are kept. Readers' screens reload. Without
--yes it only says what it would delete.`

func (c *cli) reset(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("reset", resetHelp, &cfg, quietFlags)
	yes := fs.Bool("yes", false, "really delete")
	store, err := c.openNoArgs(ctx, fs, &cfg, args)
	if err != nil {
		return err
	}
	defer store.Close()
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
	if !*yes {
		return c.usageError(fs, "this would delete %s; run \"blog reset --yes\" to do it", what)
	}
	if err := store.Reset(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "deleted %s\n", what)
	return nil
}
