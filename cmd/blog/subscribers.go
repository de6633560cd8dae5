package main

import (
	"context"
	"encoding/csv"
	"time"
)

const subscribersHelp = `blog subscribers: the newsletter's subscribers.

Usage:
  blog subscribers export    print every address as CSV

Run "blog subscribers export --help" for its flags.`

func (c *cli) subscribers(ctx context.Context, args []string) error {
	return c.group(ctx, "subscribers", subscribersHelp, args, map[string]func(context.Context, []string) error{
		"export": c.subscribersExport,
	})
}

const exportHelp = `blog subscribers export: print the subscribers, oldest first, as CSV with a
header row: email,subscribed_at (RFC 3339, UTC). This is the only command that
shows addresses; redirect it to a file and keep that file private.`

func (c *cli) subscribersExport(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("subscribers export", exportHelp, &cfg, quietFlags)
	store, err := c.openNoArgs(ctx, fs, &cfg, args)
	if err != nil {
		return err
	}
	defer store.Close()
	subs, err := store.Subscribers(ctx)
	if err != nil {
		return err
	}
	w := csv.NewWriter(c.out)
	w.Write([]string{"email", "subscribed_at"})
	for _, s := range subs {
		w.Write([]string{s.Email, s.CreatedAt.UTC().Format(time.RFC3339)})
	}
	w.Flush()
	return w.Error()
}
