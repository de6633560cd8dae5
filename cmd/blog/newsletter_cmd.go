package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"blog/data"
	"blog/posts"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const newsletterHelp = `blog newsletter: the newsletter's deliveries.

Usage:
  blog newsletter status                    per post: queued, sent, failed, cancelled
  blog newsletter send SLUG [--to EMAIL]    send a post to every confirmed subscriber
                                            who has not had it; --to mails one test

Run "blog newsletter send --help" for its flags.`

func (c *cli) newsletterCmd() *cobra.Command {
	return c.group("newsletter", newsletterHelp, c.statusCmd(), c.sendCmd())
}

const statusHelp = `blog newsletter status: one line per published post, newest first: when the
newsletter first saw it, and how many deliveries are queued (waiting, being
sent or to be retried), sent (the mail server answered 250), failed (refused
with a 5xx, or given up after repeated 4xx) and cancelled (the address left
or bounced first). Posts that existed before the newsletter started say
"before the newsletter" and are never mailed.`

func (c *cli) statusCmd() *cobra.Command {
	return c.storeCommand("status", statusHelp, c.newsletterStatus)
}

func (c *cli) newsletterStatus(cmd *cobra.Command, store data.Store) error {
	ctx := cmd.Context()
	sts, err := store.NewsletterStatus(ctx)
	if err != nil {
		return err
	}
	subs, err := store.Subscribers(ctx)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, s := range subs {
		count[s.Status]++
	}
	fmt.Fprintf(c.out, "Subscribers: %d confirmed, %d pending, %d unsubscribed, %d bouncing\n\n",
		count[data.StatusConfirmed], count[data.StatusPending], count[data.StatusUnsubscribed], count[data.StatusBouncing])
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POST\tPUBLISHED\tQUEUED\tSENT\tFAILED\tCANCELLED")
	for _, st := range sts {
		if st.Baseline {
			fmt.Fprintf(tw, "%s\tbefore the newsletter\t-\t-\t-\t-\n", st.Slug)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", st.Slug, st.PublishedAt.Format("2006-01-02 15:04 MST"),
			st.Queued, st.Sent, st.Failed, st.Cancelled)
	}
	return tw.Flush()
}

const sendHelp = `blog newsletter send SLUG [--to EMAIL]: queue the post SLUG (from --posts-dir,
or the built-in posts) for every confirmed subscriber who has not received it,
and again for those whose delivery failed; a running server sends them at
--mail-rate. With --to, mail one test copy to EMAIL now, through --smtp-url
(or into DATA-DIR/mail), and queue nothing; its unsubscribe link is inert.`

func (c *cli) sendCmd() *cobra.Command {
	var cfg config
	var to string
	cmd := c.command("send", sendHelp, &cfg, quietFlags, mailFlags, func(fs *pflag.FlagSet, c *config) {
		fs.StringVar(&c.postsDir, "posts-dir", "", "the Markdown posts serve uses (default: the built-in posts)")
		fs.StringVar(&c.title, "title", "Notes from the Terminal", "the blog's title")
		fs.StringVar(&c.host, "host", "", `what readers type after "ssh"`)
		fs.StringVar(&c.sshAddr, "ssh-addr", ":23234", "serve's SSH address (to say how to read the post)")
		fs.StringVar(&c.newsletter.webAddr, "web-addr", ":23238", "serve's web address (for the default --public-url)")
	})
	cmd.Flags().StringVar(&to, "to", "", "mail one test copy to this address instead of queueing")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if len(pos) != 1 {
			return c.usageError(cmd, "give the slug of one post")
		}
		return c.newsletterSend(cmd.Context(), cfg, pos[0], to)
	}
	return cmd
}

// newsletterSend queues the post slug for the subscribers, or with to,
// mails one test copy there.
func (c *cli) newsletterSend(ctx context.Context, cfg config, slug, to string) error {
	log, err := newLogger(c.errOut, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	var lib *posts.Library
	if cfg.postsDir == "" {
		lib, err = posts.Embedded(log)
	} else {
		lib, err = posts.Dir(cfg.postsDir, log)
	}
	if err != nil {
		return err
	}
	p, ok := lib.Get(slug)
	if !ok {
		return fmt.Errorf("no published post %q in %s", slug, postsWhere(cfg.postsDir))
	}
	np := data.NewsletterPost{Slug: p.Slug, Title: p.Title, Body: p.Body, Date: p.Date}
	if to != "" {
		return c.sendTest(ctx, cfg, np, to)
	}
	store, err := c.open(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.QueuePost(ctx, np)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Queued %q for %d subscribers; running servers send it (see blog newsletter status).\n", p.Slug, n)
	return nil
}

func (c *cli) sendTest(ctx context.Context, cfg config, np data.NewsletterPost, to string) error {
	email, err := data.NormalizeEmail(to)
	if err != nil {
		return fmt.Errorf("--to: %v", err)
	}
	ms, err := newMailSetup(cfg, nil)
	if err != nil {
		return err
	}
	sender, err := ms.sender()
	if err != nil {
		return err
	}
	defer sender.Close()
	m, err := ms.build.Post(data.Delivery{ID: 0, Email: email, Post: np}, postText()(np), "test-"+data.NewToken()[:8])
	if err != nil {
		return err
	}
	m.Subject("[test] " + np.Title)
	m.SetMessageIDWithValue(ms.build.UniqueMessageID("test")) // a test is not a delivery
	if err := sender.Send(ctx, m); err != nil {
		return fmt.Errorf("test mail not sent: %w", err)
	}
	fmt.Fprintf(c.out, "Sent a test of %q to %s via %s.\n", np.Slug, email, ms.where)
	return nil
}

func postsWhere(dir string) string {
	if dir == "" {
		return "the built-in posts"
	}
	return dir
}
