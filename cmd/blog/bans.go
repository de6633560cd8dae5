package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"blog/data"

	"github.com/spf13/cobra"
)

// forever is what "--for 0" means: a ban nobody will outlive.
const forever = 100 * 365 * 24 * time.Hour

const maxReasonRunes = 200

const banHelp = `blog ban TARGET [--for DURATION] [--reason TEXT]: bar an SSH key or an IP
address from commenting and subscribing. TARGET is a key fingerprint
("SHA256:...", as "blog comments list" shows and "ssh-keygen -lf KEY.pub"
prints) or an IP address. A target keeps the stronger of its bans: banning
it again can lengthen a ban but never shortens one (unban it first).`

func (c *cli) banCmd() *cobra.Command {
	var cfg config
	var dur time.Duration
	var reason string
	cmd := c.command("ban", banHelp, &cfg, quietFlags)
	cmd.Flags().DurationVar(&dur, "for", 24*time.Hour, "how long the ban lasts, e.g. 1h, 720h; 0 means for good (100 years)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, kept with the ban as its author: \"operator: REASON\"")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if len(pos) != 1 {
			return c.usageError(cmd, "give exactly one TARGET, got %d", len(pos))
		}
		target, err := banTarget(pos[0])
		if err != nil {
			return c.usageError(cmd, "%v", err)
		}
		if dur < 0 {
			return c.usageError(cmd, "--for cannot be negative")
		}
		if dur == 0 {
			dur = forever
		}
		// The store keeps no separate reason, so it rides along in "by", on
		// one clean line.
		by := operator
		if r := strings.Join(strings.Fields(data.Displayable(reason)), " "); r != "" {
			if utf8.RuneCountInString(r) > maxReasonRunes {
				return c.usageError(cmd, "--reason is longer than %d characters", maxReasonRunes)
			}
			by += ": " + r
		}
		store, err := c.open(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer store.Close()
		return c.ban(cmd.Context(), store, target, dur, by)
	}
	return cmd
}

// ban bans target for dur and says which ban holds.
func (c *cli) ban(ctx context.Context, store data.Store, target string, dur time.Duration, by string) error {
	until := time.Now().Add(dur).UTC().Truncate(time.Microsecond) // as stored
	if err := store.Ban(ctx, data.Ban{Target: target, Until: until, CreatedBy: by}); err != nil {
		return err
	}
	// Say which ban holds: an earlier, stronger one stays.
	bans, err := store.Bans(ctx)
	if err != nil {
		return err
	}
	for _, b := range bans {
		if b.Target == target && !b.Until.Equal(until) {
			fmt.Fprintf(c.out, "%s stays banned %s, by %s: that ban is longer\n", target, banEnd(b.Until),
				firstLine(data.Displayable(b.CreatedBy), 60))
			return nil
		}
	}
	fmt.Fprintf(c.out, "banned %s until %s\n", target, until.Format(time.RFC3339))
	return nil
}

// banEnd says when a ban ends.
func banEnd(until time.Time) string {
	if until.IsZero() {
		return "for good"
	}
	return "until " + until.UTC().Format(time.RFC3339)
}

// banTarget checks that s is a SHA256 key fingerprint or an IP address and
// returns it in the form the server records.
func banTarget(s string) (string, error) {
	if rest, ok := strings.CutPrefix(s, "SHA256:"); ok {
		if b, err := base64.RawStdEncoding.DecodeString(rest); err != nil || len(b) != 32 {
			return "", fmt.Errorf("%q is not a SHA256 key fingerprint (43 base64 characters after \"SHA256:\")", s)
		}
		return s, nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		// The server records IPv4 clients in dotted form even on IPv6 sockets.
		return ip.Unmap().String(), nil
	}
	switch {
	case strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-"):
		return "", errors.New(`that is a public key; ban its fingerprint ("ssh-keygen -lf KEY.pub" prints it)`)
	case strings.Contains(s, "/"):
		return "", fmt.Errorf("%q: address ranges cannot be banned, only single addresses", s)
	}
	return "", fmt.Errorf("%q is neither a key fingerprint (SHA256:...) nor an IP address", s)
}

const unbanHelp = `blog unban TARGET: lift the ban on a key fingerprint or an IP address.`

func (c *cli) unbanCmd() *cobra.Command {
	var cfg config
	cmd := c.command("unban", unbanHelp, &cfg, quietFlags)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if len(pos) != 1 {
			return c.usageError(cmd, "give exactly one TARGET, got %d", len(pos))
		}
		// Any stored ban can be lifted, but a well-formed target is
		// normalised the way ban stored it.
		target := pos[0]
		if t, err := banTarget(target); err == nil {
			target = t
		}
		store, err := c.open(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer store.Close()
		return c.unban(cmd.Context(), store, target)
	}
	return cmd
}

func (c *cli) unban(ctx context.Context, store data.Store, target string) error {
	if err := store.Unban(ctx, target); errors.Is(err, data.ErrNotFound) {
		return fmt.Errorf("%s is not banned", target)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "unbanned %s\n", target)
	return nil
}

const bansHelp = `blog bans: list the bans in force: target, end, who set it and when.`

func (c *cli) bansCmd() *cobra.Command {
	return c.storeCommand("bans", bansHelp, c.bans)
}

func (c *cli) bans(cmd *cobra.Command, store data.Store) error {
	bans, err := store.Bans(cmd.Context())
	if err != nil {
		return err
	}
	if len(bans) == 0 {
		fmt.Fprintln(c.errOut, "no bans")
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tUNTIL\tBY\tSINCE")
	for _, b := range bans {
		until := "for good"
		if !b.Until.IsZero() {
			until = b.Until.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", data.Displayable(b.Target), until,
			firstLine(data.Displayable(b.CreatedBy), 60), b.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
