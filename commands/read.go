package commands

import (
	"fmt"
	"strings"

	"blog/ui/render"

	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
)

// readCommand prints a post rendered for a plain terminal, or its
// Markdown source. (With a terminal and no flags, the server opens the
// interface on the post instead.)
func readCommand(v *visit) *cobra.Command {
	var raw bool
	c := &cobra.Command{
		Use:   "read SLUG [--raw]",
		Short: "print a post (--raw: its Markdown source)",
		Args:  v.exactly(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return v.read(args[0], raw)
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "print the Markdown source")
	return c
}

func (v *visit) read(slug string, raw bool) error {
	p, err := v.post(slug)
	if err != nil {
		return err
	}
	if raw {
		fmt.Fprint(v.Stdout, p.Body)
		return nil
	}
	// Without a terminal's width, 80 columns; a terminal's, up to 100 so
	// lines stay readable.
	width := 80
	if v.Width > 20 {
		width = min(v.Width, 100)
	}
	out, err := v.env.Render.Render(p, width, render.Style{Profile: termenv.Ascii, Dark: true})
	if err != nil {
		v.env.log().Error("render post", "slug", p.Slug, "err", err)
		return fail("this post could not be rendered; try --raw")
	}
	fmt.Fprintf(v.Stdout, "%s\n%s · %d min read\n\n%s\n", p.Title, p.Date.Format("2 Jan 2006"), p.Minutes, strings.TrimRight(out, "\n"))
	return nil
}
