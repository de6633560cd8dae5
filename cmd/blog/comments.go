package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

// operator is the "by" of every moderation done from the command line.
const operator = "operator"

const commentsHelp = `blog comments: moderate comments from the command line.

Usage:
  blog comments list [--post SLUG] [--hidden] [--json]
  blog comments hide ID...
  blog comments unhide ID...
  blog comments delete ID...

Run "blog comments COMMAND --help" for a command's flags.`

func (c *cli) commentsCmd() *cobra.Command {
	return c.group("comments", commentsHelp, c.commentsListCmd(),
		c.moderateCmd("hide"), c.moderateCmd("unhide"), c.moderateCmd("delete"))
}

const listHelp = `blog comments list [--post SLUG] [--hidden] [--json]: list comments, oldest
first, on every post: ID, post, author, key fingerprint, when, whether hidden,
and the first line of the text. --json prints an array with whole texts.`

// commentJSON is one comment as "blog comments list --json" prints it.
type commentJSON struct {
	ID      int64     `json:"id"`
	Post    string    `json:"post"`
	Author  string    `json:"author"`
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
	Hidden  bool      `json:"hidden"`
	Body    string    `json:"body"`
}

func (c *cli) commentsListCmd() *cobra.Command {
	var o listOptions
	cmd := c.storeCommand("list", listHelp, func(cmd *cobra.Command, store data.Store) error {
		return c.commentsList(cmd.Context(), store, o)
	})
	cmd.Flags().StringVar(&o.post, "post", "", "only this post's comments (its slug)")
	cmd.Flags().BoolVar(&o.hidden, "hidden", false, "only hidden comments")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print a JSON array, with whole comment texts")
	return cmd
}

// listOptions are the flags of "blog comments list".
type listOptions struct {
	post           string
	hidden, asJSON bool
}

func (c *cli) commentsList(ctx context.Context, store data.Store, o listOptions) error {
	all, err := allComments(ctx, store)
	if err != nil {
		return err
	}
	var out []commentJSON
	for _, cm := range all {
		if (o.post != "" && cm.PostSlug != o.post) || (o.hidden && !cm.Hidden) {
			continue
		}
		// Texts are sanitised on write; cleaning again keeps an operator's
		// terminal safe from anything stored before that or by other means.
		out = append(out, commentJSON{
			ID: cm.ID, Post: data.Displayable(cm.PostSlug), Author: data.Displayable(cm.AuthorName),
			Key: data.Displayable(cm.AuthorKey), Created: cm.CreatedAt.UTC(), Hidden: cm.Hidden,
			Body: data.Displayable(cm.Body),
		})
	}
	if o.asJSON {
		if out == nil {
			out = []commentJSON{}
		}
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(c.errOut, "no comments")
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPOST\tAUTHOR\tKEY\tCREATED\tHIDDEN\tTEXT")
	for _, cm := range out {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", cm.ID, cm.Post, cm.Author, orDash(cm.Key),
			cm.Created.Format(time.RFC3339), yesNo(cm.Hidden), firstLine(cm.Body, 60))
	}
	return tw.Flush()
}

// allComments pages through every comment, hidden ones included.
func allComments(ctx context.Context, store data.Store) ([]data.Comment, error) {
	var all []data.Comment
	for {
		var after int64
		if len(all) > 0 {
			after = all[len(all)-1].ID
		}
		page, err := store.AllComments(ctx, data.ListOptions{AfterID: after, Limit: data.MaxPageSize, IncludeHidden: true})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return all, nil
		}
		all = append(all, page...)
	}
}

// firstLine is s up to its first line break, cut to at most n runes.
func firstLine(s string, n int) string {
	line, _, more := strings.Cut(s, "\n")
	if r := []rune(line); len(r) > n {
		line, more = string(r[:n-1]), true
	}
	if more {
		line += "…"
	}
	return line
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// moderations are what "blog comments hide|unhide|delete" do and say.
var moderations = map[string]struct{ help, done string }{
	"hide":   {"blog comments hide ID...: hide comments from readers (moderators still see them).", "hidden"},
	"unhide": {"blog comments unhide ID...: show hidden comments to readers again.", "visible"},
	"delete": {"blog comments delete ID...: delete comments for good.", "deleted"},
}

// moderateCmd is "blog comments hide|unhide|delete ID...".
func (c *cli) moderateCmd(action string) *cobra.Command {
	var cfg config
	cmd := c.command(action, moderations[action].help, &cfg, quietFlags)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if len(pos) == 0 {
			return c.usageError(cmd, "which comments? Give their IDs (see \"blog comments list\")")
		}
		ids := make([]int64, len(pos))
		for i, p := range pos {
			var err error
			if ids[i], err = strconv.ParseInt(p, 10, 64); err != nil || ids[i] <= 0 {
				return c.usageError(cmd, "%q is not a comment ID", p)
			}
		}
		store, err := c.open(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer store.Close()
		return c.moderate(cmd.Context(), store, action, ids)
	}
	return cmd
}

// moderate hides, unhides or deletes each comment named, going on past
// unknown IDs and failing at the end if there were any.
func (c *cli) moderate(ctx context.Context, store data.Store, action string, ids []int64) error {
	missing := 0
	for _, id := range ids {
		var err error
		switch action {
		case "hide", "unhide":
			err = store.SetHidden(ctx, id, action == "hide", operator)
		case "delete":
			err = store.DeleteComment(ctx, id, operator)
		}
		switch {
		case errors.Is(err, data.ErrNotFound):
			missing++
			fmt.Fprintf(c.errOut, "comment %d: not found\n", id)
		case err != nil:
			return fmt.Errorf("comment %d: %w", id, err)
		default:
			fmt.Fprintf(c.out, "comment %d: %s\n", id, moderations[action].done)
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d of %d comments not found", missing, len(ids))
	}
	return nil
}
