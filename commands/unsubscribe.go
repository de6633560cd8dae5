package commands

import (
	"context"
	"fmt"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// unsubscribeCommand unsubscribes an address the visitor subscribed with
// the same key. Keyless visitors unsubscribe by the link in every mail.
func unsubscribeCommand(v *visit) *cobra.Command {
	return &cobra.Command{
		Use:   "unsubscribe EMAIL",
		Short: "unsubscribe an address you subscribed with this key",
		Args:  v.exactly(1),
		RunE: func(c *cobra.Command, args []string) error {
			return v.unsubscribe(c.Context(), args[0])
		},
	}
}

func (v *visit) unsubscribe(ctx context.Context, address string) error {
	email, err := data.NormalizeEmail(address)
	if err != nil {
		return fail(plainError(err))
	}
	if v.Author.KeyFingerprint == "" {
		return fail("unsubscribing here needs the SSH key you subscribed with; every newsletter mail has an unsubscribe link")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The store answers nil also when there was nothing to do, so the
	// answer says nothing about who subscribed.
	if err := v.env.Store.Unsubscribe(ctx, email, v.Author); err != nil {
		return fail("couldn't unsubscribe: " + plainError(err))
	}
	fmt.Fprintf(v.Stdout, "If %s was subscribed with this key, it is now unsubscribed.\n", email)
	return nil
}
