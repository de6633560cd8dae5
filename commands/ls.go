package commands

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// lsCommand lists the published posts, as a table or as JSON lines.
func lsCommand(v *visit) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "ls [--json]",
		Short: "list the posts, one per line: slug, date, title",
		Args:  v.exactly(0),
		RunE: func(*cobra.Command, []string) error {
			v.list(asJSON)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return c
}

// bare answers a session without a command or a terminal: the list and
// how to go on.
func (v *visit) bare() error {
	v.list(false)
	fmt.Fprintf(v.Stdout, "\nRead a post: ssh %s read SLUG   ·   for the full interface: ssh %s\n", v.env.Host, v.env.Host)
	return nil
}

type postJSON struct {
	Slug     string    `json:"slug"`
	Title    string    `json:"title"`
	Date     time.Time `json:"date"`
	Summary  string    `json:"summary"`
	Tags     []string  `json:"tags"`
	Minutes  int       `json:"minutes"`
	Comments int       `json:"comments"`
}

func (v *visit) list(asJSON bool) {
	var counts map[string]int
	if v.env.Counts != nil {
		counts = v.env.Counts()
	}
	enc := json.NewEncoder(v.Stdout)
	tw := tabwriter.NewWriter(v.Stdout, 0, 0, 2, ' ', 0)
	for _, p := range v.env.Posts.Published() {
		if asJSON {
			tags := p.Tags
			if tags == nil {
				tags = []string{}
			}
			_ = enc.Encode(postJSON{p.Slug, p.Title, p.Date, p.Summary, tags, p.Minutes, counts[p.Slug]})
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Slug, p.Date.Format("2006-01-02"), p.Title)
	}
	tw.Flush()
}
