package commands

import (
	"context"
	"fmt"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// subscribeCommand starts the newsletter's double opt-in for an address:
// the newsletter mails it a code and a link.
func subscribeCommand(v *visit) *cobra.Command {
	return &cobra.Command{
		Use:   "subscribe EMAIL",
		Short: "subscribe to the newsletter",
		Args:  v.exactly(1),
		RunE: func(c *cobra.Command, args []string) error {
			return v.subscribe(c.Context(), args[0])
		},
	}
}

func (v *visit) subscribe(ctx context.Context, address string) error {
	email, err := data.NormalizeEmail(address)
	if err != nil {
		return fail(plainError(err))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The answer is the same whether the address is new, pending or
	// confirmed, so that nobody learns who subscribed.
	if err := v.env.Signup.Subscribe(ctx, email, v.Author); err != nil {
		return fail("couldn't subscribe: " + plainError(err))
	}
	fmt.Fprintf(v.Stdout, "Check your inbox to confirm: the mail to %s has a code and a link.\nConfirm with: ssh %s confirm CODE\n", email, v.env.Host)
	return nil
}
