package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// confirmCommand confirms a subscription with the code from its mail.
func confirmCommand(v *visit) *cobra.Command {
	return &cobra.Command{
		Use:   "confirm CODE",
		Short: "confirm a subscription with the code from the mail",
		Args:  v.exactly(1),
		RunE: func(c *cobra.Command, args []string) error {
			return v.confirm(c.Context(), args[0])
		},
	}
}

func (v *visit) confirm(ctx context.Context, code string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := v.env.Signup.Confirm(ctx, code, v.Author)
	switch {
	case errors.Is(err, data.ErrNotFound):
		return fail("that code is wrong or has expired; subscribe again for a new one")
	case err != nil:
		return fail("couldn't confirm: " + plainError(err))
	}
	fmt.Fprintln(v.Stdout, "Confirmed: new posts will come by email. Every mail has a link to unsubscribe.")
	return nil
}
