package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"blog/data"
	"blog/posts"
	"blog/ui/render"

	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
)

// Exit codes of the plain commands.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// maxStdinComment bounds what `comment` reads from stdin: the most bytes a
// comment of data.MaxCommentRunes characters can take before cleaning (four
// bytes a character, twice over for what the sanitiser removes), so a huge
// pipe is refused after 16 KB with the limit in characters.
const maxStdinComment = 4 * data.MaxCommentRunes * 2

// errStopping: the server began shutting down while a command waited.
var errStopping = errors.New("the server is restarting")

// command is one thing a script can ask for without a terminal.
type command struct {
	name, args, help string
	run              func(s *Server, sess ssh.Session, args []string) int
}

var commands []command

func init() {
	commands = []command{
		{"ls", "[--json]", "list the posts: slug, date, title (one a line)", (*Server).cmdList},
		{"read", "SLUG [--raw]", "print a post (--raw: its Markdown source)", (*Server).cmdRead},
		{"comments", "SLUG [--json]", "print a post's comments", (*Server).cmdComments},
		{"comment", "SLUG [--name NAME]", "post a comment, text on stdin (needs an SSH key)", (*Server).cmdComment},
		{"subscribe", "EMAIL", "subscribe to the newsletter", (*Server).cmdSubscribe},
		{"unsubscribe", "EMAIL", "unsubscribe an address you subscribed with this key", (*Server).cmdUnsubscribe},
		{"confirm", "CODE", "confirm a subscription with the code from the mail", (*Server).cmdConfirm},
		{"help", "", "show this help", (*Server).cmdHelp},
	}
}

// runCommand runs an exec request (or a bare session without a terminal)
// and returns its exit status.
func (s *Server) runCommand(sess ssh.Session) int {
	args := sess.Command()
	if len(args) == 0 {
		code := s.cmdList(sess, nil)
		fmt.Fprintf(sess, "\nRead a post: ssh %s read SLUG   ·   for the full interface: ssh %s\n", s.cfg.Host, s.cfg.Host)
		return code
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(s, sess, args[1:])
		}
	}
	fmt.Fprintf(sess.Stderr(), "blog: unknown command %q\n\n", printableArg(args[0]))
	s.usage(sess.Stderr())
	return exitUsage
}

func (s *Server) usage(w io.Writer) {
	fmt.Fprintf(w, "%s over SSH. Commands (ssh %s COMMAND):\n\n", s.cfg.Title, s.cfg.Host)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.help)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nWith no command and a terminal, you get the full interface: ssh %s\n", s.cfg.Host)
}

// printableArg keeps an echoed argument from carrying escape sequences.
func printableArg(s string) string {
	return data.Displayable(strings.ReplaceAll(s, "\n", " "))
}

