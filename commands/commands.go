// Package commands is what a visitor can run over SSH without a terminal:
// ssh HOST ls, read, comments, comment, edit, subscribe, unsubscribe,
// confirm, forget and help. Each command is one file with one cobra command. The server fills
// an Env once and calls Run for every exec request (and for a bare session
// without a terminal); the package knows nothing of SSH.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"blog/data"
	"blog/posts"
	"blog/ui/render"

	"github.com/spf13/cobra"
)

// Exit statuses, as the operator commands use them.
const (
	exitOK    = 0 // done
	exitError = 1 // failed; the reason is on stderr
	exitUsage = 2 // a wrong command line; the usage is on stderr
)

// MaxStdinComment bounds what `comment` and `edit` read from stdin when Env.MaxStdin
// is zero: the most bytes a comment of data.MaxCommentRunes characters can
// take before cleaning (four bytes a character, twice over for what the
// sanitiser removes), so a huge pipe is refused after 16 KB with the limit
// in characters.
const MaxStdinComment = 4 * data.MaxCommentRunes * 2

// MaxArgsBytes bounds a whole command line. The SSH server refuses longer
// exec requests before they get here; the bound is kept here too so that
// no caller can make a command echo megabytes back.
const MaxArgsBytes = 4096

// Store is the part of the blog's storage the commands use.
type Store interface {
	Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error)
	AddComment(ctx context.Context, c data.NewComment) (data.Comment, error)
	EditComment(ctx context.Context, e data.CommentEdit) (data.Comment, error)
	// Name is the display name remembered for a key, "" when none.
	Name(ctx context.Context, key string) (string, error)
	Unsubscribe(ctx context.Context, email string, a data.Author) error
	// ForgetVisits forgets what the key has read (the "new" marks).
	ForgetVisits(ctx context.Context, key string) (int64, error)
}

// Signup is the newsletter's double opt-in (ui.Signup has the same
// methods): Subscribe answers alike for every address, Confirm answers
// data.ErrNotFound for a wrong or expired code.
type Signup interface {
	Subscribe(ctx context.Context, email string, a data.Author) error
	Confirm(ctx context.Context, code string, a data.Author) error
}

// Env is everything the commands need from the server, filled once.
type Env struct {
	Title string // the blog's name, at the top of the help
	Host  string // what visitors type after "ssh"

	Posts  *posts.Library
	Render *render.Cache
	Store  Store
	Signup Signup
	// Counts returns visible comment counts per post; nil counts none.
	Counts func() map[string]int
	// Moderator reports whether the key with this SHA256 fingerprint is a
	// moderator's, whose comments carry a badge; nil means nobody's is.
	Moderator func(fingerprint string) bool
	// Stopping is closed when the server begins to shut down: a command
	// still waiting for its stdin then answers at once instead of being
	// cut off at the end of the grace period. Nil never closes.
	Stopping <-chan struct{}
	// MaxStdin bounds the bytes `comment` reads; zero is MaxStdinComment.
	MaxStdin int
	Log      *slog.Logger
}

// Request is one command line a visitor sent, who sent it and where its
// input and output go.
type Request struct {
	Args   []string    // the command line split into words; none lists the posts
	Author data.Author // the key fingerprint ("" when keyless) and the address
	// Location is the visitor's time zone (from TZ) for the times the
	// commands print; nil is UTC.
	Location *time.Location
	// Width is the visitor's terminal width when the command came with a
	// terminal (ssh -t host read --raw SLUG), zero otherwise.
	Width  int
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run runs one command line to its end and returns its exit status: 0
// done, 1 failed (the reason on stderr), 2 a wrong command line (the usage
// on stderr). A command that is not known prints the help on stderr.
func (e *Env) Run(ctx context.Context, r Request) int {
	// A missing stream reads as empty and writes nowhere, rather than
	// panicking in the goroutine that reads a comment, out of reach of the
	// server's recover.
	if r.Stdin == nil {
		r.Stdin = strings.NewReader("")
	}
	if r.Stdout == nil {
		r.Stdout = io.Discard
	}
	if r.Stderr == nil {
		r.Stderr = io.Discard
	}
	v := &visit{env: e, Request: r}
	if len(r.Args) == 0 {
		return v.exit(nil, v.bare())
	}
	if n := argsBytes(r.Args); n > MaxArgsBytes {
		return v.exit(nil, wrongUsage(fmt.Sprintf("blog: that command line is %d bytes; the most is %d", n, MaxArgsBytes)))
	}
	root := v.tree()
	cmd := v.lookup(r.Args[0])
	if cmd == nil {
		return v.exit(nil, v.unknown(r.Args[0]))
	}
	root.SetArgs(append([]string{cmd.Name()}, goStyleFlags(cmd, r.Args[1:])...))
	ran, err := root.ExecuteContextC(ctx)
	return v.exit(ran, err)
}

// visit is one run of Env.Run: the server's Env, the visitor's Request and
// the command tree built for it. A tree is built for every run because
// cobra keeps parsed flag values in its commands.
type visit struct {
	env *Env
	Request
	commands []*cobra.Command // in the order the help lists them
}

// tree builds the commands for this visit under a root that prints
// nothing of its own: errors and usage are worded by exit.
func (v *visit) tree() *cobra.Command {
	root := &cobra.Command{
		Use:               "ssh " + v.env.Host,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(v.Stdin)
	root.SetOut(v.Stdout)
	root.SetErr(v.Stderr)
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if c == root {
			fmt.Fprint(c.OutOrStdout(), v.usage())
			return
		}
		fmt.Fprint(c.OutOrStdout(), v.commandHelp(c))
	})
	v.commands = []*cobra.Command{
		lsCommand(v),
		readCommand(v),
		commentsCommand(v),
		commentCommand(v),
		editCommand(v),
		subscribeCommand(v),
		unsubscribeCommand(v),
		confirmCommand(v),
		forgetCommand(v),
		helpCommand(v),
	}
	root.AddCommand(v.commands...)
	root.SetHelpCommand(v.commands[len(v.commands)-1])
	return root
}

