package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/sqlite"
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
	err := c.dispatch(ctx, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	commands := map[string]func(context.Context, []string) error{
		"serve":       c.serve,
		"migrate":     c.migrate,
		"comments":    c.comments,
		"ban":         c.ban,
		"unban":       c.unban,
		"bans":        c.bans,
		"subscribers": c.subscribers,
		"newsletter":  c.newsletter,
		"reset":       c.reset,
		"healthcheck": c.healthcheck,
	}
	if name == "help" {
		if len(args) > 0 {
			return c.dispatch(ctx, []string{args[0], "--help"})
		}
		return c.serve(ctx, []string{"--help"})
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(c.errOut, "blog: unknown command %q\n\n%s\n", name, summary)
		return errUsage
	}
	return cmd(ctx, args)
}

// parse parses a command's flags. --help prints the help to stdout and
// returns flag.ErrHelp (run turns it into success); a mistake is explained
// on stderr and returns errUsage. It returns the positional arguments.
func (c *cli) parse(fs *flagSet, args []string) ([]string, error) {
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(c.out, fs)
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, c.usageError(fs, "%v", err)
	}
	return pos, nil
}

// usageError explains a command-line mistake and returns errUsage.
func (c *cli) usageError(fs *flagSet, format string, args ...any) error {
	fmt.Fprintf(c.errOut, "blog %s: %s\nRun \"blog %s --help\" for usage.\n", fs.Name(), fmt.Sprintf(format, args...), fs.Name())
	return errUsage
}

// noArgs refuses positional arguments a command does not take.
func (c *cli) noArgs(fs *flagSet, pos []string) error {
	if len(pos) > 0 {
		return c.usageError(fs, "unexpected argument %q", pos[0])
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

// openNoArgs parses a command that takes no arguments and opens its store.
func (c *cli) openNoArgs(ctx context.Context, fs *flagSet, cfg *config, args []string) (data.Store, error) {
	pos, err := c.parse(fs, args)
	if err != nil {
		return nil, err
	}
	if err := c.noArgs(fs, pos); err != nil {
		return nil, err
	}
	return c.open(ctx, *cfg)
}

func (c *cli) migrate(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("migrate", "blog migrate: apply the database migrations (also done at every start) and exit.", &cfg, storeFlags)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := c.noArgs(fs, pos); err != nil {
		return err
	}
	log, err := newLogger(c.errOut, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied")
	return store.Close()
}

// openStore opens Postgres when a URL is given, else SQLite in the data dir.
func openStore(ctx context.Context, c config, log *slog.Logger) (data.Store, error) {
	opt := data.Options{Limits: data.DefaultLimits(), MaxConns: int32(c.dbMaxConns), Logger: log}
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