// flags parses a command's options; positional arguments may come before or
// after them.
func flags(sess ssh.Session, name string, args []string, define func(*flag.FlagSet)) ([]string, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(sess.Stderr())
	define(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		if fs.NArg() == 0 {
			return pos, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (s *Server) cmdHelp(sess ssh.Session, _ []string) int {
	s.usage(sess)
	return exitOK
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

func (s *Server) cmdList(sess ssh.Session, args []string) int {
	var asJSON bool
	if _, ok := flags(sess, "ls", args, func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "JSON lines") }); !ok {
		return exitUsage
	}
	counts := s.hub.Counts()
	enc := json.NewEncoder(sess)
	tw := tabwriter.NewWriter(sess, 0, 0, 2, ' ', 0)
	for _, p := range s.posts.Published() {
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
	return exitOK
}

// post finds a published post or explains what exists.
func (s *Server) post(sess ssh.Session, args []string, usage string) (posts.Post, bool) {
	if len(args) != 1 {
		fmt.Fprintf(sess.Stderr(), "usage: ssh %s %s\n", s.cfg.Host, usage)
		return posts.Post{}, false
	}
	p, ok := s.posts.Get(args[0])
	if !ok {
		fmt.Fprintf(sess.Stderr(), "blog: no post %q. See the list with: ssh %s ls\n", printableArg(args[0]), s.cfg.Host)
	}
	return p, ok
}

func (s *Server) cmdRead(sess ssh.Session, args []string) int {
	var raw bool
	pos, ok := flags(sess, "read", args, func(fs *flag.FlagSet) { fs.BoolVar(&raw, "raw", false, "print the Markdown source") })
	if !ok {
		return exitUsage
	}
	p, ok := s.post(sess, pos, "read SLUG [--raw]")
	if !ok {
		return exitError
	}
	if raw {
		fmt.Fprint(sess, p.Body)
		return exitOK
	}
	width := 80
	if pty, _, isPty := sess.Pty(); isPty && pty.Window.Width > 20 {
		width = min(pty.Window.Width, 100)
	}
	out, err := s.render.Render(p, width, render.Style{Profile: termenv.Ascii, Dark: true})
	if err != nil {
		s.log.Error("render post", "slug", p.Slug, "err", err)
		fmt.Fprintln(sess.Stderr(), "blog: this post could not be rendered; try --raw")
		return exitError
	}
	fmt.Fprintf(sess, "%s\n%s · %d min read\n\n%s\n", p.Title, p.Date.Format("2 Jan 2006"), p.Minutes, strings.TrimRight(out, "\n"))
	return exitOK
}

type commentJSON struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	KeyTag    string    `json:"key_tag,omitempty"`
	Moderator bool      `json:"moderator,omitempty"`
	Body      string    `json:"body"`
	Created   time.Time `json:"created"`
}

// authorLabel is a comment's author as the interface shows it: the name,
// a moderator's badge and the key tag that tells two "ada"s apart.
func (s *Server) authorLabel(c data.Comment) string {
	label := data.DisplayName(c.AuthorName)
	if s.uiCfg.Moderator(c.AuthorKey) {
		label += " [mod]"
	}
	if tag := data.KeyTag(c.AuthorKey); tag != "" {
		label += " #" + tag
	}
	return label
}

func (s *Server) cmdComments(sess ssh.Session, args []string) int {
	var asJSON bool
	pos, ok := flags(sess, "comments", args, func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "JSON lines") })
	if !ok {
		return exitUsage
	}
	p, ok := s.post(sess, pos, "comments SLUG [--json]")
	if !ok {
		return exitError
	}
	ctx, cancel := context.WithTimeout(sess.Context(), 30*time.Second)
	defer cancel()
	enc := json.NewEncoder(sess)
	var after int64
	n := 0
	for {
		page, err := s.store.Comments(ctx, p.Slug, data.ListOptions{AfterID: after, Limit: 500})
		if err != nil {
			fmt.Fprintln(sess.Stderr(), "blog: couldn't load comments: "+plainError(err))
			return exitError
		}
		for _, c := range page {
			n++
			if asJSON {
				_ = enc.Encode(commentJSON{c.ID, data.Displayable(c.AuthorName), data.KeyTag(c.AuthorKey), s.uiCfg.Moderator(c.AuthorKey), data.Displayable(c.Body), c.CreatedAt})
				continue
			}
			fmt.Fprintf(sess, "%s · %s\n%s\n\n", s.authorLabel(c), c.CreatedAt.Format("2006-01-02 15:04 MST"), data.Displayable(c.Body))
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !asJSON {
		if n == 0 {
			fmt.Fprintln(sess, "No comments yet.")
		} else {
			fmt.Fprintln(sess, "No more comments. Check back later for more!")
		}
	}
	return exitOK
}

func (s *Server) cmdComment(sess ssh.Session, args []string) int {
	var name string
	pos, ok := flags(sess, "comment", args, func(fs *flag.FlagSet) { fs.StringVar(&name, "name", "", "display name") })
	if !ok {
		return exitUsage
	}
	p, ok := s.post(sess, pos, "comment SLUG [--name NAME] < text")
	if !ok {
		return exitError
	}
	a := author(sess)
	if a.KeyFingerprint == "" {
		fmt.Fprintln(sess.Stderr(), "blog: commenting needs an SSH key. Make one with: ssh-keygen -t ed25519")
		return exitError
	}
	body, err := s.readStdin(sess, maxStdinComment)
	switch {
	case errors.Is(err, errStopping):
		fmt.Fprintln(sess.Stderr(), "blog: the server is restarting, so your comment was not posted. Please send it again in a moment.")
		return exitError
	case err != nil:
		fmt.Fprintln(sess.Stderr(), "blog: couldn't read the comment from stdin")
		return exitError
	case len(body) > maxStdinComment:
		fmt.Fprintf(sess.Stderr(), "blog: that comment is too long. Comments are at most %d characters.\n", data.MaxCommentRunes)
		return exitError
	}
	ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
	defer cancel()
	if name == "" {
		// As in the interface, a key's remembered name is its default.
		if name, err = s.store.Name(ctx, a.KeyFingerprint); err != nil {
			fmt.Fprintln(sess.Stderr(), "blog: couldn't post: "+plainError(err))
			return exitError
		}
	}
	c, err := s.store.AddComment(ctx, data.NewComment{PostSlug: p.Slug, Name: name, Body: string(body), Author: a})
	if err != nil {
		fmt.Fprintln(sess.Stderr(), "blog: couldn't post: "+plainError(err))
		return exitError
	}
	fmt.Fprintf(sess, "Posted comment %d on %q as %s.\n", c.ID, p.Title, data.Displayable(c.AuthorName))
	return exitOK
}

// readStdin reads the session's input up to limit+1 bytes (so a caller can
// tell "too long"), giving up with errStopping when the server begins to
// shut down: a script still sending gets a plain answer and an exit status
// rather than a cut connection. The read itself ends with the session.
func (s *Server) readStdin(sess ssh.Session, limit int) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(sess, int64(limit)+1))
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-s.stopping:
		return nil, errStopping
	case <-sess.Context().Done():
		return nil, sess.Context().Err()
	}
}

func (s *Server) cmdSubscribe(sess ssh.Session, args []string) int {
	return s.subscription(sess, args, false)
}

func (s *Server) cmdUnsubscribe(sess ssh.Session, args []string) int {
	return s.subscription(sess, args, true)
}

func (s *Server) subscription(sess ssh.Session, args []string, unsubscribe bool) int {
	verb := "subscribe"
	if unsubscribe {
		verb = "unsubscribe"
	}
	if len(args) != 1 {
		fmt.Fprintf(sess.Stderr(), "usage: ssh %s %s EMAIL\n", s.cfg.Host, verb)
		return exitUsage
	}
	email, err := data.NormalizeEmail(args[0])
	if err != nil {
		fmt.Fprintln(sess.Stderr(), "blog: "+plainError(err))
		return exitError
	}
	ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
	defer cancel()
	return s.subscriptionAnswer(sess, ctx, email, unsubscribe)
}

// plainError words a storage error for a script's user, as data.Explain
// does for every part of the blog.
func plainError(err error) string { return data.Explain(err).Clause }
