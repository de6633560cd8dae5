package commands

import (
	"fmt"

	"github.com/spf13/cobra"
)

// helpCommand prints the list of commands, or one command's help.
func helpCommand(v *visit) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "show this help",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return wrongUsage(v.usageLine(c))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(v.Stdout, v.usage())
				return nil
			}
			c := v.lookup(args[0])
			if c == nil {
				return v.unknown(args[0])
			}
			fmt.Fprint(v.Stdout, v.commandHelp(c))
			return nil
		},
	}
}