// lookup finds a command by its exact name; cobra's own lookup would also
// find the completion commands it adds, which visitors have no use for.
func (v *visit) lookup(name string) *cobra.Command {
	for _, c := range v.commands {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// usage is the help: every command with its arguments and what it does.
func (v *visit) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s over SSH. Commands (ssh %s COMMAND):\n\n", v.env.Title, v.env.Host)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range v.commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Use, c.Short)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nWith no command and a terminal, you get the full interface: ssh %s\n", v.env.Host)
	return b.String()
}

// commandHelp is one command's help: its usage line, what it does and its
// flags.
func (v *visit) commandHelp(c *cobra.Command) string {
	c.InitDefaultHelpFlag() // cobra adds -h only when the command runs
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", v.usageLine(c), c.Short)
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", c.LocalFlags().FlagUsages())
	}
	return b.String()
}

// usageAnnotation names the usage line of a command whose Use, as the
// help lists it, leaves something out (comment's "< text").
const usageAnnotation = "usage"

func (v *visit) usageLine(c *cobra.Command) string {
	use := c.Use
	if u := c.Annotations[usageAnnotation]; u != "" {
		use = u
	}
	return "usage: ssh " + v.env.Host + " " + use
}

// exactly accepts n positional arguments; any other count is a wrong
// command line answered with the command's usage line.
func (v *visit) exactly(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return wrongUsage(v.usageLine(c))
		}
		return nil
	}
}

// unknown answers a command name that is not one of ours.
func (v *visit) unknown(name string) error {
	return wrongUsage(fmt.Sprintf("blog: unknown command %q\n\n%s", printableArg(name), v.usage()))
}

// A failure is a command that could not do what it was asked: exit 1, its
// message on stderr after "blog: ".
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func fail(msg string) error { return &failure{msg} }

// A usageError is a wrong command line: exit 2, its message on stderr as
// it is.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func wrongUsage(msg string) error { return &usageError{msg} }

// exit prints what err says and returns the exit status. Errors of our own
// carry their words; any other comes from cobra or pflag parsing the
// command line, echoes what the visitor typed, and so is made printable.
func (v *visit) exit(ran *cobra.Command, err error) int {
	var f *failure
	var u *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &f):
		fmt.Fprintln(v.Stderr, "blog: "+f.msg)
		return exitError
	case errors.As(err, &u):
		fmt.Fprintln(v.Stderr, strings.TrimRight(u.msg, "\n"))
		return exitUsage
	}
	fmt.Fprintln(v.Stderr, "blog: "+printableArg(err.Error()))
	if ran != nil {
		fmt.Fprintln(v.Stderr, v.usageLine(ran))
	}
	return exitUsage
}

// printableArg keeps an echoed argument from carrying escape sequences.
func printableArg(s string) string {
	return data.Displayable(strings.ReplaceAll(s, "\n", " "))
}

func argsBytes(args []string) int {
	n := 0
	for _, a := range args {
		n += len(a) + 1
	}
	return n
}

// goStyleFlags rewrites a long flag written with one dash (-json,
// -name=ada), as Go's flag package took it before these commands moved to
// pflag, to the two dashes pflag wants, so scripts written then keep
// working. Only the command's own flag names are rewritten, and nothing
// after "--".
func goStyleFlags(c *cobra.Command, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if name == "help" || c.Flags().Lookup(name) != nil {
			out[i] = "-" + a
		}
	}
	return out
}

func (e *Env) log() *slog.Logger {
	if e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

func (e *Env) moderator(fingerprint string) bool {
	return fingerprint != "" && e.Moderator != nil && e.Moderator(fingerprint)
}

// post finds a published post or says where the list is.
func (v *visit) post(slug string) (posts.Post, error) {
	p, ok := v.env.Posts.Get(slug)
	if !ok {
		return p, fail(fmt.Sprintf("no post %q. See the list with: ssh %s ls", printableArg(slug), v.env.Host))
	}
	return p, nil
}
