package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/sqlite"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const summary = `blog serves a blog over SSH: readers run "ssh -p 23234 HOST" and get the posts,
live comments and a newsletter sign-up in their terminal.

Usage:
  blog [serve] [flags]                    serve (the default)
  blog migrate [flags]                    apply database migrations and exit
  blog comments list|hide|unhide|delete   moderate comments
  blog ban TARGET [--for D] [--reason R]  bar a key fingerprint or an IP from writing
  blog unban TARGET                       lift a ban
  blog bans                               list the bans in force
  blog subscribers export|import          list subscribers as CSV, or import confirmed ones
  blog newsletter status|send             the newsletter's deliveries; send a post again
  blog reset --yes                        delete all comments, subscriptions and names
  blog healthcheck [--url URL]            exit 0 if a running server answers /healthz
  blog help [COMMAND]                     this text, or a command's help

Every command takes --help. The operator commands act on the database that
serve would use: --database-url, else SQLite in --data-dir.`

// cli is one invocation: where its output and diagnostics go.
type cli struct {
	out, errOut io.Writer
}

// run dispatches to a subcommand; with none, it serves. It writes results
// to stdout and diagnostics to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := &cli{out: stdout, errOut: stderr}
	// Serving is the default: "blog" and "blog --ssh-addr :22" serve.
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		args = append([]string{"serve"}, args...)
	}
	root := c.commands()
	if cmd, _, err := root.Find(args); err == nil && !cmd.DisableFlagParsing {
		args = doubleDashes(cmd.Flags(), args)
	}
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// doubleDashes turns "-data-dir" into "--data-dir" for each of the command's
// long flags, and "-help" into "--help": Go's flag package, which blog used
// before, takes one dash or two, where pflag would read "-data-dir" as the
// one-letter flags -d -a -t... A flag's value ("--reason -title") and
// everything after "--" are left alone.
func doubleDashes(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	takesValue := false
	for i, a := range args {
		switch {
		case takesValue:
			takesValue = false
		case a == "--":
			return append(out, args[i:]...)
		case strings.HasPrefix(a, "-") && len(a) > 2:
			if a[1] != '-' {
				if name, _, _ := strings.Cut(a[1:], "="); name == "help" || fs.Lookup(name) != nil {
					a = "-" + a
				}
			}
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if f := fs.Lookup(name); f != nil && f.NoOptDefVal == "" && !hasValue {
				takesValue = true
			}
		}
		out = append(out, a)
	}
	return out
}

// commands is the command tree. Only the command name comes first: a
// command's flags and arguments may follow in any order ("blog ban KEY
// --for 1h").
func (c *cli) commands() *cobra.Command {
	root := &cobra.Command{
		Use: "blog",
		// Reached only with a name that is no command: flags mean nothing yet.
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		SilenceErrors:      true,
		SilenceUsage:       true,
		RunE: func(_ *cobra.Command, args []string) error {
			return c.unknown(args[0])
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(c.out)
	root.SetErr(c.errOut)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { c.usage(cmd) })
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return c.usageError(cmd, "%s", flagError(err))
	})
	root.AddCommand(c.serveCmd(), c.migrateCmd(), c.commentsCmd(), c.banCmd(), c.unbanCmd(), c.bansCmd(),
		c.subscribersCmd(), c.newsletterCmd(), c.resetCmd(), c.healthcheckCmd())
	root.SetHelpCommand(&cobra.Command{
		Use:                "help",
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// "blog help" is serve's help, which begins with the summary.
			name := "serve"
			if len(args) > 0 && args[0] != "help" {
				name = args[0]
			}
			target, _, err := root.Find([]string{name})
			if err != nil || target == root {
				return c.unknown(name)
			}
			c.usage(target)
			return nil
		},
	})
	return root
}

// unknown refuses a command name that is none of ours.
func (c *cli) unknown(name string) error {
	fmt.Fprintf(c.errOut, "blog: unknown command %q\n\n%s\n", name, summary)
	return errUsage
}

// command is an operator command whose flags made by defs also read their
// BLOG_* variables (see envFlags). Its run checks the positional arguments
// itself, so that their mistakes are explained in its own words.
func (c *cli) command(name, help string, cfg *config, defs ...func(*pflag.FlagSet, *config)) *cobra.Command {
	cmd := &cobra.Command{
		Use:  name,
		Long: help,
		Args: cobra.ArbitraryArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := readEnv(cmd.Flags()); err != nil {
				return c.usageError(cmd, "%v", err)
			}
			return nil
		},
	}
	envFlags(cmd.Flags(), cfg, defs...)
	return cmd
}

// group is "blog NAME COMMAND ...": its help is the list of its commands.
func (c *cli) group(name, help string, cmds ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:  name,
		Long: help,
		// Only a word that is none of its commands reaches run, flags and all.
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprintf(c.errOut, "blog %s: which command?\n\n%s\n", name, help)
				return errUsage
			}
			switch args[0] {
			case "-h", "-help", "--help", "help":
				fmt.Fprintln(c.out, help)
				return nil
			}
			fmt.Fprintf(c.errOut, "blog %s: unknown command %q\n\n%s\n", name, args[0], help)
			return errUsage
		},
	}
	g.AddCommand(cmds...)
	return g
}

// usage prints a command's help and its flags, each with its variable and
// its default.
func (c *cli) usage(cmd *cobra.Command) {
	fmt.Fprintf(c.out, "%s\n", cmd.Long)
	var flags []*pflag.Flag
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" { // every command has it; the help says so
			flags = append(flags, f)
		}
	})
	if len(flags) == 0 {
		return
	}
	fmt.Fprintf(c.out, "\nFlags (those with [BLOG_...] also read that environment variable):\n")
	for _, f := range flags {
		def := ""
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "false" {
			def = " (default " + f.DefValue + ")"
		}
		env := ""
		if v := flagEnv(f); v != "" {
			env = "  [" + v + "]"
		}
		fmt.Fprintf(c.out, "  --%s%s\n      %s%s\n", f.Name, env, f.Usage, def)
	}
}

// cmdName is how the messages call a command: "comments list".
func cmdName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), "blog ")
}

// usageError explains a command-line mistake and returns errUsage.
func (c *cli) usageError(cmd *cobra.Command, format string, args ...any) error {
	fmt.Fprintf(c.errOut, "blog %s: %s\nRun \"blog %s --help\" for usage.\n", cmdName(cmd), fmt.Sprintf(format, args...), cmdName(cmd))
	return errUsage
}

// noArgs refuses positional arguments a command does not take.
func (c *cli) noArgs(cmd *cobra.Command, pos []string) error {
	if len(pos) > 0 {
		return c.usageError(cmd, "unexpected argument %q", pos[0])
	}
	return nil
}

// open builds the logger from cfg and opens the store it names, for an
// operator command. Unlike serve it never creates a SQLite database: in the
// wrong directory, a new empty one would answer "no comments", "no bans".
func (c *cli) open(ctx context.Context, cfg config) (data.Store, error) {
	log, err := newLogger(c.errOut, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return nil, err
	}
	if cfg.databaseURL == "" {
		path := filepath.Join(cfg.dataDir, "blog.db")
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s (%w): is --data-dir right? Or give --database-url", path, err)
		}
	}
	return openStore(ctx, cfg, log)
}

// storeCommand is an operator command that takes no arguments: do gets the
// store its flags name, closed after it.
func (c *cli) storeCommand(name, help string, do func(*cobra.Command, data.Store) error) *cobra.Command {
	var cfg config
	cmd := c.command(name, help, &cfg, quietFlags)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if err := c.noArgs(cmd, pos); err != nil {
			return err
		}
		store, err := c.open(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer store.Close()
		return do(cmd, store)
	}
	return cmd
}

func (c *cli) migrateCmd() *cobra.Command {
	var cfg config
	cmd := c.command("migrate", "blog migrate: apply the database migrations (also done at every start) and exit.", &cfg, storeFlags)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if err := c.noArgs(cmd, pos); err != nil {
			return err
		}
		log, err := newLogger(c.errOut, cfg.logFormat, cfg.logLevel)
		if err != nil {
			return err
		}
		store, err := openStore(cmd.Context(), cfg, log)
		if err != nil {
			return err
		}
		log.Info("migrations applied")
		return store.Close()
	}
	return cmd
}

// openStore opens Postgres when a URL is given, else SQLite in the data dir.
func openStore(ctx context.Context, c config, log *slog.Logger) (data.Store, error) {
	opt := data.Options{Limits: data.DefaultLimits(), MaxConns: int32(c.dbMaxConns), Logger: log}
	if c.commentsPerKey > 0 {
		opt.Limits.CommentPerKey = data.RateLimit{Count: c.commentsPerKey, Window: time.Minute}
	}
	if c.commentsPerIP > 0 {
		opt.Limits.CommentPerIP = data.RateLimit{Count: c.commentsPerIP, Window: time.Minute}
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if c.databaseURL != "" {
		s, err := postgres.Open(octx, c.databaseURL, opt)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return s, nil
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(c.dataDir, "blog.db")
	s, err := sqlite.Open(octx, path, opt)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	log.Info("using the embedded database", "path", path)
	return s, nil
}
